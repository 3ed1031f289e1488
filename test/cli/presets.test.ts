import { describe, expect, it } from 'vitest';
import { resolveSettings } from '../../src/config/resolve.js';
import type { Dataset } from '../../src/data/dataset.js';
import { generateDataset } from '../../src/data/generate.js';
import { initParams } from '../../src/model/init.js';
import type { Params } from '../../src/model/params.js';
import { coflow } from './helpers.js';

interface JsonHypothesis {
  id: string;
  statement: string;
  measured: string;
  holds: boolean;
}
interface JsonReport {
  name: string;
  settings: { n: number; L: number; d: number; fillers: 'distinct' | 'repeat'; m: number; m1: number; s0: number; s1: number; seed: number; level: string; init: string; method: string };
  maxAbsF0: number;
  hypotheses: JsonHypothesis[];
}

const ALL = ['condition1-m', 'n-ge-L2', 'distinct-fillers', 'exact-proportions', 'small-F0', 'theory-scales', 'gradient-flow'];

/**
 * Eq. 1 written out literally, independent of LossGrad: for each query l, a softmax over the keys
 * p of <W_K x_p, W_Q x_l>/sqrt(m), then F = sum_l sum_p P_pl a^T W W_V x_p. One-hot x_p means
 * W_K x_p is column tokens[p] of W_K (row-major m x d).
 */
function literalF(p: Params, data: Dataset): Float64Array {
  const { m, m1, d } = p;
  const col = (M: Float64Array, t: number) => Float64Array.from({ length: m }, (_, r) => M[r * d + t]);
  // a^T W W_V x for a token, computed as sum_j a_j (w_j . (W_V x))
  const headOut = (t: number) => {
    const v = col(p.WV, t);
    let out = 0;
    for (let j = 0; j < m1; j++) {
      let wv = 0;
      for (let c = 0; c < m; c++) wv += p.W[j * m + c] * v[c];
      out += p.a[j] * wv;
    }
    return out;
  };
  const F = new Float64Array(data.n);
  const { L } = data;
  for (let i = 0; i < data.n; i++) {
    const toks = Array.from(data.tokens.subarray(i * L, (i + 1) * L));
    const K = toks.map((t) => col(p.WK, t));
    const Q = toks.map((t) => col(p.WQ, t));
    const G = toks.map(headOut);
    let Fi = 0;
    for (let l = 0; l < L; l++) {
      const z = K.map((k) => {
        let dot = 0;
        for (let r = 0; r < m; r++) dot += k[r] * Q[l][r];
        return dot / Math.sqrt(m);
      });
      const zmax = Math.max(...z);
      const e = z.map((x) => Math.exp(x - zmax));
      const sum = e.reduce((s, x) => s + x, 0);
      for (let q = 0; q < L; q++) Fi += (e[q] / sum) * G[q];
    }
    F[i] = Fi;
  }
  return F;
}

/** The scales each preset is documented to use, written out here rather than read from coflow. */
const EXPECTED_SCALES: Record<string, (s: { L: number; m: number; m1: number; d: number }) => [number, number]> = {
  'paper-fig1': (s) => [Math.sqrt(2 / s.d), Math.sqrt(2 / s.m)],
  theory: (s) => [1 / Math.sqrt(s.L * s.m), 1 / Math.sqrt(s.m1)],
  'theory-strict': (s) => [1e-3 / Math.sqrt(s.L * s.m), 1 / Math.sqrt(s.m1)],
};

function byName(reports: JsonReport[], name: string): JsonReport {
  const r = reports.find((x) => x.name === name);
  if (!r) throw new Error(`preset ${name} not reported`);
  return r;
}

function broken(r: JsonReport): string[] {
  return r.hypotheses.filter((h) => !h.holds).map((h) => h.id);
}

describe('coflow presets', () => {
  it('prints every preset with its settings and each hypothesis as holds / BREAKS with its measurement', () => {
    const r = coflow(['presets']);
    expect(r.code, r.stderr).toBe(0);
    for (const name of ['paper-fig1', 'theory', 'theory-strict']) expect(r.stdout).toMatch(new RegExp(`^${name}$`, 'm'));
    // theory: n = 24 < L^2 = 36
    const theory = r.stdout.slice(r.stdout.indexOf('\ntheory\n'), r.stdout.indexOf('\ntheory-strict\n'));
    expect(theory).toMatch(/BREAKS\s+n-ge-L2\s+n = 24, L\^2 = 36/);
    expect(theory).toMatch(/n = 24, L = 6, d = 96, fillers distinct, m = 128, m1 = 64/);
    const strict = r.stdout.slice(r.stdout.indexOf('\ntheory-strict\n'), r.stdout.indexOf('\nhypotheses'));
    for (const id of ALL) expect(strict).toMatch(new RegExp(`holds\\s+${id}\\s`));
    expect(strict).not.toMatch(/BREAKS/);
    expect(strict).toMatch(/meets 7 of 7 hypotheses/);
    expect(strict).toMatch(/default: level full, init gaussian, dopri5/);
    const fig1 = r.stdout.slice(0, r.stdout.indexOf('\ntheory\n'));
    for (const id of ['condition1-m', 'distinct-fillers', 'small-F0', 'gradient-flow']) expect(fig1).toMatch(new RegExp(`BREAKS\\s+${id}\\s`));
    for (const id of ['n-ge-L2', 'exact-proportions', 'theory-scales']) expect(fig1).toMatch(new RegExp(`holds\\s+${id}\\s`));
    expect(fig1).toMatch(/m = 128, max\(m1, L\^2\) = 256/);
  });

  it('--json: the same verdicts, and max|F(0)| equals a literal forward pass of Eq. 1 on the preset\'s own data and weights', () => {
    const r = coflow(['presets', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const reports = (JSON.parse(r.stdout) as { presets: JsonReport[] }).presets;
    expect(reports.map((x) => x.name).sort()).toEqual(['paper-fig1', 'theory', 'theory-strict']);
    for (const rep of reports) expect(rep.hypotheses.map((h) => h.id)).toEqual(ALL);

    expect(broken(byName(reports, 'theory'))).toEqual(['n-ge-L2', 'small-F0']);
    expect(broken(byName(reports, 'theory-strict'))).toEqual([]);
    expect(broken(byName(reports, 'paper-fig1'))).toEqual(['condition1-m', 'distinct-fillers', 'small-F0', 'gradient-flow']);

    const text = coflow(['presets']).stdout;
    for (const rep of reports) {
      const s = rep.settings;
      expect(s.init).toBe('gaussian');
      const [s0, s1] = EXPECTED_SCALES[rep.name](s);
      expect(s.s0).toBeCloseTo(s0, 15);
      expect(s.s1).toBeCloseTo(s1, 15);
      const data = generateDataset({ n: s.n, L: s.L, d: s.d, seed: s.seed, fillers: s.fillers });
      const p = initParams({ m: s.m, m1: s.m1, d: s.d, s0, s1, seed: s.seed });
      const F = literalF(p, data);
      const expected = Math.max(...Array.from(F, Math.abs));
      expect(Math.abs(rep.maxAbsF0 - expected) / expected, rep.name).toBeLessThan(1e-13); // measured 1.2e-15
      // the text report shows the same number to 4 significant digits
      const block = text.slice(text.indexOf(`${rep.name}\n`));
      const shown = Number(/max\|F\(0\)\| = (\S+)/.exec(block)?.[1]);
      expect(Math.abs(shown - expected) / expected, rep.name).toBeLessThan(1e-3);
    }
    // the theory-strict margin: max|F(0)| well below the 0.01 of small-F0
    expect(byName(reports, 'theory-strict').maxAbsF0).toBeLessThan(0.005);
    // the values that motivated the preset: theory and paper-fig1 start with a large output
    expect(byName(reports, 'theory').maxAbsF0).toBeGreaterThan(1);
    expect(byName(reports, 'paper-fig1').maxAbsF0).toBeGreaterThan(10);
  });

  it('theory-strict: the theory-small scale follows m, so --m keeps F(0) on the same scale; existing presets are unchanged', () => {
    const s = resolveSettings('theory-strict', {});
    expect([s.n, s.L, s.d, s.m, s.m1, s.scale, s.method, s.init, s.level, s.samples]).toEqual([240, 6, 883, 256, 64, 'theory-small', 'dopri5', 'gaussian', 'full', 200]);
    const wide = resolveSettings('theory-strict', { m: 100_000 });
    expect(wide.s0 * Math.sqrt(wide.L * wide.m)).toBeCloseTo(1e-3, 15);
    expect(wide.s1).toBe(1 / 8);
    expect(resolveSettings('theory-strict', { s0: 0.5 }).s1).toBe(1 / 8);
    expect(resolveSettings('theory', {}).s0).toBe(1 / Math.sqrt(6 * 128));
    expect(resolveSettings('paper-fig1', {}).s0).toBe(Math.sqrt(2 / 64));
  });
});

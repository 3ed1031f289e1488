/**
 * The exact Gram law at initialisation: Wishart_p(m, Sigma) for [Q K V r], sampled by the
 * Bartlett decomposition (m >= p) or directly. Oracles: the Wishart moments
 * E[G_ij] = m Sigma_ij, Var[G_ij] = m (Sigma_ii Sigma_jj + Sigma_ij^2); Bartlett = direct in
 * distribution at the boundary m = p (two-sample KS); gamma variates against known laws.
 */
import { describe, expect, test } from 'vitest';
import { Dataset } from '../../src/data/dataset.js';
import { generateDataset } from '../../src/data/generate.js';
import { sampleChiSquare, sampleGamma } from '../../src/gram/gamma.js';
import { gramLayout, tokenIndex } from '../../src/gram/layout.js';
import { meanGramState, sampleGramState, sampleWishartDiag } from '../../src/gram/wishart.js';
import { Rng } from '../../src/random/rng.js';
import { ks1, ks2, ksCritical001, momentZ } from './stats.js';

const Z_MAX = 5;

/** max |z| over the mean and variance of every entry G_ij (i <= j) of draws of Wishart(m, diag(sigma^2)). */
function wishartMaxZ(draws: Float64Array[], m: number, sigma: number[]): number {
  const p = sigma.length;
  let worst = 0;
  for (let i = 0; i < p; i++) {
    for (let j = i; j < p; j++) {
      const xs = draws.map((G) => G[i * p + j]);
      const sii = sigma[i] ** 2;
      const sjj = sigma[j] ** 2;
      const sij = i === j ? sii : 0;
      const z = momentZ(xs, m * sij, m * (sii * sjj + sij * sij));
      worst = Math.max(worst, Math.abs(z.mean), Math.abs(z.variance));
    }
  }
  return worst;
}

const SIGMA = [0.5, 0.8, 1.2, 1.0];

describe('Wishart sampler', () => {
  for (const [method, m] of [
    ['bartlett', 7],
    ['bartlett', 4],
    ['direct', 7],
    ['direct', 2],
  ] as const) {
    test(`moments: ${method}, m = ${m}, p = 4`, () => {
      const rng = new Rng(`test-wishart-${method}-${m}`);
      const draws = Array.from({ length: 4000 }, () => sampleWishartDiag(rng, m, Float64Array.from(SIGMA), method));
      expect(wishartMaxZ(draws, m, SIGMA)).toBeLessThan(Z_MAX);
      // negative controls: the same draws against a wrong m or a wrong Sigma are rejected
      expect(wishartMaxZ(draws, m + 1, SIGMA)).toBeGreaterThan(Z_MAX);
      expect(wishartMaxZ(draws, m, SIGMA.map((s) => 1.1 * s))).toBeGreaterThan(Z_MAX);
    });
  }

  test('Bartlett refuses m < p', () => {
    expect(() => sampleWishartDiag(new Rng(1), 3, Float64Array.from(SIGMA), 'bartlett')).toThrow(/m >= p/);
  });

  // a data set with k = 2 tokens, so p = 3k + 1 = 7
  const tiny: Dataset = { n: 2, L: 2, d: 5, tokens: Int32Array.of(0, 1, 1, 0), y: Float64Array.of(1, 1), type: Int32Array.of(1, 1) };
  const k = 2;
  const lay = gramLayout(k);
  const cfg = { data: tiny, m1: 3, s0: 0.7, s1: 0.4 };
  const rVar = cfg.s1 ** 2 * cfg.m1;

  /** z-scores of every Gram-state entry against its Wishart moments (Q, K, V columns s0^2, r: s1^2 m1). */
  function stateMaxZ(states: Float64Array[], m: number): number {
    const q = cfg.s0 ** 2;
    const checks: [number, number, number][] = []; // [offset, mean, variance]
    for (let b = 0; b < k; b++) {
      for (let a = 0; a < k; a++) {
        const diag = a === b;
        checks.push([lay.S + b * k + a, 0, m * q * q]);
        for (const off of [lay.A, lay.B, lay.C]) checks.push([off + b * k + a, diag ? m * q : 0, m * q * q * (diag ? 2 : 1)]);
      }
      checks.push([lay.u + b, 0, m * q * rVar]);
    }
    checks.push([lay.s, m * rVar, 2 * m * rVar * rVar]);
    let worst = 0;
    for (const [off, mean, variance] of checks) {
      const z = momentZ(states.map((y) => y[off]), mean, variance);
      worst = Math.max(worst, Math.abs(z.mean), Math.abs(z.variance));
    }
    return worst;
  }

  for (const m of [3, 9]) {
    test(`sampleGramState moments (auto: ${m >= 7 ? 'Bartlett' : 'direct'}, m = ${m})`, () => {
      const states = Array.from({ length: 3000 }, (_, seed) => sampleGramState({ ...cfg, m, seed }));
      expect(stateMaxZ(states, m)).toBeLessThan(Z_MAX);
      expect(stateMaxZ(states, m + 1)).toBeGreaterThan(Z_MAX);
    });
  }

  test('Bartlett and direct agree in distribution at the boundary m = p = 7 (two-sample KS)', () => {
    const N = 2000;
    const stats: [string, (y: Float64Array) => number][] = [
      ['S00', (y) => y[lay.S]],
      ['S10', (y) => y[lay.S + k]],
      ['A00', (y) => y[lay.A]],
      ['A01', (y) => y[lay.A + 1]],
      ['C11', (y) => y[lay.C + 3]],
      ['u0', (y) => y[lay.u]],
      ['s', (y) => y[lay.s]],
      ['trA+trB', (y) => y[lay.A] + y[lay.A + 3] + y[lay.B] + y[lay.B + 3]],
    ];
    const draw = (method: 'bartlett' | 'direct', m: number, base: number): Float64Array[] =>
      Array.from({ length: N }, (_, i) => sampleGramState({ ...cfg, m, seed: base + i, method }));
    const bart = draw('bartlett', 7, 0);
    const dir = draw('direct', 7, 100000);
    const crit = ksCritical001(N, N);
    for (const [name, f] of stats) {
      expect(ks2(bart.map(f), dir.map(f)), name).toBeLessThan(crit);
    }
    // negative control: two more degrees of freedom are detected
    const dir9 = draw('direct', 9, 200000);
    const worst = Math.max(...stats.map(([, f]) => ks2(bart.map(f), dir9.map(f))));
    expect(worst).toBeGreaterThan(crit);
  });

  test('m = 1e7 at the paper-fig1 data size (k about 60, p about 190) is fast and concentrates as it must', () => {
    const data = generateDataset({ n: 60, L: 5, d: 64, seed: 1, fillers: 'repeat' });
    const m = 1e7;
    const s0 = 0.02;
    const s1 = 0.05;
    const m1 = 256;
    const t0 = performance.now();
    const y = sampleGramState({ data, m, m1, s0, s1, seed: 4 });
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(2000);
    const K = tokenIndex(data).k;
    expect(K).toBeGreaterThan(55);
    const L2 = gramLayout(K);
    expect(y.length).toBe(L2.size);
    const scale = m * s0 * s0;
    const tolDiag = 6 * Math.sqrt(2 / m);
    const tolOff = 6 / Math.sqrt(m);
    for (let b = 0; b < K; b++) {
      for (let a = 0; a < K; a++) {
        for (const off of [L2.A, L2.B, L2.C]) {
          const v = y[off + b * K + a] / scale;
          expect(Math.abs(v - (a === b ? 1 : 0))).toBeLessThan(a === b ? tolDiag : tolOff);
        }
        expect(Math.abs(y[L2.S + b * K + a] / scale)).toBeLessThan(tolOff);
      }
      expect(Math.abs(y[L2.u + b]) / (m * s0 * s1 * Math.sqrt(m1))).toBeLessThan(tolOff);
    }
    expect(Math.abs(y[L2.s] / (m * m1 * s1 * s1) - 1)).toBeLessThan(tolDiag);
    // and it is really random at this scale: the relative fluctuation of a diagonal entry is ~ sqrt(2/m)
    const meanDiagDev = Array.from({ length: K }, (_, i) => Math.abs(y[L2.A + i * K + i] / scale - 1)).reduce((s, v) => s + v) / K;
    expect(meanDiagDev).toBeGreaterThan(0.2 * Math.sqrt(2 / m));
  });

  test('deterministic for a seed; the mean state is the mean', () => {
    const a = sampleGramState({ ...cfg, m: 9, seed: 5 });
    const b = sampleGramState({ ...cfg, m: 9, seed: 5 });
    const c = sampleGramState({ ...cfg, m: 9, seed: 6 });
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    const mean = meanGramState({ ...cfg, m: 9 });
    const avg = new Float64Array(lay.size);
    const N = 4000;
    for (let seed = 0; seed < N; seed++) {
      const y = sampleGramState({ ...cfg, m: 9, seed: 10 + seed });
      for (let i = 0; i < y.length; i++) avg[i] += y[i] / N;
    }
    // the largest entry variance is that of s: 2 m (s1^2 m1)^2
    const se = Math.sqrt((2 * 9 * rVar * rVar + 2 * 9 * cfg.s0 ** 4) / N);
    for (let i = 0; i < avg.length; i++) expect(Math.abs(avg[i] - mean[i])).toBeLessThan(Z_MAX * se);
    expect(mean[lay.A]).toBeCloseTo(9 * 0.49, 14);
    expect(mean[lay.s]).toBeCloseTo(9 * 3 * 0.16, 14);
  });
});

describe('gamma and chi-square variates', () => {
  test('moments for shapes 0.3, 1, 2.5, 1e6', () => {
    const rng = new Rng('test-gamma');
    for (const shape of [0.3, 1, 2.5, 1e6]) {
      const xs = Array.from({ length: 20000 }, () => sampleGamma(rng, shape));
      const z = momentZ(xs, shape, shape);
      expect(Math.abs(z.mean), `shape ${shape}`).toBeLessThan(Z_MAX);
      expect(Math.abs(z.variance), `shape ${shape}`).toBeLessThan(Z_MAX);
      // negative control: a 10% wrong shape is rejected
      expect(Math.abs(momentZ(xs, 1.1 * shape, 1.1 * shape).mean), `shape ${shape}`).toBeGreaterThan(Z_MAX);
    }
  });

  test('shape 1 is Exp(1) and chi2(1) is the square of a normal (KS)', () => {
    const rng = new Rng('test-gamma-ks');
    const N = 5000;
    const exp1 = Array.from({ length: N }, () => sampleGamma(rng, 1));
    expect(ks1(exp1, (x) => 1 - Math.exp(-x))).toBeLessThan(ksCritical001(N));
    const chi1 = Array.from({ length: N }, () => sampleChiSquare(rng, 1));
    const z2 = Array.from({ length: N }, () => rng.normal() ** 2);
    expect(ks2(chi1, z2)).toBeLessThan(ksCritical001(N, N));
    // negative control: chi2(2) is not chi2(1)
    const chi2 = Array.from({ length: N }, () => sampleChiSquare(rng, 2));
    expect(ks2(chi2, z2)).toBeGreaterThan(ksCritical001(N, N));
  });
});

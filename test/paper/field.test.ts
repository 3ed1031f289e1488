/**
 * Level P's generated field (src/paper/generated/paperField.ts) against three oracles:
 *  1. an independent hand-written implementation of the equations of docs/levels.md#level-p
 *     (plain loops over samples and tokens; bag-of-tokens outputs counted directly);
 *  2. Level G's generated field at uniform-attention states (S = 0), restricted to (C, u, s);
 *  3. Level F weights with W_Q = W_K = 0: then Q, K stay 0 (dQ/dt = -K Gam, dK/dt = -Q Gam^T), the
 *     attention stays uniform, and the model's exact flow is Level P's Phase 1 flow.
 * Each comparison has a negative control showing it can fail.
 */
import { describe, expect, it } from 'vitest';
import { Dataset } from '../../src/data/dataset.js';
import { GramModel } from '../../src/gram/flow.js';
import { liftParams } from '../../src/gram/lift.js';
import { meanGramState, sampleGramState } from '../../src/gram/wishart.js';
import { initParams } from '../../src/model/init.js';
import { PaperModel } from '../../src/paper/model.js';
import { paperStateOfGram } from '../../src/paper/layout.js';
import { Rng } from '../../src/random/rng.js';
import { FullDynamics } from '../../src/run/fullDynamics.js';
import { solveIvp } from '../../src/ode/solveIvp.js';
import { rk4 } from '../reduced/denseGram.js';
import { conformingData, theoryScales } from '../reduced/helpers.js';

const n = 12, L = 5, m = 16, m1 = 8;
const { s0, s1 } = theoryScales(L, m, m1);

/** max |a - b| / max(1, max |b|) */
function rel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let s = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return d / Math.max(1, s);
}

/**
 * The equations written out with plain loops, independently of the generator: F_i = sum of u over
 * the tokens of X_i; gu_k = -(1/n) sum_i g_i y_i count_k(X_i); Phase 1: du = -(s gu + m1 C gu),
 * dC = -(gu u^T + u gu^T), ds = -2 m1 gu.u; Phase 2: du = -s gu, dC = 0, ds as in Phase 1.
 */
export function handField(data: Dataset, local: Int32Array, k: number, m1Val: number, y: Float64Array, phase: 1 | 2, dropTerm = false): Float64Array {
  const C = (i: number, j: number) => y[i * k + j];
  const u = (i: number) => y[k * k + i];
  const s = y[k * k + k];
  const gu = new Array<number>(k).fill(0);
  for (let i = 0; i < data.n; i++) {
    const count = new Map<number, number>();
    for (let p = 0; p < data.L; p++) {
      const t = local[data.tokens[i * data.L + p]];
      count.set(t, (count.get(t) ?? 0) + 1);
    }
    let F = 0;
    for (const [t, c] of count) F += c * u(t);
    const g = 1 / (1 + Math.exp(data.y[i] * F));
    for (const [t, c] of count) gu[t] -= (g * data.y[i] * c) / data.n;
  }
  const out = new Float64Array(k * k + k + 1);
  let dot = 0;
  for (let a = 0; a < k; a++) dot += gu[a] * u(a);
  for (let a = 0; a < k; a++) {
    let Cg = 0;
    for (let b = 0; b < k; b++) Cg += C(a, b) * gu[b];
    out[k * k + a] = -s * gu[a] - (phase === 1 && !dropTerm ? m1Val * Cg : 0);
    if (phase === 1) for (let b = 0; b < k; b++) out[a * k + b] = -(gu[a] * u(b) + u(a) * gu[b]);
  }
  out[k * k + k] = -2 * m1Val * dot;
  return out;
}

/** A random Level P state: a Wishart Gram draw's (C, u, s), with u rescaled so margins have both signs. */
function randomState(dyn: PaperModel, data: Dataset, seed: number, uScale: number): Float64Array {
  const yG = sampleGramState({ data, m, m1, s0, s1, seed });
  const y = paperStateOfGram(yG, new GramModel(data, m, m1).layout);
  const rng = new Rng(`paper-test:${seed}`);
  for (let i = 0; i < dyn.k; i++) y[dyn.layout.u + i] = uScale * (rng.uniform() - 0.5);
  return y;
}

describe('Level P field = hand-written equations', () => {
  const data = conformingData(n, L, 3);
  const dyn1 = new PaperModel(data, m, m1, { phases: 'phase1' });
  const dyn2 = new PaperModel(data, m, m1, { phases: 'phase2' });
  const local = dyn1.index.localOf;

  it('Phase 1 and Phase 2 at 20 random states each, to 1e-14; a dropped term is seen', () => {
    const out = new Float64Array(dyn1.size);
    let worst = 0;
    let control = Infinity;
    for (let seed = 1; seed <= 20; seed++) {
      const y = randomState(dyn1, data, seed, 2);
      dyn1.field(0, y, out);
      worst = Math.max(worst, rel(out, handField(data, local, dyn1.k, m1, y, 1)));
      // negative control: the hand-written field without Eq. 4's C term is not Phase 1's
      control = Math.min(control, rel(out, handField(data, local, dyn1.k, m1, y, 1, true)));
      dyn2.field(0, y, out);
      worst = Math.max(worst, rel(out, handField(data, local, dyn2.k, m1, y, 2)));
      control = Math.min(control, rel(out, handField(data, local, dyn2.k, m1, y, 1)));
    }
    expect(worst).toBeLessThanOrEqual(1e-14);
    expect(control).toBeGreaterThan(1e-6);
  });

  it('the switch: Phase 1 exactly while min_i y_i F_i <= 0, Phase 2 once it is > 0', () => {
    const sw = new PaperModel(data, m, m1);
    const out = new Float64Array(sw.size);
    const seen = { 1: 0, 2: 0 };
    for (let seed = 1; seed <= 30; seed++) {
      const y = randomState(sw, data, seed, 0.5);
      // shift u(mu_1), u(mu_2) up and u(mu_3) down so that some states classify every sample correctly
      const shift = (seed % 3) * 2;
      y[sw.layout.u + 0] += shift;
      y[sw.layout.u + 1] += shift;
      y[sw.layout.u + 2] -= 1.5 * shift;
      const margin = sw.minMargin(y);
      const phase = margin > 0 ? 2 : 1;
      seen[phase]++;
      sw.field(0, y, out);
      expect(sw.lastPhase).toBe(phase);
      expect(sw.phase(y)).toBe(phase);
      expect(rel(out, handField(data, local, sw.k, m1, y, phase))).toBeLessThanOrEqual(1e-14);
    }
    expect(seen[1]).toBeGreaterThan(0);
    expect(seen[2]).toBeGreaterThan(0);
    // at the mean start every F_i = 0: a margin of exactly 0 is still Phase 1
    const y0 = paperStateOfGram(meanGramState({ data, m, m1, s0, s1 }), new GramModel(data, m, m1).layout);
    expect(sw.minMargin(y0)).toBe(0);
    expect(sw.phase(y0)).toBe(1);
  });
});

describe('Level P Phase 1 = Level G at uniform attention', () => {
  const data = conformingData(n, L, 5);
  const gm = new GramModel(data, m, m1);
  const dyn = new PaperModel(data, m, m1, { phases: 'phase1' });
  const dG = new Float64Array(gm.size);
  const dP = new Float64Array(dyn.size);
  const restricted = (d: Float64Array) => paperStateOfGram(d, gm.layout);

  it('at the mean start (S = 0) the (C, u, s) rates agree to round-off', () => {
    const yG = meanGramState({ data, m, m1, s0, s1 });
    // the mean start has u = 0; move u off zero (S stays 0, so attention stays uniform)
    const rng = new Rng('paper-test:uniform');
    for (let i = 0; i < gm.k; i++) yG[gm.layout.u + i] = rng.uniform() - 0.5;
    gm.field(0, yG, dG);
    dyn.field(0, paperStateOfGram(yG, gm.layout), dP);
    expect(rel(dP, restricted(dG))).toBeLessThanOrEqual(1e-14);
  });

  it('at Wishart states with S set to 0 too; with S left as drawn they differ (control)', () => {
    let worst = 0;
    let control = Infinity;
    for (let seed = 1; seed <= 5; seed++) {
      const yG = sampleGramState({ data, m, m1, s0: 1, s1, seed });
      gm.field(0, yG, dG);
      dyn.field(0, paperStateOfGram(yG, gm.layout), dP);
      control = Math.min(control, rel(dP, restricted(dG)));
      yG.fill(0, gm.layout.S, gm.layout.S + gm.k * gm.k);
      gm.field(0, yG, dG);
      dyn.field(0, paperStateOfGram(yG, gm.layout), dP);
      worst = Math.max(worst, rel(dP, restricted(dG)));
    }
    expect(worst).toBeLessThanOrEqual(1e-14);
    expect(control).toBeGreaterThan(1e-6);
  });
});

describe('Level P Phase 1 is exact for frozen attention: Level F from W_Q = W_K = 0', () => {
  const data = conformingData(n, L, 7);
  const p = initParams({ m, m1, d: data.d, s0, s1, seed: 4 });
  const tEnd = 3;
  /** dopri5 at rtol 1e-12: Level F integrates the weights, Level P the Gram products, so the two only agree to integrator accuracy */
  const flow = (f: (y: Float64Array, d: Float64Array) => void, y0: Float64Array) =>
    solveIvp({ f: (_t, y, d) => f(y, d), t0: 0, y0, tEnd, rtol: 1e-12, atol: 1e-14, maxSteps: 100_000 }).y;

  function compare(zeroQK: boolean): { gap: number; QK: number } {
    const weights = zeroQK ? { ...p, WQ: new Float64Array(p.WQ.length), WK: new Float64Array(p.WK.length) } : p;
    const full = new FullDynamics(data, weights);
    const gm = new GramModel(data, m, m1);
    const dyn = new PaperModel(data, m, m1, { phases: 'phase1' });
    const yF = flow((a, b) => full.field(0, a, b), full.pack(weights));
    const yP = flow((a, b) => dyn.field(0, a, b), paperStateOfGram(liftParams(weights, data), gm.layout));
    const end = full.toParams(yF);
    let QK = 0;
    for (let i = 0; i < end.WQ.length; i++) QK = Math.max(QK, Math.abs(end.WQ[i]), Math.abs(end.WK[i]));
    return { gap: rel(yP, paperStateOfGram(liftParams(end, data), gm.layout)), QK };
  }

  it('the flows to t = 3 agree to 1e-10 (dopri5, rtol 1e-12); Q and K stay exactly 0', () => {
    const { gap, QK } = compare(true);
    expect(QK).toBe(0);
    expect(gap).toBeLessThanOrEqual(1e-10);
  });

  it('control: from the Gaussian W_Q, W_K (moving attention) the flows differ', () => {
    expect(compare(false).gap).toBeGreaterThan(1e-6);
  });
});

describe('Level P conserved quantities', () => {
  const data = conformingData(n, L, 9);
  const gm = new GramModel(data, m, m1);
  const y0 = paperStateOfGram(sampleGramState({ data, m, m1, s0, s1, seed: 2 }), gm.layout);

  it('Phase 1 keeps tr C - s/m1 (and Phase 2 breaks it); Phase 2 keeps m1 u^T u - s^2/2 (and Phase 1 breaks it)', () => {
    const trace = (dyn: PaperModel, y: Float64Array) => dyn.invariants(y).groups[1][0];
    const drift = (phases: 'phase1' | 'phase2') => {
      const dyn = new PaperModel(data, m, m1, { phases });
      const y = solveIvp({ f: (_t, z, d) => dyn.field(0, z, d), t0: 0, y0, tEnd: 3, rtol: 1e-12, atol: 1e-14, maxSteps: 100_000 }).y;
      return {
        trace: Math.abs(trace(dyn, y) - trace(dyn, y0)) / dyn.invariants(y0).scales[1],
        phase2: Math.abs(dyn.phase2Invariant(y) - dyn.phase2Invariant(y0)) / Math.abs(dyn.phase2Invariant(y0)),
      };
    };
    const p1 = drift('phase1');
    const p2 = drift('phase2');
    // integrator accuracy at rtol 1e-12 (Phase 1's trace is linear in the state, so exact up to round-off)
    expect(p1.trace).toBeLessThanOrEqual(1e-13);
    expect(p2.phase2).toBeLessThanOrEqual(1e-10);
    expect(p2.trace).toBeGreaterThan(1e-4);
    expect(p1.phase2).toBeGreaterThan(1e-4);
  });
});

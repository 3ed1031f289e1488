/**
 * Level T against an independent dense Level G (test/reduced/denseGram.ts): the orbit-form field
 * and GD map, expanded to k x k matrices, must equal the dense ones at the same state, per block
 * to 1e-13 relative. States: the mean state and states reached by integrating Level T (so S, A,
 * B, C, u are all nonzero and asymmetric).
 */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { TypeSystem, datasetOrbits, restrictFromGram } from '../../src/reduced/index.js';
import { denseGram, rk4 } from './denseGram.js';
import { blockRelErr, conformingData, relErr, theoryScales } from './helpers.js';

const CASES: { n: number; L: number; m: number; m1: number }[] = [
  { n: 12, L: 5, m: 16, m1: 8 },
  { n: 6, L: 4, m: 32, m1: 16 },
  { n: 6, L: 3, m: 8, m1: 4 },
  { n: 18, L: 6, m: 64, m1: 32 },
];

/** Level T states along its own flow: t = 0 and three later times. */
function statesAlongFlow(ts: TypeSystem, s0: number, s1: number): Float64Array[] {
  const y0 = ts.meanState({ s0, s1 });
  const out = [y0];
  let y = y0;
  for (const steps of [50, 200, 400]) {
    y = rk4((a, b) => ts.field(0, a, b), y, 0.01, steps);
    out.push(y);
  }
  return out;
}

describe('TypeSystem = dense Level G on the symmetric subspace', () => {
  for (const { n, L, m, m1 } of CASES) {
    it(`field, GD map and outputs at n=${n}, L=${L}, m=${m}, m1=${m1}`, () => {
      const data = conformingData(n, L, 7);
      const ts = new TypeSystem({ n, L, m, m1 });
      const { s0, s1 } = theoryScales(L, m, m1);
      const dense = denseGram(data, m, m1);
      const k = dense.k;
      const dT = new Float64Array(ts.size);
      const dG = new Float64Array(dense.size);
      let worstField = 0;
      let worstGd = 0;
      const states = statesAlongFlow(ts, s0, s1);
      for (const y of states) {
        const yG = ts.expandToGram(y, data);
        ts.field(0, y, dT);
        dense.field(yG, dG);
        worstField = Math.max(worstField, blockRelErr(k, ts.expandToGram(dT, data), dG));

        const yNext = new Float64Array(ts.size);
        ts.gdStep(0.3, y, yNext);
        const gNext = new Float64Array(dense.size);
        dense.gdStep(0.3, yG, gNext);
        worstGd = Math.max(worstGd, blockRelErr(k, ts.expandToGram(yNext, data), gNext));

        // Per-type outputs and loss against the per-sample dense forward pass.
        const out = ts.outputs(y);
        const { F, loss } = dense.grads(yG);
        for (let i = 0; i < n; i++) expect(Math.abs(out.F[data.type[i] - 1] - F[i])).toBeLessThanOrEqual(1e-13 * Math.max(1, Math.abs(F[i])));
        expect(Math.abs(out.loss - loss)).toBeLessThanOrEqual(1e-14);
      }
      expect(worstField).toBeLessThanOrEqual(1e-13);
      expect(worstGd).toBeLessThanOrEqual(1e-13);
      // The states are non-trivial: u and S have moved.
      const last = ts.outputs(states[states.length - 1]);
      expect(Math.abs(last.G1)).toBeGreaterThan(0.1);
      expect(Math.abs(last.scores[1][0])).toBeGreaterThan(1e-6);
    });
  }

  it('gdStep may write into its input', () => {
    const ts = new TypeSystem({ n: 12, L: 5, m: 16, m1: 8 });
    const y = rk4((a, b) => ts.field(0, a, b), ts.meanState(theoryScales(5, 16, 8)), 0.01, 100);
    const separate = new Float64Array(ts.size);
    ts.gdStep(0.2, y, separate);
    const inPlace = y.slice();
    ts.gdStep(0.2, inPlace, inPlace);
    expect(Array.from(inPlace)).toEqual(Array.from(separate));
  });

  it('negative control: a wrong softmax temperature is caught by the same comparison', () => {
    const data = conformingData(12, 5);
    const ts = new TypeSystem({ n: 12, L: 5, m: 16, m1: 8 });
    const wrong = new TypeSystem({ n: 12, L: 5, m: 17, m1: 8 });
    const y = rk4((a, b) => ts.field(0, a, b), ts.meanState(theoryScales(5, 16, 8)), 0.01, 200);
    const dense = denseGram(data, 16, 8);
    const dG = new Float64Array(dense.size);
    dense.field(ts.expandToGram(y, data), dG);
    const dT = new Float64Array(ts.size);
    wrong.field(0, y, dT);
    expect(blockRelErr(dense.k, wrong.expandToGram(dT, data), dG)).toBeGreaterThan(1e-3);
  });
});

describe('TypeSystem state handling', () => {
  it('has 173 named variables and the mean state expands to A = B = C = s0^2 m I, S = 0, u = 0', () => {
    const ts = new TypeSystem({ n: 12, L: 5, m: 16, m1: 8 });
    expect(ts.size).toBe(173);
    expect(ts.layout.names.length).toBe(173);
    expect(new Set(ts.layout.names).size).toBe(173);
    expect(ts.layout.names).toContain('S[f1,f1;same-sample]');
    expect(ts.layout.names).toContain('A[mu1,mu3]');
    const data = conformingData(12, 5);
    const { s0, s1 } = theoryScales(5, 16, 8);
    const yG = ts.expandToGram(ts.meanState({ s0, s1 }), data);
    const k = datasetOrbits(data).k;
    for (let b = 0; b < k; b++) {
      for (let a = 0; a < k; a++) {
        const want = b === a ? s0 * s0 * 16 : 0;
        expect(yG[b * k + a]).toBe(0);
        for (const blk of [1, 2, 3]) expect(yG[blk * k * k + b * k + a]).toBeCloseTo(want, 15);
      }
      expect(yG[4 * k * k + b]).toBe(0);
    }
    expect(yG[4 * k * k + k]).toBeCloseTo(s1 * s1 * 8 * 16, 12);
  });

  it('restrict(expand(y)) = y with zero spread, and a random Gram state has a large spread', () => {
    const ts = new TypeSystem({ n: 12, L: 5, m: 16, m1: 8 });
    const data = conformingData(12, 5);
    const y = rk4((a, b) => ts.field(0, a, b), ts.meanState(theoryScales(5, 16, 8)), 0.01, 200);
    const back = ts.restrictFromGram(ts.expandToGram(y, data), data);
    expect(back.maxOrbitSpread).toBe(0);
    expect(relErr(back.y, y)).toBeLessThanOrEqual(1e-15);
    // Negative control: perturb one entry of S.
    const yG = ts.expandToGram(y, data);
    yG[5] += 1e-3 * Math.max(...Array.from(yG.subarray(0, 35 * 35), Math.abs));
    expect(restrictFromGram(yG, data).maxOrbitSpread).toBeGreaterThan(1e-4);
  });

  it('invariants equal the dense traces and are conserved along the flow', () => {
    const n = 12, L = 5, m = 16, m1 = 8;
    const ts = new TypeSystem({ n, L, m, m1 });
    const data = conformingData(n, L);
    const y0 = ts.meanState(theoryScales(L, m, m1));
    const inv0 = ts.invariants(y0);
    // At the mean state: tr A = tr B, tr C = k s0^2 m, s/m1 = s1^2 m.
    const k = datasetOrbits(data).k;
    expect(inv0.trAminusTrB).toBe(0);
    expect(inv0.trCminusSOverM1).toBeCloseTo(k / L - 16 / 8, 12);
    const y = rk4((a, b) => ts.field(0, a, b), y0, 0.01, 500);
    const yG = ts.expandToGram(y, data);
    let trA = 0, trB = 0, trC = 0;
    for (let b = 0; b < k; b++) {
      trA += yG[k * k + b * k + b];
      trB += yG[2 * k * k + b * k + b];
      trC += yG[3 * k * k + b * k + b];
    }
    const inv = ts.invariants(y);
    expect(Math.abs(inv.trAminusTrB - (trA - trB))).toBeLessThanOrEqual(1e-13);
    expect(Math.abs(inv.trCminusSOverM1 - (trC - yG[4 * k * k + k] / m1))).toBeLessThanOrEqual(1e-13);
    // Conservation (RK4 does not conserve quadratic invariants exactly: error O(h^4)).
    // measured 3.6e-15 and 2.7e-15
    expect(Math.abs(inv.trAminusTrB - inv0.trAminusTrB)).toBeLessThanOrEqual(1e-13);
    expect(Math.abs(inv.trCminusSOverM1 - inv0.trCminusSOverM1)).toBeLessThanOrEqual(1e-13);
    // Meanwhile the traces themselves moved (the check is not vacuous).
    expect(Math.abs(trC - k / L)).toBeGreaterThan(1e-3);
    // The loss never increases along gradient flow.
    expect(ts.outputs(y).loss).toBeLessThan(ts.outputs(y0).loss);
  });

  it('rejects bad configurations with UsageError', () => {
    expect(() => new TypeSystem({ n: 10, L: 5, m: 16, m1: 8 })).toThrow(UsageError);
    expect(() => new TypeSystem({ n: 12, L: 2, m: 16, m1: 8 })).toThrow(/L must be/);
    expect(() => new TypeSystem({ n: 12, L: 5, m: 0, m1: 8 })).toThrow(/m must be/);
    const ts = new TypeSystem({ n: 12, L: 5, m: 16, m1: 8 });
    expect(() => ts.meanState({ s0: -1, s1: 1 })).toThrow(/s0/);
    expect(() => ts.expandToGram(ts.meanState({ s0: 1, s1: 1 }), conformingData(18, 5))).toThrow(UsageError);
  });
});

/**
 * Invariants of the gradient flow at Level G (docs/levels.md#conserved-quantities, arrow 6): tr A - tr B and
 * tr C - s/m1. The flow conserves them exactly (their rate from the field output is round-off);
 * one GD step changes them by exactly the eta^2 terms derived in derivations/gram-flow.md,
 * eta^2 (tr(B Gam Gam^T) - tr(A Gam^T Gam)) and eta^2 (s |gu|^2 - m1 gu^T C gu) / m1, which are
 * not zero: what is tested is what is true.
 */
import { describe, expect, test } from 'vitest';
import { generateDataset } from '../../src/data/generate.js';
import { GramModel } from '../../src/gram/flow.js';
import { liftParams } from '../../src/gram/lift.js';
import { gramInvariants } from '../../src/gram/invariants.js';
import { sampleGramState } from '../../src/gram/wishart.js';
import { initParams } from '../../src/model/init.js';

const data = generateDataset({ n: 12, L: 5, d: 40, seed: 8, fillers: 'distinct' });
const m = 10;
const m1 = 7;
const model = new GramModel(data, m, m1);
const lay = model.layout;
const k = model.k;

const states = [
  liftParams(initParams({ m, m1, d: data.d, s0: 0.6, s1: 0.5, seed: 1 }), data),
  liftParams(initParams({ m, m1, d: data.d, s0: 0.3, s1: 0.9, seed: 2 }), data),
  sampleGramState({ data, m, m1, s0: 0.5, s1: 0.5, seed: 3, method: 'direct' }),
];

function traceRates(dydt: Float64Array): { QK: number; V: number; scaleQK: number; scaleV: number } {
  let dA = 0;
  let dB = 0;
  let dC = 0;
  let sA = 0;
  let sC = 0;
  for (let i = 0; i < k; i++) {
    dA += dydt[lay.A + i * k + i];
    dB += dydt[lay.B + i * k + i];
    dC += dydt[lay.C + i * k + i];
    sA += Math.abs(dydt[lay.A + i * k + i]) + Math.abs(dydt[lay.B + i * k + i]);
    sC += Math.abs(dydt[lay.C + i * k + i]);
  }
  const ds = dydt[lay.s];
  return { QK: dA - dB, V: dC - ds / m1, scaleQK: sA, scaleV: sC + Math.abs(ds / m1) };
}

describe('invariants', () => {
  test('the flow conserves tr A - tr B and tr C - s/m1 to round-off', () => {
    for (const y of states) {
      const dydt = new Float64Array(model.size);
      model.field(0, y, dydt);
      const r = traceRates(dydt);
      expect(r.scaleQK).toBeGreaterThan(1e-6);
      expect(r.scaleV).toBeGreaterThan(1e-6);
      expect(Math.abs(r.QK) / r.scaleQK).toBeLessThan(1e-14);
      expect(Math.abs(r.V) / r.scaleV).toBeLessThan(1e-14);
      // negative control: the individual traces do move
      expect(Math.abs(dydt[lay.s])).toBeGreaterThan(1e-6);
    }
  });

  test('a GD step changes them by exactly the derived eta^2 terms', () => {
    for (const y of states) {
      const { Gam, gu } = model.gramGrad(y);
      // tr(A Gam^T Gam) = sum_{a,b,c} A[a,c] Gam[b,c] Gam[b,a]; tr(B Gam Gam^T) = sum B[a,c] Gam[c,b] Gam[a,b]
      let trAGG = 0;
      let trBGG = 0;
      for (let a = 0; a < k; a++) {
        for (let c = 0; c < k; c++) {
          let x = 0;
          let z = 0;
          for (let b = 0; b < k; b++) {
            x += Gam[b * k + c] * Gam[b * k + a];
            z += Gam[c * k + b] * Gam[a * k + b];
          }
          trAGG += y[lay.A + a * k + c] * x;
          trBGG += y[lay.B + a * k + c] * z;
        }
      }
      let guCgu = 0;
      let gg = 0;
      for (let a = 0; a < k; a++) {
        gg += gu[a] * gu[a];
        for (let b = 0; b < k; b++) guCgu += gu[a] * y[lay.C + a * k + b] * gu[b];
      }
      const s = y[lay.s];
      const before = gramInvariants(y, lay, m1);
      for (const eta of [0.5, 0.25]) {
        const next = new Float64Array(model.size);
        model.gdStep(eta, y, next);
        const after = gramInvariants(next, lay, m1);
        const expectQK = eta * eta * (trBGG - trAGG);
        const expectV = (eta * eta * (m1 * s * gg - m1 * m1 * guCgu)) / m1;
        const dQK = after.QK - before.QK;
        const dV = after.V - before.V;
        // not conserved ...
        expect(Math.abs(expectQK)).toBeGreaterThan(1e-9);
        expect(Math.abs(expectV)).toBeGreaterThan(1e-9);
        // ... but changed by exactly the eta^2 terms. The invariants are differences of traces
        // of size ~ tr A + tr B, so the comparison is good to round-off of THAT size (budget),
        // and the predicted change must be far above the budget for the check to mean anything.
        let traceScaleQK = 0;
        let traceScaleV = Math.abs(y[lay.s] / m1);
        for (let i = 0; i < k; i++) {
          traceScaleQK += Math.abs(y[lay.A + i * k + i]) + Math.abs(y[lay.B + i * k + i]);
          traceScaleV += Math.abs(y[lay.C + i * k + i]);
        }
        const budgetQK = 1e-13 * traceScaleQK;
        const budgetV = 1e-13 * traceScaleV;
        expect(Math.abs(dQK - expectQK)).toBeLessThan(budgetQK);
        expect(Math.abs(dV - expectV)).toBeLessThan(budgetV);
        expect(Math.abs(expectQK)).toBeGreaterThan(1e4 * budgetQK);
        expect(Math.abs(expectV)).toBeGreaterThan(1e4 * budgetV);
      }
    }
  });
});

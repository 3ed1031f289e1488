/**
 * Observables from a Level G state = the same observables from the weights (Level F forward
 * pass, src/model/observables.ts, and direct sums over weight columns for the invariants).
 */
import { describe, expect, test } from 'vitest';
import { MU1 } from '../../src/data/dataset.js';
import { generateDataset } from '../../src/data/generate.js';
import { GramModel } from '../../src/gram/flow.js';
import { liftParams } from '../../src/gram/lift.js';
import { observeGram, scoreName } from '../../src/gram/observables.js';
import { meanGramState } from '../../src/gram/wishart.js';
import { LossGrad } from '../../src/model/gradient.js';
import { initParams } from '../../src/model/init.js';
import { observeParams } from '../../src/model/observables.js';

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

describe('Level G observables', () => {
  for (const fillers of ['distinct', 'repeat'] as const) {
    test(`match the weights (${fillers} fillers)`, () => {
      const data = generateDataset({ n: 24, L: 5, d: fillers === 'distinct' ? 80 : 20, seed: 5, fillers });
      const m = 9;
      const m1 = 5;
      const model = new GramModel(data, m, m1);
      const lg = new LossGrad(data, m, m1);
      for (const seed of [1, 2]) {
        const p = initParams({ m, m1, d: data.d, s0: 0.7, s1: 0.6, seed });
        const obsG = observeGram(model, liftParams(p, data));
        const obsF = observeParams(p, data, lg);
        expect(rel(obsG.loss, obsF.loss)).toBeLessThan(1e-13);
        for (let t = 0; t < 4; t++) expect(rel(obsG.lossByType[t], obsF.lossByType[t])).toBeLessThan(1e-13);
        for (let i = 0; i < 3; i++) expect(rel(obsG.G[i], obsF.G[i])).toBeLessThan(1e-13);
        for (let i = 0; i < 9; i++) expect(rel(obsG.scores[i], obsF.scores[i])).toBeLessThan(1e-13);
        expect(rel(obsG.minMargin, obsF.minMargin)).toBeLessThan(1e-12);

        // invariants straight from the weight columns of the data tokens and r = W^T a
        const present = new Set(data.tokens);
        let trA = 0;
        let trB = 0;
        let trC = 0;
        for (let c = 0; c < m; c++) {
          for (const t of present) {
            trA += p.WQ[c * data.d + t] ** 2;
            trB += p.WK[c * data.d + t] ** 2;
            trC += p.WV[c * data.d + t] ** 2;
          }
        }
        let s = 0;
        for (let c = 0; c < m; c++) {
          let r = 0;
          for (let j = 0; j < m1; j++) r += p.a[j] * p.W[j * m + c];
          s += r * r;
        }
        expect(Math.abs(obsG.invariantQK - (trA - trB)) / (trA + trB)).toBeLessThan(1e-13);
        expect(Math.abs(obsG.invariantV - (trC - s / m1)) / (trC + s / m1)).toBeLessThan(1e-13);

        // named columns carry the same numbers; score_k{i}_q{j} is key mu_i, query mu_j
        expect(obsG.named[scoreName(2, 1)]).toBe(obsG.scores[3 * 1 + 0]);
        let s21 = 0;
        for (let c = 0; c < m; c++) s21 += p.WK[c * data.d + MU1 + 1] * p.WQ[c * data.d + MU1];
        expect(rel(obsG.named.score_k2_q1, s21)).toBeLessThan(1e-13);
        expect(obsG.named.G3).toBe(obsG.G[2]);
        expect(obsG.named.loss_I2).toBe(obsG.lossByType[1]);
      }
    });
  }

  test('at the mean state every output is 0, so every loss is log 2', () => {
    const data = generateDataset({ n: 12, L: 5, d: 40, seed: 1, fillers: 'distinct' });
    const model = new GramModel(data, 16, 8);
    const obs = observeGram(model, meanGramState({ data, m: 16, m1: 8, s0: 0.3, s1: 0.2 }));
    expect(Math.abs(obs.loss - Math.log(2))).toBeLessThan(1e-15);
    expect(Math.abs(obs.minMargin)).toBe(0);
    expect(obs.invariantQK).toBe(0);
    // tr C - s/m1 = k s0^2 m - s1^2 m
    expect(rel(obs.invariantV, model.k * 0.09 * 16 - 0.04 * 16)).toBeLessThan(1e-14);
  });

  test('GramModel convenience views: observe, minMargin, invariants, finalArrays', () => {
    const data = generateDataset({ n: 12, L: 5, d: 40, seed: 3, fillers: 'distinct' });
    const model = new GramModel(data, 6, 5);
    const y = liftParams(initParams({ m: 6, m1: 5, d: 40, s0: 0.7, s1: 0.6, seed: 3 }), data);
    const obs = model.observe(y);
    expect(obs.named).toEqual(observeGram(model, y).named);
    expect(model.minMargin(y)).toBe(obs.minMargin);
    expect(model.lastMinMargin).toBe(obs.minMargin);
    const inv = model.invariants(y);
    expect(inv.groups[0][0]).toBe(obs.invariantQK);
    expect(inv.groups[1][0]).toBe(obs.invariantV);
    const lay = model.layout;
    const k = model.k;
    let trAB = 0;
    for (let i = 0; i < k; i++) trAB += y[lay.A + i * k + i] + y[lay.B + i * k + i];
    expect(Math.abs(inv.scales[0] - trAB) / trAB).toBeLessThan(1e-14);
    const arr = model.finalArrays(y);
    expect(Array.from(arr.S.data)).toEqual(Array.from(y.subarray(lay.S, lay.S + k * k)));
    expect(Array.from(arr.C.data)).toEqual(Array.from(y.subarray(lay.C, lay.C + k * k)));
    expect(Array.from(arr.u.data)).toEqual(Array.from(y.subarray(lay.u, lay.u + k)));
    expect(arr.s.data[0]).toBe(y[lay.s]);
    expect(Array.from(arr.token_ids.data)).toEqual([...new Set(data.tokens)].sort((a, b) => a - b));
  });
});

/**
 * Arrow 3 of docs/levels.md#the-arrows-between-the-levels for gradient DESCENT: Level F GD (p -= eta grad, LossGrad)
 * and the exact Level G GD map from the lifted state stay equal to round-off over 3,000 steps.
 * The GD map is exact, so nothing but floating-point error may separate them; the run is
 * checked to actually move (otherwise agreement would prove nothing).
 */
import { describe, expect, test } from 'vitest';
import { generateDataset } from '../../src/data/generate.js';
import { GramModel } from '../../src/gram/flow.js';
import { liftParams } from '../../src/gram/lift.js';
import { LossGrad, allocGrad } from '../../src/model/gradient.js';
import { initParams } from '../../src/model/init.js';
import { BLOCKS, blockRelErrors, maxOf, gdUpdate } from './helpers.js';

describe('Level F gradient descent = Level G exact GD map', () => {
  test('3,000 steps at n=12, L=5, d=40, m=16, m1=16, eta=0.05', () => {
    const data = generateDataset({ n: 12, L: 5, d: 40, seed: 21, fillers: 'distinct' });
    const m = 16;
    const m1 = 16;
    const eta = 0.05;
    const p = initParams({ m, m1, d: data.d, s0: Math.sqrt(2 / data.d), s1: Math.sqrt(2 / m), seed: 5 });
    const lg = new LossGrad(data, m, m1);
    const g = allocGrad(p);
    const model = new GramModel(data, m, m1);
    let y = liftParams(p, data);
    let yNext = new Float64Array(model.size);
    const y0 = y.slice();
    const loss0 = model.loss(y);

    let worst = 0;
    let checked = 0;
    for (let step = 1; step <= 3000; step++) {
      lg.lossAndGrad(p, g);
      gdUpdate(p, g, eta);
      model.gdStep(eta, y, yNext);
      [y, yNext] = [yNext, y];
      if (step % 500 === 0) {
        const err = blockRelErrors(y, liftParams(p, data), model.layout);
        worst = Math.max(worst, maxOf(err));
        expect(maxOf(err), `step ${step}: ${JSON.stringify(err)}`).toBeLessThan(5e-12);
        checked++;
      }
    }
    // measured 4.9e-14 (1.7e-13 on the development machine): round-off over 3,000 exact steps
    expect(worst).toBeLessThan(5e-12);
    expect(checked).toBe(6);

    // the trajectory moved: loss fell a lot and every block changed well beyond the tolerance
    const lossEnd = model.loss(y);
    expect(lossEnd).toBeLessThan(0.2 * loss0);
    const moved = blockRelErrors(y, y0, model.layout);
    for (const b of BLOCKS) expect(moved[b], `block ${b} barely moved`).toBeGreaterThan(1e-3);
  });

  test('the GD map is the flow to first order: (map(eta) - map(-eta)) / (2 eta) = field exactly', () => {
    // Each Gram variable is a quadratic polynomial in eta, so the central difference is exact.
    const data = generateDataset({ n: 12, L: 5, d: 40, seed: 2, fillers: 'distinct' });
    const model = new GramModel(data, 8, 6);
    const y = liftParams(initParams({ m: 8, m1: 6, d: 40, s0: 0.6, s1: 0.5, seed: 9 }), data);
    const field = new Float64Array(model.size);
    model.field(0, y, field);
    const plus = new Float64Array(model.size);
    const minus = new Float64Array(model.size);
    for (const eta of [0.5, 3]) {
      model.gdStep(eta, y, plus);
      model.gdStep(-eta, y, minus);
      const cd = plus.map((v, i) => (v - minus[i]) / (2 * eta));
      expect(maxOf(blockRelErrors(cd, field, model.layout))).toBeLessThan(1e-11);
    }
  });

  test('gdStep refuses an output that overlaps its input', () => {
    const data = generateDataset({ n: 6, L: 4, d: 20, seed: 1, fillers: 'distinct' });
    const model = new GramModel(data, 4, 4);
    const buf = new Float64Array(2 * model.size);
    const y = buf.subarray(0, model.size);
    expect(() => model.gdStep(0.1, y, y)).toThrow(/different buffer/);
    expect(() => model.gdStep(0.1, y, buf.subarray(1, model.size + 1))).toThrow(/different buffer/);
    // disjoint views of one buffer are fine
    expect(() => model.gdStep(0.1, y, buf.subarray(model.size))).not.toThrow();
  });

  test('A, B, C stay symmetric to the last bit under the field and the GD map', () => {
    const data = generateDataset({ n: 12, L: 5, d: 40, seed: 6, fillers: 'distinct' });
    const model = new GramModel(data, 8, 6);
    const { k, layout: lay } = model;
    let y = liftParams(initParams({ m: 8, m1: 6, d: 40, s0: 0.6, s1: 0.5, seed: 2 }), data);
    let next = new Float64Array(model.size);
    const dydt = new Float64Array(model.size);
    const asymmetry = (x: Float64Array): number => {
      let worst = 0;
      for (const off of [lay.A, lay.B, lay.C]) {
        for (let i = 0; i < k; i++) for (let j = 0; j < i; j++) worst = Math.max(worst, Math.abs(x[off + i * k + j] - x[off + j * k + i]));
      }
      return worst;
    };
    expect(asymmetry(y)).toBe(0);
    for (let step = 0; step < 50; step++) {
      model.field(0, y, dydt);
      expect(asymmetry(dydt)).toBe(0);
      model.gdStep(0.2, y, next);
      [y, next] = [next, y];
    }
    expect(asymmetry(y)).toBe(0);
    // S is not symmetric (negative control for the measure)
    let sAsym = 0;
    for (let i = 0; i < k; i++) for (let j = 0; j < i; j++) sAsym = Math.max(sAsym, Math.abs(y[lay.S + i * k + j] - y[lay.S + j * k + i]));
    expect(sAsym).toBeGreaterThan(1e-6);
  });
});

/**
 * Arrow 2 of docs/levels.md#the-arrows-between-the-levels: the Level G vector field (generated code) equals the chain-rule
 * image of the Level F gradient at states realised by actual weights. Two Level F gradients are
 * used: the autodiff oracle (src/model/oracle.ts) and the analytic LossGrad.
 */
import { describe, expect, test } from 'vitest';
import { Dataset } from '../../src/data/dataset.js';
import { generateDataset } from '../../src/data/generate.js';
import { GramModel } from '../../src/gram/flow.js';
import { liftParams } from '../../src/gram/lift.js';
import { LossGrad, allocGrad } from '../../src/model/gradient.js';
import { initParams } from '../../src/model/init.js';
import { oracleLossAndGrad } from '../../src/model/oracle.js';
import { Params } from '../../src/model/params.js';
import { measure } from '../measure.js';
import { blockRelErrors, chainRuleImage, gradNormSq, maxOf, repeatedTokenDataset } from './helpers.js';

/** measured 4.9e-15 (6.5e-16 on the development machine): round-off of two exact computations */
const TOL = 1e-13;

interface Case {
  name: string;
  data: Dataset;
  m: number;
  m1: number;
  s0: number;
  s1: number;
}

const cases: Case[] = [
  { name: 'distinct fillers', data: generateDataset({ n: 12, L: 5, d: 40, seed: 3, fillers: 'distinct' }), m: 8, m1: 6, s0: 0.6, s1: 0.4 },
  { name: 'repeated fillers', data: generateDataset({ n: 18, L: 4, d: 14, seed: 4, fillers: 'repeat' }), m: 5, m1: 7, s0: 0.7, s1: 0.5 },
  { name: 'tokens repeated inside samples', data: repeatedTokenDataset(), m: 6, m1: 4, s0: 0.8, s1: 0.5 },
];

function draw(c: Case, seed: number): Params {
  return initParams({ m: c.m, m1: c.m1, d: c.data.d, s0: c.s0, s1: c.s1, seed });
}

describe('Level G field = chain-rule image of the Level F gradient', () => {
  for (const c of cases) {
    test(c.name, () => {
      const model = new GramModel(c.data, c.m, c.m1);
      const lg = new LossGrad(c.data, c.m, c.m1);
      for (const seed of [1, 2, 3]) {
        const p = draw(c, seed);
        const y = liftParams(p, c.data);
        const dydt = new Float64Array(model.size);
        model.field(0, y, dydt);

        const oracle = oracleLossAndGrad(p, c.data);
        const viaOracle = blockRelErrors(dydt, chainRuleImage(p, oracle.grad, c.data), model.layout);
        const g = allocGrad(p);
        const lossF = lg.lossAndGrad(p, g);
        const viaLossGrad = blockRelErrors(dydt, chainRuleImage(p, g, c.data), model.layout);
        expect(maxOf(viaOracle)).toBeLessThan(TOL);
        expect(maxOf(viaLossGrad)).toBeLessThan(TOL);

        // the loss the kernel computed is the Level F loss
        expect(Math.abs(model.loss(y) - oracle.loss) / oracle.loss).toBeLessThan(1e-13);
        expect(Math.abs(lossF - oracle.loss) / oracle.loss).toBeLessThan(1e-13);

        // the gradient is not trivially small: the comparison has something to compare
        expect(gradNormSq(oracle.grad)).toBeGreaterThan(1e-4);
      }
    });
  }

  test('negative controls: a dropped term or a slightly different state is caught', () => {
    const c = cases[0];
    const model = new GramModel(c.data, c.m, c.m1);
    const p = draw(c, 7);
    const y = liftParams(p, c.data);
    const dydt = new Float64Array(model.size);
    model.field(0, y, dydt);
    const grad = oracleLossAndGrad(p, c.data).grad;

    const dropped = blockRelErrors(dydt, chainRuleImage(p, grad, c.data, { dropKtdQ: true }), model.layout);
    expect(dropped.S).toBeGreaterThan(1e-3);

    // weights moved by 1e-7 (relative): the field changes by far more than the tolerance
    const q: Params = { ...p, WQ: p.WQ.map((v) => v * (1 + 1e-7)) };
    const moved = blockRelErrors(dydt, chainRuleImage(q, oracleLossAndGrad(q, c.data).grad, c.data), model.layout);
    expect(maxOf(moved)).toBeGreaterThan(10 * TOL);
  });

  test('the loss decreases along the field at the rate -|grad L|^2 (Level F) = directional derivative (finite differences)', () => {
    let compared = 0;
    let worstFd = 0;
    for (const c of cases) {
      const model = new GramModel(c.data, c.m, c.m1);
      const p = draw(c, 11);
      const y = liftParams(p, c.data);
      const dydt = new Float64Array(model.size);
      model.field(0, y, dydt);
      const { Gam, gu } = model.gramGrad(y);
      const lay = model.layout;
      const k = model.k;
      // dL/dt = <Gam, dS/dt> + <gu, du/dt>
      let rate = 0;
      for (let i = 0; i < k * k; i++) rate += Gam[i] * dydt[lay.S + i];
      for (let i = 0; i < k; i++) rate += gu[i] * dydt[lay.u + i];
      const normSq = gradNormSq(oracleLossAndGrad(p, c.data).grad);
      expect(rate).toBeLessThan(0);
      expect(Math.abs(rate + normSq) / normSq).toBeLessThan(1e-12);

      // Independent of the code under test: central difference of the ORACLE's loss (autodiff of
      // the literal Eq. 1) along the Level F flow direction -grad, whose Gram image is the field.
      const g = oracleLossAndGrad(p, c.data).grad;
      const h = 1e-5 / Math.sqrt(normSq);
      const along = (sign: number): Params => ({
        ...p,
        WQ: p.WQ.map((v, i) => v - sign * h * g.dWQ[i]),
        WK: p.WK.map((v, i) => v - sign * h * g.dWK[i]),
        WV: p.WV.map((v, i) => v - sign * h * g.dWV[i]),
        W: p.W.map((v, i) => v - sign * h * g.dW[i]),
      });
      const fd = (oracleLossAndGrad(along(1), c.data).loss - oracleLossAndGrad(along(-1), c.data).loss) / (2 * h);
      const fdErr = Math.abs(fd - rate) / Math.abs(rate);
      worstFd = Math.max(worstFd, fdErr);
      expect(fdErr).toBeLessThan(1e-7);
      compared++;
    }
    measure('Level G rate vs central difference of the oracle loss, worst relative', worstFd);
    expect(compared).toBe(cases.length);
  });
});

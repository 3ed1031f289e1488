/**
 * Level T against the project's Level G (src/gram): GramModel started at meanGramState must
 * follow TypeSystem expanded to k x k (field, flow, exact GD map), its orbits must stay constant,
 * and orthogonalParams lifted by liftParams must give meanGramState.
 */
import { describe, expect, it } from 'vitest';
import { GramModel } from '../../src/gram/flow.js';
import { liftParams } from '../../src/gram/lift.js';
import { meanGramState } from '../../src/gram/wishart.js';
import { TypeSystem, orthogonalParams } from '../../src/reduced/index.js';
import { rk4 } from './denseGram.js';
import { blockRelErr, conformingData, customData, theoryScales } from './helpers.js';

const n = 12, L = 5, m = 16, m1 = 8;
const { s0, s1 } = theoryScales(L, m, m1);

describe('GramModel from meanGramState = TypeSystem', () => {
  const data = conformingData(n, L, 21);
  const ts = new TypeSystem({ n, L, m, m1 });
  const gm = new GramModel(data, m, m1);

  it('same mean state, and the field agrees to 1e-13 at t = 0 and at later states', () => {
    const yT0 = ts.meanState({ s0, s1 });
    const yG0 = meanGramState({ data, m, m1, s0, s1 });
    expect(blockRelErr(gm.k, ts.expandToGram(yT0, data), yG0)).toBeLessThanOrEqual(1e-15);
    const dT = new Float64Array(ts.size);
    const dG = new Float64Array(gm.size);
    let worst = 0;
    let y = yT0;
    for (const steps of [0, 50, 200, 500]) {
      y = rk4((a, b) => ts.field(0, a, b), y, 0.01, steps);
      ts.field(0, y, dT);
      gm.field(0, steps === 0 ? yG0 : ts.expandToGram(y, data), dG);
      worst = Math.max(worst, blockRelErr(gm.k, ts.expandToGram(dT, data), dG));
    }
    expect(worst).toBeLessThanOrEqual(1e-13);
  });

  it('RK4 trajectories to t = 10 agree to 1e-14; Level G orbits stay constant to 1e-13', () => {
    const h = 0.01;
    const steps = 1000;
    const saved = new Map<number, Float64Array>();
    rk4((a, b) => ts.field(0, a, b), ts.meanState({ s0, s1 }), h, steps, (s, y) => {
      if (s % 100 === 0) saved.set(s, y.slice());
    });
    let gap = 0;
    let spread = 0;
    let compared = 0;
    rk4((a, b) => gm.field(0, a, b), meanGramState({ data, m, m1, s0, s1 }), h, steps, (s, yG) => {
      const yT = saved.get(s);
      if (!yT) return;
      compared++;
      gap = Math.max(gap, blockRelErr(gm.k, ts.expandToGram(yT, data), yG));
      spread = Math.max(spread, ts.restrictFromGram(yG, data).maxOrbitSpread);
    });
    // measured 2.5e-16 (the same RK4 steps on two exact forms of one flow: round-off only)
    expect(compared).toBe(steps / 100); // every saved state was compared
    expect(gap).toBeLessThanOrEqual(1e-14);
    expect(spread).toBeLessThanOrEqual(1e-13);
    const end = ts.outputs(saved.get(steps) as Float64Array);
    expect(end.G1).toBeGreaterThan(0.5);
    expect(Math.abs(end.scores[1][0])).toBeGreaterThan(1e-3);
  });

  it('exact GD map: 300 steps agree to 1e-12', () => {
    let yT = ts.meanState({ s0, s1 });
    let yG = meanGramState({ data, m, m1, s0, s1 });
    const nextT = new Float64Array(ts.size);
    const nextG = new Float64Array(gm.size);
    let worst = 0;
    for (let step = 1; step <= 300; step++) {
      ts.gdStep(0.05, yT, nextT);
      gm.gdStep(0.05, yG, nextG);
      [yT, yG] = [nextT.slice(), nextG.slice()];
      if (step % 20 === 0) worst = Math.max(worst, blockRelErr(gm.k, ts.expandToGram(yT, data), yG));
    }
    expect(worst).toBeLessThanOrEqual(1e-12);
    expect(ts.restrictFromGram(yG, data).maxOrbitSpread).toBeLessThanOrEqual(1e-13);
  });

  it('orthogonalParams lifted by liftParams equals meanGramState to 1e-14', () => {
    const mm = 72;
    const p = orthogonalParams({ data, m: mm, m1, s0, s1, seed: 2 });
    const lifted = liftParams(p, data);
    const mean = meanGramState({ data, m: mm, m1, s0, s1 });
    let worst = 0;
    for (let i = 0; i < mean.length; i++) worst = Math.max(worst, Math.abs(lifted[i] - mean[i]) / Math.max(1, Math.abs(mean[i])));
    expect(worst).toBeLessThanOrEqual(1e-14);
  });

  it('negative control: unequal I2 / I3 counts give G1 != G2 at Level G', () => {
    const bad = customData([6, 3, 1, 2], L);
    const g = new GramModel(bad, m, m1);
    const y = rk4((a, b) => g.field(0, a, b), meanGramState({ data: bad, m, m1, s0, s1 }), 0.01, 300);
    const G1 = y[g.layout.u + g.index.localOf[0]];
    const G2 = y[g.layout.u + g.index.localOf[1]];
    expect(Math.abs(G1 - G2) / Math.max(Math.abs(G1), Math.abs(G2))).toBeGreaterThan(1e-2);
  });
});

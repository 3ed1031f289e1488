/**
 * Trajectories. Oracle: Level G (dense reference, test/reduced/denseGram.ts) integrated from the
 * mean state with the same fixed-step RK4 must stay equal to Level T expanded to k x k, and every
 * orbit of the Level G solution must stay constant (the symmetric subspace is invariant). The
 * exact GD maps must agree step by step. The mu_1 <-> mu_2 symmetry, not built into Level T, must
 * come out of it; a data set with unequal I2 / I3 counts must break it at Level G.
 */
import { describe, expect, it } from 'vitest';
import { TypeSystem, orbitId } from '../../src/reduced/index.js';
import { denseGram, rk4 } from './denseGram.js';
import { blockRelErr, conformingData, customData, theoryScales } from './helpers.js';

const n = 12, L = 5, m = 16, m1 = 8;
const { s0, s1 } = theoryScales(L, m, m1);

describe('Level G from the mean state = Level T', () => {
  it('gradient flow: RK4 trajectories agree to 1e-14 and Level G orbits stay constant to 1e-13', () => {
    const data = conformingData(n, L, 11);
    const ts = new TypeSystem({ n, L, m, m1 });
    const dense = denseGram(data, m, m1);
    const h = 0.01;
    const steps = 800;
    const yT0 = ts.meanState({ s0, s1 });
    const checkpoints = new Map<number, Float64Array>();
    rk4((a, b) => ts.field(0, a, b), yT0, h, steps, (s, y) => {
      if (s % 100 === 0) checkpoints.set(s, y.slice());
    });
    let worstGap = 0;
    let worstSpread = 0;
    let compared = 0;
    rk4((a, b) => dense.field(a, b), ts.expandToGram(yT0, data), h, steps, (s, yG) => {
      const yT = checkpoints.get(s);
      if (!yT) return;
      compared++;
      worstGap = Math.max(worstGap, blockRelErr(dense.k, ts.expandToGram(yT, data), yG));
      worstSpread = Math.max(worstSpread, ts.restrictFromGram(yG, data).maxOrbitSpread);
    });
    // measured 4.4e-16 (the same RK4 steps on two exact forms of one flow: round-off only)
    expect(compared).toBe(steps / 100); // every checkpoint was compared
    expect(worstGap).toBeLessThanOrEqual(1e-14);
    expect(worstSpread).toBeLessThanOrEqual(1e-13);
    // u and S moved visibly over t in [0, 8].
    const end = ts.outputs(checkpoints.get(steps) as Float64Array);
    expect(end.G1).toBeGreaterThan(0.5);
    expect(end.G3).toBeLessThan(-0.5);
    expect(Math.abs(end.scores[1][0])).toBeGreaterThan(1e-3);
  });

  it('exact GD map: 300 steps agree to 1e-12', () => {
    const data = conformingData(n, L, 12);
    const ts = new TypeSystem({ n, L, m, m1 });
    const dense = denseGram(data, m, m1);
    let yT = ts.meanState({ s0, s1 });
    let yG = ts.expandToGram(yT, data);
    const nextT = new Float64Array(ts.size);
    const nextG = new Float64Array(dense.size);
    let worst = 0;
    for (let step = 1; step <= 300; step++) {
      ts.gdStep(0.05, yT, nextT);
      dense.gdStep(0.05, yG, nextG);
      [yT, yG] = [nextT.slice(), nextG.slice()];
      if (step % 25 === 0) worst = Math.max(worst, blockRelErr(dense.k, ts.expandToGram(yT, data), yG));
    }
    expect(worst).toBeLessThanOrEqual(1e-12);
    expect(ts.outputs(yT).minMargin).toBeGreaterThan(0);
  });
});

describe('the mu_1 <-> mu_2 symmetry is an outcome, not an assumption', () => {
  it('G1 = G2, S[k1,q2] = S[k2,q1], S[k3,q1] = S[k3,q2] to 1e-13 along Level T', () => {
    for (const cfg of [
      { n: 12, L: 5, m: 16, m1: 8, h: 0.01, steps: 2000 },
      { n: 24, L: 6, m: 128, m1: 64, h: 0.002, steps: 5000 },
    ]) {
      const ts = new TypeSystem(cfg);
      const lay = ts.layout;
      let worst = 0;
      let compared = 0;
      rk4((a, b) => ts.field(0, a, b), ts.meanState(theoryScales(cfg.L, cfg.m, cfg.m1)), cfg.h, cfg.steps, (s, y) => {
        if (s % 250 !== 0) return;
        compared++;
        const G = Math.max(Math.abs(y[lay.u]), Math.abs(y[lay.u + 2]));
        const S = (i: number, j: number) => y[lay.S + orbitId(i, j)];
        const Sscale = Math.max(...[0, 1, 2].flatMap((i) => [0, 1, 2].map((j) => Math.abs(S(i, j)))));
        worst = Math.max(
          worst,
          Math.abs(y[lay.u] - y[lay.u + 1]) / G,
          Math.abs(S(0, 1) - S(1, 0)) / Sscale,
          Math.abs(S(2, 0) - S(2, 1)) / Sscale,
        );
      });
      expect(compared).toBe(cfg.steps / 250);
      expect(worst).toBeLessThanOrEqual(1e-13);
    }
  });

  it('Theorem 3.2 directions on the theory preset (n=24, L=6, m=128, m1=64) by t = 200', () => {
    const cfg = { n: 24, L: 6, m: 128, m1: 64 };
    const ts = new TypeSystem(cfg);
    const y = rk4((a, b) => ts.field(0, a, b), ts.meanState(theoryScales(cfg.L, cfg.m, cfg.m1)), 0.02, 10000);
    const o = ts.outputs(y);
    // Target-target scores rise, key-mu_3 / query-target scores fall; G1 + G3 < 0 < G1 + G2 + G3.
    expect(o.scores[1][0]).toBeGreaterThan(0);
    expect(o.scores[0][1]).toBeGreaterThan(0);
    expect(o.scores[2][0]).toBeLessThan(0);
    expect(o.scores[2][1]).toBeLessThan(0);
    expect(o.G1 + o.G3).toBeLessThan(0);
    expect(o.G1 + o.G2 + o.G3).toBeGreaterThan(0);
    expect(o.minMargin).toBeGreaterThan(0);
  });

  it('negative control: unequal I2 / I3 counts (Level G only) give G1 != G2', () => {
    const data = customData([6, 3, 1, 2], L);
    const dense = denseGram(data, m, m1);
    const k = dense.k;
    // The mean state for this data set, written directly.
    const y0 = new Float64Array(dense.size);
    for (let b = 0; b < k; b++) for (const blk of [1, 2, 3]) y0[blk * k * k + b * k + b] = s0 * s0 * m;
    y0[4 * k * k + k] = s1 * s1 * m1 * m;
    const y = rk4((a, b) => dense.field(a, b), y0, 0.01, 300);
    const G1 = y[4 * k * k + dense.local[0]];
    const G2 = y[4 * k * k + dense.local[1]];
    expect(Math.abs(G1 - G2) / Math.max(Math.abs(G1), Math.abs(G2))).toBeGreaterThan(1e-2);
  });
});

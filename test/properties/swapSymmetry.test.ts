/**
 * Property (target-swap symmetry): on balanced theory-conforming data (|I2| = |I3|, distinct
 * fillers) the swap mu_1 <-> mu_2, together with a bijection of the I2 fillers onto the I3
 * fillers, maps the data set to itself (the model sees a bag of tokens). A start that is
 * invariant under it (the mean Gram state) therefore stays invariant along the flow, and every
 * pair of columns the swap exchanges (support.ts SWAP_PAIRS: G1/G2, score_k2_q1/score_k1_q2,
 * score_k3_q1/score_k3_q2, C13/C23, sumg_I2/sumg_I3, loss_I2/loss_I3, margins, dG, ...) is equal
 * at every recorded row.
 *
 * - Level T: the swap is NOT built into its orbit variables (src/reduced/typeSystem.ts), so the
 *   equalities are outcomes of its field; asserted to relative 1e-12 (measured: exactly 0 for
 *   almost every pair, otherwise ~1e-18).
 * - Level G from the mean state: the field is swap-equivariant, but evaluated with the tokens in
 *   a fixed order, so the two sides are computed by different sums; asserted within the
 *   integrator tolerance rtol = 1e-9 (measured: round-off, ~1e-15).
 * - Level F from the orthogonal start (weights realising the mean Gram state exactly): same,
 *   within rtol (measured ~1e-13, the weights add round-off in the Gram products).
 * Residuals are relative to each pair's largest |value| over the run; every pair must have moved
 * away from zero and G1 must reach 0.1, so the agreement is not one of zeros.
 *
 * Negative controls: random starts (Wishart draw or lifted Gaussian weights) are not swap
 * invariant, and unbalanced counts (|I2| != |I3|) break the data's symmetry: the residual is then
 * far above the tolerance. Level T refuses unbalanced data outright.
 */
import { fc } from '@fast-check/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import type { Trajectory } from '../../src/analysis/trajectory.js';
import { buildStart } from '../../src/run/levels.js';
import { columnRelDiff, dataOf, maxOf, moveI3ToI2, RTOL, runFlow, settingArb, settingsOf, swapSymmetric, SWAP_PAIRS, Worst, type Setting } from './support.js';

const TOL_TYPE = 1e-12;
const TOL_FLOW = RTOL;

const worst = new Worst();
afterAll(() => worst.report('target-swap symmetry: largest residuals seen'));

/** The agreement is about moving quantities: every pair is nonzero somewhere, G1 reaches 0.1. */
function expectNonVacuous(traj: Trajectory): void {
  for (const [a, b] of SWAP_PAIRS) {
    const scale = maxOf([...traj.column(a), ...traj.column(b)].map(Math.abs));
    expect(scale, `${a}/${b} identically zero`).toBeGreaterThan(0);
  }
  expect(maxOf(traj.column('G1'))).toBeGreaterThan(0.1);
  expect(maxOf(traj.column('score_k2_q1').map(Math.abs))).toBeGreaterThan(0);
}

/** Every run of `arb` keeps every swapped pair equal within `tol` at every row. */
async function symmetricEverywhere(arb: fc.Arbitrary<Setting>, tol: number, label: string, numRuns: number): Promise<void> {
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(arb, async (c) => {
      runs++;
      const r = await runFlow(c);
      expect(r.status).toBe('success');
      expectNonVacuous(r.trajectory);
      const v = swapSymmetric(r.trajectory, tol);
      worst.note(`${label} (tol ${tol})`, v.value);
      expect(v.holds, `${v.worstPair}: ${v.value} for ${JSON.stringify(c)}`).toBe(true);
    }),
    { seed: 42, numRuns },
  );
  expect(runs).toBe(numRuns); // the property body ran every time
}

describe('target-swap symmetry on balanced data from the mean state (random settings)', () => {
  it(`Level T: every swapped pair equal to relative ${TOL_TYPE} at every row`, async () => {
    await symmetricEverywhere(settingArb('type'), TOL_TYPE, 'Level T mean', 10);
  });

  it(`Level G from the mean state: equal within the integrator tolerance ${TOL_FLOW}`, async () => {
    const arb = settingArb('gram', { nMax: 24, LMax: 5 }).map((c): Setting => ({ ...c, init: 'mean' }));
    await symmetricEverywhere(arb, TOL_FLOW, 'Level G mean', 6);
  });

  it(`Level F from the orthogonal start (the mean Gram state in weights): equal within ${TOL_FLOW}`, async () => {
    const arb = settingArb('full').map((c): Setting => ({ ...c, init: 'orthogonal', n: 12, L: 4, m: Math.max(c.m, 46) }));
    await symmetricEverywhere(arb, TOL_FLOW, 'Level F orthogonal', 4);
  });
});

describe('negative controls: asymmetric starts and unbalanced counts break it', () => {
  const base: Setting = { n: 18, L: 4, extraD: 0, m: 32, m1: 16, c0: 1, c1: 1, seed: 1, dataSeed: 1, level: 'gram', init: 'mean' };

  for (const init of ['wishart', 'gaussian'] as const) {
    it(`Level G from a random ${init} start, balanced data: G1 != G2 far beyond ${TOL_FLOW}`, async () => {
      const r = await runFlow({ ...base, init });
      expect(r.status).toBe('success');
      const v = swapSymmetric(r.trajectory, TOL_FLOW);
      const g = columnRelDiff(r.trajectory, 'G1', 'G2');
      worst.note(`control Level G ${init}: residual (must exceed ${TOL_FLOW})`, v.value);
      worst.note(`control Level G ${init}: G1/G2 residual`, g);
      expect(v.holds).toBe(false);
      expect(g).toBeGreaterThan(1e4 * TOL_FLOW);
    });
  }

  it(`Level G from the mean state, |I2| = 4 != |I3| = 2: G1 != G2 far beyond ${TOL_FLOW}`, async () => {
    const data = moveI3ToI2(dataOf(base), 1);
    const r = await runFlow(base, undefined, data);
    expect(r.status).toBe('success');
    const v = swapSymmetric(r.trajectory, TOL_FLOW);
    const g = columnRelDiff(r.trajectory, 'G1', 'G2');
    worst.note('control Level G mean, unbalanced: residual', v.value);
    worst.note('control Level G mean, unbalanced: G1/G2 residual', g);
    expect(v.holds).toBe(false);
    expect(g).toBeGreaterThan(1e4 * TOL_FLOW);
    // The same run on the balanced set is symmetric (the control differs only in the counts).
    const balanced = await runFlow(base);
    expect(balanced.status).toBe('success');
    expect(swapSymmetric(balanced.trajectory, TOL_FLOW).holds).toBe(true);
  });

  it('Level T refuses unbalanced data (it represents only the symmetric orbits)', async () => {
    const c: Setting = { ...base, level: 'type' };
    const data = moveI3ToI2(dataOf(c), 1);
    await expect(buildStart(settingsOf(c, data), data)).rejects.toThrow(/type I2|type I3/);
  });
});

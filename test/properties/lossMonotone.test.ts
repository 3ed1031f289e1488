/**
 * Property: along a gradient flow the loss never increases (dL/dt = -|grad L|^2 <= 0). Over
 * random theory-conforming settings at every level and start, a dopri5 flow at rtol 1e-9 to
 * 40 T1 has loss_{i+1} <= loss_i (1 + REL_TOL) between every two consecutive recorded rows.
 *
 * REL_TOL = 1e-12 is round-off slack on the loss evaluation, not an integration allowance: the
 * rows are read from the solver's dense output, which is continuous across steps and within
 * 1e-9 (relative) of the exact flow, while the loss falls between consecutive rows (log-spaced,
 * ratio about 1.45 in t) by at least ~1e-6 relative even at the first rows (t ~ 1e-6 tEnd;
 * measured: the smallest fall over all runs is 0.9e-6..2e-6 per level), a thousand times what
 * the integration error could take back. The largest relative change is reported (negative:
 * the smallest fall).
 *
 * Negative control: gradient descent with a too-large learning rate (30 T1, ten times past the
 * largest stable step measured here) overshoots, and its loss rises at some iterate; the same
 * setting at lr = T1 descends monotonically, so the rise is the step size's doing.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Level } from '../../src/config/presets.js';
import { flowPropertyPerStart, gdPlan, lossNonIncreasing, runSetting, smallSetting, t1Of, Worst } from './support.js';

const REL_TOL = 1e-12;

const worst = new Worst();
afterAll(() => worst.report('loss monotonicity: largest relative change between consecutive rows'));

/** Runs per (level, start): 6 at Level F, 8 at Level G, 6 at Level T, over all their starts. */
const RUNS_PER_START: Record<Level, number> = { full: 3, gram: 2, type: 6 };

describe('the loss never increases along the gradient flow (random settings, every level and start)', () => {
  // A fixed seed other than conservation.test.ts's, so the two properties see other settings.
  flowPropertyPerStart((level, init) => `level ${level}, ${init} start: loss_{i+1} <= loss_i (1 + ${REL_TOL}) at every recorded row`, RUNS_PER_START, 7, (c, r, level) => {
    const v = lossNonIncreasing(r.trajectory, REL_TOL);
    worst.note(`level ${level} flow`, v.value);
    expect(v.holds, `relative rise ${v.value} for ${JSON.stringify(c)}`).toBe(true);
    // Not a flat trajectory: the loss fell substantially over the run.
    const loss = r.trajectory.column('loss');
    expect(loss.at(-1)!).toBeLessThan(0.7 * loss[0]);
  });
});

describe('negative control: gradient descent with a too-large learning rate increases the loss', () => {

  for (const level of ['full', 'gram', 'type'] as const) {
    it(`level ${level}: GD at lr = 30 T1 rises at some iterate; at lr = T1 it does not`, async () => {
      const c = smallSetting(level);
      const T1 = t1Of(c);
      const big = await runSetting(c, gdPlan(30 * T1, 40));
      expect(big.status).toBe('success');
      const v = lossNonIncreasing(big.trajectory, REL_TOL);
      worst.note(`control level ${level}: GD lr = 30 T1 (must exceed ${REL_TOL})`, v.value);
      expect(v.holds).toBe(false);
      expect(v.value).toBeGreaterThan(1e-3);
      const small = await runSetting(c, gdPlan(T1, 40));
      expect(small.status).toBe('success');
      expect(lossNonIncreasing(small.trajectory, REL_TOL).holds).toBe(true);
    });
  }
});

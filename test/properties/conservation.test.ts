/**
 * Property: every gradient flow of the model conserves W_Q W_Q^T - W_K W_K^T and
 * W^T W - W_V W_V^T (Level F probes them, Levels G and T carry their traces tr A - tr B and
 * tr C - s/m1). Over random theory-conforming settings at each level and each start the level
 * accepts, a dopri5 flow at rtol 1e-9 to 40 T1 (Phase 1 and the start of Phase 2) keeps the
 * recorded drift_QK and drift_VW below DRIFT_BOUND = 100 rtol at every row.
 *
 * Why 100 rtol. An accepted dopri5 step has an estimated local error e (4th- vs 5th-order
 * solution) with RMS_i(e_i / (atol + rtol |y_i|)) <= 1, i.e. |e| <~ rtol |y| (2-norm, atol
 * negligible here). A quadratic invariant I(y) = y^T D y with ||D|| <= 1 against the scale
 * |y|^2 changes by 2 y^T D e, so at most about 2 rtol (relative) per step; the runs take 30..120
 * accepted steps, and the propagated 5th-order solution (local extrapolation) is more accurate
 * than the estimate that controls it. Hence O(100) rtol is the error-control bound; the measured
 * drift at Level F is far below it (at most about 0.05 rtol).
 *
 * Levels G and T are a different story, checked separately: there the conserved quantities are
 * LINEAR functionals l of the state (traces of Gram blocks), and l . f(y) = 0 for every y. Every
 * Runge-Kutta step is y + h sum_i b_i k_i with k_i = f(...), so l . y is conserved by the
 * integrator itself, whatever the tolerance: their drift is round-off (<= 1e-12 asserted), and a
 * loose rtol does not show in it. The drift columns measure integration error only at Level F.
 *
 * Negative controls: (a) GD at lr = T1 (stable: its loss falls) changes the invariants by
 * O(lr^2) per step (the exact eta^2 terms are derived in test/gram/invariants.test.ts) and
 * exceeds the bound at every level by orders of magnitude; halving lr at the same flow time
 * halves that drift (O(lr) globally), as a step defect must; (b) at Level F a flow at loose
 * rtol 1e-3 exceeds the tight bound.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Level } from '../../src/config/presets.js';
import { conservation, flowPropertyPerStart, gdPlan, RTOL, runFlow, runSetting, smallSetting, t1Of, Worst } from './support.js';

const DRIFT_BOUND = 100 * RTOL;
/** Levels G and T: the invariants are linear in the state, conserved by RK steps to round-off. */
const LINEAR_ROUNDOFF_BOUND = 1e-12;

const worst = new Worst();
afterAll(() => worst.report('conservation: largest values seen'));

/** Runs per (level, start): 8 at Level F and T, 12 at Level G, over all their starts. */
const RUNS_PER_START: Record<Level, number> = { full: 4, gram: 3, type: 8 };

describe('conserved quantities along the gradient flow (random settings, every level and start)', () => {
  flowPropertyPerStart(
    (level, init) => `level ${level}, ${init} start: max over rows of drift_QK, drift_VW <= 100 rtol = ${DRIFT_BOUND.toExponential(0)}`,
    RUNS_PER_START,
    42,
    (c, r, level) => {
      // The run covered Phase 1: every sample became correctly classified.
      expect(r.events.some((e) => e.name === 'all-correct')).toBe(true);
      const v = conservation(r.trajectory, DRIFT_BOUND);
      worst.note(`level ${level} drift (bound ${DRIFT_BOUND.toExponential(0)})`, v.value);
      worst.note(`level ${level} accepted steps`, r.stats.naccepted);
      expect(v.holds, `drift ${v.value} for ${JSON.stringify(c)}`).toBe(true);
      // Levels G and T: round-off only (linear invariants); Level F: the integration-error bound
      expect(v.value).toBeLessThanOrEqual(level === 'full' ? DRIFT_BOUND : LINEAR_ROUNDOFF_BOUND);
    },
  );
});

describe('negative controls: the drift bound is not vacuous', () => {
  const at = smallSetting;

  for (const level of ['full', 'gram', 'type'] as const) {
    it(`level ${level}: GD at lr = T1 (a stable step) breaks the bound; the drift is O(lr) at fixed time`, async () => {
      const c = at(level);
      const T1 = t1Of(c);
      const coarse = await runSetting(c, gdPlan(T1, 40));
      const fine = await runSetting(c, gdPlan(T1 / 2, 80));
      expect(coarse.status).toBe('success');
      expect(fine.status).toBe('success');
      // The step is stable (so the drift is not a blow-up): the loss fell.
      const loss = coarse.trajectory.column('loss');
      expect(loss.at(-1)!).toBeLessThan(loss[0]);
      const vc = conservation(coarse.trajectory, DRIFT_BOUND);
      const vf = conservation(fine.trajectory, DRIFT_BOUND);
      worst.note(`control level ${level}: GD lr=T1 drift (must exceed ${DRIFT_BOUND.toExponential(0)})`, vc.value);
      expect(vc.holds).toBe(false);
      expect(vc.value).toBeGreaterThan(1e3 * DRIFT_BOUND);
      // Defect per step O(lr^2), twice the steps: half the drift at the same time t = 40 T1.
      const ratio = vc.value / vf.value;
      worst.note(`control level ${level}: drift(lr) / drift(lr/2)`, ratio);
      expect(ratio).toBeGreaterThan(1.6);
      expect(ratio).toBeLessThan(2.5);
    });
  }

  it('level full: a flow at loose rtol 1e-3 breaks the tight bound (its drift is integration error)', async () => {
    const c = at('full');
    const loose = await runFlow(c, 1e-3);
    expect(loose.status).toBe('success');
    const v = conservation(loose.trajectory, DRIFT_BOUND);
    worst.note('control level full: drift at rtol 1e-3', v.value);
    expect(v.holds).toBe(false);
    // ... and stays within the error-control bound of ITS tolerance.
    expect(conservation(loose.trajectory, 100 * 1e-3).holds).toBe(true);
  });

  for (const level of ['gram', 'type'] as const) {
    it(`level ${level}: a loose rtol does NOT show in the drift (linear invariants, conserved by any RK step)`, async () => {
      const c = { ...at(level), init: 'mean' as const };
      const loose = await runFlow(c, 1e-3);
      const tight = await runFlow(c, RTOL);
      expect([loose.status, tight.status]).toEqual(['success', 'success']);
      // The loose run is a visibly worse solution ...
      const l1 = loose.trajectory.column('loss').at(-1)!;
      const l2 = tight.trajectory.column('loss').at(-1)!;
      expect(Math.abs(l1 - l2) / l2).toBeGreaterThan(1e-6);
      // ... whose invariants are still conserved to round-off.
      const v = conservation(loose.trajectory, LINEAR_ROUNDOFF_BOUND);
      worst.note(`control level ${level}: drift at rtol 1e-3`, v.value);
      expect(v.holds).toBe(true);
    });
  }
});

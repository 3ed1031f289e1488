/**
 * solveIvp: a Dormand-Prince 5(4) solve from t0 to tEnd through the one driver (drive.ts):
 * samples on a user grid through a callback (nothing stored per step), events located on the
 * dense output, and how and where the solve ended with everything needed to resume it.
 */
import { Dopri5, type Dopri5Options } from './dopri5.js';
import { drive, type DriveOptions, type DriveResult } from './drive.js';
import type { Stepper } from './stepper.js';
import type { ResumeState, SolverStats } from './types.js';

export interface SolveIvpOptions extends Dopri5Options, Pick<DriveOptions<ResumeState>, 'tEval' | 'onSample' | 'events'> {
  /**
   * Called after every accepted step (after its events and samples) with the solver-owned state
   * and the signed step just taken (including the final step). Return false to stop
   * ('user-stop'; ignored on the final step, which ends in 'success'); the stop is at an accepted
   * step boundary, so resuming from it is bit-identical to not stopping.
   */
  onStep?: (t: number, y: Float64Array, h: number, stats: Readonly<SolverStats>) => boolean | void;
}

/** What solveIvp returns: the driver's result, whose `resume` continues the solve. */
export type SolveIvpResult = DriveResult<ResumeState>;

/** Integrate y' = f(t, y) with Dormand-Prince 5(4); see SolveIvpOptions. */
export function solveIvp(opts: SolveIvpOptions): SolveIvpResult {
  const onStep = opts.onStep;
  return drive(new Dopri5(opts), {
    tEval: opts.tEval,
    onSample: opts.onSample,
    events: opts.events,
    resumed: opts.resumeFrom !== undefined,
    ...(onStep ? { onStep: (s: Stepper<ResumeState>) => onStep(s.t, s.y, s.hLast, s.stats) } : {}),
  });
}

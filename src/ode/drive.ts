/**
 * drive: the one solve loop of coflow. It advances any Stepper (stepper.ts) to its end and does
 * everything around the steps in one place: samples on a user grid (interpolated where the
 * stepper has dense output, at the step ends where it has not), events (events.ts), a stop hook,
 * and the snapshot to resume from. Nothing is stored per step, so states of 57,344 components
 * are fine: samples reach the caller through a callback.
 */
import { UsageError } from '../errors.js';
import { EventLocator, type EventRecord, type EventSpec } from './events.js';
import type { Stepper } from './stepper.js';
import type { SolveStatus, SolverStats, StepperState } from './types.js';

export interface DriveOptions<S extends StepperState = StepperState> {
  /**
   * Output times, strictly monotone in the direction of integration, within [t, tEnd] of the
   * stepper. A stepper without dense output must land on each of them (a map: integer times).
   * When `resumed`, times at or before the start were delivered by the previous leg and are
   * skipped, so both legs can be given the same grid. Requires onSample.
   */
  tEval?: Float64Array | readonly number[];
  /**
   * Receives each sample: with tEval, at every tEval[index]; without, at the start (index 0,
   * not when resumed) and at the end of every accepted step (index = cumulative accepted steps).
   * y is a reused buffer: copy what you keep.
   */
  onSample?: (t: number, y: Float64Array, index: number) => void;
  events?: readonly EventSpec[];
  /**
   * Called after every accepted step (after its events and samples) with the stepper. Return
   * false to stop ('user-stop'; ignored on the final step, which ends in 'success'); the stop is
   * at a step boundary, so resuming from it is bit-identical to not stopping.
   */
  onStep?: (stepper: Stepper<S>) => boolean | void;
  /** The stepper was restored from a snapshot: its starting sample belongs to the previous leg. */
  resumed?: boolean;
}

export interface DriveResult<S extends StepperState = StepperState> {
  status: SolveStatus;
  /** One human-readable line saying what happened and where. */
  message: string;
  /** Last good time: tEnd, the event time, or the last accepted step on failure or stop. */
  t: number;
  /** State at t (a copy). */
  y: Float64Array;
  stats: SolverStats;
  /** All events found, in time order. */
  events: EventRecord[];
  /** Number of onSample calls made. */
  samplesDelivered: number;
  /** Continue with a stepper restored from this (and `resumed: true`). */
  resume: S;
}

function toGrid(tEval: Float64Array | readonly number[]): Float64Array {
  return tEval instanceof Float64Array ? tEval : Float64Array.from(tEval);
}

/** Advance `stepper` to its end (or a failure, a terminal event, a stop); see DriveOptions. */
export function drive<S extends StepperState>(stepper: Stepper<S>, opts: DriveOptions<S> = {}): DriveResult<S> {
  const resuming = opts.resumed === true;
  const dir = stepper.direction;
  const onSample = opts.onSample;
  const grid = opts.tEval === undefined ? null : toGrid(opts.tEval);
  if (grid && !onSample) throw new UsageError('tEval was given without onSample; pass onSample(t, y, index) to receive the samples');
  const sampleBuf = stepper.sampleBuffer;
  let next = 0; // next grid index to deliver
  let delivered = 0;
  const deliver = (t: number, y: Float64Array, index: number): void => {
    if (y !== sampleBuf) sampleBuf.set(y);
    (onSample as NonNullable<typeof onSample>)(t, sampleBuf, index);
    delivered++;
  };
  if (grid) {
    for (let i = 0; i < grid.length; i++) {
      if (!Number.isFinite(grid[i])) throw new UsageError(`tEval[${i}] is ${grid[i]}; output times must be finite`);
      if (i > 0 && !(dir * (grid[i] - grid[i - 1]) > 0)) {
        throw new UsageError(`tEval must be strictly ${dir > 0 ? 'increasing' : 'decreasing'} (the direction of integration); tEval[${i - 1}] = ${grid[i - 1]}, tEval[${i}] = ${grid[i]}`);
      }
      if (dir * (grid[i] - stepper.tEnd) > 0) throw new UsageError(`tEval[${i}] = ${grid[i]} lies beyond tEnd = ${stepper.tEnd}; drop it or extend tEnd`);
    }
    // Skip what lies before the start; on a fresh solve that is an error, on resume it was delivered.
    while (next < grid.length && dir * (grid[next] - stepper.t) < 0) next++;
    if (!resuming && next > 0) throw new UsageError(`tEval[0] = ${grid[0]} lies before t0 = ${stepper.t}; output times must be within [t0, tEnd]`);
    if (resuming) {
      if (next < grid.length && grid[next] === stepper.t) next++;
    } else {
      while (next < grid.length && grid[next] === stepper.t) deliver(grid[next], stepper.y, next++);
    }
  } else if (onSample && !resuming) {
    deliver(stepper.t, stepper.y, 0);
  }

  const locator = new EventLocator(opts.events ?? []);
  const events: EventRecord[] = [];
  if (locator.count > 0) locator.start(stepper.t, stepper.y);

  /** Deliver the grid samples up to tLimit (inclusive) within the last step. */
  const deliverUpTo = (tLimit: number): void => {
    if (!grid) return;
    while (next < grid.length && dir * (grid[next] - tLimit) <= 0) {
      const tq = grid[next];
      if (stepper.denseAt) {
        stepper.denseAt(tq, sampleBuf);
      } else if (tq === stepper.t) {
        sampleBuf.set(stepper.y);
      } else {
        // A stepper without dense output must land on every output time (it never interpolates).
        throw new Error(`output time ${tq} lies inside the step [${stepper.tOld}, ${stepper.t}] of a stepper without dense output`);
      }
      deliver(tq, sampleBuf, next++);
    }
  };

  let status: SolveStatus | 'running' = stepper.status;
  let message = stepper.message;
  let terminal: EventRecord | null = null;
  while (status === 'running') {
    const st = stepper.step();
    if (st !== 'running' && st !== 'success') {
      status = st;
      message = stepper.message;
      break;
    }
    if (locator.count > 0) {
      const found = locator.afterStep(stepper);
      for (const r of found) events.push(r);
      const last = found.length > 0 ? found[found.length - 1] : null;
      if (last && last.terminal) terminal = last;
    }
    if (terminal) {
      deliverUpTo(terminal.t);
      if (!grid && onSample) deliver(terminal.t, terminal.y, stepper.stats.naccepted);
      status = 'terminal-event';
      message = `terminal event ${terminal.index} ('${terminal.name}') at t = ${terminal.t}`;
      break;
    }
    deliverUpTo(stepper.t);
    if (!grid && onSample) deliver(stepper.t, stepper.y, stepper.stats.naccepted);
    const keepGoing = opts.onStep ? opts.onStep(stepper) !== false : true;
    if (st === 'success') {
      status = 'success';
      message = stepper.message;
      break;
    }
    if (!keepGoing) {
      status = 'user-stop';
      message = `stopped by onStep at t = ${stepper.t} after ${stepper.stats.naccepted} accepted steps`;
      break;
    }
  }

  const stats: SolverStats = { nfev: stepper.stats.nfev, naccepted: stepper.stats.naccepted, nrejected: stepper.stats.nrejected };
  // A located event point is not a step node: resuming from it is valid but not bit-identical.
  const at = terminal && terminal.located ? { t: terminal.t, y: terminal.y } : undefined;
  return {
    status,
    message,
    t: terminal ? terminal.t : stepper.t,
    y: terminal ? Float64Array.from(terminal.y) : Float64Array.from(stepper.y),
    stats,
    events,
    samplesDelivered: delivered,
    resume: stepper.snapshot(at),
  };
}

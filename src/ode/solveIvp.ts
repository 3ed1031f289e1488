/**
 * solveIvp: drive a Dopri5 solver from t0 to tEnd, delivering samples on a user grid through a
 * callback (nothing is stored per step, so 57,344-component states are fine), locating events on
 * the dense output, and reporting how and where the solve ended together with everything needed
 * to resume it.
 */
import { UsageError } from '../errors.js';
import { Dopri5, type Dopri5Options } from './dopri5.js';
import { EventLocator, type EventRecord, type EventSpec } from './events.js';
import type { ResumeState, SolveStatus, SolverStats } from './types.js';

export interface SolveIvpOptions extends Dopri5Options {
  /**
   * Output times, strictly monotone in the direction of integration, within [t0, tEnd]. When
   * resuming, times at or before resumeFrom.t are skipped (the previous leg delivered them), so
   * both legs can be given the same grid. Requires onSample.
   */
  tEval?: Float64Array | readonly number[];
  /**
   * Receives each sample: with tEval, at every tEval[index]; without tEval, at the start
   * (index 0, not when resuming) and at the end of every accepted step (index = cumulative
   * accepted steps). y is a reused buffer: copy what you keep.
   */
  onSample?: (t: number, y: Float64Array, index: number) => void;
  events?: readonly EventSpec[];
  /**
   * Called after every accepted step (after its events and samples) with the solver-owned state
   * and the signed step just taken (including the final step). Return false to stop
   * ('user-stop'; ignored on the final step, which ends in 'success'); the stop is at an accepted
   * step boundary, so resuming from it is bit-identical to not stopping.
   */
  onStep?: (t: number, y: Float64Array, h: number, stats: Readonly<SolverStats>) => boolean | void;
}

export interface SolveIvpResult {
  status: SolveStatus;
  /** One human-readable line saying what happened and where. */
  message: string;
  /** Last good time: tEnd, the event time, or the last accepted step on failure/stop. */
  t: number;
  /** State at t (a copy). */
  y: Float64Array;
  stats: SolverStats;
  /** All events located, in time order. */
  events: EventRecord[];
  /** Number of onSample calls made. */
  samplesDelivered: number;
  /** Continue with solveIvp({ ...sameOptions, resumeFrom: result.resume }). */
  resume: ResumeState;
}

function toGrid(tEval: Float64Array | readonly number[]): Float64Array {
  return tEval instanceof Float64Array ? tEval : Float64Array.from(tEval);
}

/** Integrate y' = f(t, y) with Dormand-Prince 5(4); see SolveIvpOptions. */
export function solveIvp(opts: SolveIvpOptions): SolveIvpResult {
  const solver = new Dopri5(opts);
  const resuming = opts.resumeFrom !== undefined;
  const dir = solver.direction;
  const onSample = opts.onSample;
  const grid = opts.tEval === undefined ? null : toGrid(opts.tEval);
  if (grid && !onSample) throw new UsageError('tEval was given without onSample; pass onSample(t, y, index) to receive the samples');
  // Samples are written in the solver's memory: dense output lands there without a copy.
  const sampleBuf = solver.denseOut;
  let next = 0; // next grid index to deliver
  let delivered = 0;
  if (grid) {
    for (let i = 0; i < grid.length; i++) {
      if (!Number.isFinite(grid[i])) throw new UsageError(`tEval[${i}] is ${grid[i]}; output times must be finite`);
      if (i > 0 && !(dir * (grid[i] - grid[i - 1]) > 0)) {
        throw new UsageError(`tEval must be strictly ${dir > 0 ? 'increasing' : 'decreasing'} (the direction of integration); tEval[${i - 1}] = ${grid[i - 1]}, tEval[${i}] = ${grid[i]}`);
      }
      if (dir * (grid[i] - solver.tEnd) > 0) throw new UsageError(`tEval[${i}] = ${grid[i]} lies beyond tEnd = ${solver.tEnd}; drop it or extend tEnd`);
    }
    // Skip what lies before the start; on a fresh solve that is an error, on resume it was delivered.
    while (next < grid.length && dir * (grid[next] - solver.t) < 0) next++;
    if (!resuming && next > 0) throw new UsageError(`tEval[0] = ${grid[0]} lies before t0 = ${solver.t}; output times must be within [t0, tEnd]`);
    if (resuming) {
      if (next < grid.length && grid[next] === solver.t) next++;
    } else {
      while (next < grid.length && grid[next] === solver.t) {
        sampleBuf.set(solver.y);
        (onSample as NonNullable<typeof onSample>)(grid[next], sampleBuf, next);
        next++;
        delivered++;
      }
    }
  } else if (onSample && !resuming) {
    sampleBuf.set(solver.y);
    onSample(solver.t, sampleBuf, 0);
    delivered++;
  }

  const locator = new EventLocator(opts.events ?? []);
  const events: EventRecord[] = [];
  if (locator.count > 0) locator.start(solver.t, solver.y);

  /** Deliver grid samples up to tLimit (inclusive) within the last accepted step. */
  const deliverUpTo = (tLimit: number): void => {
    if (!grid) return;
    while (next < grid.length && dir * (grid[next] - tLimit) <= 0) {
      solver.denseAt(grid[next], sampleBuf);
      (onSample as NonNullable<typeof onSample>)(grid[next], sampleBuf, next);
      next++;
      delivered++;
    }
  };

  let status: SolveStatus | 'running' = solver.status;
  let message = solver.message;
  let terminal: EventRecord | null = null;
  while (status === 'running') {
    const st = solver.step();
    if (st !== 'running' && st !== 'success') {
      status = st;
      message = solver.message;
      break;
    }
    if (locator.count > 0) {
      const found = locator.afterStep(solver);
      for (const r of found) events.push(r);
      const last = found.length > 0 ? found[found.length - 1] : null;
      if (last && last.terminal) terminal = last;
    }
    if (terminal) {
      deliverUpTo(terminal.t);
      if (!grid && onSample) {
        sampleBuf.set(terminal.y);
        onSample(terminal.t, sampleBuf, solver.stats.naccepted);
        delivered++;
      }
      status = 'terminal-event';
      message = `terminal event ${terminal.eventIndex} ('${terminal.name}') at t = ${terminal.t}`;
      break;
    }
    deliverUpTo(solver.t);
    if (!grid && onSample) {
      sampleBuf.set(solver.y);
      onSample(solver.t, sampleBuf, solver.stats.naccepted);
      delivered++;
    }
    const keepGoing = opts.onStep ? opts.onStep(solver.t, solver.y, solver.hLast, solver.stats) !== false : true;
    if (st === 'success') {
      status = 'success';
      message = solver.message;
      break;
    }
    if (!keepGoing) {
      status = 'user-stop';
      message = `stopped by onStep at t = ${solver.t} after ${solver.stats.naccepted} accepted steps`;
      break;
    }
  }

  const stats: SolverStats = { nfev: solver.stats.nfev, naccepted: solver.stats.naccepted, nrejected: solver.stats.nrejected };
  let resume: ResumeState;
  if (terminal) {
    // The event point is not a step node: resuming recomputes f there and keeps h and the
    // controller memory, which is valid but not bit-identical to an uninterrupted solve.
    const base = solver.resumeState();
    resume = { t: terminal.t, y: Float64Array.from(terminal.y), h: base.h, controller: base.controller, stats: base.stats };
  } else {
    resume = solver.resumeState();
  }
  return {
    status,
    message,
    t: terminal ? terminal.t : solver.t,
    y: terminal ? Float64Array.from(terminal.y) : Float64Array.from(solver.y),
    stats,
    events,
    samplesDelivered: delivered,
    resume,
  };
}

/**
 * iterateMap: iterating a fixed map y_{k+1} = map(k, y_k), e.g. full-batch gradient descent,
 * through the one driver (drive.ts), so recording, events (reported at the first iterate past a
 * sign change), failure statuses, the stop hook and resumption are those of every other solve.
 * Time is the iterate index k.
 */
import { UsageError } from '../errors.js';
import { drive, type DriveOptions, type DriveResult } from './drive.js';
import { MapStepper, type IterMap, type MapStepperOptions, type Stepper } from './stepper.js';
import type { VectorField } from './types.js';

export interface IterateOptions extends MapStepperOptions, Pick<DriveOptions, 'events'> {
  /** Sample every sampleEvery-th iterate (k % sampleEvery === 0), index = k / sampleEvery. */
  sampleEvery?: number;
  /** Sample at these strictly increasing iterate indices, index = position in the list. */
  sampleAt?: readonly number[] | Int32Array;
  /**
   * Receives samples (every iterate if neither sampleEvery nor sampleAt is given, index = k).
   * The sample at the starting index is skipped when resuming (the previous leg delivered it).
   * y is a reused buffer: copy what you keep.
   */
  onSample?: (k: number, y: Float64Array, index: number) => void;
  /**
   * Called after each new iterate k (after its events and samples); return false to stop
   * ('user-stop'; ignored at the final iterate, which ends in 'success').
   */
  onStep?: (k: number, y: Float64Array) => boolean | void;
}

/** Iterate a map with recording, events, NaN detection and a stop hook (result.t is the last good k). */
export function iterateMap(opts: IterateOptions): DriveResult {
  const stepper = new MapStepper(opts);
  const steps = opts.steps;
  if (opts.sampleEvery !== undefined && opts.sampleAt !== undefined) throw new UsageError('give either sampleEvery or sampleAt, not both');
  const every = opts.sampleEvery;
  if (every !== undefined && (!Number.isInteger(every) || every < 1)) throw new UsageError(`sampleEvery must be an integer >= 1, got ${every}`);
  const sampleAt = opts.sampleAt;
  if (sampleAt) {
    for (let i = 0; i < sampleAt.length; i++) {
      if (!Number.isInteger(sampleAt[i]) || sampleAt[i] < 0 || sampleAt[i] > steps || (i > 0 && !(sampleAt[i] > sampleAt[i - 1]))) {
        throw new UsageError(`sampleAt must be strictly increasing integers in [0, steps]; sampleAt[${i}] = ${sampleAt[i]}`);
      }
    }
  }
  if ((every !== undefined || sampleAt !== undefined) && !opts.onSample) throw new UsageError('sampleEvery/sampleAt given without onSample');
  let grid: Float64Array | undefined;
  if (sampleAt) grid = Float64Array.from(sampleAt);
  else if (every !== undefined) grid = Float64Array.from({ length: Math.floor(steps / every) + 1 }, (_, j) => j * every);
  const onStep = opts.onStep;
  return drive(stepper, {
    tEval: grid,
    onSample: opts.onSample,
    events: opts.events,
    resumed: opts.resumeFrom !== undefined,
    ...(onStep ? { onStep: (s: Stepper) => onStep(s.t, s.y) } : {}),
  });
}

/**
 * Explicit Euler on a vector field f = -grad L: y_{k+1} = y_k + lr f(lr k, y_k), which is
 * full-batch gradient descent with learning rate lr, so iterate k is compared with the flow at
 * time t = lr k. Writes f into out first and then updates in place (no scratch buffer).
 */
export function gradientDescentMap(f: VectorField, lr: number): IterMap {
  if (!(lr > 0) || !Number.isFinite(lr)) throw new UsageError(`lr must be a finite number > 0, got ${lr}`);
  return (k, y, out) => {
    f(lr * k, y, out);
    const n = y.length;
    for (let i = 0; i < n; i++) out[i] = y[i] + lr * out[i];
  };
}

/**
 * Iterating a fixed map y_{k+1} = map(k, y_k), e.g. full-batch gradient descent, with the same
 * recording, failure reporting and stop hook as solveIvp. Two preallocated buffers are swapped
 * by reference, so an iteration allocates nothing.
 */
import { UsageError } from '../errors.js';
import type { VectorField } from './types.js';

/**
 * Writes map(k, y) into out (out and y are distinct buffers; do not keep either). A map that
 * checks its own output may return the non-finite probe of out (0 when every entry is finite,
 * NaN otherwise; e.g. the fused GD kernel of src/ode/simd.ts); iterateMap then skips its own pass.
 */
export type IterMap = (k: number, y: Float64Array, out: Float64Array) => number | void;

export type IterateStatus = 'success' | 'non-finite' | 'terminal-event' | 'user-stop';

/** An event for iterates: reported at the first iterate after g changes sign (no root-finding). */
export interface IterateEventSpec {
  g: (k: number, y: Float64Array) => number;
  /** +1 only negative-to-positive, -1 only positive-to-negative, 0 (default) both. */
  direction?: -1 | 0 | 1;
  /** Stop at the iterate where the event is reported (default false). */
  terminal?: boolean;
  name?: string;
}

export interface IterateEventRecord {
  eventIndex: number;
  name: string;
  /** First iterate index after the sign change. */
  k: number;
  /** Copy of y_k. */
  y: Float64Array;
  direction: 1 | -1;
  terminal: boolean;
}

/** Where to continue an iteration from. */
export interface IterateResumeState {
  readonly k: number;
  readonly y: Float64Array;
}

export interface IterateOptions {
  map: IterMap;
  /** Initial iterate y_0 (copied). Omit when resuming (or give the same values). */
  y0?: Float64Array;
  /** Final iterate index: iterate until y_steps (counted from k = 0 even when resuming). */
  steps: number;
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
  events?: readonly IterateEventSpec[];
  /**
   * Called after each new iterate k (after its events and samples); return false to stop
   * ('user-stop'; ignored at the final iterate, which ends in 'success').
   */
  onStep?: (k: number, y: Float64Array) => boolean | void;
  resumeFrom?: IterateResumeState;
  /**
   * The two iterate buffers to swap (each of the state's length, distinct), e.g. views into the
   * memory of the map's SIMD kernels so that no iterate is copied. Default: allocated here.
   */
  buffers?: { y: Float64Array; out: Float64Array };
}

export interface IterateResult {
  status: IterateStatus;
  message: string;
  /** Index of the last good iterate. */
  k: number;
  /** Copy of the last good iterate. */
  y: Float64Array;
  events: IterateEventRecord[];
  samplesDelivered: number;
  resume: IterateResumeState;
}

/** Iterate a map with recording, events, NaN detection and a stop hook. */
export function iterateMap(opts: IterateOptions): IterateResult {
  if (typeof opts.map !== 'function') throw new UsageError('map must be a function (k, y, out) => void');
  let k0 = 0;
  let y0: Float64Array;
  if (opts.resumeFrom) {
    k0 = opts.resumeFrom.k;
    y0 = opts.resumeFrom.y;
    if (!Number.isInteger(k0) || k0 < 0) throw new UsageError(`resumeFrom.k must be an integer >= 0, got ${k0}`);
  } else {
    if (!(opts.y0 instanceof Float64Array)) throw new UsageError('y0 must be a Float64Array (or give resumeFrom)');
    y0 = opts.y0;
  }
  if (!(y0 instanceof Float64Array) || y0.length === 0) throw new UsageError('the initial iterate must be a non-empty Float64Array');
  if (opts.resumeFrom && opts.y0 !== undefined) {
    const same = opts.y0.length === y0.length && opts.y0.every((v, i) => Object.is(v, y0[i]));
    if (!same) throw new UsageError('y0 differs from resumeFrom.y; omit y0 when resuming');
  }
  for (let i = 0; i < y0.length; i++) if (!Number.isFinite(y0[i])) throw new UsageError(`initial iterate [${i}] is ${y0[i]}; it must be finite`);
  const steps = opts.steps;
  if (!Number.isInteger(steps) || steps < k0) throw new UsageError(`steps must be an integer >= the starting index ${k0}, got ${steps}`);
  if (opts.sampleEvery !== undefined && opts.sampleAt !== undefined) throw new UsageError('give either sampleEvery or sampleAt, not both');
  if (opts.sampleEvery !== undefined && (!Number.isInteger(opts.sampleEvery) || opts.sampleEvery < 1)) {
    throw new UsageError(`sampleEvery must be an integer >= 1, got ${opts.sampleEvery}`);
  }
  const sampleAt = opts.sampleAt;
  if (sampleAt) {
    for (let i = 0; i < sampleAt.length; i++) {
      if (!Number.isInteger(sampleAt[i]) || sampleAt[i] < 0 || sampleAt[i] > steps || (i > 0 && !(sampleAt[i] > sampleAt[i - 1]))) {
        throw new UsageError(`sampleAt must be strictly increasing integers in [0, steps]; sampleAt[${i}] = ${sampleAt[i]}`);
      }
    }
  }
  if ((opts.sampleEvery !== undefined || sampleAt !== undefined) && !opts.onSample) throw new UsageError('sampleEvery/sampleAt given without onSample');
  const specs = opts.events ?? [];
  specs.forEach((s, i) => {
    if (typeof s?.g !== 'function') throw new UsageError(`events[${i}].g must be a function (k, y) => number`);
    if (s.direction !== undefined && s.direction !== -1 && s.direction !== 0 && s.direction !== 1) {
      throw new UsageError(`events[${i}].direction must be -1, 0 or +1, got ${String(s.direction)}`);
    }
  });

  const n = y0.length;
  const given = opts.buffers;
  if (given && (!(given.y instanceof Float64Array) || !(given.out instanceof Float64Array) || given.y.length !== n || given.out.length !== n || given.y === given.out)) {
    throw new UsageError(`buffers must be two distinct Float64Arrays of the state's length ${n}`);
  }
  let y = given ? given.y : new Float64Array(n);
  let out = given ? given.out : new Float64Array(n);
  // (y0 may be one of the buffers: TypedArray.prototype.set copies overlapping memory correctly.)
  y.set(y0);
  const sampleBuf = new Float64Array(n);
  let delivered = 0;
  let nextSample = 0;
  if (sampleAt) while (nextSample < sampleAt.length && sampleAt[nextSample] < k0) nextSample++;
  const onSample = opts.onSample;
  const sampleIfDue = (k: number): void => {
    if (!onSample) return;
    let index = -1;
    if (sampleAt) {
      if (nextSample < sampleAt.length && sampleAt[nextSample] === k) index = nextSample++;
    } else if (opts.sampleEvery !== undefined) {
      if (k % opts.sampleEvery === 0) index = k / opts.sampleEvery;
    } else {
      index = k;
    }
    if (index < 0) return;
    sampleBuf.set(y);
    onSample(k, sampleBuf, index);
    delivered++;
  };
  if (opts.resumeFrom) {
    if (sampleAt && nextSample < sampleAt.length && sampleAt[nextSample] === k0) nextSample++;
  } else {
    sampleIfDue(k0);
  }

  const gOld = new Float64Array(specs.length);
  const evalG = (e: number, k: number, yk: Float64Array): number => {
    const v = specs[e].g(k, yk);
    if (typeof v !== 'number' || Number.isNaN(v)) throw new UsageError(`events[${e}] returned ${String(v)} at iterate ${k}; an event function must return a number`);
    return v;
  };
  for (let e = 0; e < specs.length; e++) gOld[e] = evalG(e, k0, y);
  const events: IterateEventRecord[] = [];

  let k = k0;
  let status: IterateStatus = 'success';
  let message = `reached iterate ${steps}`;
  while (k < steps) {
    const probed = opts.map(k, y, out);
    // x * 0 is 0 for finite x and NaN for NaN/Inf: one cheap pass detects any non-finite entry
    // (four partial sums, so the pass is not one long chain of dependent additions), unless the
    // map has probed its own output.
    if ((typeof probed === 'number' ? probed : nonFiniteProbe(out, n)) !== 0) {
      status = 'non-finite';
      message = `non-finite value (NaN or Inf) in iterate ${k + 1}; last good iterate is ${k}`;
      break;
    }
    const tmp = y;
    y = out;
    out = tmp;
    k++;
    let terminalHit: IterateEventRecord | null = null;
    for (let e = 0; e < specs.length; e++) {
      const g1 = evalG(e, k, y);
      const g0 = gOld[e];
      gOld[e] = g1;
      const up = g0 < 0 && g1 >= 0;
      const down = g0 > 0 && g1 <= 0;
      const want = specs[e].direction ?? 0;
      if (!((up && want >= 0) || (down && want <= 0))) continue;
      const rec: IterateEventRecord = {
        eventIndex: e,
        name: specs[e].name ?? `event ${e}`,
        k,
        y: Float64Array.from(y),
        direction: up ? 1 : -1,
        terminal: specs[e].terminal === true,
      };
      events.push(rec);
      if (rec.terminal && !terminalHit) terminalHit = rec;
    }
    sampleIfDue(k);
    if (terminalHit) {
      status = 'terminal-event';
      message = `terminal event ${terminalHit.eventIndex} ('${terminalHit.name}') at iterate ${k}`;
      break;
    }
    if (opts.onStep && opts.onStep(k, y) === false && k < steps) {
      status = 'user-stop';
      message = `stopped by onStep at iterate ${k}`;
      break;
    }
  }
  return { status, message, k, y: Float64Array.from(y), events, samplesDelivered: delivered, resume: { k, y: Float64Array.from(y) } };
}

/** 0 when every entry of x[0..n) is finite, NaN otherwise. */
function nonFiniteProbe(x: Float64Array, n: number): number {
  let p0 = 0;
  let p1 = 0;
  let p2 = 0;
  let p3 = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    p0 += x[i] * 0;
    p1 += x[i + 1] * 0;
    p2 += x[i + 2] * 0;
    p3 += x[i + 3] * 0;
  }
  for (; i < n; i++) p0 += x[i] * 0;
  return p0 + p1 + p2 + p3;
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

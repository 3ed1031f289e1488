/**
 * The one interface every time-stepping method of coflow implements, so that one loop (drive.ts)
 * does the recording, events, stop hook and resumption for all of them: Dormand-Prince
 * (dopri5.ts), a fixed map such as gradient descent (MapStepper below), and the odex
 * cross-check (odexAdapter.ts). As in scipy's OdeSolver, a stepper advances by one accepted step
 * per step() call and owns its buffers; unlike it, a stepper also says whether it has dense
 * output, which decides how the driver places samples and events.
 */
import { UsageError } from '../errors.js';
import type { SolverStats, StepperState } from './types.js';

/** A stepper's state after step(): 'running' until it ends one way or another. */
export type StepStatus = 'running' | 'success' | 'non-finite' | 'step-too-small' | 'max-steps';

export interface Stepper<S extends StepperState = StepperState> {
  /** State length. */
  readonly n: number;
  /** +1 forward, -1 backward. */
  readonly direction: 1 | -1;
  /** Current time (a map's time is its iterate index k). */
  readonly t: number;
  /** Time at the start of the last step. */
  readonly tOld: number;
  /** Where the stepper stops with 'success'. */
  readonly tEnd: number;
  /** Current state, owned by the stepper: its contents change at every step (copy what you keep). */
  readonly y: Float64Array;
  /**
   * f(t, y) at the current point when the method has it without an extra evaluation (Dormand-
   * Prince's first-same-as-last stage); undefined otherwise.
   */
  readonly dydt: Float64Array | undefined;
  /** Signed size of the last step. */
  readonly hLast: number;
  /** Work counters, cumulative across resumed legs. */
  readonly stats: Readonly<SolverStats>;
  readonly status: StepStatus;
  /** One line on how the stepper ended (or why it has not yet). */
  readonly message: string;
  /** Advance by one accepted step; on failure t and y stay at the last good point. */
  step(): StepStatus;
  /**
   * Dense output on the last step [tOld, t], written into out; absent when the method has none
   * (then samples and events are only seen at the step ends).
   */
  denseAt?(tq: number, out: Float64Array): void;
  /** A state-length buffer the driver may write samples into (e.g. in the stepper's own memory). */
  readonly sampleBuffer: Float64Array;
  /**
   * A copy of everything needed to continue bit-identically from here; with `at`, from a point
   * inside the last step (a located event), which is valid but not a step node.
   */
  snapshot(at?: { t: number; y: Float64Array }): S;
  /** Continue from a snapshot (of this method, with a state of this length). */
  restore(s: S): void;
}

/**
 * Writes map(k, y) into out (out and y are distinct buffers; do not keep either). A map that
 * checks its own output may return the non-finite probe of out (0 when every entry is finite,
 * NaN otherwise; e.g. the fused GD kernel of src/ode/simd.ts); the stepper then skips its own pass.
 */
export type IterMap = (k: number, y: Float64Array, out: Float64Array) => number | void;

export interface MapStepperOptions {
  map: IterMap;
  /** Initial iterate y_0 (copied); omit when resuming. */
  y0?: Float64Array;
  /** Final iterate index: iterate until y_steps (counted from k = 0 also when resuming). */
  steps: number;
  resumeFrom?: StepperState;
  /**
   * The two iterate buffers to swap (each of the state's length, distinct), e.g. views into the
   * memory of the map's SIMD kernels so that no iterate is copied. Default: allocated here.
   */
  buffers?: { y: Float64Array; out: Float64Array };
}

/**
 * Iterating a fixed map y_{k+1} = map(k, y_k), e.g. full-batch gradient descent. Time is the
 * iterate index; there is no dense output, so the driver reports events at the first iterate
 * past a sign change. Two preallocated buffers are swapped by reference: a step allocates nothing.
 */
export class MapStepper implements Stepper<StepperState> {
  readonly n: number;
  readonly direction = 1 as const;
  readonly tEnd: number;
  readonly dydt = undefined;
  readonly hLast = 1;
  readonly sampleBuffer: Float64Array;
  t = 0;
  tOld = 0;
  status: StepStatus = 'running';
  message = 'running';
  stats: SolverStats = { nfev: 0, naccepted: 0, nrejected: 0 };
  private cur: Float64Array;
  private next: Float64Array;
  private readonly map: IterMap;

  constructor(opts: MapStepperOptions) {
    if (typeof opts.map !== 'function') throw new UsageError('map must be a function (k, y, out) => void');
    this.map = opts.map;
    const start = opts.resumeFrom ?? (opts.y0 === undefined ? undefined : { t: 0, y: opts.y0, stats: this.stats });
    if (start === undefined || !(start.y instanceof Float64Array)) throw new UsageError('y0 must be a Float64Array (or give resumeFrom)');
    if (start.y.length === 0) throw new UsageError('the initial iterate must be a non-empty Float64Array');
    if (opts.resumeFrom && opts.y0 !== undefined) {
      const y0 = opts.y0;
      const same = y0.length === start.y.length && y0.every((v, i) => Object.is(v, start.y[i]));
      if (!same) throw new UsageError('y0 differs from resumeFrom.y; omit y0 when resuming');
    }
    const n = start.y.length;
    this.n = n;
    const given = opts.buffers;
    if (given && (!(given.y instanceof Float64Array) || !(given.out instanceof Float64Array) || given.y.length !== n || given.out.length !== n || given.y === given.out)) {
      throw new UsageError(`buffers must be two distinct Float64Arrays of the state's length ${n}`);
    }
    this.cur = given ? given.y : new Float64Array(n);
    this.next = given ? given.out : new Float64Array(n);
    this.sampleBuffer = new Float64Array(n);
    this.tEnd = opts.steps;
    this.restore(start);
    if (!Number.isInteger(opts.steps) || opts.steps < this.t) throw new UsageError(`steps must be an integer >= the starting index ${this.t}, got ${opts.steps}`);
    if (this.t === this.tEnd) this.finish('success', `reached iterate ${this.tEnd}`);
  }

  get y(): Float64Array {
    return this.cur;
  }

  step(): StepStatus {
    if (this.status !== 'running') throw new Error(`MapStepper.step() called after it ended with status '${this.status}'`);
    const k = this.t;
    const probed = this.map(k, this.cur, this.next);
    // x * 0 is 0 for finite x and NaN for NaN/Inf: one cheap pass detects any non-finite entry,
    // unless the map has probed its own output.
    if ((typeof probed === 'number' ? probed : nonFiniteProbe(this.next, this.n)) !== 0) {
      return this.finish('non-finite', `non-finite value (NaN or Inf) in iterate ${k + 1}; last good iterate is ${k}`);
    }
    const tmp = this.cur;
    this.cur = this.next;
    this.next = tmp;
    this.tOld = k;
    this.t = k + 1;
    this.stats.nfev++;
    this.stats.naccepted++;
    if (this.t === this.tEnd) return this.finish('success', `reached iterate ${this.tEnd}`);
    return this.status;
  }

  snapshot(): StepperState {
    return { t: this.t, y: Float64Array.from(this.cur), stats: { ...this.stats } };
  }

  restore(s: StepperState): void {
    if (!Number.isInteger(s.t) || s.t < 0) throw new UsageError(`resumeFrom.t (the iterate index) must be an integer >= 0, got ${s.t}`);
    if (!(s.y instanceof Float64Array) || s.y.length !== this.n) throw new UsageError(`resumeFrom.y must be a Float64Array of length ${this.n}`);
    for (let i = 0; i < this.n; i++) if (!Number.isFinite(s.y[i])) throw new UsageError(`initial iterate [${i}] is ${s.y[i]}; it must be finite`);
    // (y may be one of the buffers: TypedArray.prototype.set copies overlapping memory correctly.)
    this.cur.set(s.y);
    this.t = s.t;
    this.tOld = s.t;
    // A map costs one evaluation per iterate; a snapshot without counters (a fresh start at k) has done k.
    this.stats = s.stats ? { nfev: s.stats.nfev, naccepted: s.stats.naccepted, nrejected: s.stats.nrejected } : { nfev: s.t, naccepted: s.t, nrejected: 0 };
    this.status = 'running';
    this.message = 'running';
  }

  private finish(status: Exclude<StepStatus, 'running'>, message: string): StepStatus {
    this.status = status;
    this.message = message;
    return status;
  }
}

/** 0 when every entry of x[0..n) is finite, NaN otherwise (four partial sums: no long dependency chain). */
export function nonFiniteProbe(x: Float64Array, n: number): number {
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

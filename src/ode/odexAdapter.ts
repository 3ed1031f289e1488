/**
 * Cross-check adapter for the npm package odex 2.0.4: Hairer & Wanner's ODEX, a
 * Gragg-Bulirsch-Stoer extrapolation method, i.e. a different family of integrator from
 * Dormand-Prince, which makes agreement between the two meaningful.
 *
 * It is only a cross-check, never the production integrator: odex allocates new arrays at every
 * step and derivative call (its derivative returns a fresh array), and it does not stop on NaN:
 * measured here, a field returning NaN after t = 0.5 made it run on to its step limit (9,999
 * "accepted" steps, about 430,000 evaluations) and return y = [NaN]. This adapter therefore
 * checks every output it returns and reports 'non-finite' itself.
 *
 * As a Stepper, one step is one odex solve from the current node to the next one (the output
 * times, then tEnd): every node is a step end of the extrapolation method, never an interpolated
 * value, so a snapshot at a node is an exact restart.
 */
import { createRequire } from 'node:module';
import { UsageError } from '../errors.js';
import type { OdexModule, OdexSolver } from './odex.js';
import type { StepStatus, Stepper } from './stepper.js';
import type { SolverStats, StepperState, VectorField } from './types.js';

// CommonJS package loaded through require so tsc uses ./odex.d.ts instead of odex's own source.
const odex = createRequire(import.meta.url)('odex') as OdexModule;

export interface OdexStepperOptions {
  f: VectorField;
  t0?: number;
  /** Initial state (copied); omit when resuming. */
  y0?: Float64Array;
  /** The nodes: strictly monotone away from t0 (t0 itself allowed first); the last is tEnd. */
  nodes: Float64Array | readonly number[];
  rtol: number;
  /** Absolute tolerance, a scalar or one per component. */
  atol: number | Float64Array;
  /** odex's step limit, per step (node to node). */
  maxSteps: number;
  resumeFrom?: StepperState;
}

/** The odex cross-check as a Stepper without dense output (see the file comment). */
export class OdexStepper implements Stepper<StepperState> {
  readonly n: number;
  readonly direction: 1 | -1;
  readonly tEnd: number;
  readonly dydt = undefined;
  readonly sampleBuffer: Float64Array;
  t: number;
  tOld: number;
  hLast = 0;
  status: StepStatus = 'running';
  message = 'running';
  stats: SolverStats = { nfev: 0, naccepted: 0, nrejected: 0 };
  private readonly nodes: Float64Array;
  private next = 0;
  private readonly yCur: Float64Array;
  private readonly solver: OdexSolver;
  private readonly f: VectorField;
  private readonly yIn: Float64Array;
  private readonly dy: Float64Array;
  private readonly maxSteps: number;

  constructor(opts: OdexStepperOptions) {
    const start = opts.resumeFrom ?? { t: opts.t0 as number, y: opts.y0 as Float64Array, stats: this.stats };
    if (!(start.y instanceof Float64Array) || start.y.length === 0) throw new UsageError('y0 must be a non-empty Float64Array (or give resumeFrom)');
    if (typeof start.t !== 'number' || !Number.isFinite(start.t)) throw new UsageError(`t0 must be a finite number, got ${String(start.t)}`);
    const n = start.y.length;
    this.n = n;
    if (!(opts.rtol > 0)) throw new UsageError(`rtol must be > 0 for odex, got ${opts.rtol}`);
    const atol = typeof opts.atol === 'number' ? opts.atol : Array.from(opts.atol);
    if (typeof atol === 'number' ? !(atol > 0) : atol.length !== n || !atol.every((v) => v > 0)) {
      throw new UsageError(`atol must be > 0 (a number or ${n} positive values)`);
    }
    if (!Number.isInteger(opts.maxSteps) || opts.maxSteps < 1) throw new UsageError(`maxSteps must be an integer >= 1, got ${opts.maxSteps}`);
    this.maxSteps = opts.maxSteps;
    const nodes = Float64Array.from(opts.nodes);
    if (nodes.length === 0) throw new UsageError('odex needs at least one node (output time)');
    this.nodes = nodes;
    this.tEnd = nodes[nodes.length - 1];
    this.direction = this.tEnd < start.t ? -1 : 1;
    let prev = opts.resumeFrom ? Number.NaN : start.t;
    for (let i = 0; i < nodes.length; i++) {
      const bad = !Number.isFinite(nodes[i]) || this.direction * (nodes[i] - prev) < 0 || (i > 0 && nodes[i] === prev);
      if (bad) throw new UsageError(`the output times must be strictly monotone away from t0 = ${start.t}; tOut[${i}] = ${nodes[i]}`);
      prev = nodes[i];
    }
    this.f = opts.f;
    this.solver = new odex.Solver(n);
    this.solver.relativeTolerance = opts.rtol;
    this.solver.absoluteTolerance = atol;
    this.solver.maxSteps = opts.maxSteps;
    this.yCur = new Float64Array(n);
    this.sampleBuffer = new Float64Array(n);
    this.yIn = new Float64Array(n);
    this.dy = new Float64Array(n);
    this.t = start.t;
    this.tOld = start.t;
    this.restore(start);
  }

  get y(): Float64Array {
    return this.yCur;
  }

  private readonly derivative = (x: number, y: number[]): number[] => {
    this.yIn.set(y);
    this.f(x, this.yIn, this.dy);
    return Array.from(this.dy);
  };

  step(): StepStatus {
    if (this.status !== 'running') throw new Error(`OdexStepper.step() called after it ended with status '${this.status}'`);
    const t = this.t;
    const tNext = this.nodes[this.next];
    const r = this.solver.solve(this.derivative, t, Array.from(this.yCur), tNext);
    this.stats.nfev += r.nEval;
    this.stats.naccepted += r.nAccept;
    this.stats.nrejected += r.nReject;
    // Check for NaN first: on a NaN field odex runs to its step limit and reports only that.
    if (!r.y.every(Number.isFinite)) return this.finish('non-finite', `odex returned a non-finite state at t = ${tNext} (outcome ${r.outcome}); last good state is at t = ${t}`);
    if (r.outcome === odex.Outcome.MaxStepsExceeded) {
      return this.finish('max-steps', `odex exceeded maxSteps = ${this.maxSteps} between t = ${t} and ${tNext}`);
    }
    this.yCur.set(r.y);
    this.tOld = t;
    this.t = tNext;
    this.hLast = tNext - t;
    this.next++;
    if (this.next === this.nodes.length) return this.finish('success', `odex reached t = ${tNext} (${this.stats.nfev} evaluations)`);
    return this.status;
  }

  snapshot(): StepperState {
    return { t: this.t, y: Float64Array.from(this.yCur), stats: { ...this.stats } };
  }

  restore(s: StepperState): void {
    if (!(s.y instanceof Float64Array) || s.y.length !== this.n) throw new UsageError(`resumeFrom.y must be a Float64Array of length ${this.n}`);
    this.yCur.set(s.y);
    this.t = s.t;
    this.tOld = s.t;
    this.stats = { nfev: s.stats.nfev, naccepted: s.stats.naccepted, nrejected: s.stats.nrejected };
    // The next node is the first one past t (a node equal to t is the start itself).
    this.next = 0;
    while (this.next < this.nodes.length && this.direction * (this.nodes[this.next] - s.t) <= 0) this.next++;
    this.status = 'running';
    this.message = 'running';
    if (this.next === this.nodes.length) this.finish('success', `odex: nothing to integrate after t = ${s.t}`);
  }

  private finish(status: Exclude<StepStatus, 'running'>, message: string): StepStatus {
    this.status = status;
    this.message = message;
    return status;
  }
}

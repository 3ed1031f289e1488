/**
 * Adaptive Dormand-Prince 5(4) integrator with a step-by-step API, modelled on scipy's
 * OdeSolver/RK45 (one accepted step per step() call, preallocated stage buffer) and on Hairer's
 * DOPRI5 (FSAL, PI control, 1.01 rule for the last step, dense output of order 4).
 *
 * Allocation: every buffer (states, the 7 stage derivatives, scratch) is created in the
 * constructor; step() and denseAt() only index Float64Arrays and swap references, so no array or
 * object is created per step whatever the state size. (V8 itself may box a few doubles passed
 * to non-inlined calls such as f(t, ...): measured about 55 bytes per step, independent of n.)
 */
import { UsageError } from '../errors.js';
import { createController, type ControllerKind, type StepController } from './controller.js';
import { selectInitialStep } from './initialStep.js';
import { StageKernels, StageMemory } from './simd.js';
import type { StepStatus, Stepper } from './stepper.js';
import { DOPRI5, type ButcherTableau } from './tableau.js';
import type { ResumeState, SolverStats, VectorField } from './types.js';

/** Status of the step-by-step solver: 'running' until the solve ends one way or another. */
export type Dopri5Status = StepStatus;

export interface Dopri5Options {
  /** Right-hand side, writes f(t, y) into dydt. */
  f: VectorField;
  /** Start time; required unless resumeFrom is given (then, if given, must equal resumeFrom.t). */
  t0?: number;
  /** Initial state (copied); required unless resumeFrom is given (then must equal resumeFrom.y). */
  y0?: Float64Array;
  /** End time; tEnd < t0 integrates backward. */
  tEnd: number;
  /** Relative tolerance (required, no default), >= 0. */
  rtol: number;
  /** Absolute tolerance (required), > 0, a scalar or one value per component. */
  atol: number | Float64Array;
  /** Maximum number of trial steps (accepted + rejected) this solver may attempt; Infinity allowed. */
  maxSteps: number;
  /** First trial step size |h0|; default: Hairer's starting-step algorithm (one extra f call). */
  h0?: number;
  /** Step floor: if the controller wants |h| < hMin the solve stops with 'step-too-small'. */
  hMin?: number;
  /** Largest allowed |h| (the final step may exceed it by up to 1% to land exactly on tEnd). */
  hMax?: number;
  /**
   * Step-size controller: 'PI' (Hairer's DOPRI5 default), 'I' (elementary), or 'fixed' (control
   * off, constant h0, every step accepted). Default 'PI' (or resumeFrom's kind).
   */
  controller?: ControllerKind;
  /** Continue from a previous solve's exact state (see ResumeState). */
  resumeFrom?: ResumeState;
  /**
   * Work in this memory (Dopri5.VECTORS vectors of the state's length, e.g. from
   * Dopri5.memory(n)) instead of allocating one: a run of many legs then holds one memory, not
   * one per leg (13 state-sized vectors; 325 MiB at the Level G size of docs/performance.md).
   * Above the kernel memory's cap its vectors are plain arrays (src/ode/simd.ts StageMemory).
   * Its contents are overwritten, so it must not belong to a solver still in use.
   */
  memory?: StageMemory;
}

const EPS = Number.EPSILON;

/** Memories given back (Dopri5.release), most recent first; per thread (module state). */
const released: StageMemory[] = [];
const RELEASED_MAX = 2;
const RELEASED_MAX_BYTES = 64 * 2 ** 20;

function requireFinite(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new UsageError(`${name} must be a finite number, got ${String(v)}`);
  return v;
}

function checkState(name: string, y: unknown): Float64Array {
  if (!(y instanceof Float64Array) || y.length === 0) throw new UsageError(`${name} must be a non-empty Float64Array`);
  for (let i = 0; i < y.length; i++) {
    if (!Number.isFinite(y[i])) throw new UsageError(`${name}[${i}] is ${y[i]}; the state must be finite`);
  }
  return y;
}

/** Dormand-Prince 5(4) solver, advanced one accepted step at a time with step(). */
export class Dopri5 implements Stepper<ResumeState> {
  /** Vectors a solver keeps: y_cur, y_prev, y_next, y_stage, atol, dense output, the 7 stages. */
  static readonly VECTORS = 6 + DOPRI5.stages;

  /**
   * A memory for a solver of states of length n (see Dopri5Options.memory): one given back with
   * Dopri5.release if its length matches, else a new one. Why reuse: a fresh memory is fresh
   * pages, and on a virtual machine page faults of two threads or processes slow each other down
   * (measured: 264 KiB allocations ran 2.5x slower with two processes at once), so a sweep's
   * short runs scale across workers only if each worker keeps its memory (docs/performance.md).
   */
  static memory(n: number): StageMemory {
    // (only a memory of the kind a new one would be: WebAssembly, or plain vectors above the cap)
    const simd = StageMemory.fits(n, Dopri5.VECTORS);
    const i = released.findIndex((m) => m.n === n && m.simd === simd);
    if (i >= 0) return released.splice(i, 1)[0];
    return new StageMemory(n, Dopri5.VECTORS);
  }

  /**
   * Gives a memory back for Dopri5.memory to hand out again (in this thread). The caller must
   * not use it, nor any solver working in it, afterwards. Memories of more than
   * RELEASED_MAX_BYTES are dropped (a WebAssembly memory never shrinks; holding a large one would
   * pin it for the life of the process), and at most RELEASED_MAX are kept.
   */
  static release(memory: StageMemory): void {
    if (memory.n * memory.count * 8 > RELEASED_MAX_BYTES || released.includes(memory)) return;
    released.unshift(memory);
    if (released.length > RELEASED_MAX) released.pop();
  }

  readonly n: number;
  readonly tEnd: number;
  /** +1 forward, -1 backward. */
  readonly direction: 1 | -1;
  stats: SolverStats;
  readonly controller: StepController;

  /** Current time (end of the last accepted step). */
  t: number;
  /** Start of the last accepted step (equals t before the first step). */
  tOld: number;
  /** Proposed size of the next trial step, signed. */
  h = 0;
  /** Signed size of the last accepted step (0 before the first step). */
  hLast = 0;
  /** Scaled RMS error estimate of the last accepted step (accepted iff <= 1; 'fixed' ignores it). */
  errorNorm = 0;
  status: Dopri5Status = 'running';
  message = 'running';

  private readonly f: VectorField;
  private readonly tab: ButcherTableau;
  private readonly rtol: number;
  private readonly atol: Float64Array;
  private readonly maxSteps: number;
  private readonly hMin: number;
  private readonly hMax: number;
  private attempts = 0;
  /** Controller 'fixed': accept every step (convergence-order measurements). */
  private readonly fixedSteps: boolean;
  /** A trial of the current step was rejected (no growth on its acceptance); resumable memory. */
  private rejectedPending = false;
  // State buffers; rotated by reference on acceptance (never copied).
  private yCur: Float64Array;
  private yPrev: Float64Array;
  private yNext: Float64Array;
  private readonly yStage: Float64Array;
  /**
   * Stage derivatives k_1..k_7 of the last step: vectors K[j] (which f writes into) of the
   * solver's StageMemory, at addresses kPtr[j] for its kernels (simd.ts). K[0] is f(t, y) at the
   * start of the next step.
   */
  private readonly K: Float64Array[];
  private readonly kPtr: Int32Array;
  /** Every vector of the solver lives in this memory; the kernels work on it. */
  private readonly mem: StageMemory;
  private readonly kernels: StageKernels;
  /** denseAt's result when the caller's buffer is not in `mem` */
  /**
   * A state vector in the solver's memory for dense output: denseAt(tq, denseOut) writes it
   * directly (no copy; 25 MB per call at the largest Level G sizes). solveIvp delivers its samples
   * and locates events in it; its contents change with every denseAt call.
   */
  readonly denseOut: Float64Array;
  /** True after an accepted step whose K[6] must become the next K[0] (FSAL, swapped lazily so
   * denseAt can still use all stages of the finished step). */
  private fsalPending = false;
  // Nonzero coefficient lists per stage, so zeros in the tableau cost nothing.
  private readonly stageCols: Int32Array[];
  private readonly stageCoef: Float64Array[];
  private readonly bCols: Int32Array;
  private readonly bCoef: Float64Array;
  private readonly eCols: Int32Array;
  private readonly eCoef: Float64Array;
  /**
   * The error estimate's terms but the last, when they are exactly the new state's terms (as in
   * Dormand-Prince: b and e are nonzero on stages 1, 3, 4, 5, 6 and e also on 7) and the SIMD
   * kernels run: then one pass forms y_new and the error's partial sum (stored in yStage, free
   * after the last stage), and the error norm reads 4 vectors instead of 9 (docs/performance.md).
   * null: the two separate passes. Both give the same bits.
   */
  private readonly ePartial: { coef: Float64Array; last: number } | null;
  /** atol when it is one number for every component (the error norm then reads no atol vector), else null */
  private readonly atolValue: number | null;
  /** Stages with a nonzero dense-output polynomial, and their weights h b_j(theta) (scratch). */
  private readonly denseCols: Int32Array;
  private readonly denseWeights: Float64Array;

  constructor(opts: Dopri5Options) {
    if (typeof opts.f !== 'function') throw new UsageError('f must be a function (t, y, dydt) => void');
    this.f = opts.f;
    this.tab = DOPRI5;
    const resume = opts.resumeFrom;
    let t0: number;
    let y0: Float64Array;
    if (resume) {
      t0 = requireFinite('resumeFrom.t', resume.t);
      y0 = checkState('resumeFrom.y', resume.y);
      if (opts.t0 !== undefined && !Object.is(opts.t0, t0)) throw new UsageError(`t0 = ${opts.t0} differs from resumeFrom.t = ${t0}; omit t0 when resuming`);
      if (opts.y0 !== undefined && !sameBits(opts.y0, y0)) throw new UsageError('y0 differs from resumeFrom.y; omit y0 when resuming');
      if (opts.h0 !== undefined) throw new UsageError('h0 cannot be combined with resumeFrom (the resumed step size is resumeFrom.h); omit h0');
    } else {
      if (opts.t0 === undefined || opts.y0 === undefined) throw new UsageError('t0 and y0 are required (or give resumeFrom)');
      t0 = requireFinite('t0', opts.t0);
      y0 = checkState('y0', opts.y0);
    }
    const n = y0.length;
    this.n = n;
    this.tEnd = requireFinite('tEnd', opts.tEnd);
    this.direction = this.tEnd >= t0 ? 1 : -1;
    this.rtol = requireFinite('rtol', opts.rtol);
    if (this.rtol < 0) throw new UsageError(`rtol must be >= 0, got ${this.rtol}`);
    const s = this.tab.stages;
    // y_cur, y_prev, y_next, y_stage, atol, dense scratch, and the stage derivatives.
    if (opts.memory !== undefined) {
      if (!(opts.memory instanceof StageMemory) || opts.memory.n !== n || opts.memory.count < Dopri5.VECTORS) {
        throw new UsageError(`memory must be a StageMemory of ${Dopri5.VECTORS} vectors of length ${n} (Dopri5.memory(${n}))`);
      }
    }
    this.mem = opts.memory ?? Dopri5.memory(n);
    // (a reused memory: vectors handed out from the first again, padding zeroed)
    this.mem.reset();
    this.kernels = new StageKernels(this.mem);
    this.atol = this.mem.take();
    if (typeof opts.atol === 'number') {
      this.atol.fill(requireFinite('atol', opts.atol));
    } else if (opts.atol instanceof Float64Array && opts.atol.length === n) {
      this.atol.set(opts.atol);
    } else {
      throw new UsageError(`atol must be a number or a Float64Array of length ${n} (one per component)`);
    }
    this.mem.pad(this.atol, 1);
    for (let i = 0; i < n; i++) {
      // atol > 0 keeps the error weights atol + rtol |y| positive when a component is exactly 0.
      if (!(this.atol[i] > 0) || !Number.isFinite(this.atol[i])) throw new UsageError(`atol[${i}] must be finite and > 0, got ${this.atol[i]}`);
    }
    if (typeof opts.maxSteps !== 'number' || !(opts.maxSteps >= 1) || (Number.isFinite(opts.maxSteps) && !Number.isInteger(opts.maxSteps))) {
      throw new UsageError(`maxSteps must be an integer >= 1 or Infinity, got ${String(opts.maxSteps)}`);
    }
    this.maxSteps = opts.maxSteps;
    this.hMin = opts.hMin === undefined ? 0 : requireFinite('hMin', opts.hMin);
    if (this.hMin < 0) throw new UsageError(`hMin must be >= 0, got ${this.hMin}`);
    this.hMax = opts.hMax === undefined ? Infinity : opts.hMax;
    if (!(this.hMax > 0)) throw new UsageError(`hMax must be > 0, got ${String(opts.hMax)}`);
    if (this.hMin > this.hMax) throw new UsageError(`hMin = ${this.hMin} exceeds hMax = ${this.hMax}; lower hMin or raise hMax`);
    const kind = opts.controller ?? resume?.controller.kind ?? 'PI';
    this.controller = createController(kind);
    this.fixedSteps = kind === 'fixed';
    if (this.fixedSteps && !resume && opts.h0 === undefined) throw new UsageError("controller 'fixed' needs h0 (the constant step size)");

    this.yCur = this.mem.take();
    this.yCur.set(y0);
    this.yPrev = this.mem.take();
    this.yPrev.set(y0);
    this.yNext = this.mem.take();
    this.yStage = this.mem.take();
    this.denseOut = this.mem.take();
    this.K = [];
    for (let j = 0; j < s; j++) this.K.push(this.mem.take());
    this.kPtr = Int32Array.from(this.K, (k) => this.mem.address(k));
    this.stageCols = [];
    this.stageCoef = [];
    for (let i = 0; i < s; i++) {
      const [cols, coef] = nonzeros(this.tab.a[i]);
      this.stageCols.push(cols);
      this.stageCoef.push(coef);
    }
    [this.bCols, this.bCoef] = nonzeros(this.tab.b);
    [this.eCols, this.eCoef] = nonzeros(this.tab.e);
    const nb = this.bCols.length;
    const sharesTerms = this.eCols.length === nb + 1 && this.eCols[nb] === s - 1 && this.bCols.every((j, q) => this.eCols[q] === j);
    this.ePartial = sharesTerms && this.kernels.fusesPartial(nb) ? { coef: this.eCoef.slice(0, nb), last: this.eCoef[nb] } : null;
    this.atolValue = typeof opts.atol === 'number' ? opts.atol : null;
    const denseRows: number[] = [];
    this.tab.denseP.forEach((p, j) => {
      if (p.some((v) => v !== 0)) denseRows.push(j);
    });
    this.denseCols = Int32Array.from(denseRows);
    this.denseWeights = new Float64Array(denseRows.length);
    this.t = t0;
    this.tOld = t0;
    this.stats = { nfev: 0, naccepted: 0, nrejected: 0 };

    if (resume) {
      this.restore(resume);
    } else {
      let h0 = Number.NaN;
      if (opts.h0 !== undefined) {
        h0 = Math.abs(requireFinite('h0', opts.h0));
        if (h0 === 0) throw new UsageError('h0 must be nonzero (its sign is ignored; the direction comes from tEnd - t0)');
      }
      this.h = 0;
      if (!this.evaluateInitialDerivative()) return;
      const span = Math.abs(this.tEnd - t0);
      let h: number;
      if (!Number.isNaN(h0)) {
        h = Math.min(h0, this.hMax);
      } else if (span === 0) {
        h = 0;
      } else {
        h = selectInitialStep(this.f, t0, this.yCur, this.K[0], this.direction, this.rtol, this.atol, this.hMax, span, this.tab.embeddedOrder, this.yStage, this.K[1]);
        this.stats.nfev++;
      }
      this.h = this.direction * h;
    }
    if (this.status === 'running' && this.t === this.tEnd) this.finish('success', `t0 equals tEnd = ${this.tEnd}; nothing to integrate`);
  }

  /** Current state (owned by the solver; its contents change on every step - copy what you keep). */
  get y(): Float64Array {
    return this.yCur;
  }

  /** State at the start of the last accepted step (owned by the solver). */
  get yOld(): Float64Array {
    return this.yPrev;
  }

  /** f(t, y) at the current point (owned by the solver). */
  get dydt(): Float64Array {
    return this.fsalPending ? this.K[this.tab.stages - 1] : this.K[0];
  }

  /** Trial steps attempted by this solver object (what maxSteps limits). */
  get attemptedSteps(): number {
    return this.attempts;
  }

  /**
   * Advance by one accepted step (retrying rejected trial steps inside). Returns the status:
   * 'running' after an ordinary step, 'success' once tEnd is reached, or a failure status, in
   * which case t and y are still the last accepted point.
   */
  step(): Dopri5Status {
    if (this.status !== 'running') throw new Error(`Dopri5.step() called after the solve ended with status '${this.status}'`);
    const s = this.tab.stages;
    const K = this.K;
    if (this.fsalPending) {
      const first = K[0];
      K[0] = K[s - 1];
      K[s - 1] = first;
      const firstPtr = this.kPtr[0];
      this.kPtr[0] = this.kPtr[s - 1];
      this.kPtr[s - 1] = firstPtr;
      this.fsalPending = false;
    }
    const n = this.n;
    const dir = this.direction;
    const c = this.tab.c;
    const t = this.t;
    const y = this.yCur;
    const yNew = this.yNext;
    const yStage = this.yStage;
    const atol = this.atol;
    const rtol = this.rtol;
    for (;;) {
      if (this.attempts >= this.maxSteps) {
        return this.finish('max-steps', `maxSteps = ${this.maxSteps} trial steps attempted without reaching tEnd = ${this.tEnd}; stopped at t = ${t}`);
      }
      let hAbs = Math.abs(this.h);
      const floor = Math.max(this.hMin, 10 * EPS * Math.abs(t), Number.MIN_VALUE);
      if (!(hAbs >= floor)) {
        return this.finish('step-too-small', `step size ${hAbs} fell below the floor ${floor} at t = ${t} (hMin = ${this.hMin}, or 10 eps |t|); the solution may blow up here`);
      }
      let h = dir * hAbs;
      let last = false;
      // Hairer's rule: if the step would end within 1% of tEnd, stretch it to land on tEnd.
      if (dir * (t + 1.01 * h - this.tEnd) > 0) {
        h = this.tEnd - t;
        hAbs = Math.abs(h);
        last = true;
      }
      const tNew = last ? this.tEnd : t + h;
      this.attempts++;

      // Stages 2..s-1 (stage s is f(tNew, yNew) by FSAL).
      const { kernels, kPtr } = this;
      for (let st = 1; st < s - 1; st++) {
        kernels.linearCombination(yStage, y, h, this.stageCols[st], this.stageCoef[st], kPtr);
        this.f(t + c[st] * h, yStage, K[st]);
      }
      // Local error err = h sum_j e_j k_j and its scaled RMS norm (HNW I, Eq. (4.11)) with
      // weights atol_i + rtol max(|y_i|, |y_new_i|) as in scipy and DOPRI5, never stored: with
      // ePartial its first terms are summed in the pass that forms y_new (see ePartial).
      const part = this.ePartial;
      if (part) kernels.combinationWithPartial(yNew, y, yStage, h, this.bCols, this.bCoef, part.coef, kPtr);
      else kernels.linearCombination(yNew, y, h, this.bCols, this.bCoef, kPtr);
      this.f(tNew, yNew, K[s - 1]);
      this.stats.nfev += s - 1;
      const sum = part
        ? kernels.errorNormFromPartial(h, yStage, K[s - 1], part.last, y, yNew, atol, this.atolValue, rtol)
        : kernels.errorNormSq(h, this.eCols, this.eCoef, kPtr, y, yNew, atol, rtol);
      const err = Math.sqrt(sum / n);
      // Any NaN/Inf in a stage derivative or in y_new reaches err: the error-norm kernel of simd.ts
      // (errorNormKernel) adds y_new * 0 to every term, so an infinite weight cannot hide an Inf.
      if (!Number.isFinite(err)) {
        return this.finish('non-finite', `non-finite value (NaN or Inf) in the state or derivative during the step from t = ${t} to ${tNew}; last good state is at t = ${t}`);
      }
      if (err <= 1 || this.fixedSteps) {
        const factor = this.controller.accepted(err, this.rejectedPending);
        this.rejectedPending = false;
        this.errorNorm = err;
        const spare = this.yPrev;
        this.yPrev = y;
        this.yCur = yNew;
        this.yNext = spare;
        this.tOld = t;
        this.t = tNew;
        this.hLast = h;
        this.h = dir * Math.min(hAbs * factor, this.hMax);
        this.fsalPending = true;
        this.stats.naccepted++;
        if (last) return this.finish('success', `reached tEnd = ${this.tEnd} after ${this.stats.naccepted} accepted and ${this.stats.nrejected} rejected steps (${this.stats.nfev} f evaluations)`);
        return this.status;
      }
      this.stats.nrejected++;
      this.rejectedPending = true;
      this.h = dir * hAbs * this.controller.rejected(err);
    }
  }

  /**
   * Dense output on the last accepted step [tOld, t]: writes y(tq) into out. The endpoints are
   * returned bit-for-bit as the stored node states; inside, the 4th-order continuous extension
   * y(tOld + theta h) = yOld + h sum_j b_j(theta) k_j is used (no allocation).
   */
  denseAt(tq: number, out: Float64Array): void {
    if (out.length !== this.n) throw new UsageError(`denseAt: out must have length ${this.n}`);
    if (tq === this.t) {
      out.set(this.yCur);
      return;
    }
    if (tq === this.tOld) {
      out.set(this.yPrev);
      return;
    }
    const h = this.hLast;
    const theta = (tq - this.tOld) / h;
    if (!this.fsalPending || !(theta >= 0 && theta <= 1)) {
      throw new RangeError(`denseAt(${tq}) is outside the last accepted step [${this.tOld}, ${this.t}]`);
    }
    const P = this.tab.denseP;
    const cols = this.denseCols;
    const w = this.denseWeights;
    for (let q = 0; q < cols.length; q++) {
      const p = P[cols[q]];
      w[q] = h * theta * (p[0] + theta * (p[1] + theta * (p[2] + theta * p[3])));
    }
    if (this.mem.reaches(out)) {
      this.kernels.linearCombination(out, this.yPrev, 1, cols, w, this.kPtr);
    } else {
      this.kernels.linearCombination(this.denseOut, this.yPrev, 1, cols, w, this.kPtr);
      out.set(this.denseOut);
    }
  }

  /** The buffer the driver writes samples into: denseOut, so dense output needs no copy. */
  get sampleBuffer(): Float64Array {
    return this.denseOut;
  }

  /**
   * A copy of everything needed to continue bit-identically from the current point. With `at`
   * (a point inside the last step, e.g. a located event), the state there: not a step node, so
   * the resumed solver evaluates f there and keeps h and the controller memory, which is valid
   * but not bit-identical to an uninterrupted solve.
   */
  snapshot(at?: { t: number; y: Float64Array }): ResumeState {
    const stats = { nfev: this.stats.nfev, naccepted: this.stats.naccepted, nrejected: this.stats.nrejected };
    const common = { h: this.h, controller: this.controller.snapshot(), stats };
    if (at) return { t: at.t, y: Float64Array.from(at.y), ...common };
    return { t: this.t, y: Float64Array.from(this.yCur), dydt: Float64Array.from(this.dydt), ...common, pendingRejection: this.rejectedPending };
  }

  /** Same as snapshot() (the name scipy-style callers know). */
  resumeState(): ResumeState {
    return this.snapshot();
  }

  /**
   * Continue from a snapshot of a solver with the same f, tolerances and controller kind (its
   * state, step size, controller memory and counters; f(t, y) is evaluated when the snapshot has
   * no dydt).
   */
  restore(s: ResumeState): void {
    const n = this.n;
    const t = requireFinite('resumeFrom.t', s.t);
    const y = checkState('resumeFrom.y', s.y);
    if (y.length !== n) throw new UsageError(`resumeFrom.y has length ${y.length}; this solver's state has ${n}`);
    if (s.dydt !== undefined && (!(s.dydt instanceof Float64Array) || s.dydt.length !== n)) {
      throw new UsageError(`resumeFrom.dydt must be a Float64Array of length ${n} (or omitted)`);
    }
    const h = Math.abs(requireFinite('resumeFrom.h', s.h));
    if (!(h > 0)) throw new UsageError('resumeFrom.h must be nonzero');
    this.controller.restore(s.controller);
    this.t = t;
    this.tOld = t;
    this.hLast = 0;
    this.yCur.set(y);
    this.yPrev.set(y);
    this.h = this.direction * Math.min(h, this.hMax);
    this.rejectedPending = s.pendingRejection === true;
    this.fsalPending = false;
    this.attempts = 0;
    this.stats = { nfev: s.stats.nfev, naccepted: s.stats.naccepted, nrejected: s.stats.nrejected };
    this.status = 'running';
    this.message = 'running';
    if (s.dydt !== undefined) this.K[0].set(s.dydt);
    else if (!this.evaluateInitialDerivative()) return;
    if (this.t === this.tEnd) this.finish('success', `resumed at tEnd = ${this.tEnd}; nothing to integrate`);
  }

  /** K[0] = f(t, y) at the start; false (and status 'non-finite') if it is not finite. */
  private evaluateInitialDerivative(): boolean {
    this.f(this.t, this.yCur, this.K[0]);
    this.stats.nfev++;
    if (allFinite(this.K[0])) return true;
    this.finish('non-finite', `f(t, y) is not finite at the start t = ${this.t}; check the initial state and the vector field`);
    return false;
  }

  private finish(status: Exclude<Dopri5Status, 'running'>, message: string): Dopri5Status {
    this.status = status;
    this.message = message;
    return status;
  }
}

function nonzeros(row: Float64Array): [Int32Array, Float64Array] {
  const cols: number[] = [];
  const coef: number[] = [];
  for (let j = 0; j < row.length; j++) {
    if (row[j] !== 0) {
      cols.push(j);
      coef.push(row[j]);
    }
  }
  return [Int32Array.from(cols), Float64Array.from(coef)];
}

function allFinite(v: Float64Array): boolean {
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) return false;
  return true;
}

function sameBits(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

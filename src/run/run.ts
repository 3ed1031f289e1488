import { Dopri5 } from '../ode/dopri5.js';
import { drive, type DriveResult } from '../ode/drive.js';
import type { EventSpec } from '../ode/events.js';
import { logGridFromZero, logStepIndices } from '../ode/grid.js';
import { OdexStepper } from '../ode/odexAdapter.js';
import { MapStepper, type Stepper } from '../ode/stepper.js';
import type { ResumeState, StepperState } from '../ode/types.js';
import { invariantDrift, Trajectory } from '../analysis/trajectory.js';
import { Observer, typeLossRates } from '../observe/derive.js';
import type { Probe } from '../observe/primitives.js';
import { Dynamics, SIGNALS } from './dynamics.js';
import { probeFor } from './probes.js';
import type { Method, RunSettings } from '../config/presets.js';

export type RunMethod = Method;

/** The settings a run's integration needs (see RunSettings for their meaning). */
export type RunPlan = Pick<RunSettings, 'method' | 'tEnd' | 'rtol' | 'atol' | 'maxSteps' | 'controller' | 'lr' | 'steps' | 'samples'>;

/** Where a run left off, enough to continue it bit-identically (see checkpoint.ts). */
export interface RunCheckpoint {
  method: RunMethod;
  /** the state at the checkpoint */
  y: Float64Array;
  /** gradient flow: the integrator's resume state */
  resume?: ResumeState;
  /** gradient descent: the number of steps taken */
  step?: number;
  /** the rows recorded so far and the invariants at t = 0 */
  rows: number[][];
  invariants0: { groups: [Float64Array, Float64Array]; scales: [number, number] };
  events: RunEvent[];
  /** wall seconds spent in earlier legs */
  wallSeconds: number;
  /** gradient descent: min margin of the iterate before `step` (for event detection across legs) */
  marginPrev?: number;
  /** gradient descent: the event signals of the iterates before `step` (GdEventTracker.state) */
  trackPrev?: Float64Array;
}

export interface RunEvent {
  name: string;
  t: number;
  step?: number;
  /** the full trajectory row at the event (all-correct only) */
  row?: number[];
}

/**
 * Events besides the margin ones (Thm 3.1 and its lemmas): G(mu_3) turns negative, G1 + G3 and
 * G2 + G3 turn negative (Thm 3.2's Phase 2 signs), and the maxima of the one-target losses
 * loss_I2, loss_I3 (Phase 1's rise then fall).
 */
export const SIGN_EVENTS: readonly { name: string; value: (sig: Float64Array) => number }[] = [
  { name: 'G3-negative', value: (g) => g[SIGNALS.G3] },
  { name: 'G1+G3-negative', value: (g) => g[SIGNALS.G1] + g[SIGNALS.G3] },
  { name: 'G2+G3-negative', value: (g) => g[SIGNALS.G2] + g[SIGNALS.G3] },
];
export const PEAK_EVENTS: readonly { name: string; signal: number; type: number }[] = [
  { name: 'peak-loss_I2', signal: SIGNALS.lossI2, type: 2 },
  { name: 'peak-loss_I3', signal: SIGNALS.lossI3, type: 3 },
];

export type RunStatus = 'success' | 'non-finite' | 'step-too-small' | 'max-steps' | 'interrupted';

export interface RunOutcome {
  status: RunStatus;
  message: string;
  /** final flow time (GD: lr * steps taken) */
  t: number;
  step?: number;
  y: Float64Array;
  trajectory: Trajectory;
  events: RunEvent[];
  stats: { nfev: number; naccepted: number; nrejected: number };
  wallSeconds: number;
  /** present when the run can be continued (interrupted, or saved periodically) */
  checkpoint: RunCheckpoint;
}

export interface RunHooks {
  /** progress in [0, 1] with the current loss; called at most every few hundred ms by the caller's throttle */
  onProgress?: (fraction: number, loss: number) => void;
  /** asked after every step; true stops the run at a step boundary ('interrupted') */
  shouldStop?: () => boolean;
  /** called after each recorded row with its index, time and state (y is reused: copy what you keep) */
  onRow?: (index: number, t: number, step: number | null, y: Float64Array) => void;
  /** called every `checkpointSeconds` of wall time with a resumable checkpoint */
  onCheckpoint?: (c: RunCheckpoint) => void;
  checkpointSeconds?: number;
  /**
   * runDynamicsAsync only: wall seconds between returns to the event loop, so that signal
   * handlers (SIGINT, SIGTERM) run and can ask `shouldStop` to end the run at the next step.
   */
  yieldSeconds?: number;
}

/**
 * The first flow time on the log-spaced output grid: these dynamics span many decades (Phase 1
 * ends by T1 = O~(1/m), Thm 3.1; Phase 2 runs to poly(m)), so rows are spaced evenly in log t
 * from tEnd * 1e-6 (and t = 0).
 */
export const FIRST_SAMPLE_FRACTION = 1e-6;

/** The sample grid of a flow run (samples rows in all, t = 0 first). */
export function flowGrid(plan: RunPlan): Float64Array {
  if (plan.samples <= 2) return Float64Array.of(0, plan.tEnd);
  return logGridFromZero(plan.tEnd * FIRST_SAMPLE_FRACTION, plan.tEnd, plan.samples - 1);
}

function observeRow(
  observer: Observer,
  dyn: Dynamics,
  traj: Trajectory,
  inv0: RunCheckpoint['invariants0'],
  t: number,
  step: number | null,
  y: Float64Array,
  hooks: RunHooks,
): number {
  traj.add(observer.row(t, step, y, invariantDrift(inv0, dyn.invariants(y))));
  hooks.onRow?.(traj.rows.length - 1, t, step, y);
  return traj.rows[traj.rows.length - 1][traj.columns.indexOf('loss')];
}

/**
 * Runs one level's dynamics with the chosen method, recording the trajectory (every column of
 * src/observe, from the level's probe) and the events: "every sample classified correctly" (min
 * margin crosses 0 upward, Thm 3.1; with the full row at that moment) and "a sample misclassified
 * again" (downward), SIGN_EVENTS and PEAK_EVENTS. Flows locate them on the dense output; GD at the
 * exact iterate. Everything computed is returned whatever the ending, with a status and a
 * one-line message.
 */
export function runDynamics(...args: RunArgs): RunOutcome {
  const legs = startLegs(args, undefined);
  for (let r = legs.next(); ; r = legs.next()) if (r.done) return r.value;
}

/**
 * The arguments of runDynamics and runDynamicsAsync: the level, its start, the plan, the hooks,
 * a checkpoint to continue from, and the observation probe (default: the level's own).
 */
export type RunArgs = [dyn: Dynamics, y0: Float64Array, plan: RunPlan, hooks?: RunHooks, from?: RunCheckpoint, probe?: Probe];

function startLegs([dyn, y0, plan, hooks = {}, from, probe = probeFor(dyn)]: RunArgs, yieldSeconds: number | undefined) {
  return runLegs(dyn, y0, plan, { ...hooks, yieldSeconds }, from, probe);
}

/**
 * How often runDynamicsAsync returns to the event loop: the longest delay before Ctrl-C is
 * noticed (plus one step). Each return starts a new leg on the same stepper, which costs only the
 * events' first evaluation at the leg's start (npm run bench -- --only driver measures it).
 */
export const DEFAULT_YIELD_SECONDS = 1;

/**
 * runDynamics, returning to the event loop between legs (every `hooks.yieldSeconds`, default
 * DEFAULT_YIELD_SECONDS, and at every checkpoint). JavaScript runs signal handlers only there,
 * so this is the form a command line uses. The result is bit-identical to runDynamics's.
 */
export async function runDynamicsAsync(...args: RunArgs): Promise<RunOutcome> {
  const legs = startLegs(args, args[3]?.yieldSeconds ?? DEFAULT_YIELD_SECONDS);
  for (let r = legs.next(); ; r = legs.next()) {
    if (r.done) return r.value;
    // A timer, then an immediate: the loop then passes its poll phase, where a pending signal is
    // delivered. One setImmediate alone (or one timer alone) let a SIGTERM sent during the first
    // leg of a coflow run wait for the second leg (measured: stops after 2 s instead of 1).
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/**
 * What differs between the methods, around the one loop of runLegs: the stepper (created once;
 * a leg that ends for a checkpoint or a return to the event loop leaves it at a step boundary,
 * and the next leg drives the same stepper on, so where legs end does not change the result),
 * the output grid, the events, and how a drive's result becomes a checkpoint and an outcome.
 */
interface MethodLeg {
  stepper: Stepper<StepperState>;
  /** output times in the stepper's time (GD: iterate indices) */
  grid: Float64Array;
  events: EventSpec[];
  onSample(t: number, y: Float64Array): void;
  afterStep(s: Stepper<StepperState>): void;
  /** the run's time and GD step of a stepper time */
  runTime(t: number): { t: number; step?: number };
  checkpoint(r: DriveResult<StepperState>): RunCheckpoint;
  /** after the final drive, before the outcome (GD: the events of the last iterate) */
  finish?(r: DriveResult<StepperState>): void;
  release?(): void;
}

/**
 * The run as a sequence of legs over one stepper and the one driver (src/ode/drive.ts): a leg
 * ends at a step boundary when a checkpoint is due or (async driver) when it is time to return
 * to the event loop; the generator yields there.
 */
function* runLegs(
  dyn: Dynamics,
  y0: Float64Array,
  plan: RunPlan,
  hooks: RunHooks,
  from: RunCheckpoint | undefined,
  probe: Probe,
): Generator<void, RunOutcome, void> {
  const started = performance.now();
  const withStep = plan.method === 'gd';
  // Movements are measured from the run's starting state, also when resuming.
  const observer = new Observer(probe, y0, withStep);
  const traj = new Trajectory(observer.columns);
  if (from) for (const r of from.rows) traj.rows.push(r.slice());
  const inv0 = from?.invariants0 ?? dyn.invariants(y0);
  const events: RunEvent[] = from ? from.events.map((e) => ({ ...e, row: e.row?.slice() })) : [];
  const priorWall = from?.wallSeconds ?? 0;
  const wall = () => priorWall + (performance.now() - started) / 1000;
  const watch = new BlowUpWatch(dyn);
  const legs = new LegControl(hooks, watch);
  const ctx: LegContext = {
    dyn,
    y0,
    plan,
    hooks,
    from,
    probe,
    watch,
    events,
    wall,
    checkpointBase: () => ({ rows: traj.rows.map((r) => r.slice()), invariants0: inv0, events: events.map((e) => ({ ...e })), wallSeconds: wall() }),
    record: (t, step, y) => observeRow(observer, dyn, traj, inv0, t, step, y, hooks),
    rowAt: (t, step, y) => observer.row(t, step, y, invariantDrift(inv0, dyn.invariants(y))),
  };
  const leg = plan.method === 'gd' ? gdLeg(ctx) : plan.method === 'odex' ? odexLeg(ctx) : dopri5Leg(ctx);
  try {
    for (let resumed = from !== undefined; ; resumed = true) {
      legs.startLeg();
      const result = drive(leg.stepper, {
        tEval: leg.grid,
        onSample: (t, y) => leg.onSample(t, y),
        events: leg.events,
        resumed,
        onStep: (s) => {
          leg.afterStep(s);
          return legs.continueAfterStep();
        },
      });
      for (const e of result.events) {
        const row = e.name === 'all-correct' ? ctx.rowAt(e.t, null, e.y) : undefined;
        events.push({ name: e.name, t: e.t, ...(row ? { row } : {}) });
      }
      if (result.status === 'user-stop' && legs.endedForPause) {
        if (legs.checkpointDue) {
          hooks.onCheckpoint?.(leg.checkpoint(result));
          legs.checkpointWritten();
        }
        yield;
        continue;
      }
      leg.finish?.(result);
      const at = leg.runTime(result.t);
      let status: RunStatus = result.status === 'user-stop' ? 'interrupted' : result.status === 'terminal-event' ? 'success' : result.status;
      let message = result.message;
      if (watch.blownUp) {
        status = 'non-finite';
        const where = at.step === undefined ? `t = ${at.t}` : `step ${at.step}`;
        message = `the model outputs became non-finite at ${where} (the ${at.step === undefined ? 'state is' : 'weights are'} still finite); the run stopped there`;
      }
      return {
        status,
        message,
        ...at,
        y: result.y,
        trajectory: traj,
        events: byTime(events),
        stats: { ...result.stats },
        wallSeconds: wall(),
        checkpoint: leg.checkpoint(result),
      };
    }
  } finally {
    leg.release?.();
  }
}

/** What the method legs share with runLegs. */
interface LegContext {
  dyn: Dynamics;
  y0: Float64Array;
  plan: RunPlan;
  hooks: RunHooks;
  from: RunCheckpoint | undefined;
  probe: Probe;
  watch: BlowUpWatch;
  events: RunEvent[];
  wall: () => number;
  checkpointBase: () => Pick<RunCheckpoint, 'rows' | 'invariants0' | 'events' | 'wallSeconds'>;
  record: (t: number, step: number | null, y: Float64Array) => number;
  rowAt: (t: number, step: number | null, y: Float64Array) => number[];
}

/**
 * Gradient descent: the level's exact GD map iterated by a MapStepper (time = iterate index).
 * Events come from the gradient's own forward pass: map(k, y_k) evaluates the model at y_k, so
 * min margin, G and the per-type losses of iterate k cost (almost) nothing extra; each event is
 * reported at the first iterate with the new sign (a peak: at the maximal iterate). So GD passes
 * no event functions to the driver, which would evaluate the model once more per iterate.
 */
function gdLeg(ctx: LegContext): MethodLeg {
  const { dyn, plan, hooks, from, watch, events } = ctx;
  let marginPrev = from?.marginPrev ?? NaN;
  const tracker = new GdEventTracker(from?.trackPrev);
  const sig = new Float64Array(SIGNALS.count);
  const detect = (k: number, mk: number, y: Float64Array | null) => {
    if (!Number.isFinite(mk)) {
      watch.blownUp = true;
      return;
    }
    if (marginPrev <= 0 && mk > 0) {
      const row = y ? ctx.rowAt(k * plan.lr, k, y) : undefined;
      events.push({ name: 'all-correct', t: k * plan.lr, step: k, ...(row ? { row } : {}) });
    }
    if (marginPrev > 0 && mk <= 0) events.push({ name: 'misclassified', t: k * plan.lr, step: k });
    marginPrev = mk;
    if (y) {
      dyn.lastSignals(y, sig);
      tracker.update(k, sig, mk, (name, step) => events.push({ name, t: step * plan.lr, step }));
    }
  };
  const k0 = from?.step ?? 0;
  const stepper = new MapStepper({
    map: (k, y, out) => {
      const probed = dyn.gdStep(plan.lr, y, out);
      detect(k, dyn.lastMinMargin, y);
      return probed;
    },
    // The level's own iterate buffers (Level F: in its SIMD kernels' memory).
    buffers: dyn.gdBuffers?.(),
    ...(from ? { resumeFrom: { t: k0, y: from.y, stats: { nfev: k0, naccepted: k0, nrejected: 0 } } } : { y0: ctx.y0 }),
    steps: plan.steps,
  });
  return {
    stepper,
    grid: Float64Array.from(logStepIndices(plan.steps, plan.samples)),
    events: [],
    onSample: (k, y) => {
      const loss = ctx.record(k * plan.lr, k, y);
      hooks.onProgress?.(k / plan.steps, loss);
    },
    afterStep: (s) => {
      if ((s.t & 63) === 0) hooks.onProgress?.(s.t / plan.steps, NaN);
    },
    runTime: (k) => ({ t: k * plan.lr, step: k }),
    checkpoint: (r) => ({ method: 'gd', y: r.y.slice(), step: r.t, ...ctx.checkpointBase(), marginPrev, trackPrev: tracker.state.slice() }),
    finish: (r) => {
      if (r.status !== 'success') return;
      const mk = watch.margin(r.y);
      detect(r.t, mk, Number.isFinite(mk) ? r.y : null);
    },
  };
}

/**
 * Gradient flow with Dormand-Prince 5(4): events are located on the dense output: "every sample
 * classified correctly" (min margin crosses 0 upward, Thm 3.1; with the full row at that moment)
 * and "a sample misclassified again" (downward), SIGN_EVENTS and PEAK_EVENTS.
 */
function dopri5Leg(ctx: LegContext): MethodLeg {
  const { dyn, plan, hooks, from, watch } = ctx;
  const margin = (t: number, y: Float64Array) => watch.margin(y, t);
  const signals = new FlowSignals(dyn, ctx.probe, watch, ctx.events, from?.resume?.t ?? 0, from?.resume?.y ?? ctx.y0);
  // One solver memory for the whole run: the level's own (in its kernels' memory, so its field
  // works in place), or one given back when the run ends, so that a sweep's next run of the
  // same size reuses it.
  const hosted = dyn.stageMemory?.(Dopri5.VECTORS);
  const memory = hosted ?? Dopri5.memory(dyn.size);
  const f = (t: number, y: Float64Array, dy: Float64Array) => dyn.field(t, y, dy);
  const resume = from?.resume;
  // A run resumed from a checkpoint has used part of its step budget.
  const used = resume ? resume.stats.naccepted + resume.stats.nrejected : 0;
  const stepper = new Dopri5({
    f,
    ...(resume ? { resumeFrom: resume } : { t0: 0, y0: ctx.y0, controller: plan.controller }),
    tEnd: plan.tEnd,
    rtol: plan.rtol,
    atol: plan.atol,
    maxSteps: Math.max(1, plan.maxSteps - used),
    memory,
  });
  return {
    stepper,
    grid: flowGrid(plan),
    events: [
      { name: 'all-correct', fn: margin, direction: 1 },
      { name: 'misclassified', fn: margin, direction: -1 },
      ...SIGN_EVENTS.map((e) => ({ name: e.name, fn: (t: number, y: Float64Array) => e.value(signals.at(t, y)), direction: -1 as const })),
      ...PEAK_EVENTS.map((e, j) => ({ name: e.name, fn: (t: number, y: Float64Array, dydt?: Float64Array) => signals.peakRate(j, t, y, dydt), direction: -1 as const })),
    ],
    onSample: (t, y) => {
      const loss = ctx.record(t, null, y);
      hooks.onProgress?.(progressFraction(t, plan.tEnd), loss);
    },
    afterStep: (s) => {
      signals.afterStep(s.t, s.y);
      hooks.onProgress?.(progressFraction(s.t, plan.tEnd), NaN);
    },
    runTime: (t) => ({ t }),
    checkpoint: (r) => ({ method: 'dopri5', y: r.y.slice(), resume: r.resume as ResumeState, ...ctx.checkpointBase() }),
    release: () => {
      if (!hosted) Dopri5.release(memory);
    },
  };
}

/**
 * Gradient flow with odex (Hairer's ODEX, Gragg-Bulirsch-Stoer extrapolation), the independent
 * cross-check integrator: it restarts at every output time and has no dense output, so no events
 * are looked for, and a run is not resumed from a checkpoint file.
 */
function odexLeg(ctx: LegContext): MethodLeg {
  const { dyn, plan, hooks } = ctx;
  const grid = flowGrid(plan);
  const f = (t: number, y: Float64Array, dy: Float64Array) => dyn.field(t, y, dy);
  const stepper = new OdexStepper({ f, t0: 0, y0: ctx.y0, nodes: grid, rtol: plan.rtol, atol: plan.atol, maxSteps: plan.maxSteps });
  return {
    stepper,
    grid,
    events: [],
    onSample: (t, y) => {
      const loss = ctx.record(t, null, y);
      hooks.onProgress?.(progressFraction(t, plan.tEnd), loss);
    },
    afterStep: () => {},
    runTime: (t) => ({ t }),
    checkpoint: (r) => ({ method: 'odex', y: r.y.slice(), ...ctx.checkpointBase() }),
  };
}

/** Events in time order (a GD peak at iterate k - 1 is found at iterate k, after k's sign events); stable. */
function byTime(events: RunEvent[]): RunEvent[] {
  return events.slice().sort((a, b) => a.t - b.t);
}

/**
 * GD events at exact iterates: SIGN_EVENTS at the first iterate with a negative value after a
 * non-negative one; PEAK_EVENTS, as for flows, once each and only in Phase 1: at the iterate whose
 * loss exceeds both neighbours', if no iterate up to it had every sample correct (reported once the
 * next iterate shows the fall). Its state (the previous iterates' values, Phase 1 over, peaks
 * found) goes into checkpoints, so a resumed run finds the same events.
 */
/** Length of GdEventTracker.state (checkpoints store it as track_prev). */
export const GD_TRACKER_LENGTH = SIGN_EVENTS.length + 3 * PEAK_EVENTS.length + 1;

/** Every event name a run can report (checkpoints are checked against it). */
export const EVENT_NAMES: readonly string[] = ['all-correct', 'misclassified', ...SIGN_EVENTS.map((e) => e.name), ...PEAK_EVENTS.map((e) => e.name)];

class GdEventTracker {
  /**
   * [previous value of each SIGN_EVENT; per PEAK_EVENT: the value at k - 1 and at k - 2; whether
   * an iterate before k had every sample correct; per PEAK_EVENT: found (1) or not (0)]
   */
  readonly state: Float64Array;
  private readonly overAt = SIGN_EVENTS.length + 2 * PEAK_EVENTS.length;

  constructor(prev?: Float64Array) {
    this.state = new Float64Array(GD_TRACKER_LENGTH).fill(NaN);
    this.state.fill(0, this.overAt);
    if (prev && prev.length === this.state.length) this.state.set(prev);
  }

  /** Iterate k with its signals and min margin. */
  update(k: number, sig: Float64Array, margin: number, emit: (name: string, step: number) => void): void {
    const st = this.state;
    SIGN_EVENTS.forEach((e, j) => {
      const v = e.value(sig);
      if (st[j] >= 0 && v < 0) emit(e.name, k);
      st[j] = v;
    });
    // st[overAt] = 1 if an iterate before k had every sample correct, so k - 1 is in Phase 1 iff it is 0.
    const phase1AtPrev = st[this.overAt] === 0;
    PEAK_EVENTS.forEach((e, j) => {
      const o = SIGN_EVENTS.length + 2 * j;
      const found = this.overAt + 1 + j;
      const v = sig[e.signal];
      // st[o] = value at k - 1, st[o + 1] = value at k - 2: iterate k - 1 is a strict local max.
      if (phase1AtPrev && st[found] === 0 && st[o] > st[o + 1] && st[o] > v) {
        emit(e.name, k - 1);
        st[found] = 1;
      }
      st[o + 1] = st[o];
      st[o] = v;
    });
    if (margin > 0) st[this.overAt] = 1;
  }
}

/**
 * Event functions of a flow, evaluated on the dense output: G values (SIGN_EVENTS) from the
 * level's last evaluation at (t, y), computed once per (t, y) for all of them; and
 * d(loss_It)/dt (PEAK_EVENTS, a maximum is a downward zero crossing) from the field and the
 * probe's output rates (at a node with the solver's own f(t, y)). A peak event is evaluated only
 * until it has been found or Phase 1 has ended: afterwards its function is a negative constant,
 * so it costs nothing in Phase 2.
 */
class FlowSignals {
  private readonly sig = new Float64Array(SIGNALS.count);
  private readonly dydt: Float64Array;
  private readonly rates = new Float64Array(4);
  private memoT = NaN;
  private memoY: Float64Array | null = null;
  private rateT = NaN;
  private rateY: Float64Array | null = null;

  constructor(
    private readonly dyn: Dynamics,
    private readonly probe: Probe,
    private readonly watch: BlowUpWatch,
    events: readonly RunEvent[],
    tStart: number,
    yStart: Float64Array,
  ) {
    this.dydt = new Float64Array(dyn.size);
    const over = watch.margin(yStart, tStart) > 0;
    this.done = PEAK_EVENTS.map((e) => over || events.some((r) => r.name === e.name));
    this.node = PEAK_EVENTS.map(() => NaN);
    this.prevNode = PEAK_EVENTS.map(() => NaN);
  }

  /**
   * After each accepted step: a peak function that went from positive to non-positive between the
   * last two nodes has just been located by the solver, so switch it off.
   */
  afterStep(t: number, y: Float64Array): void {
    // The one-target losses rise and fall during Phase 1 (Thm 3.1): once a node has every sample
    // classified correctly (Phase 1 over), stop looking for their peaks. Decided from the node's
    // own state, so a run resumed at this node decides the same (see the constructor).
    const phase1Over = this.watch.margin(y, t) > 0;
    PEAK_EVENTS.forEach((_, j) => {
      if (phase1Over || (this.prevNode[j] > 0 && this.node[j] <= 0)) this.done[j] = true;
    });
  }

  at(t: number, y: Float64Array): Float64Array {
    if (!(t === this.memoT && y === this.memoY)) {
      // margin() evaluates the model at (t, y) unless that was its last evaluation.
      this.watch.margin(y, t);
      this.dyn.lastSignals(y, this.sig);
      this.memoT = t;
      this.memoY = y;
    }
    return this.sig;
  }

  /** PEAK_EVENTS already found (their functions are then constant). */
  private readonly done: boolean[];
  /** the peak functions at the last two nodes (node calls are the ones given dydt) */
  private readonly node: number[];
  private readonly prevNode: number[];

  peakRate(j: number, t: number, y: Float64Array, dydt?: Float64Array): number {
    if (this.done[j]) return -1;
    const type = PEAK_EVENTS[j].type;
    if (!(t === this.rateT && y === this.rateY)) {
      const p = this.probe.probe(y);
      // At a node the solver hands over f(t, y); elsewhere (root finding) evaluate it.
      if (!dydt) {
        this.dyn.field(t, y, this.dydt);
        // The field call replaced the level's last evaluation: the G memo is stale.
        this.memoY = null;
      }
      typeLossRates(p, this.probe.outputRates(y, dydt ?? this.dydt), this.rates);
      this.rateT = t;
      this.rateY = y;
    }
    const r = this.rates[type - 1];
    const v = Number.isFinite(r) ? r : -1;
    if (dydt) {
      this.prevNode[j] = this.node[j];
      this.node[j] = v;
    }
    return v;
  }
}

/**
 * The margin event function, made safe for blow-up: weights can still be finite when the
 * outputs overflow (scores of +-inf give NaN softmax weights). Then the run must stop with
 * status 'non-finite' rather than hand NaN to the event locator; the watch records it and the
 * step hook ends the run at that step.
 */
class BlowUpWatch {
  blownUp = false;
  private last = 0;
  private memoT = NaN;
  private memoY: Float64Array | null = null;
  constructor(private readonly dyn: Dynamics) {}
  margin(y: Float64Array, t = NaN): number {
    // Both margin events are evaluated at the same node one after the other: compute once.
    if (t === this.memoT && y === this.memoY) return this.last;
    const v = this.dyn.minMargin(y, t);
    if (Number.isFinite(v)) {
      this.last = v;
      this.memoT = t;
      this.memoY = y;
      return v;
    }
    // Repeat the last finite value: no sign change, so no spurious event.
    this.blownUp = true;
    this.memoY = null;
    return this.last;
  }
}

/**
 * Decides after each step whether the current leg ends: on blow-up, on a stop request
 * ('interrupted'), because a checkpoint is due, or because it is time to return to the event
 * loop (the run then continues in a new leg from the exact state, so neither changes the result).
 */
class LegControl {
  checkpointDue = false;
  private yieldDue = false;
  private interrupted = false;
  private lastCheckpoint = performance.now();
  private legStart = performance.now();
  private readonly checkpointMs: number;
  private readonly yieldMs: number;

  constructor(
    private readonly hooks: RunHooks,
    private readonly watch: BlowUpWatch,
  ) {
    this.checkpointMs = (hooks.checkpointSeconds ?? Infinity) * 1000;
    this.yieldMs = (hooks.yieldSeconds ?? Infinity) * 1000;
  }

  startLeg(): void {
    this.checkpointDue = false;
    this.yieldDue = false;
    this.interrupted = false;
    this.legStart = performance.now();
  }

  /** The step hook's answer: true to go on. */
  continueAfterStep(): boolean {
    if (this.watch.blownUp) return false;
    if (this.hooks.shouldStop?.()) {
      this.interrupted = true;
      return false;
    }
    const now = performance.now();
    if (this.hooks.onCheckpoint && now - this.lastCheckpoint > this.checkpointMs) {
      this.checkpointDue = true;
      return false;
    }
    if (now - this.legStart > this.yieldMs) {
      this.yieldDue = true;
      return false;
    }
    return true;
  }

  /** The leg ended for a checkpoint or a return to the event loop, not for a stop. */
  get endedForPause(): boolean {
    return (this.checkpointDue || this.yieldDue) && !this.interrupted;
  }

  checkpointWritten(): void {
    this.lastCheckpoint = performance.now();
  }
}

/** Progress in log time (the dynamics are spread over decades), linear near t = 0. */
function progressFraction(t: number, tEnd: number): number {
  const t0 = tEnd * FIRST_SAMPLE_FRACTION;
  if (t <= t0) return 0;
  return Math.min(1, Math.log(t / t0) / Math.log(tEnd / t0));
}

import { Observation } from '../model/observables.js';
import { solveIvp } from '../ode/solveIvp.js';
import { iterateMap } from '../ode/iterate.js';
import { logGridFromZero, logStepIndices } from '../ode/grid.js';
import type { ResumeState } from '../ode/types.js';
import { odexSolve } from '../ode/odexAdapter.js';
import { invariantDrift, Trajectory } from '../analysis/trajectory.js';
import { Dynamics } from './dynamics.js';
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
}

export interface RunEvent {
  name: string;
  t: number;
  step?: number;
}

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
  /** called every `checkpointSeconds` of wall time with a resumable checkpoint */
  onCheckpoint?: (c: RunCheckpoint) => void;
  checkpointSeconds?: number;
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
  dyn: Dynamics,
  traj: Trajectory,
  inv0: RunCheckpoint['invariants0'],
  t: number,
  step: number | null,
  y: Float64Array,
): Observation {
  const o = dyn.observe(y);
  traj.add(t, step, o, invariantDrift(inv0, dyn.invariants(y)));
  return o;
}

/**
 * Runs one level's dynamics with the chosen method, recording the trajectory and the events
 * "every sample classified correctly" (min margin crosses 0 upward, Thm 3.1) and, when it
 * happens, "a sample misclassified again" (downward). Everything computed is returned whatever
 * the ending, with a status and a one-line message.
 */
export function runDynamics(dyn: Dynamics, y0: Float64Array, plan: RunPlan, hooks: RunHooks = {}, from?: RunCheckpoint): RunOutcome {
  const started = performance.now();
  const withStep = plan.method === 'gd';
  const traj = new Trajectory(withStep);
  if (from) for (const r of from.rows) traj.rows.push(r.slice());
  const inv0 = from?.invariants0 ?? dyn.invariants(y0);
  const events: RunEvent[] = from ? from.events.map((e) => ({ ...e })) : [];
  const priorWall = from?.wallSeconds ?? 0;
  const wall = () => priorWall + (performance.now() - started) / 1000;
  const watch = new BlowUpWatch(dyn);
  const legs = new LegControl(hooks, watch);

  if (plan.method === 'gd') {
    const indices = logStepIndices(plan.steps, plan.samples);
    // Margin events come from the gradient's own forward pass: map(k, y_k) computes F(y_k), so
    // the sign of min_i y_i F_i at iterate k costs nothing extra (reported at the first iterate
    // with the new sign, like iterateMap's events).
    let marginPrev = from?.marginPrev ?? NaN;
    const detect = (k: number, mk: number) => {
      if (!Number.isFinite(mk)) {
        watch.blownUp = true;
        return;
      }
      if (marginPrev <= 0 && mk > 0) events.push({ name: 'all-correct', t: k * plan.lr, step: k });
      if (marginPrev > 0 && mk <= 0) events.push({ name: 'misclassified', t: k * plan.lr, step: k });
      marginPrev = mk;
    };
    const gdCheckpoint = (k: number, y: Float64Array): RunCheckpoint => ({
      method: 'gd',
      y: y.slice(),
      step: k,
      rows: traj.rows.map((r) => r.slice()),
      invariants0: inv0,
      events: events.map((e) => ({ ...e })),
      wallSeconds: wall(),
      marginPrev,
    });
    let k0 = from?.step ?? 0;
    let yStart = from?.y ?? y0;
    // Legs end at checkpoints; the next leg starts from the exact iterate, so the run is the
    // same as one without checkpoints.
    for (;;) {
      legs.startLeg();
      const result = iterateMap({
        map: (k, y, out) => {
          dyn.gdStep(plan.lr, y, out);
          detect(k, dyn.lastMinMargin);
        },
        ...(k0 > 0 ? { resumeFrom: { k: k0, y: yStart } } : { y0: yStart }),
        steps: plan.steps,
        sampleAt: indices,
        onSample: (k, y) => {
          const o = observeRow(dyn, traj, inv0, k * plan.lr, k, y);
          hooks.onProgress?.(k / plan.steps, o.loss);
        },
        onStep: (k) => {
          if ((k & 63) === 0) hooks.onProgress?.(k / plan.steps, NaN);
          return legs.continueAfterStep();
        },
      });
      if (result.status === 'user-stop' && legs.endedForCheckpoint) {
        hooks.onCheckpoint?.(gdCheckpoint(result.k, result.y));
        legs.checkpointWritten();
        k0 = result.k;
        yStart = result.y;
        continue;
      }
      if (result.status === 'success') detect(result.k, watch.margin(result.y));
      let status: RunStatus = result.status === 'user-stop' ? 'interrupted' : result.status === 'non-finite' ? 'non-finite' : 'success';
      let message = result.message;
      if (watch.blownUp) {
        status = 'non-finite';
        message = `the model outputs became non-finite at step ${result.k} (the weights are still finite); the run stopped there`;
      }
      return {
        status,
        message,
        t: result.k * plan.lr,
        step: result.k,
        y: result.y,
        trajectory: traj,
        events,
        stats: { nfev: result.k, naccepted: result.k, nrejected: 0 },
        wallSeconds: wall(),
        checkpoint: gdCheckpoint(result.k, result.y),
      };
    }
  }

  const grid = flowGrid(plan);
  const f = (t: number, y: Float64Array, dy: Float64Array) => dyn.field(t, y, dy);

  if (plan.method === 'odex') {
    // odex (Hairer's ODEX, Gragg-Bulirsch-Stoer extrapolation) is the independent cross-check
    // integrator: no events, no progress, no resume (it does not support them).
    const r = odexSolve({ f, n: dyn.size, t0: 0, y0, tOut: grid, rtol: plan.rtol, atol: plan.atol, maxSteps: plan.maxSteps });
    for (let i = 0; i < r.samples.length; i++) observeRow(dyn, traj, inv0, grid[i], null, r.samples[i]);
    const ok = r.status === 'success';
    const last = r.samples.length > 0 ? r.samples[r.samples.length - 1] : y0;
    return {
      status: ok ? 'success' : 'non-finite',
      message: r.message,
      t: r.samples.length > 0 ? grid[r.samples.length - 1] : 0,
      y: last,
      trajectory: traj,
      events,
      stats: { nfev: r.nfev, naccepted: r.naccepted, nrejected: r.nrejected },
      wallSeconds: wall(),
      checkpoint: { method: 'odex', y: last.slice(), rows: traj.rows, invariants0: inv0, events, wallSeconds: wall() },
    };
  }

  const flowCheckpoint = (resume: ResumeState, y: Float64Array): RunCheckpoint => ({
    method: 'dopri5',
    y: y.slice(),
    resume,
    rows: traj.rows.map((r) => r.slice()),
    invariants0: inv0,
    events: events.map((e) => ({ ...e })),
    wallSeconds: wall(),
  });
  const margin = (t: number, y: Float64Array) => watch.margin(y, t);
  let resume = from?.resume;
  // Legs end at checkpoints (an accepted step boundary); resuming from the solver's exact state
  // makes the whole run bit-identical to one without checkpoints.
  for (;;) {
    legs.startLeg();
    const used = resume ? resume.stats.naccepted + resume.stats.nrejected : 0;
    const result = solveIvp({
      f,
      ...(resume ? { resumeFrom: resume } : { t0: 0, y0 }),
      tEnd: plan.tEnd,
      rtol: plan.rtol,
      atol: plan.atol,
      maxSteps: Math.max(1, plan.maxSteps - used),
      ...(resume ? {} : { controller: plan.controller }),
      tEval: grid,
      onSample: (t, y) => {
        const o = observeRow(dyn, traj, inv0, t, null, y);
        hooks.onProgress?.(progressFraction(t, plan.tEnd), o.loss);
      },
      events: [
        { name: 'all-correct', g: margin, direction: 1 },
        { name: 'misclassified', g: margin, direction: -1 },
      ],
      onStep: (t) => {
        hooks.onProgress?.(progressFraction(t, plan.tEnd), NaN);
        return legs.continueAfterStep();
      },
    });
    for (const e of result.events) events.push({ name: e.name, t: e.t });
    if (result.status === 'user-stop' && legs.endedForCheckpoint) {
      hooks.onCheckpoint?.(flowCheckpoint(result.resume, result.y));
      legs.checkpointWritten();
      resume = result.resume;
      continue;
    }
    let status: RunStatus = result.status === 'user-stop' ? 'interrupted' : result.status === 'terminal-event' ? 'success' : result.status;
    let message = result.message;
    if (watch.blownUp) {
      status = 'non-finite';
      message = `the model outputs became non-finite at t = ${result.t} (the state is still finite); the run stopped there`;
    }
    return {
      status,
      message,
      t: result.t,
      y: result.y,
      trajectory: traj,
      events,
      stats: { ...result.stats },
      wallSeconds: wall(),
      checkpoint: flowCheckpoint(result.resume, result.y),
    };
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
 * ('interrupted'), or because a checkpoint is due (the run then continues in a new leg from the
 * exact state, so checkpoints do not change the result).
 */
class LegControl {
  private checkpointDue = false;
  private interrupted = false;
  private lastCheckpoint = performance.now();
  private readonly checkpointMs: number;

  constructor(
    private readonly hooks: RunHooks,
    private readonly watch: BlowUpWatch,
  ) {
    this.checkpointMs = (hooks.checkpointSeconds ?? Infinity) * 1000;
  }

  startLeg(): void {
    this.checkpointDue = false;
    this.interrupted = false;
  }

  /** The step hook's answer: true to go on. */
  continueAfterStep(): boolean {
    if (this.watch.blownUp) return false;
    if (this.hooks.shouldStop?.()) {
      this.interrupted = true;
      return false;
    }
    if (this.hooks.onCheckpoint && performance.now() - this.lastCheckpoint > this.checkpointMs) {
      this.checkpointDue = true;
      return false;
    }
    return true;
  }

  get endedForCheckpoint(): boolean {
    return this.checkpointDue && !this.interrupted;
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

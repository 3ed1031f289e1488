/**
 * solve: one friendly entry point for any ODE y' = f(t, y), shaped like SciPy's `solve_ivp`.
 * It is a thin layer over the one driver (drive.ts) with one of two steppers: Dormand-Prince
 * 5(4) (dopri5.ts: dense output, events located by root finding) or the odex cross-check
 * (odexAdapter.ts: a Gragg-Bulirsch-Stoer extrapolation method, without dense output). It checks
 * the inputs once, with one message style for both methods, and stores the outputs (the driver
 * streams them through a callback instead).
 */
import { UsageError } from '../errors.js';
import { Dopri5 } from './dopri5.js';
import { drive } from './drive.js';
import type { EventRecord, EventSpec } from './events.js';
import { OdexStepper } from './odexAdapter.js';
import type { Stepper } from './stepper.js';
import type { SolveStatus, SolverStats, StepperState, VectorField } from './types.js';

/**
 * The integrator behind {@link solve}:
 *  - 'dopri5': coflow's adaptive Dormand-Prince 5(4) (`Dopri5`), dense output, events located
 *    by Brent's method on the dense output;
 *  - 'odex': the npm package odex (Hairer and Wanner's ODEX, extrapolation), through `OdexStepper`;
 *    no dense output, so it needs `tEval` and events are only detected at output times.
 */
export type SolveMethod = 'dopri5' | 'odex';

/**
 * How a {@link solve} ended (`SolveStatus` without 'user-stop', which needs the driver's onStep):
 *  - 'success': reached t1;
 *  - 'non-finite': NaN or Inf appeared in the state or the derivative;
 *  - 'step-too-small': dopri5's step size fell below max(hMin, 10 ulp(t)) (odex never reports it);
 *  - 'max-steps': the maxSteps limit was hit (see {@link SolveOptions.maxSteps});
 *  - 'terminal-event': a terminal event fired.
 * On every status but 'success' the outputs computed before the end are kept.
 */
export type SolveResultStatus = Exclude<SolveStatus, 'user-stop'>;

/**
 * An event: a scalar function of (t, y) whose zero crossings are recorded, and may stop the
 * solve. The driver's one event type (src/ode/events.ts), under the name the library exports.
 */
export type SolveEvent = EventSpec;

/** One event that occurred: the driver's record (`located` false with odex). */
export type SolveEventRecord = EventRecord;

/** Options of {@link solve}. rtol and atol are required: coflow has no default tolerances. */
export interface SolveOptions {
  /** Integrator; default 'dopri5'. */
  method?: SolveMethod;
  /**
   * Relative tolerance, finite and > 0; required (no default: SciPy's 1e-3 is often much looser
   * than expected). Values below about 1e-13 are limited by round-off.
   */
  rtol: number;
  /**
   * Absolute tolerance, finite and > 0: one number, or one per component (length = y0.length).
   * Required. It sets the error that counts as negligible where a component is near 0.
   */
  atol: number | Float64Array | readonly number[];
  /**
   * Output times, strictly monotone in the direction of integration and inside [t0, t1]
   * (endpoints allowed). Without tEval (dopri5 only), the outputs are t0 and the end of every
   * accepted step. Required for odex.
   */
  tEval?: Float64Array | readonly number[];
  /** Events to detect (dopri5: located on the dense output; odex: detected at output times). */
  events?: readonly SolveEvent[];
  /**
   * Step limit; on reaching it the solve ends with 'max-steps' and keeps its outputs.
   *  - dopri5: trial steps in total (accepted + rejected), an integer >= 1 or Infinity; default
   *    {@link SOLVE_MAX_STEPS}.dopri5 = 100,000.
   *  - odex: odex's own step limit per output interval (from one output time to the next), an integer >= 1;
   *    default {@link SOLVE_MAX_STEPS}.odex = 10,000 (odex's default). odex runs on through NaN
   *    until this limit (about 430,000 evaluations at 10,000), so lower it if f may fail.
   */
  maxSteps?: number;
  /**
   * dopri5 only: step-size controller, 'PI' (Hairer's DOPRI5 control, default) or 'I' (SciPy
   * RK45's elementary control).
   */
  controller?: 'I' | 'PI';
  /** dopri5 only: first trial step |h0|; default Hairer's starting-step algorithm (one f call). */
  h0?: number;
  /** dopri5 only: smallest allowed |h|; below it the solve ends with 'step-too-small'. Default 0. */
  hMin?: number;
  /** dopri5 only: largest allowed |h|. Default Infinity. */
  hMax?: number;
}

/** What {@link solve} returns. Every array in it is its own copy. */
export interface SolveResult {
  method: SolveMethod;
  status: SolveResultStatus;
  /** One human-readable line saying what happened and where. */
  message: string;
  /**
   * Output times: tEval (up to where the solve ended), or without tEval t0 and the end of every
   * accepted step. After a terminal event the last entry is the event time (appended when it is
   * not a tEval time).
   */
  t: Float64Array;
  /** y[i] is the state at t[i] (one Float64Array per output time). */
  y: Float64Array[];
  /** Events that occurred, in time order (odex: several found at one output time in index order). */
  events: SolveEventRecord[];
  /**
   * Work done. dopri5: f evaluations (including the starting-step probe), accepted and rejected
   * steps. odex: odex's own counters summed over the output intervals: f evaluations (exact) and
   * accepted/rejected extrapolation steps (each costs many evaluations, so they are not
   * comparable with dopri5's step counts).
   */
  stats: SolverStats;
}

/** Default maxSteps per method (see {@link SolveOptions.maxSteps}). */
export const SOLVE_MAX_STEPS: Readonly<Record<SolveMethod, number>> = Object.freeze({ dopri5: 100_000, odex: 10_000 });

const DOPRI5_ONLY = ['controller', 'h0', 'hMin', 'hMax'] as const;

function fail(message: string): never {
  throw new UsageError(message);
}

function show(v: unknown): string {
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (v instanceof Float64Array) return `a Float64Array of length ${v.length}`;
  return typeof v === 'string' ? `'${v}'` : String(v);
}

/** A finite number, or a UsageError naming it. */
function finite(name: string, v: unknown, fix: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${name} must be a finite number, got ${show(v)}; ${fix}`);
  return v;
}

/** Copies a Float64Array or an array of numbers, checking every entry; a UsageError naming `name`. */
function vectorOf(name: string, v: unknown, what: string): Float64Array {
  if (!(v instanceof Float64Array) && !Array.isArray(v)) fail(`${name} must be a Float64Array or an array of numbers, got ${show(v)}`);
  const arr = v as ArrayLike<unknown>;
  const out = new Float64Array(arr.length);
  for (let i = 0; i < arr.length; i++) {
    const x = arr[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) fail(`${name}[${i}] is ${show(x)}; ${what}`);
    out[i] = x;
  }
  return out;
}

function checkEvents(events: unknown): EventSpec[] {
  if (events === undefined) return [];
  if (!Array.isArray(events)) fail(`events must be an array of { fn, direction?, terminal?, name? }, got ${show(events)}`);
  return (events as unknown[]).map((raw, i) => {
    const e = raw as Partial<SolveEvent> | null;
    if (typeof e?.fn !== 'function') fail(`events[${i}].fn must be a function (t, y) => number`);
    if (e.direction !== undefined && e.direction !== -1 && e.direction !== 0 && e.direction !== 1) {
      fail(`events[${i}].direction must be -1, 0 or +1, got ${show(e.direction)}`);
    }
    if (e.terminal !== undefined && typeof e.terminal !== 'boolean') fail(`events[${i}].terminal must be true or false, got ${show(e.terminal)}`);
    if (e.name !== undefined && typeof e.name !== 'string') fail(`events[${i}].name must be a string, got ${show(e.name)}`);
    const fn = e.fn;
    // Called with (t, y) only: a user's fn never sees the solver's dydt.
    return { name: e.name ?? `event ${i}`, direction: e.direction ?? 0, terminal: e.terminal === true, fn: (t: number, y: Float64Array) => fn(t, y) };
  });
}

/**
 * Integrate y' = f(t, y) from t0 to t1 and return the states at the output times, like SciPy's
 * `solve_ivp`. Failures are statuses with the outputs up to the failure kept; only bad input
 * throws (a `UsageError` naming the argument and the fix). solve is not a new integrator:
 * 'dopri5' drives `Dopri5`, 'odex' drives `OdexStepper` one output interval at a time.
 *
 * Method differences:
 *  - outputs: dopri5 interpolates tEval on its dense output (4th order) and without tEval returns
 *    every accepted step; odex restarts at every output time (each output is a step end) and
 *    requires tEval (it has no natural output times; use `tEval: [t1]` for the end point only).
 *  - events: dopri5 finds each event time by root finding on the dense output (`located: true`,
 *    no extra f calls); odex checks the sign of fn at t0, every output time and t1, and reports
 *    a crossing at the first of those after it (`located: false`, t and y of that point). A
 *    terminal event stops both; its state is the last output.
 *  - both integrate to t1 even when tEval ends earlier (events up to t1 are seen; with odex one
 *    after the last output time is reported at t1).
 *
 * @param f Right-hand side: writes f(t, y) into dydt. y and dydt belong to the solver: do not
 *   keep them, do not modify y.
 * @param tSpan [t0, t1], finite, t1 !== t0; t1 < t0 integrates backward.
 * @param y0 Initial state (finite, non-empty); copied, never modified.
 * @param options Tolerances (required), output times, events, step limits; see {@link SolveOptions}.
 * @returns status and message, the outputs t[i] with y[i], the events, and the work counters.
 * @throws UsageError on bad input (also when an event function returns NaN).
 * @example
 * import { linspace, solve } from './src/ode/index.js';
 * // Lotka-Volterra predator-prey on [0, 15]
 * const [a, b, c, d] = [1.5, 1, 3, 1];
 * const r = solve(
 *   (_t, y, dy) => {
 *     dy[0] = a * y[0] - b * y[0] * y[1];
 *     dy[1] = d * y[0] * y[1] - c * y[1];
 *   },
 *   [0, 15],
 *   [10, 5],
 *   { rtol: 1e-8, atol: 1e-10, tEval: linspace(0, 15, 151), events: [{ name: 'prey=5', fn: (_t, y) => y[0] - 5, direction: -1 }] },
 * );
 * // r.status === 'success'; r.y[150] is the state at t = 15; r.events: x falls through 5 at
 * // t = 0.124, 4.421, 8.719, 13.016 (located: true)
 *
 * // exponential decay, end point only, with odex
 * solve((_t, y, dy) => { dy[0] = -y[0]; }, [0, 10], [1], { method: 'odex', rtol: 1e-6, atol: 1e-9, tEval: [10] }).y[0][0]; // ~ e^-10
 */
export function solve(f: VectorField, tSpan: readonly [number, number], y0: Float64Array | readonly number[], options: SolveOptions): SolveResult {
  // ---- inputs, checked once for both methods ----
  if (typeof f !== 'function') fail(`f must be a function (t, y, dydt) => void that writes y' into dydt, got ${show(f)}`);
  if (!Array.isArray(tSpan) || tSpan.length !== 2) fail(`tSpan must be [t0, t1], got ${show(tSpan)}`);
  const t0 = finite('tSpan[0] (t0)', tSpan[0], 'give [t0, t1] as two finite numbers');
  const t1 = finite('tSpan[1] (t1)', tSpan[1], 'give [t0, t1] as two finite numbers');
  if (t1 === t0) fail(`tSpan is empty: t1 = t0 = ${t0}; give t1 > t0 (or t1 < t0 to integrate backward)`);
  const dir = t1 > t0 ? 1 : -1;
  const y = vectorOf('y0', y0, 'the initial state must be finite');
  const n = y.length;
  if (n === 0) fail('y0 is empty; give at least one component');
  if (typeof options !== 'object' || options === null) fail('options must be an object with at least { rtol, atol }');
  const method = options.method ?? 'dopri5';
  if (method !== 'dopri5' && method !== 'odex') fail(`method must be 'dopri5' or 'odex', got ${show(method)}`);
  const rtol = finite('rtol', options.rtol, 'rtol is required, e.g. 1e-6');
  if (!(rtol > 0)) fail(`rtol must be > 0, got ${rtol}; e.g. 1e-6`);
  let atol: number | Float64Array;
  if (typeof options.atol === 'number' || options.atol === undefined) {
    atol = finite('atol', options.atol, 'atol is required, e.g. 1e-9 (or one value per component)');
    if (!(atol > 0)) fail(`atol must be > 0, got ${atol}; e.g. 1e-9`);
  } else {
    atol = vectorOf('atol', options.atol, 'every absolute tolerance must be a finite number > 0');
    if (atol.length !== n) fail(`atol has ${atol.length} values but y0 has ${n} components; give one per component or a single number`);
    const bad = atol.findIndex((v) => !(v > 0));
    if (bad >= 0) fail(`atol[${bad}] = ${atol[bad]} must be > 0; every absolute tolerance must be positive`);
  }
  let grid: Float64Array | null = null;
  if (options.tEval !== undefined) {
    grid = vectorOf('tEval', options.tEval, 'output times must be finite');
    if (grid.length === 0) fail('tEval is empty; give at least one output time, or omit tEval (dopri5) to get every step');
    for (let i = 0; i < grid.length; i++) {
      if (dir * (grid[i] - t0) < 0 || dir * (grid[i] - t1) > 0) fail(`tEval[${i}] = ${grid[i]} is outside [t0, t1] = [${t0}, ${t1}]; output times must lie in the span`);
      if (i > 0 && !(dir * (grid[i] - grid[i - 1]) > 0)) {
        fail(`tEval must be strictly ${dir > 0 ? 'increasing' : 'decreasing'} (from t0 to t1); tEval[${i - 1}] = ${grid[i - 1]}, tEval[${i}] = ${grid[i]}`);
      }
    }
  }
  const events = checkEvents(options.events);
  const maxSteps = options.maxSteps ?? SOLVE_MAX_STEPS[method];
  const integer = typeof maxSteps === 'number' && maxSteps >= 1 && Number.isInteger(maxSteps);
  if (!(integer || (method === 'dopri5' && maxSteps === Infinity))) {
    fail(`maxSteps must be an integer >= 1${method === 'dopri5' ? ' or Infinity' : ' for odex'}, got ${show(maxSteps)}`);
  }

  if (method === 'odex') {
    for (const k of DOPRI5_ONLY) {
      if (options[k] !== undefined) fail(`${k} is a dopri5 option; odex chooses its own steps: remove ${k} or use method 'dopri5'`);
    }
    if (grid === null) fail(`method 'odex' needs tEval (it has no dense output or natural output times); e.g. tEval: [${t1}] for the end point only`);
    return solveOdex(f, t0, t1, y, grid, rtol, atol, events, maxSteps);
  }
  if (options.controller !== undefined && options.controller !== 'I' && options.controller !== 'PI') {
    fail(`controller must be 'I' or 'PI', got ${show(options.controller)}`);
  }
  return solveDopri5(f, t0, t1, y, grid, rtol, atol, events, maxSteps, options);
}

function solveDopri5(
  f: VectorField,
  t0: number,
  t1: number,
  y0: Float64Array,
  grid: Float64Array | null,
  rtol: number,
  atol: number | Float64Array,
  events: EventSpec[],
  maxSteps: number,
  options: SolveOptions,
): SolveResult {
  // A pooled memory given back afterwards: repeated solves of one size reuse one WebAssembly memory.
  const memory = Dopri5.memory(y0.length);
  try {
    const { controller, h0, hMin, hMax } = options;
    const solver = new Dopri5({ f, t0, y0, tEnd: t1, rtol, atol, maxSteps, controller, h0, hMin, hMax, memory });
    return collect('dopri5', solver, grid, events);
  } finally {
    Dopri5.release(memory);
  }
}

function solveOdex(
  f: VectorField,
  t0: number,
  t1: number,
  y0: Float64Array,
  grid: Float64Array,
  rtol: number,
  atol: number | Float64Array,
  events: EventSpec[],
  maxSteps: number,
): SolveResult {
  // The nodes: the output times, then t1 if tEval stops short of it (integrated, events checked
  // there, but not an output). Each node is a restart of odex, so events are seen only there.
  const nodes = grid[grid.length - 1] === t1 ? grid : Float64Array.of(...grid, t1);
  // Event functions see a scratch copy, so one that writes into y cannot corrupt the state.
  const scratch = new Float64Array(y0.length);
  const guarded = events.map((e) => ({
    ...e,
    fn: (t: number, y: Float64Array) => {
      scratch.set(y);
      return e.fn(t, scratch);
    },
  }));
  const r = collect('odex', new OdexStepper({ f, t0, y0, nodes, rtol, atol, maxSteps }), grid, guarded);
  if (r.status === 'terminal-event') r.message += ' (odex: detected at a node after the sign change, not root-found)';
  else if (r.status !== 'success') r.message += `; outputs kept up to t = ${r.t.length > 0 ? r.t[r.t.length - 1] : t0}`;
  return r;
}

/** Drive a stepper and store its outputs and events (the same for both methods). */
function collect(method: SolveMethod, stepper: Stepper<StepperState>, grid: Float64Array | null, events: EventSpec[]): SolveResult {
  const ts: number[] = [];
  const ys: Float64Array[] = [];
  const r = drive(stepper, {
    tEval: grid ?? undefined,
    onSample: (t, y) => {
      ts.push(t);
      ys.push(Float64Array.from(y));
    },
    events,
  });
  if (r.status === 'user-stop') throw new Error('solve: unexpected user-stop without onStep');
  // With tEval, the driver delivers the grid points up to the terminal event but not the event
  // point itself (without tEval it does): append it so the last output is the event state.
  if (r.status === 'terminal-event' && ts[ts.length - 1] !== r.t) {
    ts.push(r.t);
    ys.push(Float64Array.from(r.y));
  }
  return {
    method,
    status: r.status,
    message: r.message,
    t: Float64Array.from(ts),
    y: ys,
    events: r.events,
    stats: { ...r.stats },
  };
}

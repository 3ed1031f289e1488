/**
 * Event detection and location, for any stepper. After every accepted step each event function
 * is evaluated at the new node; a sign change against the previous node means a root in the
 * step. Where the stepper has dense output (Dormand-Prince) the root is located with Brent's
 * method on it (no extra f calls, an accuracy limited only by the interpolant, not by the step
 * size); without (a fixed map, odex) the event is reported at the node past the sign change. As
 * in scipy's solve_ivp, two roots of the same function inside one step cancel and are not seen.
 */
import { UsageError } from '../errors.js';
import { brentRoot } from './rootfind.js';
import type { Stepper } from './stepper.js';

/** A scalar function whose zero crossings are events (the one event type of every solve). */
export interface EventSpec {
  /**
   * Event function; its zeros are the events. It must return a number (NaN is a usage error) and
   * must not modify or keep y or dydt (they belong to the solver). At an accepted step's end of
   * Dormand-Prince, dydt is f(t, y), which the solver has already computed (first-same-as-last),
   * so an fn that needs the field costs no evaluation there; elsewhere dydt is absent. For a
   * fixed map, t is the iterate index.
   */
  fn: (t: number, y: Float64Array, dydt?: Float64Array) => number;
  /**
   * Which crossings count: +1 only from negative to positive, -1 only from positive to negative,
   * 0 both (default). A crossing is fn going from < 0 to >= 0 or from > 0 to <= 0.
   */
  direction?: -1 | 0 | 1;
  /** Stop the solve at this event (default false). */
  terminal?: boolean;
  /** Label used in messages and records (default `event <index>`). */
  name?: string;
}

/** One event that occurred. */
export interface EventRecord {
  /** Index into the events array given to the solver. */
  index: number;
  name: string;
  t: number;
  /** State at t (its own copy). */
  y: Float64Array;
  /** Direction of the crossing that occurred: +1 upward, -1 downward. */
  direction: 1 | -1;
  terminal: boolean;
  /**
   * True when t is the root located on the dense output (to about 4 eps |t|); false for a
   * stepper without dense output (a map, odex), where t is the first node after the sign change
   * (the root lies between the previous node and t).
   */
  located: boolean;
}

function checkValue(name: string, t: number, v: number): number {
  if (typeof v !== 'number' || Number.isNaN(v)) throw new UsageError(`events: '${name}' returned ${String(v)} at t = ${t}; an event function must return a number`);
  return v;
}

const NO_EVENTS: readonly EventRecord[] = Object.freeze([]);

/** Tracks the signs of all event functions across accepted steps. */
export class EventLocator {
  private readonly specs: readonly EventSpec[];
  private readonly names: string[];
  private readonly gOld: Float64Array;
  private readonly gNew: Float64Array;
  private solver: Stepper | null = null;
  private active = 0;
  /** Built once so locating a root allocates no closure. */
  private readonly gOnDense = (tau: number): number => {
    // in the solver's own buffer: no copy of the state per root-finding iteration
    const solver = this.solver as Stepper;
    (solver.denseAt as NonNullable<Stepper['denseAt']>)(tau, solver.sampleBuffer);
    return this.specs[this.active].fn(tau, solver.sampleBuffer);
  };

  constructor(specs: readonly EventSpec[]) {
    specs.forEach((s, i) => {
      if (typeof s?.fn !== 'function') throw new UsageError(`events[${i}].fn must be a function (t, y) => number`);
      if (s.direction !== undefined && s.direction !== -1 && s.direction !== 0 && s.direction !== 1) {
        throw new UsageError(`events[${i}].direction must be -1, 0 or +1, got ${String(s.direction)}`);
      }
    });
    this.specs = specs;
    this.names = specs.map((s, i) => s.name ?? `event ${i}`);
    this.gOld = new Float64Array(specs.length);
    this.gNew = new Float64Array(specs.length);
  }

  get count(): number {
    return this.specs.length;
  }

  /** Record the event function values at the starting point. */
  start(t: number, y: Float64Array): void {
    for (let e = 0; e < this.specs.length; e++) this.gOld[e] = checkValue(this.names[e], t, this.specs[e].fn(t, y));
  }

  /**
   * Examine the solver's last accepted step [tOld, t]. Returns the events in it, in time order;
   * if one is terminal, only events up to the first terminal one (inclusive). A crossing means
   * g went from < 0 to >= 0 (up) or from > 0 to <= 0 (down); a zero at the step start belongs to
   * the previous step, so it is not reported twice.
   */
  afterStep(solver: Stepper): readonly EventRecord[] {
    // Allocated only when a crossing is found, so a step without events allocates nothing.
    let found: EventRecord[] | null = null;
    if (this.specs.length === 0) return NO_EVENTS;
    const tOld = solver.tOld;
    const t = solver.t;
    const tol = 4 * Number.EPSILON * Math.max(Math.abs(tOld), Math.abs(t));
    for (let e = 0; e < this.specs.length; e++) {
      const spec = this.specs[e];
      const g0 = this.gOld[e];
      const g1 = checkValue(this.names[e], t, spec.fn(t, solver.y, solver.dydt));
      this.gNew[e] = g1;
      const up = g0 < 0 && g1 >= 0;
      const down = g0 > 0 && g1 <= 0;
      const dirWanted = spec.direction ?? 0;
      if (!((up && dirWanted >= 0) || (down && dirWanted <= 0))) continue;
      let root = t;
      let yRoot: Float64Array;
      if (solver.denseAt) {
        this.solver = solver;
        this.active = e;
        root = brentRoot(this.gOnDense, tOld, t, g0, g1, tol);
        yRoot = new Float64Array(solver.n);
        solver.denseAt(root, yRoot);
      } else {
        yRoot = Float64Array.from(solver.y);
      }
      found ??= [];
      found.push({ index: e, name: this.names[e], t: root, y: yRoot, direction: up ? 1 : -1, terminal: spec.terminal === true, located: solver.denseAt !== undefined });
    }
    this.gOld.set(this.gNew);
    if (found === null) return NO_EVENTS;
    const dir = solver.direction;
    found.sort((p, q) => dir * (p.t - q.t) || p.index - q.index);
    const firstTerminal = found.findIndex((r) => r.terminal);
    return firstTerminal < 0 ? found : found.slice(0, firstTerminal + 1);
  }
}

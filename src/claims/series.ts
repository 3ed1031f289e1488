/**
 * A read-only view of a run for the claim evaluators: columns, the end of Phase 1 (T1, the
 * first all-correct event, Thm 3.1), values at T1, the Phase 2 rows, and the common
 * "not evaluable" conditions phrased once.
 */
import { leastSquaresLine } from '../analysis/regression.js';
import { MIN_PHASE2_ROWS } from './bands.js';
import type { RunDir } from './runDir.js';
import { notEvaluable, type Measurement } from './verdict.js';

export class RunView {
  readonly t: Float64Array;
  /** first all-correct event (Thm 3.1's T1), or null if every sample was never classified correctly */
  readonly T1: number | null;

  constructor(readonly run: RunDir) {
    this.t = run.columns.get('t')!;
    const e = run.summary.events.find((ev) => ev.name === 'all-correct');
    this.T1 = e ? e.t : null;
  }

  get settings() {
    return this.run.settings;
  }

  get rows(): number {
    return this.run.rows;
  }

  has(name: string): boolean {
    return this.run.columns.has(name);
  }

  col(name: string): Float64Array {
    const c = this.run.columns.get(name);
    if (!c) throw new Error(`claims: column '${name}' read without checking it exists`);
    return c;
  }

  first(name: string): number {
    return this.col(name)[0];
  }

  last(name: string): number {
    const c = this.col(name);
    return c[c.length - 1];
  }

  get tEnd(): number {
    return this.t[this.t.length - 1];
  }

  /** Time of the first event of that name, or null. */
  eventT(name: string): number | null {
    const e = this.run.summary.events.find((ev) => ev.name === name);
    return e ? e.t : null;
  }

  /**
   * A column's value at T1: from summary.json's allCorrectRow (the exact row at the event) when
   * it has the column, else linear interpolation in t between the recorded rows around T1.
   */
  atT1(name: string): number {
    if (this.T1 === null) return NaN;
    const exact = this.run.summary.allCorrectRow?.get(name);
    if (exact !== undefined) return exact;
    return this.interpolate(name, this.T1);
  }

  interpolate(name: string, t: number): number {
    const c = this.col(name);
    const ts = this.t;
    if (!(t >= ts[0]) || t > ts[ts.length - 1]) return NaN;
    let i = 0;
    while (i + 1 < ts.length && ts[i + 1] < t) i++;
    if (i + 1 >= ts.length || ts[i] === t) return c[i];
    const t0 = ts[i];
    const t1 = ts[i + 1];
    if (t1 === t) return c[i + 1];
    const w = (t - t0) / (t1 - t0);
    return c[i] + w * (c[i + 1] - c[i]);
  }

  /** Indices of the recorded rows strictly after T1. */
  phase2Rows(): number[] {
    const out: number[] = [];
    if (this.T1 === null) return out;
    for (let i = 0; i < this.rows; i++) if (this.t[i] > this.T1) out.push(i);
    return out;
  }

  /** (t, value) from T1 (value at T1) through every Phase 2 row. */
  phase2Series(name: string): { t: number[]; v: number[] } {
    const rows = this.phase2Rows();
    const c = this.col(name);
    return { t: [this.T1 as number, ...rows.map((i) => this.t[i])], v: [this.atT1(name), ...rows.map((i) => c[i])] };
  }

  /** A Measurement explaining what is missing, or null if every column exists. */
  needColumns(names: readonly string[]): Measurement | null {
    const missing = names.filter((n) => !this.has(n));
    if (missing.length === 0) return null;
    return notEvaluable(`the run's trajectory.csv lacks the column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (not recorded by this run's level or coflow version)`);
  }

  needT1(): Measurement | null {
    if (this.T1 !== null) return null;
    return notEvaluable(`the run never classified every training sample correctly (no all-correct event up to t = ${fmtT(this.tEnd)}), so it has no T1 and no Phase 2`);
  }

  /** T1 and at least MIN_PHASE2_ROWS recorded rows after it. */
  needPhase2(): Measurement | null {
    const noT1 = this.needT1();
    if (noT1) return noT1;
    const k = this.phase2Rows().length;
    if (k >= MIN_PHASE2_ROWS) return null;
    return notEvaluable(`only ${k} recorded row${k === 1 ? '' : 's'} after T1 = ${fmtT(this.T1 as number)} (at least ${MIN_PHASE2_ROWS} needed for Phase 2)`);
  }
}

function fmtT(t: number): string {
  return String(Number(t.toPrecision(4)));
}

/** The first non-null of the given preconditions. */
export function firstMissing(...conds: (Measurement | null)[]): Measurement | null {
  for (const c of conds) if (c) return c;
  return null;
}

/** max over the values, NaN if any value is NaN (a NaN row must not be skipped silently). */
export function maxOf(values: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (Number.isNaN(x)) return NaN;
    if (x > m) m = x;
  }
  return m;
}

/**
 * Fraction of consecutive intervals in which the series moves strictly the given way
 * (+1 up, -1 down). An interval with a NaN end or no change counts as the wrong way.
 */
export function fractionMoving(v: readonly number[], direction: 1 | -1): number {
  if (v.length < 2) return NaN;
  let ok = 0;
  for (let i = 1; i < v.length; i++) if (direction * (v[i] - v[i - 1]) > 0) ok++;
  return ok / (v.length - 1);
}

/** Least-squares line y = a + b x with its coefficient of determination R^2 (NaN when degenerate). */
export function linearFit(x: readonly number[], y: readonly number[]): { a: number; b: number; r2: number } {
  const f = leastSquaresLine(x, y);
  return f ? { a: f.intercept, b: f.slope, r2: f.r2 } : { a: NaN, b: NaN, r2: NaN };
}

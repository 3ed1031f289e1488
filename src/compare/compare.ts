/**
 * Side-by-side comparison of runs that start from the same state: Level F vs Level G vs Level T
 * vs Level P, or dopri5 vs odex vs GD. Pure functions over already-read run directories; the
 * command (src/app/compare.ts) reads the directories and writes the files.
 *
 * Definitions (docs/compare.md):
 * - rows are aligned on common recorded times: the same `step` when both runs are GD runs,
 *   otherwise the same `t` (to RELATIVE_T_TOL);
 * - the deviation of column c in a row is x_b - x_a; its relative deviation divides by the scale
 *   of the column's family (FAMILIES): the largest |x| over the aligned rows of both runs and of
 *   every column of the family, and at least the family's floor. So G3, which starts at 0 from
 *   the mean start, is measured against the size of G(mu_1..3); a ratio such as balance44, which
 *   is exactly 0 for symmetric data at Level T and round-off at Level G, against 1 (its natural
 *   unit: Lemma 4.4 compares it with a constant), not against its own round-off;
 * - the drift columns are left out: each measures its own run's integration error, and the
 *   difference of two round-off levels says nothing about the runs' agreement.
 */
import type { Dataset } from '../data/dataset.js';
import { UsageError } from '../errors.js';

/** A run as the comparison sees it. */
export interface CompareRun {
  dir: string;
  level: string;
  method: string;
  init: string;
  /** config.json `settings` as written */
  settings: Record<string, unknown>;
  columns: Map<string, Float64Array>;
  columnNames: string[];
  rows: number;
  data: Dataset;
  /** t of the run's all-correct event (the paper's T1), if it reached it */
  T1: number | null;
}

/** Columns never compared: the time axes, and the drift columns (each run's own integration error). */
export const EXCLUDED_COLUMNS: readonly string[] = ['t', 'step', 'drift_QK', 'drift_VW'];

/** Two recorded times are the same time when they differ by at most this, relative. */
export const RELATIVE_T_TOL = 1e-12;

/**
 * Two runs share a start when every shared column at t = 0 agrees to this fraction of the
 * column's scale. Different descriptions of one state (Level F weights, their Gram lift, Level T
 * orbits) give the same observables to about 1e-15; two draws of a random start differ by O(1).
 */
export const START_TOL = 1e-8;

/** Relative deviations at which a pair's first departure time is reported. */
export const DEPARTURE_THRESHOLDS: readonly number[] = [1e-9, 1e-6, 1e-3, 1e-2, 1e-1];

/**
 * Families of columns measured on one scale, by name pattern, with a floor for the scale
 * (0: none). A column in no family is its own family. Order matters: the first match wins.
 */
export const FAMILIES: ReadonlyArray<{ name: string; pattern: RegExp; floor: number }> = [
  { name: 'loss', pattern: /^(loss|loss_I\d|test_loss)$/, floor: 0 },
  { name: 'G and outputs', pattern: /^(G[123]|Gfiller_max|fillerF_I\d|minMargin|margin_I\d|maxAbsF)$/, floor: 0 },
  { name: 'dG/dt', pattern: /^dG[123]$/, floor: 0 },
  { name: 'g sums', pattern: /^sumg_I\d$/, floor: 0 },
  { name: 'scores', pattern: /^(score_k\d_q\d|move_S_\w+)$/, floor: 0 },
  { name: 'value correlations', pattern: /^C\d\d$/, floor: 0 },
  { name: 'ratios', pattern: /^(balance44|R45|lemma43_max|lemma43_sum|test_error)$/, floor: 1 },
  { name: 'attention', pattern: /^attn_dev_\w+$/, floor: 1 },
];

/** The family of a column: its FAMILIES entry's name, or the column itself. */
export function familyOf(column: string): { name: string; floor: number } {
  const f = FAMILIES.find((x) => x.pattern.test(column));
  return f ? { name: f.name, floor: f.floor } : { name: column, floor: 0 };
}

/** Settings that must be equal for two runs to describe the same training problem. */
const SHAPE_KEYS = ['n', 'L', 'd', 'm', 'm1'] as const;

export interface Alignment {
  on: 'step' | 't';
  /** row indices into run a and run b, in time order */
  ia: Int32Array;
  ib: Int32Array;
}

export interface PairResult {
  a: number;
  b: number;
  alignment: Alignment;
  /** the aligned times (run a's t) and, when aligned on steps, the steps */
  t: Float64Array;
  step?: Float64Array;
  /** per column: x_b - x_a at each aligned row */
  diff: Map<string, Float64Array>;
  /** per column: its family's scale (the denominator of max_rel) */
  scale: Map<string, number>;
  maxAbs: Map<string, number>;
  maxRel: Map<string, number>;
  /** per aligned row: max over the compared columns of |x_b - x_a| / scale */
  rowMaxRel: Float64Array;
  /** per family (FAMILIES' names, in first-column order): max over its columns of the relative deviation at each row */
  familyRowMaxRel: Map<string, Float64Array>;
  /** max of rowMaxRel */
  maxRelAll: number;
  /** the column where maxRelAll is reached */
  worstColumn: string;
  /** threshold -> first aligned time at which rowMaxRel exceeds it (null: never) */
  departure: Map<number, number | null>;
}

export interface Comparison {
  runs: CompareRun[];
  /** the columns compared (shared by every run, EXCLUDED_COLUMNS left out), in run 0's order */
  columns: string[];
  pairs: PairResult[];
}

function name(run: CompareRun, i: number): string {
  return `run ${i} (${run.dir})`;
}

/** Refuses runs that do not share a training problem and a starting state. */
export function checkSameStart(runs: CompareRun[], columns: string[]): void {
  const r0 = runs[0];
  for (let i = 1; i < runs.length; i++) {
    const r = runs[i];
    for (const key of SHAPE_KEYS) {
      if (r.settings[key] !== r0.settings[key]) {
        throw new UsageError(
          `compare: ${name(r, i)} has ${key} = ${String(r.settings[key])}, ${name(r0, 0)} has ${key} = ${String(r0.settings[key])}: runs that do not share a start cannot be compared; compare runs of the same settings and seed`,
        );
      }
    }
    const same = (x: ArrayLike<number>, y: ArrayLike<number>) => x.length === y.length && Array.prototype.every.call(x, (v: number, j: number) => v === y[j]);
    if (!same(r.data.tokens, r0.data.tokens) || !same(r.data.y, r0.data.y)) {
      throw new UsageError(
        `compare: ${name(r, i)} was trained on another data set than ${name(r0, 0)} (data.npz differs): runs that do not share a start cannot be compared; use the same --seed or --data`,
      );
    }
    const familyScale = new Map<string, number>();
    for (const c of columns) {
      const f = familyOf(c);
      familyScale.set(f.name, Math.max(familyScale.get(f.name) ?? f.floor, maxAbs(r0.columns.get(c)!), maxAbs(r.columns.get(c)!)));
    }
    for (const c of columns) {
      const x = r0.columns.get(c)!;
      const y = r.columns.get(c)!;
      const scale = familyScale.get(familyOf(c).name)!;
      const dev = Math.abs(y[0] - x[0]);
      // a quantity undefined in both (0/0 at the start) agrees
      if (Number.isNaN(x[0]) && Number.isNaN(y[0])) continue;
      if (!(dev <= START_TOL * scale)) {
        throw new UsageError(
          `compare: ${name(r, i)} and ${name(r0, 0)} do not share a start: at t = 0, ${c} is ${y[0]} vs ${x[0]} (more than ${START_TOL} of its scale ${scale}); compare runs from the same initial state (same --seed, --init and scales)`,
        );
      }
    }
  }
}

function maxAbs(x: Float64Array): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) if (Math.abs(x[i]) > m) m = Math.abs(x[i]);
  return m;
}

/**
 * Rows of a and b at common recorded times: by step index when both are GD runs (both have a
 * `step` column), otherwise by t. Both time columns are non-decreasing (checked when read), so
 * a merge finds every common time; of repeated times the first row is used.
 */
export function alignRows(a: CompareRun, b: CompareRun): Alignment {
  const sa = a.columns.get('step');
  const sb = b.columns.get('step');
  const on = sa && sb ? 'step' : 't';
  const xa = on === 'step' ? sa! : a.columns.get('t')!;
  const xb = on === 'step' ? sb! : b.columns.get('t')!;
  const ia: number[] = [];
  const ib: number[] = [];
  let i = 0;
  let j = 0;
  while (i < xa.length && j < xb.length) {
    const u = xa[i];
    const v = xb[j];
    const tol = on === 'step' ? 0 : RELATIVE_T_TOL * Math.max(Math.abs(u), Math.abs(v));
    if (Math.abs(u - v) <= tol) {
      ia.push(i);
      ib.push(j);
      // skip repeats of this time in either run
      while (i < xa.length && xa[i] === u) i++;
      while (j < xb.length && xb[j] === v) j++;
    } else if (u < v) i++;
    else j++;
  }
  return { on, ia: Int32Array.from(ia), ib: Int32Array.from(ib) };
}

/** The deviations of every compared column of b from a, on their common times. */
export function comparePair(runs: CompareRun[], a: number, b: number, columns: string[]): PairResult {
  const ra = runs[a];
  const rb = runs[b];
  const alignment = alignRows(ra, rb);
  const k = alignment.ia.length;
  if (k < 2) {
    const how = alignment.on === 'step' ? 'the same --steps and --samples' : 'the same --t-end and --samples (flows), or --lr, --steps and --samples (GD)';
    throw new UsageError(
      `compare: ${name(rb, b)} and ${name(ra, a)} share no recorded ${alignment.on === 'step' ? 'step' : 'time'} after t = 0, so nothing can be compared; record them at common times: give them ${how}`,
    );
  }
  const ta = ra.columns.get('t')!;
  const t = Float64Array.from(alignment.ia, (i) => ta[i]);
  const step = alignment.on === 'step' ? Float64Array.from(alignment.ia, (i) => ra.columns.get('step')![i]) : undefined;
  const diff = new Map<string, Float64Array>();
  const scale = new Map<string, number>();
  const maxAbsDev = new Map<string, number>();
  const maxRel = new Map<string, number>();
  const rowMaxRel = new Float64Array(k);
  let maxRelAll = 0;
  let worstColumn = columns[0] ?? '';
  const familyScale = new Map<string, number>();
  for (const c of columns) {
    const xa = ra.columns.get(c)!;
    const xb = rb.columns.get(c)!;
    const f = familyOf(c);
    let sc = familyScale.get(f.name) ?? f.floor;
    for (let r = 0; r < k; r++) sc = Math.max(sc, Math.abs(xa[alignment.ia[r]]), Math.abs(xb[alignment.ib[r]]));
    familyScale.set(f.name, sc);
  }
  const familyRowMaxRel = new Map<string, Float64Array>();
  for (const c of columns) {
    const xa = ra.columns.get(c)!;
    const xb = rb.columns.get(c)!;
    const d = new Float64Array(k);
    const fam = familyOf(c).name;
    const sc = familyScale.get(fam)!;
    if (!familyRowMaxRel.has(fam)) familyRowMaxRel.set(fam, new Float64Array(k));
    const famRow = familyRowMaxRel.get(fam)!;
    let mAbs = 0;
    let mRel = 0;
    for (let r = 0; r < k; r++) {
      const u = xa[alignment.ia[r]];
      const v = xb[alignment.ib[r]];
      // equal values (also equal infinities, and NaN in both: undefined in both) deviate by 0;
      // anything else non-finite is an infinite deviation
      const dev = u === v || (Number.isNaN(u) && Number.isNaN(v)) ? 0 : v - u;
      d[r] = dev;
      const ad = Number.isNaN(dev) ? Infinity : Math.abs(dev);
      const rel = ad === 0 ? 0 : sc > 0 && Number.isFinite(sc) ? ad / sc : Infinity;
      if (ad > mAbs) mAbs = ad;
      if (rel > mRel) mRel = rel;
      if (rel > rowMaxRel[r]) rowMaxRel[r] = rel;
      if (rel > famRow[r]) famRow[r] = rel;
    }
    diff.set(c, d);
    scale.set(c, sc);
    maxAbsDev.set(c, mAbs);
    maxRel.set(c, mRel);
    if (mRel > maxRelAll) {
      maxRelAll = mRel;
      worstColumn = c;
    }
  }
  return {
    a,
    b,
    alignment,
    t,
    step,
    diff,
    scale,
    maxAbs: maxAbsDev,
    maxRel,
    rowMaxRel,
    familyRowMaxRel,
    maxRelAll,
    worstColumn,
    departure: departureTimes(t, rowMaxRel),
  };
}

/** threshold -> the first time at which `rel` exceeds it (null: never). */
export function departureTimes(t: Float64Array, rel: Float64Array): Map<number, number | null> {
  const departure = new Map<number, number | null>();
  for (const thr of DEPARTURE_THRESHOLDS) {
    let at: number | null = null;
    for (let r = 0; r < rel.length; r++) {
      if (rel[r] > thr) {
        at = t[r];
        break;
      }
    }
    departure.set(thr, at);
  }
  return departure;
}

/** Compares every pair of runs (a < b) on the columns they all record. */
export function compareRuns(runs: CompareRun[]): Comparison {
  if (runs.length < 2) throw new UsageError('compare: give at least two run directories (coflow compare RUN_A RUN_B [RUN_C ...] --out DIR)');
  const columns = runs[0].columnNames.filter((c) => !EXCLUDED_COLUMNS.includes(c) && runs.every((r) => r.columns.has(c)));
  if (columns.length === 0) throw new UsageError('compare: the runs share no trajectory column to compare');
  checkSameStart(runs, columns);
  const pairs: PairResult[] = [];
  for (let a = 0; a < runs.length; a++) for (let b = a + 1; b < runs.length; b++) pairs.push(comparePair(runs, a, b, columns));
  return { runs, columns, pairs };
}

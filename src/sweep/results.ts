/**
 * One row of a sweep's results per grid point, read back from the point's run directory (and its
 * reference's) after the runs: nothing here depends on which worker ran a run or when, so the
 * same spec gives the same bytes for any --workers and any sharding. docs/sweeps.md lists every
 * column.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RESOLVED_KEYS, ResolvedSettings } from '../config/resolve.js';
import { parseTrajectoryCsv } from '../claims/runDir.js';
import type { PlannedPoint, SweepPlan } from './spec.js';
import { specName } from './spec.js';

/** The statuses of a run that has ended (src/run/run.ts RunStatus without 'interrupted'). */
export const FINAL_STATUSES = ['success', 'non-finite', 'step-too-small', 'max-steps'];

/** Observables reported at T1 (summary.json's allCorrectRow) and, prefixed end_, at the last row. */
export const OBSERVABLES = ['loss', 'G1', 'G2', 'G3', 'minMargin', 'balance44', 'R45', 'C12', 'score_k1_q2', 'score_k2_q1', 'score_k3_q1', 'score_k3_q2', 's'] as const;

export const SETTING_COLUMNS = RESOLVED_KEYS.map(specName);

export type Cell = number | string | null;
export type Row = Record<string, Cell>;

/** The columns of results.csv, in order (the reference's only when the spec names one). */
export function resultColumns(withReference: boolean): string[] {
  return [
    'index',
    'name',
    ...SETTING_COLUMNS,
    'status',
    'error',
    't_final',
    'nfev',
    'T1',
    'T1_m',
    'final_loss',
    ...OBSERVABLES,
    ...OBSERVABLES.map((c) => `end_${c}`),
    'C12_thm33',
    'n_pass',
    'n_fail',
    'n_outside',
    'n_not_evaluable',
    ...(withReference ? ['ref_name', 'ref_status', 'ref_T1', 'gap'] : []),
  ];
}

interface SummaryJson {
  status: string;
  t: number;
  stats?: { nfev?: number };
  events: { name: string; t: number }[];
  allCorrectRow?: Record<string, number | null>;
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** What a finished run directory holds that the results need. */
export interface RunRead {
  summary: SummaryJson;
  columns: Map<string, Float64Array>;
  rows: number;
}

export function readRun(dir: string): RunRead {
  const summary = readJson<SummaryJson>(join(dir, 'summary.json'));
  const traj = join(dir, 'trajectory.csv');
  const { columns, rows } = parseTrajectoryCsv(readFileSync(traj, 'utf8'), traj);
  return { summary, columns, rows };
}

/** T1: the time of the first all-correct event (Thm 3.1), or null if the run never classified every sample. */
export function t1Of(summary: SummaryJson): number | null {
  const e = summary.events.find((x) => x.name === 'all-correct');
  return e ? e.t : null;
}

function num(x: number | null | undefined): number | null {
  return x === undefined || x === null ? null : x;
}

/**
 * The gap between a run and its reference: max over the recorded times both trajectories hold
 * (the same t, exactly) of max_i |G_i - G_i^ref|, i = 1..3. Null without a common time, or when a
 * difference is not finite.
 */
export function gapOf(run: RunRead, ref: RunRead): number | null {
  const tRef = ref.columns.get('t')!;
  const at = new Map<number, number>();
  for (let r = 0; r < ref.rows; r++) if (!at.has(tRef[r])) at.set(tRef[r], r);
  const t = run.columns.get('t')!;
  const G = ['G1', 'G2', 'G3'].map((c) => run.columns.get(c)!);
  const Gr = ['G1', 'G2', 'G3'].map((c) => ref.columns.get(c)!);
  let gap = -Infinity;
  let common = 0;
  for (let r = 0; r < run.rows; r++) {
    const j = at.get(t[r]);
    if (j === undefined) continue;
    common++;
    for (let i = 0; i < 3; i++) {
      const d = Math.abs(G[i][r] - Gr[i][j]);
      if (!Number.isFinite(d)) return null;
      if (d > gap) gap = d;
    }
  }
  return common > 0 ? gap : null;
}

function settingsCells(s: ResolvedSettings): Row {
  const row: Row = {};
  for (const k of RESOLVED_KEYS) row[specName(k)] = s[k] as Cell;
  return row;
}

/** Counts of the claims check's verdicts (claims.json of the run directory). */
export function verdictCounts(dir: string): { n_pass: number; n_fail: number; n_outside: number; n_not_evaluable: number } {
  const claims = readJson<{ claims: { verdict: string }[] }>(join(dir, 'claims.json')).claims;
  const count = (v: string) => claims.filter((c) => c.verdict === v).length;
  return { n_pass: count('PASS'), n_fail: count('FAIL'), n_outside: count('OUTSIDE-HYPOTHESES'), n_not_evaluable: count('NOT-EVALUABLE') };
}

/** The row of a point whose run threw: its settings and the error, nothing measured. */
export function errorRow(p: PlannedPoint, withReference: boolean, error: string): Row {
  const row: Row = {};
  for (const c of resultColumns(withReference)) row[c] = null;
  return { ...row, index: p.index, name: p.name, ...settingsCells(p.settings), status: 'error', error, ...(withReference ? { ref_name: p.ref ?? null } : {}) };
}

/** The row of a point whose run ended (any final status), read from its directory and its reference's. */
export function resultRow(p: PlannedPoint, plan: SweepPlan, refReads: Map<string, RunRead | null>): Row {
  const withReference = plan.spec.reference !== undefined;
  const run = readRun(p.out);
  const s = run.summary;
  const last = run.rows - 1;
  const col = (c: string, r: number) => {
    const v = run.columns.get(c)?.[r];
    return v === undefined || !Number.isFinite(v) ? null : v;
  };
  const T1 = t1Of(s);
  const at = s.allCorrectRow;
  const row: Row = {
    index: p.index,
    name: p.name,
    ...settingsCells(p.settings),
    status: s.status,
    error: null,
    t_final: s.t,
    nfev: num(s.stats?.nfev),
    T1,
    T1_m: T1 === null ? null : T1 * p.settings.m,
    final_loss: col('loss', last),
  };
  for (const c of OBSERVABLES) row[c] = at ? num(at[c]) : null;
  for (const c of OBSERVABLES) row[`end_${c}`] = col(c, last);
  // Thm 3.3's C_12 = mu_1^T (W_K^T W_Q(T) - W_K^T W_Q(0)) mu_2: the key-mu_1, query-mu_2 score's change.
  const s12end = col('score_k1_q2', last);
  const s12start = col('score_k1_q2', 0);
  row.C12_thm33 = s12end === null || s12start === null ? null : s12end - s12start;
  Object.assign(row, verdictCounts(p.out));
  if (withReference) {
    const ref = p.ref !== undefined ? refReads.get(p.ref) ?? null : null;
    row.ref_name = p.ref ?? null;
    row.ref_status = ref ? ref.summary.status : null;
    row.ref_T1 = ref ? t1Of(ref.summary) : null;
    row.gap = ref ? gapOf(run, ref) : null;
  }
  return row;
}

/** Reads a reference run (null if it is missing or unreadable, e.g. it threw). */
export function readRef(dir: string): RunRead | null {
  if (!existsSync(join(dir, 'summary.json'))) return null;
  try {
    return readRun(dir);
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------- formats

function csvCell(v: Cell): string {
  if (v === null) return '';
  const text = typeof v === 'number' ? String(v) : v;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(columns: readonly string[], rows: readonly Row[]): string {
  const lines = [columns.map(csvCell).join(',')];
  for (const r of rows) lines.push(columns.map((c) => csvCell(r[c] ?? null)).join(','));
  return lines.join('\n') + '\n';
}

/** One JSON object per line, keys in column order; numbers as JSON writes them (shortest round trip). */
export function toJsonl(columns: readonly string[], rows: readonly Row[]): string {
  return rows.map((r) => JSON.stringify(Object.fromEntries(columns.map((c) => [c, r[c] ?? null])))).join('\n') + (rows.length > 0 ? '\n' : '');
}

/**
 * `coflow sweep`: runs every point of a parameter grid as an ordinary run directory (the code of
 * `coflow run` and `coflow check`, in piscina worker threads), then writes one results table, the
 * power-law fits in m and their figures. Reruns skip finished runs; `--shard i/n` runs a part of
 * the grid and `--merge` combines the parts. docs/sweeps.md describes the files and columns.
 *
 * Every point is resolved and checked before anything is written (src/sweep/spec.ts), so a bad
 * spec exits 2 with nothing on disk. The results are read back from the run directories after
 * the runs, in grid order, so they are byte-identical for any --workers and any sharding.
 */
import { cpSync, existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import cliProgress from 'cli-progress';
import { UsageError } from '../errors.js';
import { makeDirectory, writeBytesAtomic } from '../io/atomic.js';
import { readSmallText } from '../io/smallText.js';
import { acquireRunLock } from '../run/lock.js';
import { RNG_ALGORITHM } from '../random/rng.js';
import { shown } from '../config/keys.js';
import { coflowVersion } from './version.js';
import { parseSpec, planSweep, PlannedPoint, PlannedRun, specFromCanonical, SweepPlan } from '../sweep/spec.js';
import { errorRow, FINAL_STATUSES, readRef, readRun, resultColumns, resultRow, Row, RunRead, toCsv, toJsonl } from '../sweep/results.js';
import { fitPowerLaw, FitPoint, PowerFit } from '../sweep/fit.js';
import type { SweepTask, SweepTaskResult } from '../sweep/worker.js';

/** A spec file is a few hundred bytes; anything above this is not one. */
const MAX_SPEC_BYTES = 1 << 20;

export interface Shard {
  index: number;
  count: number;
}

export interface SweepOptions {
  spec: string;
  out: string;
  workers?: number;
  shard?: Shard;
  quiet: boolean;
  noPlots: boolean;
}

/** "--shard i/n" with 0 <= i < n. */
export function parseShard(raw: string, name = '--shard'): Shard {
  const m = /^(0|[1-9][0-9]{0,5})\/([1-9][0-9]{0,5})$/.exec(raw);
  if (!m || Number(m[1]) >= Number(m[2])) throw new UsageError(`${name} must be i/n with integers 0 <= i < n, e.g. 0/3 (got '${shown(raw)}')`);
  return { index: Number(m[1]), count: Number(m[2]) };
}

function writeText(path: string, text: string): void {
  writeBytesAtomic(path, new TextEncoder().encode(text));
}

// ---------------------------------------------------------------- sweep.json

interface SweepJson {
  coflow: string;
  specHash: string;
  spec: unknown;
  shard: Shard | null;
  points: number;
}

function sweepJson(plan: SweepPlan, shard: Shard | null): string {
  const j: SweepJson = { coflow: coflowVersion(), specHash: plan.spec.hash, spec: plan.spec.canonical, shard, points: plan.points.length };
  return JSON.stringify(j, null, 2) + '\n';
}

function readSweepJson(dir: string): SweepJson | null {
  const path = join(dir, 'sweep.json');
  if (!existsSync(path)) return null;
  try {
    const j = JSON.parse(readFileSync(path, 'utf8')) as SweepJson;
    if (typeof j.specHash === 'string' && j.spec && typeof j.spec === 'object') return j;
  } catch {
    // reported below
  }
  throw new UsageError(`${path} is not a coflow sweep.json (unreadable or incomplete); restore it or choose another directory`);
}

const shardText = (s: Shard | null) => (s ? `shard ${s.index}/${s.count}` : 'the whole grid');

/** --out may hold an earlier sweep only of the same spec and shard (whose finished runs are then kept). */
function checkOutDir(out: string, plan: SweepPlan, shard: Shard | null): void {
  if (existsSync(out) && !statSync(out).isDirectory()) throw new UsageError(`--out ${out} exists and is not a directory; choose another path`);
  if (!existsSync(out)) return;
  const j = readSweepJson(out);
  if (j === null) {
    const entries = readdirSync(out);
    if (entries.some((e) => ['runs', 'refs', 'results.csv', 'results.jsonl'].includes(e))) {
      throw new UsageError(`--out ${out} holds sweep files but no sweep.json; choose another --out`);
    }
    return;
  }
  if (j.specHash !== plan.spec.hash) throw new UsageError(`--out ${out} holds a sweep of another spec (sweep.json's specHash differs); choose another --out`);
  const same = (j.shard === null && shard === null) || (j.shard !== null && shard !== null && j.shard.index === shard.index && j.shard.count === shard.count);
  if (!same) throw new UsageError(`--out ${out} holds ${shardText(j.shard)} of this spec, not ${shardText(shard)}; choose another --out`);
}

// ---------------------------------------------------------------- the state of a run directory

/** The config.json part that fixes a run: what runCommand writes for these settings (without the input hashes, which the settings determine). */
function expectedConfig(run: PlannedRun): string {
  const s = run.settings;
  return JSON.stringify({ coflow: coflowVersion(), rng: RNG_ALGORITHM, settings: s, data: { source: 'generated' }, params: { source: s.init } });
}

export type RunState = 'new' | 'redo' | 'check' | 'done';

/**
 * 'done': summary.json holds a final status, config.json equals what this run would write, and
 * (for grid points) claims.json and claims.md exist; 'check': only they (or one) are missing; 'redo': anything
 * else left in the directory (a killed, half-written run: it is run again from t = 0); 'new'.
 */
export function runState(run: PlannedRun, needsCheck: boolean): RunState {
  if (!existsSync(run.out)) return 'new';
  // Not a directory: the run is attempted, and coflow run's refusal becomes this run's error.
  if (!statSync(run.out).isDirectory()) return 'redo';
  const config = join(run.out, 'config.json');
  if (!existsSync(config)) return readdirSync(run.out).length === 0 ? 'new' : 'redo';
  try {
    const c = JSON.parse(readFileSync(config, 'utf8')) as Record<string, unknown>;
    if (JSON.stringify({ coflow: c.coflow, rng: c.rng, settings: c.settings, data: c.data, params: c.params }) !== expectedConfig(run)) return 'redo';
    const r = readRun(run.out);
    if (!FINAL_STATUSES.includes(r.summary.status)) return 'redo';
  } catch {
    return 'redo';
  }
  // both reports: a sweep killed between writing claims.json and claims.md left only the first
  if (needsCheck && !(existsSync(join(run.out, 'claims.json')) && existsSync(join(run.out, 'claims.md')))) return 'check';
  return 'done';
}

// ---------------------------------------------------------------- running

interface TaskRecord {
  kind: 'point' | 'ref';
  run: PlannedRun;
  index: number | null;
  state: RunState;
  action: 'ran' | 'redone' | 'checked' | 'skipped' | 'copied';
  worker: number | null;
  wallSeconds: number | null;
  error: string | null;
}

function progress(quiet: boolean, total: number, done: number) {
  if (quiet || !process.stderr.isTTY || total === 0) return null;
  const bar = new cliProgress.SingleBar(
    { format: 'sweep [{bar}] {value}/{total} runs | {failed} failed | ETA {eta_formatted}', stream: process.stderr, hideCursor: true, etaBuffer: 20 },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, done, { failed: 0 });
  return bar;
}

type Pool = import('piscina').Piscina<SweepTask, SweepTaskResult>;

/**
 * The worker threads, started before the spec is planned: each loads the run and check code as it
 * starts (src/sweep/worker.ts), in parallel with the planning here, instead of in its first task
 * (about 0.8 s per worker, measured; docs/performance.md).
 */
async function openPool(workers: number): Promise<Pool> {
  const { Piscina } = await import('piscina');
  return new Piscina<SweepTask, SweepTaskResult>({
    filename: fileURLToPath(new URL('../sweep/worker.js', import.meta.url)),
    minThreads: workers,
    maxThreads: workers,
    idleTimeout: 1000,
  });
}

async function runTasks(records: TaskRecord[], pool: Pool, workers: number, quiet: boolean): Promise<void> {
  const todo = records.filter((r) => r.state !== 'done');
  const bar = progress(quiet, records.length, records.length - todo.length);
  if (todo.length === 0) {
    bar?.stop();
    return;
  }
  const threads = Math.max(1, Math.min(workers, todo.length));
  let failed = 0;
  try {
    // `threads` lanes each take the next run in grid order, so runs start in grid order and at
    // most one task waits per worker (piscina's own queue does not keep the submission order).
    let next = 0;
    const lane = async () => {
      while (next < todo.length) {
        const r = todo[next++];
        try {
          const res = await pool.run({ out: r.run.out, settings: r.run.settings, run: r.state !== 'check', check: r.kind === 'point' });
          r.worker = res.worker;
          r.wallSeconds = res.wallSeconds;
        } catch (e) {
          r.error = ((e as Error)?.message ?? String(e)).replace(/\s*\n\s*/g, ' ');
          failed++;
        }
        bar?.increment(1, { failed });
      }
    };
    await Promise.all(Array.from({ length: threads }, lane));
  } finally {
    bar?.stop();
  }
}

// ---------------------------------------------------------------- outputs

const FITS = [
  { key: 'T1_vs_m', column: 'T1', title: 'T1 (first time every sample is classified correctly) against m', yLabel: 'T1' },
  { key: 'gap_vs_m', column: 'gap', title: 'gap to the reference run, max over t and i of |G_i - G_i^ref|, against m', yLabel: 'gap' },
  { key: 'C12_vs_m', column: 'C12_thm33', title: "Thm 3.3's C12 = score_k1_q2(end) - score_k1_q2(0) against m", yLabel: 'C12 (Thm 3.3)' },
] as const;

/** Grid keys other than m and seed split the rows into series, each fitted on its own. */
function seriesKeys(plan: SweepPlan): string[] {
  return Object.keys(plan.spec.canonical.grid).filter((k) => k !== 'm' && k !== 'seed');
}

interface FitEntry {
  fit: PowerFit;
  points: FitPoint[];
  where: Record<string, unknown>;
}

function fitsOf(plan: SweepPlan, rows: Row[]): Record<string, { column: string; entries: FitEntry[] }> {
  const keys = seriesKeys(plan);
  const groups = new Map<string, { where: Record<string, unknown>; rows: Row[] }>();
  for (const r of rows) {
    const where = Object.fromEntries(keys.map((k) => [k, r[k]]));
    const id = JSON.stringify(where);
    if (!groups.has(id)) groups.set(id, { where, rows: [] });
    groups.get(id)!.rows.push(r);
  }
  const out: Record<string, { column: string; entries: FitEntry[] }> = {};
  for (const f of FITS) {
    out[f.key] = {
      column: f.column,
      entries: [...groups.values()].map((g) => {
        const points = g.rows.map((r) => ({ seed: r.seed as number, m: r.m as number, y: typeof r[f.column] === 'number' ? (r[f.column] as number) : null }));
        return { fit: fitPowerLaw(points), points, where: g.where };
      }),
    };
  }
  return out;
}

function fitsJson(plan: SweepPlan, fits: ReturnType<typeof fitsOf>): string {
  const keys = seriesKeys(plan);
  const obj: Record<string, unknown> = {};
  for (const f of FITS) {
    const { column, entries } = fits[f.key];
    const describe = (e: FitEntry) => ({ y: column, x: 'm', ...e.fit });
    if (keys.length === 0) obj[f.key] = describe(entries[0]);
    else obj[f.key] = { by: keys, groups: entries.map((e) => ({ where: e.where, ...describe(e) })) };
  }
  return JSON.stringify(obj, null, 2) + '\n';
}

function figureName(key: string, where: Record<string, unknown>): string {
  const suffix = Object.entries(where).map(([k, v]) => `${k}=${String(v)}`).join(',');
  return `fit_${key}${suffix ? `__${suffix}` : ''}`;
}

const TIMING_COLUMNS = ['kind', 'name', 'index', 'action', 'worker', 'wall_seconds', 'run_wall_seconds', 'error'];

function runWallSeconds(dir: string): number | null {
  try {
    const w = (JSON.parse(readFileSync(join(dir, 'timing.json'), 'utf8')) as { wallSeconds?: number }).wallSeconds;
    return typeof w === 'number' ? w : null;
  } catch {
    return null;
  }
}

function timingCsv(records: TaskRecord[]): string {
  const sorted = [...records].sort((a, b) => (a.kind !== b.kind ? (a.kind === 'point' ? -1 : 1) : a.kind === 'point' ? a.index! - b.index! : a.run.name < b.run.name ? -1 : 1));
  const rows = sorted.map((r) => ({
    kind: r.kind,
    name: r.run.name,
    index: r.index,
    action: r.error ? 'failed' : r.action,
    worker: r.worker,
    wall_seconds: r.wallSeconds,
    run_wall_seconds: runWallSeconds(r.run.out),
    error: r.error,
  }));
  return toCsv(TIMING_COLUMNS, rows);
}

/** Writes results.csv, results.jsonl, timing.csv, fits.json and the fit figures; returns the fits for the summary. */
async function writeOutputs(out: string, plan: SweepPlan, points: PlannedPoint[], records: TaskRecord[], errors: Map<number, string>, noPlots: boolean) {
  const withReference = plan.spec.reference !== undefined;
  const refReads = new Map<string, RunRead | null>();
  for (const p of points) if (p.ref !== undefined && !refReads.has(p.ref)) refReads.set(p.ref, readRef(plan.refs.get(p.ref)!.out));
  const rows = [...points]
    .sort((a, b) => a.index - b.index)
    .map((p) => (errors.has(p.index) ? errorRow(p, withReference, errors.get(p.index)!) : resultRow(p, plan, refReads)));
  const columns = resultColumns(withReference);
  writeText(join(out, 'results.csv'), toCsv(columns, rows));
  writeText(join(out, 'results.jsonl'), toJsonl(columns, rows));
  writeText(join(out, 'timing.csv'), timingCsv(records));
  const fits = fitsOf(plan, rows);
  writeText(join(out, 'fits.json'), fitsJson(plan, fits));
  // Figures of an earlier invocation would describe other results (or none are wanted): remove them first.
  for (const f of readdirSync(out)) if (/^fit_.*\.(svg|png)$/.test(f)) rmSync(join(out, f), { force: true });
  if (!noPlots) {
    const { writeFitFigure } = await import('../sweep/plots.js');
    for (const f of FITS) {
      for (const e of fits[f.key].entries) {
        if (f.key === 'gap_vs_m' && !withReference) continue;
        const where = Object.entries(e.where).map(([k, v]) => `${k}=${String(v)}`).join(', ');
        await writeFitFigure(out, figureName(f.key, e.where), where ? `${f.title} (${where})` : f.title, f.yLabel, e.points, e.fit);
      }
    }
  }
  return { rows, fits };
}

function fitLine(name: string, f: PowerFit): string {
  if (f.exponent === null) return `${name}: no fit (${f.note})`;
  const ci = f.ci95 ? ` [95% ${f.ci95[0].toPrecision(4)}, ${f.ci95[1].toPrecision(4)}]` : '';
  return `${name}: exponent ${f.exponent.toPrecision(4)}${ci} (${f.method === 'per-seed' ? `${f.n} seeds` : `pooled OLS, ${f.points} points`}${f.leftOut.missing + f.leftOut.nonPositive > 0 ? `; left out ${f.leftOut.missing} missing, ${f.leftOut.nonPositive} non-positive` : ''})`;
}

function report(out: string, plan: SweepPlan, rows: Row[], fits: ReturnType<typeof fitsOf>, records: TaskRecord[], head: string): number {
  const count = (a: TaskRecord['action']) => records.filter((r) => !r.error && r.action === a).length;
  const failed = records.filter((r) => r.error);
  const early = rows.filter((r) => r.status !== 'success' && r.status !== 'error');
  const lines = [
    `${head}: ${rows.length} point${rows.length === 1 ? '' : 's'}${plan.refs.size > 0 ? ` and their references` : ''}; ${records.length} run directories: ` +
      `${count('ran')} ran, ${count('redone')} redone, ${count('checked')} checked, ${count('skipped')} skipped, ${count('copied')} copied, ${failed.length} failed`,
  ];
  if (early.length > 0) lines.push(`${early.length} run${early.length > 1 ? 's' : ''} stopped early (status ${[...new Set(early.map((r) => r.status))].join(', ')}; kept in the results)`);
  for (const f of FITS) {
    const { entries } = fits[f.key];
    if (f.key === 'gap_vs_m' && plan.spec.reference === undefined) continue;
    for (const e of entries) {
      const where = Object.entries(e.where).map(([k, v]) => `${k}=${String(v)}`).join(',');
      lines.push(fitLine(`${f.key}${where ? ` (${where})` : ''}`, e.fit));
    }
  }
  lines.push(`wrote ${join(out, 'results.csv')}, results.jsonl, fits.json, timing.csv`);
  process.stdout.write(lines.join('\n') + '\n');
  if (failed.length > 0) {
    process.stderr.write(`coflow sweep: ${failed.length} of ${records.length} runs failed (their error is in ${join(out, 'timing.csv')}${failed.some((r) => r.kind === 'point') ? ` and the error column of ${join(out, 'results.csv')}` : ''}); rerun the same command to retry them\n`);
    return 1;
  }
  return 0;
}

// ---------------------------------------------------------------- the commands

/** `coflow sweep --spec SPEC --out DIR [--workers K] [--shard i/n]`. Returns the exit code (1 if some run threw). */
export async function sweepCommand(o: SweepOptions): Promise<number> {
  const workers = o.workers ?? availableParallelism();
  const pool = await openPool(workers);
  try {
    return await sweepWith(o, pool, workers);
  } finally {
    await pool.destroy();
  }
}

async function sweepWith(o: SweepOptions, pool: Pool, workers: number): Promise<number> {
  const spec = parseSpec(o.spec, readSmallText(o.spec, `--spec ${shown(o.spec)}`, 'a sweep spec', MAX_SPEC_BYTES));
  const plan = await planSweep(spec, o.out);
  const shard = o.shard ?? null;
  checkOutDir(o.out, plan, shard);
  const points = shard ? plan.points.filter((p) => p.index % shard.count === shard.index) : plan.points;
  const refNames = [...new Set(points.filter((p) => p.ref !== undefined).map((p) => p.ref!))].sort();

  makeDirectory(o.out, '--out');
  const lock = acquireRunLock(o.out);
  try {
    writeText(join(o.out, 'sweep.json'), sweepJson(plan, shard));
    makeDirectory(join(o.out, 'runs'), '--out');
    if (refNames.length > 0) makeDirectory(join(o.out, 'refs'), '--out');
    const record = (kind: TaskRecord['kind'], run: PlannedRun, index: number | null): TaskRecord => {
      const state = runState(run, kind === 'point');
      const action = state === 'done' ? 'skipped' : state === 'check' ? 'checked' : state === 'redo' ? 'redone' : 'ran';
      return { kind, run, index, state, action, worker: null, wallSeconds: null, error: null };
    };
    const records = [...points.map((p) => record('point', p, p.index)), ...refNames.map((n) => record('ref', plan.refs.get(n)!, null))];
    await runTasks(records, pool, workers, o.quiet);
    const errors = new Map<number, string>();
    for (const r of records) if (r.kind === 'point' && r.error) errors.set(r.index!, r.error);
    const { rows, fits } = await writeOutputs(o.out, plan, points, records, errors, o.noPlots);
    return report(o.out, plan, rows, fits, records, `coflow sweep${shard ? ` (${shardText(shard)})` : ''}`);
  } finally {
    lock.release();
  }
}

interface ShardRead {
  dir: string;
  json: SweepJson;
  rows: { index: number; name: string; status: string; error: string | null }[];
}

function readShard(dir: string): ShardRead {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`--merge ${dir}: no such directory; give the --out directories of coflow sweep --shard runs`);
  const json = readSweepJson(dir);
  if (json === null) throw new UsageError(`--merge ${dir}: no sweep.json there; it is not a coflow sweep directory`);
  const path = join(dir, 'results.jsonl');
  if (!existsSync(path)) throw new UsageError(`--merge ${dir}: no results.jsonl (the sweep did not finish); run it again with the same command, then merge`);
  const rows = readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l, i) => {
      try {
        return JSON.parse(l) as ShardRead['rows'][number];
      } catch {
        throw new UsageError(`--merge ${path}: line ${i + 1} is not JSON; run that sweep again`);
      }
    });
  return { dir, json, rows };
}

/** Copies a finished run directory into the merged sweep (unless an identical finished one is there). */
function copyRun(src: PlannedRun, dst: PlannedRun, needsCheck: boolean): boolean {
  if (runState(dst, needsCheck) === 'done') return false;
  if (runState(src, needsCheck) !== 'done') throw new UsageError(`--merge: ${src.out} is not a finished run of this spec; run its shard again, then merge`);
  rmSync(dst.out, { recursive: true, force: true });
  const tmp = `${dst.out}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  cpSync(src.out, tmp, { recursive: true });
  renameSync(tmp, dst.out);
  return true;
}

/** `coflow sweep --merge DIR... --out DIR`: the shards' points into one sweep, as if run unsharded. */
export async function mergeCommand(dirs: string[], o: { out: string; quiet: boolean; noPlots: boolean }): Promise<number> {
  const shards = dirs.map(readShard);
  const first = shards[0];
  for (const s of shards.slice(1)) {
    if (s.json.specHash !== first.json.specHash) throw new UsageError(`--merge: ${s.dir} is a sweep of another spec than ${first.dir} (their sweep.json specHash differ); merge shards of one spec only`);
    if (s.json.coflow !== first.json.coflow) throw new UsageError(`--merge: ${s.dir} was written by coflow ${s.json.coflow}, ${first.dir} by ${first.json.coflow}; rerun one of them`);
  }
  const outAbs = resolve(o.out);
  const same = shards.find((s) => resolve(s.dir) === outAbs);
  if (same) throw new UsageError(`--out ${o.out} is one of the merged directories; choose a new directory for the merge`);
  const spec = specFromCanonical(join(first.dir, 'sweep.json'), first.json.spec);
  if (spec.hash !== first.json.specHash) throw new UsageError(`--merge: ${join(first.dir, 'sweep.json')} has been edited (its spec does not match its specHash); run the shard again`);
  const plan = await planSweep(spec, o.out);
  const source = new Map<number, ShardRead>();
  for (const s of shards) {
    for (const r of s.rows) {
      const p = plan.points[r.index];
      if (!p || p.name !== r.name) throw new UsageError(`--merge: ${s.dir}/results.jsonl has a row ${shown(String(r.name))} that is not point ${r.index} of the spec; run that shard again`);
      const other = source.get(r.index);
      if (other) throw new UsageError(`--merge: point ${p.name} is in both ${other.dir} and ${s.dir} (overlapping shards); merge each shard once`);
      source.set(r.index, s);
    }
  }
  const missing = plan.points.filter((p) => !source.has(p.index));
  if (missing.length > 0) {
    throw new UsageError(
      `--merge: ${missing.length} of ${plan.points.length} points are in none of the shards (${missing.slice(0, 4).map((p) => p.name).join('; ')}${missing.length > 4 ? '; ...' : ''}); add the missing shard directories`,
    );
  }
  checkOutDir(o.out, plan, null);

  makeDirectory(o.out, '--out');
  const lock = acquireRunLock(o.out);
  try {
    writeText(join(o.out, 'sweep.json'), sweepJson(plan, null));
    makeDirectory(join(o.out, 'runs'), '--out');
    if (plan.refs.size > 0) makeDirectory(join(o.out, 'refs'), '--out');
    const records: TaskRecord[] = [];
    const errors = new Map<number, string>();
    const copiedRefs = new Set<string>();
    for (const p of plan.points) {
      const s = source.get(p.index)!;
      const row = s.rows.find((r) => r.index === p.index)!;
      const at = (run: PlannedRun, sub: string): PlannedRun => ({ ...run, out: join(s.dir, sub, run.name) });
      if (row.status === 'error') {
        errors.set(p.index, row.error ?? 'failed');
        records.push({ kind: 'point', run: p, index: p.index, state: 'new', action: 'copied', worker: null, wallSeconds: null, error: row.error ?? 'failed' });
      } else {
        copyRun(at(p, 'runs'), p, true);
        records.push({ kind: 'point', run: p, index: p.index, state: 'done', action: 'copied', worker: null, wallSeconds: null, error: null });
      }
      if (p.ref !== undefined && !copiedRefs.has(p.ref)) {
        const ref = plan.refs.get(p.ref)!;
        copiedRefs.add(p.ref);
        // A reference may have run in several shards (each runs those its points need): take a finished one.
        const src = [s, ...shards].map((sh) => ({ ...ref, out: join(sh.dir, 'refs', ref.name) })).find((r) => runState(r, false) === 'done') ?? at(ref, 'refs');
        if (runState(src, false) === 'done' || runState(ref, false) === 'done') {
          copyRun(src, ref, false);
          records.push({ kind: 'ref', run: ref, index: null, state: 'done', action: 'copied', worker: null, wallSeconds: null, error: null });
        } else {
          records.push({ kind: 'ref', run: ref, index: null, state: 'new', action: 'copied', worker: null, wallSeconds: null, error: `${src.out} is not a finished run` });
        }
      }
    }
    const { rows, fits } = await writeOutputs(o.out, plan, plan.points, records, errors, o.noPlots);
    return report(o.out, plan, rows, fits, records, `coflow sweep --merge (${shards.length} directories)`);
  } finally {
    lock.release();
  }
}

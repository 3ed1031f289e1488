import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { ResolvedSettings } from '../config/resolve.js';
import { Dataset } from '../data/dataset.js';
import { generateDataset, generateTestSet } from '../data/generate.js';
import { UsageError } from '../errors.js';
import { writeBytesAtomic } from '../io/atomic.js';
import { readDatasetNpz, readParamsNpz, writeDatasetNpz } from '../io/files.js';
import { f8Array, i4Array } from '../io/npy.js';
import { writeNpz } from '../io/npz.js';
import { Params } from '../model/params.js';
import { RNG_ALGORITHM } from '../random/rng.js';
import { hasCheckpoint, readCheckpoint, removeCheckpoint, writeCheckpoint } from '../run/checkpoint.js';
import { buildStart, RunStart } from '../run/levels.js';
import { RunOutcome, flowGrid, runDynamics } from '../run/run.js';
import { logStepIndices } from '../ode/grid.js';
import { checkCompatible } from './files.js';
import { coflowVersion } from './version.js';

export interface RunCommandOptions {
  out: string;
  paramsPath?: string;
  dataPath?: string;
  quiet: boolean;
  /** wall seconds between checkpoints */
  checkpointSeconds: number;
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function writeText(path: string, text: string): void {
  writeBytesAtomic(path, new TextEncoder().encode(text));
}

/** The configuration that fully determines a run (no timestamps: identical runs, identical bytes). */
function configJson(s: ResolvedSettings, o: RunCommandOptions): string {
  const config = {
    coflow: coflowVersion(),
    rng: RNG_ALGORITHM,
    settings: s,
    data: o.dataPath ? { source: 'file', path: o.dataPath, sha256: sha256(o.dataPath) } : { source: 'generated' },
    params: o.paramsPath ? { source: 'file', path: o.paramsPath, sha256: sha256(o.paramsPath) } : { source: s.init },
  };
  return JSON.stringify(config, null, 2) + '\n';
}

/** Reads and checks the optional input files; the settings then take n, L, d from the data. */
function loadInputs(s: ResolvedSettings, o: RunCommandOptions): { s: ResolvedSettings; data: Dataset; params?: Params; test?: Dataset } {
  let data: Dataset;
  let settings = s;
  const params = o.paramsPath ? readParamsNpz(o.paramsPath) : undefined;
  if (o.dataPath) {
    const file = readDatasetNpz(o.dataPath);
    const d = params ? params.d : file.d;
    if (params) checkCompatible(params, file, o.paramsPath!, o.dataPath);
    data = { ...file, d };
    settings = { ...settings, n: data.n, L: data.L, d };
  } else {
    const d = params ? params.d : s.d;
    data = generateDataset({ n: s.n, L: s.L, d, seed: s.seed, fillers: s.fillers });
    settings = { ...settings, d };
  }
  if (params) settings = { ...settings, m: params.m, m1: params.m1 };
  return { s: settings, data, params, test: testSetOf(settings, data) };
}

/** The held-out set of `--test-n`: drawn from the data distribution with its own seed stream. */
function testSetOf(s: ResolvedSettings, data: Dataset): Dataset | undefined {
  const testN = s.testN ?? 0;
  return testN > 0 ? generateTestSet({ n: testN, L: data.L, d: data.d, seed: s.seed }) : undefined;
}

function progressBar(quiet: boolean, label: string) {
  if (quiet || !process.stderr.isTTY) return null;
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | ETA {eta_formatted} | loss {loss}`,
      stream: process.stderr,
      hideCursor: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(1000, 0, { loss: '-' });
  let last = 0;
  return {
    update(fraction: number, loss: number) {
      const now = performance.now();
      if (now - last < 200 && fraction < 1) return;
      last = now;
      bar.update(Math.round(fraction * 1000), Number.isNaN(loss) ? {} : { loss: loss.toPrecision(4) });
    },
    stop() {
      bar.stop();
    },
  };
}

/**
 * `coflow run`: everything is checked and built before the output directory is touched, so bad
 * input leaves nothing behind. Outputs (all written atomically): config.json, data.npz,
 * trajectory.csv, final.npz, summary.json; during the run, checkpoint.{npz,json} every
 * `checkpointSeconds`, removed when the run ends (kept if it was interrupted).
 */
export async function runCommand(settings: ResolvedSettings, o: RunCommandOptions): Promise<RunOutcome> {
  const { s, data, params, test } = loadInputs(settings, o);
  const rowCount = recordedRowCount(s);
  if (s.snapshots > rowCount - 1) {
    throw new UsageError(`--snapshots ${s.snapshots} is more than the ${rowCount - 1} rows this run records after t = 0; use --snapshots <= ${rowCount - 1} or raise --samples`);
  }
  const start = await buildStart(s, data, params, test);
  if (existsSync(o.out) && !statSync(o.out).isDirectory()) throw new UsageError(`--out ${o.out} exists and is not a directory; choose another path`);
  mkdirSync(o.out, { recursive: true });
  writeText(join(o.out, 'config.json'), configJson(s, o));
  writeDatasetNpz(join(o.out, 'data.npz'), data);
  if (test) writeDatasetNpz(join(o.out, 'test.npz'), test);
  writeState(join(o.out, 'initial.npz'), start.dynamics, start.y0, 0, s.method === 'gd' ? 0 : undefined);
  removeCheckpoint(o.out);
  return execute(s, start, o, undefined);
}

/** `coflow run --resume DIR`: continues from DIR's last checkpoint with DIR's config.json. */
export async function resumeCommand(dir: string, quiet: boolean, checkpointSeconds: number): Promise<RunOutcome> {
  const configPath = join(dir, 'config.json');
  if (!existsSync(configPath)) throw new UsageError(`--resume ${dir}: no config.json there; give the directory of an earlier run`);
  if (!hasCheckpoint(dir)) throw new UsageError(`--resume ${dir}: no checkpoint there (the run finished, or never wrote one)`);
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as { settings: ResolvedSettings; params: { source: string; path?: string } };
  const s = config.settings;
  const data = readDatasetNpz(join(dir, 'data.npz'));
  const params = config.params.source === 'file' && config.params.path ? readParamsNpz(config.params.path) : undefined;
  const start = await buildStart(s, { ...data, d: s.d }, params, testSetOf(s, { ...data, d: s.d }));
  const from = readCheckpoint(dir);
  if (from.y.length !== start.dynamics.size) throw new UsageError(`--resume ${dir}: checkpoint state has ${from.y.length} entries, expected ${start.dynamics.size}`);
  return execute(s, start, { out: dir, quiet, checkpointSeconds }, from);
}

function execute(
  s: ResolvedSettings,
  start: RunStart,
  o: Pick<RunCommandOptions, 'out' | 'quiet' | 'checkpointSeconds'>,
  from: ReturnType<typeof readCheckpoint> | undefined,
): RunOutcome {
  const label = `${s.level}/${s.method}`;
  if (!o.quiet) process.stderr.write(`coflow run: ${start.description}; ${s.method === 'gd' ? `GD lr=${s.lr} steps=${s.steps}` : `${s.method} t_end=${s.tEnd} rtol=${s.rtol} atol=${s.atol}`}\n`);
  const bar = progressBar(o.quiet, label);
  let outcome: RunOutcome;
  try {
    outcome = runDynamics(
      start.dynamics,
      start.y0,
      { method: s.method, tEnd: s.tEnd, rtol: s.rtol, atol: s.atol, maxSteps: s.maxSteps, controller: s.controller, lr: s.lr, steps: s.steps, samples: s.samples },
      {
        onProgress: bar ? (f, loss) => bar.update(f, loss) : undefined,
        onRow: snapshotWriter(o.out, start.dynamics, s),
        onCheckpoint: (c) => writeCheckpoint(o.out, c),
        checkpointSeconds: o.checkpointSeconds,
      },
      from,
      start.probe,
    );
  } finally {
    bar?.stop();
  }
  writeOutputs(o.out, start.dynamics, outcome);
  if (outcome.status === 'interrupted') writeCheckpoint(o.out, outcome.checkpoint);
  else removeCheckpoint(o.out);
  const last = outcome.trajectory.rows[outcome.trajectory.rows.length - 1];
  process.stdout.write(
    `${outcome.status}: ${outcome.message}\n` +
      `final loss ${last ? last[outcome.trajectory.columns.indexOf('loss')] : NaN} at t = ${outcome.t}; ` +
      `${outcome.stats.nfev} gradient evaluations; ${outcome.wallSeconds.toFixed(2)} s; wrote ${o.out}\n`,
  );
  if (outcome.status !== 'success') process.exitCode = 3;
  return outcome;
}

/** A state as .npz: the level's named arrays, its time t and (GD) its step. */
function writeState(path: string, dyn: RunStart['dynamics'], y: Float64Array, t: number, step?: number): void {
  const arrays = dyn.finalArrays(y);
  const entries: Record<string, ReturnType<typeof f8Array>> = {};
  for (const [k, v] of Object.entries(arrays)) entries[k] = v.data instanceof Int32Array ? i4Array(v.data, v.shape) : f8Array(v.data, v.shape);
  entries.t = f8Array(Float64Array.of(t));
  if (step !== undefined) entries.step = i4Array(Int32Array.of(step));
  writeNpz(path, entries);
}

/**
 * The recorded rows whose state is also written (`--snapshots N`): N of the log-spaced rows after
 * t = 0, evenly spread in row index (so log-spaced in time), the last row included.
 */
export function snapshotRows(samples: number, count: number): number[] {
  if (count <= 0) return [];
  if (count === 1) return [samples - 1];
  return Array.from({ length: count }, (_, j) => 1 + Math.round((j * (samples - 2)) / (count - 1)));
}

/** Number of rows a run records: the flow's time grid, or GD's distinct log-spaced iterates (fewer than --samples when small indices coincide). */
export function recordedRowCount(s: ResolvedSettings): number {
  return s.method === 'gd' ? logStepIndices(s.steps, s.samples).length : flowGrid(s).length;
}

function snapshotWriter(dir: string, dyn: RunStart['dynamics'], s: ResolvedSettings) {
  const rows = snapshotRows(recordedRowCount(s), s.snapshots ?? 0);
  if (rows.length === 0) return undefined;
  mkdirSync(join(dir, 'snapshots'), { recursive: true });
  return (index: number, t: number, step: number | null, y: Float64Array) => {
    const j = rows.indexOf(index);
    if (j >= 0) writeState(join(dir, 'snapshots', `snapshot_${String(j).padStart(3, '0')}.npz`), dyn, y, t, step ?? undefined);
  };
}

function writeOutputs(dir: string, dyn: RunStart['dynamics'], r: RunOutcome): void {
  writeText(join(dir, 'trajectory.csv'), r.trajectory.toCsv());
  writeState(join(dir, 'final.npz'), dyn, r.y, r.t, r.step);
  const columns = r.trajectory.columns;
  const asObject = (row: readonly number[] | undefined) => Object.fromEntries(columns.map((c, j) => [c, jsonNumber(row?.[j])]));
  const allCorrect = r.events.find((e) => e.name === 'all-correct' && e.row);
  const summary = {
    status: r.status,
    message: r.message,
    t: r.t,
    step: r.step,
    stats: r.stats,
    events: r.events.map(({ row, ...e }) => (void row, e)),
    ...(allCorrect ? { allCorrectRow: asObject(allCorrect.row) } : {}),
    final: asObject(r.trajectory.rows.at(-1)),
  };
  writeText(join(dir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  writeText(join(dir, 'timing.json'), JSON.stringify({ wallSeconds: r.wallSeconds }, null, 2) + '\n');
}

/** JSON has no NaN or infinity: they are written as null (trajectory.csv keeps nan / inf). */
function jsonNumber(x: number | undefined): number | null {
  return x !== undefined && Number.isFinite(x) ? x : null;
}

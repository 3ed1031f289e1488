import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { ResolvedSettings } from '../config/resolve.js';
import { Dataset } from '../data/dataset.js';
import { generateDataset } from '../data/generate.js';
import { UsageError } from '../errors.js';
import { writeBytesAtomic } from '../io/atomic.js';
import { readDatasetNpz, readParamsNpz, writeDatasetNpz } from '../io/files.js';
import { f8Array, i4Array } from '../io/npy.js';
import { writeNpz } from '../io/npz.js';
import { Params } from '../model/params.js';
import { RNG_ALGORITHM } from '../random/rng.js';
import { hasCheckpoint, readCheckpoint, removeCheckpoint, writeCheckpoint } from '../run/checkpoint.js';
import { buildStart, RunStart } from '../run/levels.js';
import { RunOutcome, runDynamics } from '../run/run.js';
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
function loadInputs(s: ResolvedSettings, o: RunCommandOptions): { s: ResolvedSettings; data: Dataset; params?: Params } {
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
  return { s: settings, data, params };
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
  const { s, data, params } = loadInputs(settings, o);
  const start = await buildStart(s, data, params);
  if (existsSync(o.out) && !statSync(o.out).isDirectory()) throw new UsageError(`--out ${o.out} exists and is not a directory; choose another path`);
  mkdirSync(o.out, { recursive: true });
  writeText(join(o.out, 'config.json'), configJson(s, o));
  writeDatasetNpz(join(o.out, 'data.npz'), data);
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
  const start = await buildStart(s, { ...data, d: s.d }, params);
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
        onCheckpoint: (c) => writeCheckpoint(o.out, c),
        checkpointSeconds: o.checkpointSeconds,
      },
      from,
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

function writeOutputs(dir: string, dyn: RunStart['dynamics'], r: RunOutcome): void {
  writeText(join(dir, 'trajectory.csv'), r.trajectory.toCsv());
  const arrays = dyn.finalArrays(r.y);
  const entries: Record<string, ReturnType<typeof f8Array>> = {};
  for (const [k, v] of Object.entries(arrays)) entries[k] = v.data instanceof Int32Array ? i4Array(v.data, v.shape) : f8Array(v.data, v.shape);
  entries.t = f8Array(Float64Array.of(r.t));
  writeNpz(join(dir, 'final.npz'), entries);
  const summary = {
    status: r.status,
    message: r.message,
    t: r.t,
    step: r.step,
    stats: r.stats,
    events: r.events,
    final: Object.fromEntries(r.trajectory.columns.map((c, j) => [c, r.trajectory.rows.at(-1)?.[j] ?? null])),
  };
  writeText(join(dir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  writeText(join(dir, 'timing.json'), JSON.stringify({ wallSeconds: r.wallSeconds }, null, 2) + '\n');
}

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { planRun, runShape, type Gathered } from '../config/gather.js';
import { checkRunLimits, DEFAULT_CHECKPOINT_SECONDS } from '../config/limits.js';
import { ResolvedSettings, resolveRunSettings } from '../config/resolve.js';
import { Dataset } from '../data/dataset.js';
import { generateDataset, generateTestSet } from '../data/generate.js';
import { UsageError } from '../errors.js';
import { makeDirectory, TEMP_PATTERN, writeBytesAtomic } from '../io/atomic.js';
import { readDatasetNpz, readParamsNpz, writeDatasetNpz } from '../io/files.js';
import { f8Array, i4Array } from '../io/npy.js';
import { writeNpz } from '../io/npz.js';
import { Params } from '../model/params.js';
import { RNG_ALGORITHM } from '../random/rng.js';
import { CHECKPOINT_JSON, hasCheckpoint, readCheckpoint, removeCheckpoint, writeCheckpoint } from '../run/checkpoint.js';
import { acquireRunLock } from '../run/lock.js';
import { observationColumns } from '../observe/derive.js';
import { buildStart, RunStart } from '../run/levels.js';
import { RunOutcome, flowGrid, runDynamicsAsync } from '../run/run.js';
import { logStepIndices } from '../ode/grid.js';
import { checkCompatible } from './files.js';
import { stateArrays } from './stateFiles.js';
import { coflowVersion } from './version.js';

export interface RunCommandOptions {
  out: string;
  paramsPath?: string;
  dataPath?: string;
  quiet: boolean;
  /** wall seconds between checkpoints */
  checkpointSeconds: number;
  /** replace the files of an earlier run in `out` (otherwise such a directory is refused) */
  force?: boolean;
  /** write no figures (DIR/figures) at the end (--no-plots) */
  noPlots?: boolean;
  /** print no summary line on stdout (a sweep prints its own summary of many runs) */
  silent?: boolean;
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function writeText(path: string, text: string): void {
  writeBytesAtomic(path, new TextEncoder().encode(text));
}

/** The configuration that fully determines a run (no timestamps: identical runs, identical bytes). */
function configJson(s: ResolvedSettings, o: RunCommandOptions, files: Record<string, string>): string {
  const config = {
    coflow: coflowVersion(),
    rng: RNG_ALGORITHM,
    settings: s,
    data: o.dataPath ? { source: 'file', path: o.dataPath, sha256: sha256(o.dataPath) } : { source: 'generated' },
    params: o.paramsPath ? { source: 'file', path: o.paramsPath, sha256: sha256(o.paramsPath) } : { source: s.init },
    // SHA-256 of the inputs written into the run directory: resume refuses changed files.
    files,
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
 * input leaves nothing behind. The directory is then locked (one run per directory, see
 * src/run/lock.ts); a directory holding an earlier run's files is refused unless `force`, which
 * removes them first. Outputs (all written atomically): data.npz, test.npz, initial.npz, then
 * config.json (naming the SHA-256 of each input), trajectory.csv, final.npz, summary.json,
 * timing.json; during the run checkpoint.json + checkpoint.<hash>.npz every `checkpointSeconds`,
 * removed when the run ends (kept if it was interrupted).
 */
export async function runCommand(settings: ResolvedSettings, o: RunCommandOptions): Promise<RunOutcome> {
  const { s, data, params, test } = loadInputs(settings, o);
  const rowCount = recordedRowCount(s);
  if (s.snapshots > rowCount - 1) {
    throw new UsageError(`--snapshots ${s.snapshots} is more than the ${rowCount - 1} rows this run records after t = 0; use --snapshots <= ${rowCount - 1} or raise --samples`);
  }
  const start = await buildStart(s, data, params, test);
  prepareOutDir(o.out);
  const lock = acquireRunLock(o.out);
  try {
    const previous = runFilesIn(o.out);
    if (previous.length > 0 && !o.force) {
      throw new UsageError(
        `--out ${o.out} holds another run's files (${previous.slice(0, 3).join(', ')}${previous.length > 3 ? ', ...' : ''}); continue it with coflow run --resume ${o.out}, replace it with --force, or choose another --out`,
      );
    }
    removeRunFiles(o.out);
    writeInputs(o.out, s, o, data, test, start);
    return await execute(s, start, o, undefined, configSha(o.out));
  } finally {
    lock.release();
  }
}

/**
 * `coflow run` from its gathered options (the flags and --config of the CLI, or the options of the
 * library's `run`): the settings checked against every rule (planRun) and limit (runShape,
 * checkRunLimits, before anything is allocated), then the run. `quiet`: no progress bar;
 * `silent`: no summary line.
 */
export async function runGathered(g: Gathered, io: { quiet: boolean; silent: boolean }): Promise<RunOutcome> {
  const { s, dataPath, paramsPath, out } = planRun(g);
  const shape = await runShape(s, dataPath, paramsPath);
  if (shape) checkRunLimits(shape);
  return runCommand(s, {
    out,
    paramsPath,
    dataPath,
    quiet: io.quiet,
    silent: io.silent,
    checkpointSeconds: (g.values.checkpointEvery as number | undefined) ?? DEFAULT_CHECKPOINT_SECONDS,
    force: g.values.force === true,
    noPlots: g.values.noPlots === true,
  });
}

/**
 * `coflow run --resume DIR`: continues from DIR's last checkpoint with DIR's config.json, after
 * checking that config.json, data.npz, test.npz and every input file it names are unchanged
 * (their SHA-256). A run killed before its first checkpoint starts again from t = 0 (the same
 * config gives the same run); a run that has ended has nothing to resume.
 */
export async function resumeCommand(dir: string, quiet: boolean, checkpointSeconds: number, noPlots = false): Promise<RunOutcome> {
  const configPath = join(dir, 'config.json');
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`--resume ${dir}: no such directory; give the --out directory of an earlier run`);
  if (!existsSync(configPath)) {
    throw new UsageError(
      runFilesIn(dir).length > 0
        ? `--resume ${dir}: no config.json there (the run was stopped before it had started); start it again with coflow run --force --out ${dir} ...`
        : `--resume ${dir}: no config.json there; give the directory of an earlier run`,
    );
  }
  const lock = acquireRunLock(dir);
  try {
    removeTempFiles(dir);
    const config = readRunConfig(configPath);
    const s = config.settings;
    const o: RunCommandOptions = { out: dir, quiet, checkpointSeconds, noPlots, dataPath: config.data.path, paramsPath: config.params.path };
    if (!hasCheckpoint(dir)) {
      const summary = join(dir, 'summary.json');
      if (existsSync(summary)) {
        throw new UsageError(`--resume ${dir}: the run has ended (see ${summary}) and left no checkpoint; nothing to resume (start a new run with --force to replace it)`);
      }
      // Killed before its first checkpoint: the same config run from t = 0 is the same run.
      verifyInput(config.params, '--params');
      verifyInput(config.data, '--data');
      const { data, params, test } = loadInputs(s, o);
      const start = await buildStart(s, data, params, test);
      if (!quiet) process.stderr.write(`coflow run: ${dir} has no checkpoint yet; running it from t = 0\n`);
      writeInputs(dir, s, o, data, test, start);
      return await execute(s, start, o, undefined, configSha(dir));
    }
    verifyInput(config.params, '--params');
    verifyFile(join(dir, 'data.npz'), config.files['data.npz']);
    if (config.files['test.npz'] !== undefined) verifyFile(join(dir, 'test.npz'), config.files['test.npz']);
    const data = readDatasetNpz(join(dir, 'data.npz'));
    const params = config.params.source === 'file' && config.params.path ? readParamsNpz(config.params.path) : undefined;
    const full = { ...data, d: s.d };
    const start = await buildStart(s, full, params, testSetOf(s, full));
    const sha = configSha(dir);
    const from = readCheckpoint(dir, {
      method: s.method,
      size: start.dynamics.size,
      columns: observationColumns(s.method === 'gd', start.probe.hasTest).length,
      maxRows: recordedRowCount(s),
      steps: s.steps,
      tEnd: s.tEnd,
      configSha256: sha,
    });
    return await execute(s, start, o, from, sha);
  } finally {
    lock.release();
  }
}

/** The parts of a run's config.json that resuming needs, checked. */
interface RunConfig {
  settings: ResolvedSettings;
  data: { source: string; path?: string; sha256?: string };
  params: { source: string; path?: string; sha256?: string };
  files: Record<string, string>;
}

function readRunConfig(path: string): RunConfig {
  let c: RunConfig;
  try {
    c = JSON.parse(readFileSync(path, 'utf8')) as RunConfig;
  } catch {
    throw new UsageError(`${path} is not valid JSON; restore the run's config.json or start the run afresh with --force`);
  }
  const ok =
    c !== null &&
    typeof c === 'object' &&
    c.settings !== null &&
    typeof c.settings === 'object' &&
    c.data !== null &&
    typeof c.data === 'object' &&
    c.params !== null &&
    typeof c.params === 'object' &&
    c.files !== null &&
    typeof c.files === 'object' &&
    typeof c.files['data.npz'] === 'string';
  if (!ok) throw new UsageError(`${path} lacks 'settings', 'data', 'params' or 'files' (data.npz); it was not written by this version of coflow run`);
  // The settings are checked as they were resolved (n, L, d from a --data file are not the
  // generator's); the checkpoint also binds config.json's hash.
  return { ...c, settings: resolveRunSettings(c.settings, {}, { dataFromFile: c.data.source === 'file' }) };
}

/** An input file named in config.json (--data, --params) must still have its recorded SHA-256. */
function verifyInput(input: RunConfig['data'], flag: string): void {
  if (input.source !== 'file') return;
  if (typeof input.path !== 'string' || typeof input.sha256 !== 'string') throw new UsageError(`config.json: the ${flag} input lacks 'path' or 'sha256'`);
  verifyFile(input.path, input.sha256, flag);
}

function verifyFile(path: string, expected: string | undefined, flag?: string): void {
  if (!existsSync(path)) throw new UsageError(`${path} is missing${flag ? ` (the run's ${flag} file)` : ''}; restore it to resume`);
  if (sha256(path) !== expected) {
    throw new UsageError(`${path} has changed since the run started (its SHA-256 differs from config.json's); restore the original${flag ? ` ${flag} file` : ''} to resume, or start a new run with --force`);
  }
}

function configSha(dir: string): string {
  return sha256(join(dir, 'config.json'));
}

/** --out must be a directory or a new path; created here (bad settings never reach this point). */
function prepareOutDir(out: string): void {
  if (existsSync(out) && !statSync(out).isDirectory()) throw new UsageError(`--out ${out} exists and is not a directory; choose another path`);
  makeDirectory(out, '--out');
}

/** The files a run writes into its directory; `force` removes exactly these (and no other file). */
const RUN_FILES = ['config.json', 'data.npz', 'test.npz', 'initial.npz', 'final.npz', 'trajectory.csv', 'summary.json', 'timing.json', 'claims.json', 'claims.md', CHECKPOINT_JSON];
const RUN_FILE_PATTERNS = [/^checkpoint\.[0-9a-f]{16}\.npz$/, TEMP_PATTERN];
const RUN_DIRS = ['snapshots', 'figures'];

function runFilesIn(dir: string): string[] {
  return readdirSync(dir).filter((f) => RUN_FILES.includes(f) || RUN_DIRS.includes(f) || RUN_FILE_PATTERNS.some((p) => p.test(f)));
}

function removeRunFiles(dir: string): void {
  for (const f of runFilesIn(dir)) rmSync(join(dir, f), { recursive: true, force: true });
}

/**
 * Temp files a killed writer left (`<name>.tmp-<pid>`) in a run directory; only called while
 * holding the directory's lock, or the lock of the sweep it belongs to.
 */
export function removeTempFiles(dir: string): void {
  for (const sub of [dir, join(dir, 'snapshots'), join(dir, 'figures')]) {
    if (!existsSync(sub)) continue;
    for (const f of readdirSync(sub)) if (TEMP_PATTERN.test(f)) rmSync(join(sub, f), { force: true });
  }
}

/** The run's inputs, then config.json naming their hashes (so config.json's presence means the inputs are complete). */
function writeInputs(dir: string, s: ResolvedSettings, o: RunCommandOptions, data: Dataset, test: Dataset | undefined, start: RunStart): void {
  writeDatasetNpz(join(dir, 'data.npz'), data);
  const files: Record<string, string> = { 'data.npz': sha256(join(dir, 'data.npz')) };
  if (test) {
    writeDatasetNpz(join(dir, 'test.npz'), test);
    files['test.npz'] = sha256(join(dir, 'test.npz'));
  }
  writeState(join(dir, 'initial.npz'), start.dynamics, start.y0, 0, s.method === 'gd' ? 0 : undefined);
  writeText(join(dir, 'config.json'), configJson(s, o, files));
}

const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

/**
 * SIGINT / SIGTERM during a run: the first one ends the run after the current step (the
 * checkpoint and the outputs so far are written, exit 130 / 143); a second SIGINT exits at
 * once. odex runs are cross-checks that are not checkpointed (docs/integrator.md), so for them
 * the signals keep their default action.
 */
function signalStop(method: ResolvedSettings['method']) {
  let received: string | null = null;
  const handlers: [string, () => void][] = [];
  if (method !== 'odex') {
    for (const sig of Object.keys(SIGNAL_EXIT)) {
      const h = () => {
        if (received !== null) {
          process.stderr.write(`\ncoflow run: second ${sig}: stopping at once (the last checkpoint is kept)\n`);
          process.exit(SIGNAL_EXIT[sig]);
        }
        received = sig;
        process.stderr.write(`\ncoflow run: ${sig} received: finishing the current step and writing a checkpoint (send it again to stop at once)\n`);
      };
      process.on(sig, h);
      handlers.push([sig, h]);
    }
  }
  return {
    get received() {
      return received;
    },
    dispose() {
      for (const [sig, h] of handlers) process.removeListener(sig, h);
    },
  };
}

/** The run of a start, then its dynamics' memory given back (Dynamics.release: a sweep's next run of the same size reuses it). */
async function execute(...args: Parameters<typeof executeRun>): Promise<RunOutcome> {
  try {
    return await executeRun(...args);
  } finally {
    args[1].dynamics.release?.();
  }
}

async function executeRun(
  s: ResolvedSettings,
  start: RunStart,
  o: Pick<RunCommandOptions, 'out' | 'quiet' | 'checkpointSeconds' | 'noPlots' | 'silent'>,
  from: ReturnType<typeof readCheckpoint> | undefined,
  configSha256: string,
): Promise<RunOutcome> {
  const label = `${s.level}/${s.method}`;
  if (!o.quiet) process.stderr.write(`coflow run: ${start.description}; ${s.method === 'gd' ? `GD lr=${s.lr} steps=${s.steps}` : `${s.method} t_end=${s.tEnd} rtol=${s.rtol} atol=${s.atol}`}\n`);
  const bar = progressBar(o.quiet, label);
  const signals = signalStop(s.method);
  // Seconds from the start of this process (in a sweep: of its worker thread; Node's clock
  // origin) to the first step: node start-up, module loading, data, the initial state and the
  // input files. Reported in timing.json; docs/performance.md.
  const startupSeconds = performance.now() / 1000;
  let outcome: RunOutcome;
  try {
    outcome = await runDynamicsAsync(
      start.dynamics,
      start.y0,
      { method: s.method, tEnd: s.tEnd, rtol: s.rtol, atol: s.atol, maxSteps: s.maxSteps, controller: s.controller, lr: s.lr, steps: s.steps, samples: s.samples },
      {
        onProgress: bar ? (f, loss) => bar.update(f, loss) : undefined,
        onRow: snapshotWriter(o.out, start.dynamics, s),
        onCheckpoint: s.method === 'odex' ? undefined : (c) => writeCheckpoint(o.out, c, configSha256),
        checkpointSeconds: o.checkpointSeconds,
        shouldStop: () => signals.received !== null,
      },
      from,
      start.probe,
    );
    // One turn of the event loop before writing: a second SIGINT sent during the last step is
    // handled here and exits at once, as documented, instead of after the writes.
    if (signals.received !== null) {
      // (a timer, then an immediate: past the poll phase, as in src/run/run.ts runDynamicsAsync)
      await new Promise<void>((resolve) => setTimeout(resolve, 0));
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    bar?.stop();
    signals.dispose();
  }
  const signal = signals.received;
  if (signal !== null && outcome.status === 'interrupted') {
    const where = s.method === 'gd' ? `iterate ${outcome.step}` : `t = ${outcome.t}`;
    outcome = { ...outcome, message: `stopped by ${signal} at ${where}; continue with coflow run --resume ${o.out}` };
  }
  writeOutputs(o.out, start.dynamics, outcome, startupSeconds);
  if (outcome.status === 'interrupted') writeCheckpoint(o.out, outcome.checkpoint, configSha256);
  else removeCheckpoint(o.out);
  // Figures from the files just written (as `coflow plot` draws them), also after an early stop
  // (exit 3, rows kept); none after a signal (the run is to be resumed).
  if (outcome.status !== 'interrupted' && !o.noPlots) await writeFiguresOf(o.out, o.quiet);
  removeTempFiles(o.out);
  const last = outcome.trajectory.rows[outcome.trajectory.rows.length - 1];
  if (!o.silent) process.stdout.write(
    `${outcome.status}: ${outcome.message}\n` +
      `final loss ${last ? last[outcome.trajectory.columns.indexOf('loss')] : NaN} at t = ${outcome.t}; ` +
      `${outcome.stats.nfev} gradient evaluations; ${outcome.wallSeconds.toFixed(2)} s; wrote ${o.out}\n`,
  );
  if (signal !== null && outcome.status === 'interrupted') {
    process.exitCode = SIGNAL_EXIT[signal];
  } else if (outcome.status !== 'success') process.exitCode = 3;
  return outcome;
}

/** DIR/figures; a run with nothing to draw (no row after t = 0) says so on stderr and keeps its exit code. */
async function writeFiguresOf(dir: string, quiet: boolean): Promise<void> {
  const { writeRunFigures, FIGURES_DIR } = await import('./plot.js');
  try {
    await writeRunFigures(dir, join(dir, FIGURES_DIR), '--out', 'run: figures of');
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`coflow run: no figures written: ${e.message}\n`);
    return;
  }
  if (!quiet) process.stderr.write(`coflow run: figures in ${join(dir, FIGURES_DIR)}\n`);
}

/** A state as .npz: the level's named arrays, its time t and (GD) its step. */
function writeState(path: string, dyn: RunStart['dynamics'], y: Float64Array, t: number, step?: number): void {
  const arrays = stateArrays(dyn, y);
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
  makeDirectory(join(dir, 'snapshots'), '--snapshots');
  return (index: number, t: number, step: number | null, y: Float64Array) => {
    const j = rows.indexOf(index);
    if (j >= 0) writeState(join(dir, 'snapshots', `snapshot_${String(j).padStart(3, '0')}.npz`), dyn, y, t, step ?? undefined);
  };
}

function writeOutputs(dir: string, dyn: RunStart['dynamics'], r: RunOutcome, startupSeconds: number): void {
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
  // peakRssBytes: the process's peak resident set so far (getrusage ru_maxrss, in KiB on Linux),
  // after the run and its final.npz.
  const timing = { wallSeconds: r.wallSeconds, startupSeconds, peakRssBytes: process.resourceUsage().maxRSS * 1024 };
  writeText(join(dir, 'timing.json'), JSON.stringify(timing, null, 2) + '\n');
}

/** JSON has no NaN or infinity: they are written as null (trajectory.csv keeps nan / inf). */
function jsonNumber(x: number | undefined): number | null {
  return x !== undefined && Number.isFinite(x) ? x : null;
}

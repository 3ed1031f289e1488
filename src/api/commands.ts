/**
 * The commands as library functions: run, check, compare, sweep and report take the options of
 * the command line (as a `--config` file gives them: the flags in camelCase) and run the same
 * code, with the same validation: every bad option is a UsageError whose one-line message names
 * the key and the fix, thrown before anything is written.
 */
import type { RunCheck } from '../claims/claims.js';
import { interpretConfig } from '../config/configFile.js';
import { gatherFrom } from '../config/gather.js';
import type { RunSettings } from '../config/presets.js';
import type { RunOutcome } from '../run/run.js';

/**
 * The options of `coflow run`: a preset's settings, any of them overridden, and where to write.
 * The keys and their rules are those of the flags and of a `--config` file (docs/options.md).
 */
export interface RunOptions extends Partial<RunSettings> {
  /** the output directory (required) */
  out: string;
  /** the preset whose settings are overridden (default 'paper-fig1'; `coflow presets` lists them) */
  preset?: string;
  /** start from the weights in this .npz file */
  params?: string;
  /** train on the data set in this .npz file */
  data?: string;
  /** replace an earlier run's files in `out` */
  force?: boolean;
  /** write no figures at the end */
  noPlots?: boolean;
  /** wall seconds between checkpoints (default 30) */
  checkpointEvery?: number;
}

/** How a run ended, and what it computed (everything is also in the run directory). */
export type RunResult = RunOutcome;

/** Options as a --config file of `command` would give them, validated by the same schema (ajv). */
function asConfig(command: 'run', options: object): ReturnType<typeof interpretConfig> {
  return interpretConfig(`${command} options`, command, JSON.stringify(options));
}

/**
 * Trains the model: `coflow run`, without the progress bar and the summary line. Writes into
 * `options.out` config.json, trajectory.csv, final.npz, summary.json, timing.json and the figures
 * (docs/files.md).
 *
 * @param options - the settings and the output directory, as `coflow run`'s flags in camelCase
 * @returns the status ('success', or why the run stopped early), the final time and state, the
 *   events, the solver statistics and the recorded trajectory
 * @example
 * ```ts
 * import { run } from 'coflow';
 * const r = await run({ preset: 'theory', level: 'type', init: 'mean', out: 'runs/T' });
 * console.log(r.status, r.t);
 * ```
 */
export async function run(options: RunOptions): Promise<RunResult> {
  const g = gatherFrom('run', {}, asConfig('run', options));
  const { runGathered } = await import('../app/run.js');
  return runGathered(g, { quiet: true, silent: true });
}

/** The claims check of a run: the hypotheses and every claim with its verdict (docs/claims.md). */
export type CheckResult = RunCheck;

/**
 * Checks the paper's claims on a run directory: `coflow check`. With `write`, also writes
 * claims.json and claims.md into the directory, as the command does.
 *
 * @param dir - a directory written by `run` or `coflow run`
 * @param options - `write`: also write claims.json and claims.md (default false)
 * @returns the hypotheses (holds, measured) and the claims (verdict, holds, reason, checks)
 * @example
 * ```ts
 * import { check } from 'coflow';
 * const c = await check('runs/T');
 * console.log(c.claims.filter((x) => x.verdict === 'PASS').length);
 * ```
 */
export async function check(dir: string, options: { write?: boolean } = {}): Promise<CheckResult> {
  const { checkRun } = await import('../claims/claims.js');
  const result = checkRun(dir);
  if (options.write) (await import('../claims/report.js')).writeClaimsReports(dir, result);
  return result;
}

/**
 * Compares runs of different levels or methods from the same start: `coflow compare`, without
 * printing. Writes compare.csv, compare.json and the overlay figure into `options.out`.
 *
 * @param dirs - two or more run directories
 * @param options - `out`: the directory for the comparison; `force`: replace an earlier one
 * @returns nothing; the files are in place when it resolves
 * @example
 * ```ts
 * import { compare } from 'coflow';
 * await compare(['runs/T', 'runs/P'], { out: 'runs/T-vs-P' });
 * ```
 */
export async function compare(dirs: string[], options: { out: string; force?: boolean }): Promise<void> {
  const { compareCommand } = await import('../app/compare.js');
  await compareCommand(dirs, { out: options.out, force: options.force === true, quiet: true });
}

/**
 * Runs a sweep: `coflow sweep --spec SPEC --out DIR` (docs/sweeps.md). It prints its summary, as
 * the command does.
 *
 * @param options - `spec`: the spec file; `out`: the sweep directory; `workers` (default: the
 *   machine's parallelism); `shard` ({ index, count }); `noPlots`
 * @returns 0 when every run finished (early stops included), 1 when some run threw
 * @example
 * ```ts
 * import { sweep } from 'coflow';
 * await sweep({ spec: 'examples/sweeps/small.json', out: 'runs/sweep', workers: 2 });
 * ```
 */
export async function sweep(options: { spec: string; out: string; workers?: number; shard?: { index: number; count: number }; noPlots?: boolean }): Promise<number> {
  const { sweepCommand } = await import('../app/sweep.js');
  return sweepCommand({ spec: options.spec, out: options.out, workers: options.workers, shard: options.shard, quiet: true, noPlots: options.noPlots === true });
}

/**
 * Writes the HTML report (and report.md) of runs or of a sweep: `coflow report`, without printing
 * (docs/report.md).
 *
 * @param dirs - run directories, or one sweep directory
 * @param out - the .html file (default: DIR/report.html for one directory; required for several)
 * @returns the main page's path, every file written, and one summary line per run
 * @example
 * ```ts
 * import { report } from 'coflow';
 * const r = await report(['runs/T', 'runs/P'], 'runs/report.html');
 * console.log(r.summary.join('\n'));
 * ```
 */
export async function report(dirs: string[], out?: string): Promise<{ out: string; written: string[]; summary: string[] }> {
  const { reportCommand } = await import('../app/report.js');
  const r = await reportCommand(dirs, out, true);
  return { out: r.out, written: r.written, summary: r.summary };
}

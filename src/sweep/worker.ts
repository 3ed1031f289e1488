/**
 * The piscina worker of `coflow sweep`: one task is one run directory, produced by the code of
 * `coflow run` (runCommand of src/app/run.ts) and then, for grid points, checked by the code of
 * `coflow check` (src/claims), whose claims.json gives the verdict counts of the results.
 */
import { threadId } from 'node:worker_threads';
// Loaded as the thread starts, while the main thread plans the sweep (src/app/sweep.ts openPool).
import { removeTempFiles, runCommand } from '../app/run.js';
import { checkRun } from '../claims/claims.js';
import { writeClaimsReports } from '../claims/report.js';
import type { ResolvedSettings } from '../config/resolve.js';

export interface SweepTask {
  out: string;
  settings: ResolvedSettings;
  /** run it (false: the run is complete and only the check is missing) */
  run: boolean;
  /** check the claims afterwards (grid points; references need no verdicts) */
  check: boolean;
}

export interface SweepTaskResult {
  worker: number;
  wallSeconds: number;
}

export default async function runTask(task: SweepTask): Promise<SweepTaskResult> {
  const started = performance.now();
  if (task.run) {
    // force: a half-written directory of a killed sweep is redone from t = 0 (the same settings
    // give the same run). noPlots: per-run figures are off in sweeps (the fit plots are the sweep's).
    // silent: a sweep of hundreds of runs prints its own summary, not one line per run.
    const options = { out: task.out, quiet: true, checkpointSeconds: 30, force: true, noPlots: true, silent: true };
    await runCommand(task.settings, options);
  }
  if (task.check) {
    // A sweep killed while it wrote this run's reports left their temp files; the sweep's lock on
    // its directory makes them stale (a run that is run again has them removed by --force).
    if (!task.run) removeTempFiles(task.out);
    writeClaimsReports(task.out, checkRun(task.out));
  }
  return { worker: threadId, wallSeconds: (performance.now() - started) / 1000 };
}

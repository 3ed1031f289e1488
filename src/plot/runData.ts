/**
 * What the figures need from a run directory written by `coflow run`: config.json (to name the
 * run), trajectory.csv (the plotted values) and summary.json (its status and the all-correct
 * event, the paper's T1 of Thm 3.1). data.npz and the states are not read, so figures of a large
 * run cost only the parse of its trajectory. Every problem is a one-line UsageError (exit 2)
 * raised before anything is written.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseTrajectoryCsv } from '../claims/runDir.js';
import { UsageError } from '../errors.js';

export interface PlotRun {
  /** preset, level, init and method as the figures' titles name them (no path: figures of equal runs are equal bytes) */
  label: string;
  /** gradient descent: t = step x lr */
  gd: boolean;
  lr: number;
  /** flows: the integrator's rtol (the conservation band is 100 x rtol, docs/claims.md) */
  rtol: number;
  /** trajectory.csv: column -> values, one per row (row 0 is t = 0) */
  columns: Map<string, Float64Array>;
  rows: number;
  /** the all-correct event's t (Thm 3.1's T1), or undefined if the run never reached it */
  t1?: number;
  /** summary.json's status: success, or why the run stopped early */
  status: string;
}

const RERUN = 'give the --out directory of a coflow run, or rerun coflow run --out DIR';

function readText(path: string, what: string): string {
  if (!existsSync(path)) throw new UsageError(`${path} is missing (${what}); ${RERUN}`);
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new UsageError(`cannot read ${path}: ${err.code ?? err.message}; check its permissions`);
  }
}

function readObject(path: string, what: string): Record<string, unknown> {
  const text = readText(path, what);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${path} is not valid JSON (${(e as Error).message.split('\n')[0]}); ${RERUN}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new UsageError(`${path} is not a JSON object; ${RERUN}`);
  return json as Record<string, unknown>;
}

const LEVEL_NAMES: Record<string, string> = { full: 'Level F', gram: 'Level G', type: 'Level T' };

/** How titles name a run: preset, level, start and method with its step settings. */
function runLabel(s: Record<string, unknown>): string {
  const str = (k: string) => (typeof s[k] === 'string' ? (s[k] as string) : undefined);
  const parts: string[] = [];
  const preset = str('preset');
  if (preset) parts.push(`preset ${preset}`);
  const level = str('level');
  if (level) parts.push(LEVEL_NAMES[level] ?? level);
  const init = str('init');
  if (init) parts.push(`init ${init}`);
  const method = str('method');
  if (method === 'gd') parts.push(`GD, lr ${s.lr}, ${s.steps} steps`);
  else if (method) parts.push(`gradient flow (${method}), t_end ${s.tEnd}`);
  parts.push(`n ${s.n}, L ${s.L}, d ${s.d}, m ${s.m}, m₁ ${s.m1}`);
  return parts.join(' · ');
}

/** Reads what the figures need from `dir`; `command` names the coflow command in the messages. */
export function readPlotRun(dir: string, command = 'plot'): PlotRun {
  if (!existsSync(dir)) throw new UsageError(`${command} ${dir}: no such directory; ${RERUN}`);
  if (!statSync(dir).isDirectory()) throw new UsageError(`${command} ${dir}: not a directory; ${RERUN}`);
  const configPath = join(dir, 'config.json');
  const config = readObject(configPath, 'the run settings');
  const s = config.settings;
  if (typeof s !== 'object' || s === null || Array.isArray(s)) throw new UsageError(`${configPath} has no 'settings' object; it is not a coflow run config; ${RERUN}`);
  const settings = s as Record<string, unknown>;
  const trajectoryPath = join(dir, 'trajectory.csv');
  const { columns, rows } = parseTrajectoryCsv(readText(trajectoryPath, 'the recorded trajectory'), trajectoryPath);
  const summaryPath = join(dir, 'summary.json');
  const summary = readObject(summaryPath, 'the run status and events');
  if (typeof summary.status !== 'string' || !Array.isArray(summary.events)) {
    throw new UsageError(`${summaryPath} has no 'status' string or 'events' array; it is not a coflow run summary; ${RERUN}`);
  }
  const allCorrect = (summary.events as unknown[]).find(
    (e): e is { name: string; t: number } => typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'all-correct',
  );
  if (allCorrect && !(typeof allCorrect.t === 'number' && Number.isFinite(allCorrect.t) && allCorrect.t >= 0)) {
    throw new UsageError(`${summaryPath}: the all-correct event has no finite t >= 0; ${RERUN}`);
  }
  const gd = settings.method === 'gd';
  const num = (k: string) => (typeof settings[k] === 'number' ? (settings[k] as number) : NaN);
  return {
    label: runLabel(settings),
    gd,
    lr: num('lr'),
    rtol: num('rtol'),
    columns,
    rows,
    t1: allCorrect?.t,
    status: summary.status,
  };
}

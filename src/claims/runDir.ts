/**
 * Reading a run directory written by `coflow run` (config.json, trajectory.csv, summary.json,
 * data.npz) for the claims checker. Everything is validated before anything is evaluated or
 * written: each problem is a UsageError naming the file and the fix, so `coflow check` exits
 * with code 2 and leaves nothing behind.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Dataset } from '../data/dataset.js';
import { UsageError } from '../errors.js';
import { readDatasetNpz } from '../io/files.js';

/** The settings the claims use (a subset of config.json's `settings`). */
export interface CheckSettings {
  n: number;
  L: number;
  d: number;
  m: number;
  m1: number;
  s0: number;
  s1: number;
  method: string;
  fillers: string;
  level: string;
  init: string;
  /** flow tolerance; the conservation band is 100 x rtol */
  rtol: number;
  /** held-out set size; 0 = none (absent in runs made before test sets existed) */
  testN: number;
  preset: string;
}

export interface RunEventRecord {
  name: string;
  t: number;
  step?: number;
}

export interface RunSummary {
  status: string;
  message: string;
  t: number;
  events: RunEventRecord[];
  /** the full observable row at the all-correct event (T1), when the run recorded it */
  allCorrectRow?: Map<string, number>;
  final?: Map<string, number>;
}

export interface RunDir {
  dir: string;
  settings: CheckSettings;
  /** trajectory.csv: column name -> values, one per recorded row (first row t = 0) */
  columns: Map<string, Float64Array>;
  /** column names in file order */
  columnNames: string[];
  rows: number;
  summary: RunSummary;
  data: Dataset;
}

const RERUN = 'rerun coflow run --out DIR to regenerate it';

/**
 * Reads and validates a run directory; throws UsageError on anything a run would not have written.
 * `command` names the coflow command in the messages about the directory itself.
 */
export function readRunDir(dir: string, command = 'check'): RunDir {
  if (!existsSync(dir)) throw new UsageError(`${command} ${dir}: no such directory; give the --out directory of a coflow run`);
  if (!statSync(dir).isDirectory()) throw new UsageError(`${command} ${dir}: not a directory; give the --out directory of a coflow run`);
  const settings = readConfig(join(dir, 'config.json'));
  const { columns, names, rows } = readTrajectory(join(dir, 'trajectory.csv'));
  const summary = readSummary(join(dir, 'summary.json'));
  const dataPath = join(dir, 'data.npz');
  if (!existsSync(dataPath)) throw new UsageError(`${dataPath} is missing (coflow run writes the training set there); ${RERUN}`);
  const data = readDatasetNpz(dataPath);
  return { dir, settings, columns, columnNames: names, rows, summary, data };
}

/** A run file's text; a missing or unreadable file is a one-line usage error. */
function readRunFile(path: string, what: string): string {
  if (!existsSync(path)) throw new UsageError(`${path} is missing (${what}); give a directory written by coflow run, or ${RERUN}`);
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new UsageError(`cannot read ${path}: ${err.code ?? err.message}; check its permissions`);
  }
}

function readJson(path: string, what: string): unknown {
  const text = readRunFile(path, what);
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new UsageError(`${path} is not valid JSON (${(e as Error).message.split('\n')[0]}); restore the file or ${RERUN}`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readConfig(path: string): CheckSettings {
  const json = readJson(path, 'the run settings');
  if (!isObject(json) || !isObject(json.settings)) throw new UsageError(`${path} has no 'settings' object; it is not a coflow run config; ${RERUN}`);
  const s = json.settings;
  const num = (key: string, fallback?: number): number => {
    const v = s[key];
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new UsageError(`${path}: settings.${key} is ${v === undefined ? 'missing' : `not a finite number (${JSON.stringify(v)})`}; ${RERUN}`);
    }
    return v;
  };
  const str = (key: string, fallback?: string): string => {
    const v = s[key];
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'string') throw new UsageError(`${path}: settings.${key} is ${v === undefined ? 'missing' : `not a string (${JSON.stringify(v)})`}; ${RERUN}`);
    return v;
  };
  const settings: CheckSettings = {
    n: num('n'),
    L: num('L'),
    d: num('d'),
    m: num('m'),
    m1: num('m1'),
    s0: num('s0'),
    s1: num('s1'),
    method: str('method'),
    fillers: str('fillers', ''),
    level: str('level', ''),
    init: str('init', ''),
    rtol: num('rtol'),
    testN: num('testN', 0),
    preset: str('preset', ''),
  };
  for (const key of ['n', 'L', 'd', 'm', 'm1'] as const) {
    if (!Number.isInteger(settings[key]) || settings[key] < 1) throw new UsageError(`${path}: settings.${key} must be a positive integer (got ${settings[key]}); ${RERUN}`);
  }
  for (const key of ['s0', 's1', 'rtol'] as const) {
    if (!(settings[key] > 0)) throw new UsageError(`${path}: settings.${key} must be > 0 (got ${settings[key]}); ${RERUN}`);
  }
  return settings;
}

/** The number formats trajectory.csv uses: JS shortest round-trip decimals, nan, inf, -inf. */
const DECIMAL = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;

/** The cell's number, or undefined if the text is not one of the formats above. */
function parseCell(s: string): number | undefined {
  if (s === 'nan') return NaN;
  if (s === 'inf') return Infinity;
  if (s === '-inf') return -Infinity;
  return DECIMAL.test(s) ? Number(s) : undefined;
}

export function parseTrajectoryCsv(text: string, path: string): { columns: Map<string, Float64Array>; names: string[]; rows: number } {
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw new UsageError(`${path} is empty (no header line); ${RERUN}`);
  const names = lines[0].split(',');
  const seen = new Set<string>();
  for (const name of names) {
    if (name === '') throw new UsageError(`${path}: the header has an empty column name; ${RERUN}`);
    if (seen.has(name)) throw new UsageError(`${path}: column '${name}' appears twice in the header; ${RERUN}`);
    seen.add(name);
  }
  if (!seen.has('t')) throw new UsageError(`${path}: the header has no 't' column; it is not a coflow trajectory; ${RERUN}`);
  const rows = lines.length - 1;
  if (rows === 0) throw new UsageError(`${path} has a header but no rows (the run recorded nothing); ${RERUN}`);
  const data = names.map(() => new Float64Array(rows));
  for (let r = 0; r < rows; r++) {
    const cells = lines[r + 1].split(',');
    if (cells.length !== names.length) {
      throw new UsageError(`${path}: line ${r + 2} has ${cells.length} fields, the header ${names.length}; the file is truncated or corrupt; ${RERUN}`);
    }
    for (let c = 0; c < cells.length; c++) {
      const x = parseCell(cells[c]);
      if (x === undefined) throw new UsageError(`${path}: line ${r + 2}, column '${names[c]}' is '${cells[c]}', not a number; ${RERUN}`);
      data[c][r] = x;
    }
  }
  const columns = new Map<string, Float64Array>();
  names.forEach((name, c) => columns.set(name, data[c]));
  const t = columns.get('t')!;
  if (t[0] !== 0) throw new UsageError(`${path}: the first row has t = ${t[0]}, but a trajectory starts at t = 0 (the initial state); ${RERUN}`);
  for (let r = 1; r < rows; r++) {
    if (!Number.isFinite(t[r]) || !(t[r] >= t[r - 1])) {
      throw new UsageError(`${path}: line ${r + 2} has t = ${t[r]} after t = ${t[r - 1]}; times must be finite and non-decreasing; ${RERUN}`);
    }
  }
  return { columns, names, rows };
}

function readTrajectory(path: string) {
  return parseTrajectoryCsv(readRunFile(path, 'the recorded trajectory'), path);
}

/** A row object of summary.json (column -> number; JSON null, written for NaN, reads as NaN). */
function readRow(path: string, key: string, v: unknown): Map<string, number> {
  if (!isObject(v)) throw new UsageError(`${path}: '${key}' is not an object of column values; ${RERUN}`);
  const out = new Map<string, number>();
  for (const [name, x] of Object.entries(v)) {
    if (x === null) out.set(name, NaN);
    else if (typeof x === 'number') out.set(name, x);
    else throw new UsageError(`${path}: ${key}.${name} is ${JSON.stringify(x)}, not a number; ${RERUN}`);
  }
  return out;
}

function readSummary(path: string): RunSummary {
  const json = readJson(path, 'the run status and events');
  if (!isObject(json)) throw new UsageError(`${path} is not a JSON object; it is not a coflow run summary; ${RERUN}`);
  if (typeof json.status !== 'string') throw new UsageError(`${path}: 'status' is missing or not a string; ${RERUN}`);
  if (!Array.isArray(json.events)) throw new UsageError(`${path}: 'events' is missing or not an array; ${RERUN}`);
  const events: RunEventRecord[] = json.events.map((e, i) => {
    if (!isObject(e) || typeof e.name !== 'string' || typeof e.t !== 'number' || !Number.isFinite(e.t)) {
      throw new UsageError(`${path}: events[${i}] is not {name, t} with a finite t; ${RERUN}`);
    }
    return typeof e.step === 'number' ? { name: e.name, t: e.t, step: e.step } : { name: e.name, t: e.t };
  });
  const summary: RunSummary = {
    status: json.status,
    message: typeof json.message === 'string' ? json.message : '',
    t: typeof json.t === 'number' ? json.t : NaN,
    events,
  };
  if (json.allCorrectRow !== undefined && json.allCorrectRow !== null) summary.allCorrectRow = readRow(path, 'allCorrectRow', json.allCorrectRow);
  if (json.final !== undefined && json.final !== null) summary.final = readRow(path, 'final', json.final);
  return summary;
}

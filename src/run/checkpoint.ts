import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { writeBytesAtomic } from '../io/atomic.js';
import { f8Array } from '../io/npy.js';
import { encodeNpz, readNpz } from '../io/npz.js';
import type { ResumeState } from '../ode/types.js';
import { EVENT_NAMES, GD_TRACKER_LENGTH, RunCheckpoint } from './run.js';

/**
 * A checkpoint is two files in the run directory: `checkpoint.<hash>.npz` (the state, the rows so
 * far, the invariants at t = 0, the integrator's FSAL derivative, event rows) and
 * `checkpoint.json` (scalars: time, step size, controller memory, counters, events, the name and
 * SHA-256 of its .npz, the SHA-256 of the run's config.json, and a SHA-256 over all of these).
 * Each is written atomically, the .npz first under a name of its own, then the .json, and only
 * then is the previous .npz removed: a kill at any moment leaves a checkpoint.json whose .npz
 * exists and matches (a single fixed .npz name would be replaced before the .json that
 * describes it, and a kill between the two would leave a mismatched pair).
 *
 * Reading checks everything that determines the continuation: the hash over the .json's fields
 * (an edited step, column count, scale, event or margin is refused), the .npz's hash, every
 * field's type and range, and, given the run's context, that the checkpoint belongs to this
 * run (its config.json, method, state size, columns, step budget, end time).
 */
export const CHECKPOINT_JSON = 'checkpoint.json';
const NPZ_PATTERN = /^checkpoint\.[0-9a-f]{16}\.npz$/;
const SHA256_PATTERN = /^[0-9a-f]{64}$/;

interface CheckpointMeta {
  method: RunCheckpoint['method'];
  step?: number;
  resume?: Omit<ResumeState, 'y' | 'dydt' | 'controller'> & { controller: { kind: string; errPrev: number | null }; hasDydt: boolean };
  scales: [number, number];
  events: { name: string; t: number; step?: number }[];
  wallSeconds: number;
  columns: number;
  /** NaN is stored as null (JSON has no NaN) */
  marginPrev: number | null;
  /** the file holding the arrays (in the run directory) */
  npzFile: string;
  npzSha256: string;
  /** SHA-256 of the run's config.json: a checkpoint continues only the run it was written for */
  configSha256: string;
  /** SHA-256 of this object's JSON without this field */
  sha256?: string;
}

/** What a checkpoint must match to continue a run (from the run's config.json and its start). */
export interface CheckpointContext {
  method: 'dopri5' | 'gd' | 'odex';
  /** length of the state vector */
  size: number;
  /** number of trajectory columns */
  columns: number;
  /** number of rows the whole run records */
  maxRows: number;
  /** GD: the step budget; flow: the end time */
  steps: number;
  tEnd: number;
  configSha256: string;
}

function metaHash(meta: CheckpointMeta): string {
  const { sha256, ...rest } = meta;
  void sha256;
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex');
}

/** Writes the checkpoint of a run whose config.json has SHA-256 `configSha256`. */
export function writeCheckpoint(dir: string, c: RunCheckpoint, configSha256 = ''): void {
  const cols = c.rows.length > 0 ? c.rows[0].length : 0;
  const flat = new Float64Array(c.rows.length * cols);
  c.rows.forEach((r, i) => flat.set(r, i * cols));
  const entries: Record<string, ReturnType<typeof f8Array>> = {
    y: f8Array(c.y),
    rows: f8Array(flat, [c.rows.length, cols]),
    inv0_a: f8Array(c.invariants0.groups[0]),
    inv0_b: f8Array(c.invariants0.groups[1]),
  };
  if (c.resume?.dydt) entries.dydt = f8Array(c.resume.dydt);
  if (c.trackPrev) entries.track_prev = f8Array(c.trackPrev);
  // Event rows (all-correct) may hold NaN, which JSON cannot: they go into the .npz.
  c.events.forEach((e, i) => {
    if (e.row) entries[`event_row_${i}`] = f8Array(Float64Array.from(e.row));
  });
  const bytes = encodeNpz(entries);
  const sha = createHash('sha256').update(bytes).digest('hex');
  const npzFile = `checkpoint.${sha.slice(0, 16)}.npz`;
  writeBytesAtomic(join(dir, npzFile), bytes);
  const meta: CheckpointMeta = {
    method: c.method,
    step: c.step,
    resume: c.resume
      ? {
          t: c.resume.t,
          h: c.resume.h,
          controller: { kind: c.resume.controller.kind, errPrev: Number.isFinite(c.resume.controller.errPrev) ? c.resume.controller.errPrev : null },
          pendingRejection: c.resume.pendingRejection,
          stats: { ...c.resume.stats },
          hasDydt: c.resume.dydt !== undefined,
        }
      : undefined,
    scales: c.invariants0.scales,
    events: c.events.map(({ name, t, step }) => ({ name, t, ...(step !== undefined ? { step } : {}) })),
    wallSeconds: c.wallSeconds,
    columns: cols,
    marginPrev: c.marginPrev === undefined || Number.isNaN(c.marginPrev) ? null : c.marginPrev,
    npzFile,
    npzSha256: sha,
    configSha256,
  };
  // Round-trip through JSON first, so the hash is over exactly what a reader parses.
  const stored = JSON.parse(JSON.stringify(meta)) as CheckpointMeta;
  stored.sha256 = metaHash(stored);
  writeBytesAtomic(join(dir, CHECKPOINT_JSON), new TextEncoder().encode(JSON.stringify(stored, null, 2) + '\n'));
  removeCheckpointArrays(dir, npzFile);
}

/** Removes the checkpoint .npz files of the directory except `keep`. */
function removeCheckpointArrays(dir: string, keep?: string): void {
  for (const f of readdirSync(dir)) if (NPZ_PATTERN.test(f) && f !== keep) unlinkSync(join(dir, f));
}

export function hasCheckpoint(dir: string): boolean {
  return existsSync(join(dir, CHECKPOINT_JSON));
}

/**
 * Reads and checks the checkpoint in `dir`. Every problem is a UsageError naming the field;
 * `context` (the run's own settings) also checks that the checkpoint belongs to this run.
 */
export function readCheckpoint(dir: string, context?: CheckpointContext): RunCheckpoint {
  const jsonPath = join(dir, CHECKPOINT_JSON);
  if (!existsSync(jsonPath)) throw new UsageError(`${dir} has no checkpoint (${CHECKPOINT_JSON}); run without --resume to start afresh`);
  const damaged = (what: string) => new UsageError(`${jsonPath}: ${what}; the checkpoint is damaged or was edited: start the run afresh (coflow run --force --out ${dir} ...)`);
  let meta: CheckpointMeta;
  try {
    meta = JSON.parse(readFileSync(jsonPath, 'utf8')) as CheckpointMeta;
  } catch {
    throw damaged('not valid JSON');
  }
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) throw damaged('not a JSON object');
  if (typeof meta.sha256 !== 'string' || metaHash(meta) !== meta.sha256) throw damaged("field 'sha256' does not match the other fields (hash differs)");
  checkMeta(meta, damaged);
  if (context) checkContext(meta, context, damaged);

  const npzPath = join(dir, meta.npzFile);
  if (!existsSync(npzPath)) throw damaged(`it names ${meta.npzFile}, which is missing`);
  const sha = createHash('sha256').update(readFileSync(npzPath)).digest('hex');
  if (sha !== meta.npzSha256) throw damaged(`${meta.npzFile} does not match field 'npzSha256' (hash differs)`);
  const npz = readNpz(npzPath);
  const get = (k: string, length?: number) => {
    const a = npz.get(k);
    if (!a || !(a.data instanceof Float64Array)) throw damaged(`key '${k}' of ${meta.npzFile} is missing or not float64`);
    if (length !== undefined && a.data.length !== length) throw damaged(`key '${k}' of ${meta.npzFile} has ${a.data.length} entries, expected ${length}`);
    return a.data;
  };
  const size = context?.size;
  const y = get('y', size);
  if (!y.every(Number.isFinite)) throw damaged(`key 'y' of ${meta.npzFile} holds a non-finite value`);
  const flat = get('rows');
  const cols = meta.columns;
  const rowsShape = npz.get('rows')!.shape;
  if (rowsShape.length !== 2 || rowsShape[1] !== cols) throw damaged(`key 'rows' has shape (${rowsShape.join(', ')}), expected (rows, ${cols}) as field 'columns' says`);
  const rows: number[][] = [];
  for (let i = 0; cols > 0 && i < flat.length / cols; i++) rows.push(Array.from(flat.subarray(i * cols, (i + 1) * cols)));
  if (context && rows.length > context.maxRows) throw damaged(`it holds ${rows.length} trajectory rows, more than the ${context.maxRows} this run records`);
  const resume: ResumeState | undefined = meta.resume
    ? {
        t: meta.resume.t,
        y,
        h: meta.resume.h,
        controller: { kind: meta.resume.controller.kind as ResumeState['controller']['kind'], errPrev: meta.resume.controller.errPrev ?? NaN },
        pendingRejection: meta.resume.pendingRejection,
        stats: meta.resume.stats,
        ...(meta.resume.hasDydt ? { dydt: get('dydt', y.length) } : {}),
      }
    : undefined;
  const inv0a = get('inv0_a');
  const inv0b = get('inv0_b');
  if (meta.method === 'gd' && !npz.has('track_prev')) throw damaged(`key 'track_prev' of ${meta.npzFile} is missing (a GD checkpoint has it)`);
  return {
    method: meta.method,
    y,
    resume,
    step: meta.step,
    rows,
    invariants0: { groups: [inv0a, inv0b], scales: meta.scales },
    events: meta.events.map((e, i) => (npz.has(`event_row_${i}`) ? { ...e, row: Array.from(get(`event_row_${i}`, cols)) } : e)),
    wallSeconds: meta.wallSeconds,
    marginPrev: meta.marginPrev === null ? NaN : meta.marginPrev,
    ...(npz.has('track_prev') ? { trackPrev: get('track_prev', GD_TRACKER_LENGTH) } : {}),
  };
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Types and ranges of every field of checkpoint.json. */
function checkMeta(meta: CheckpointMeta, damaged: (what: string) => UsageError): void {
  const bad = (field: string, expected: string) => damaged(`field '${field}' must be ${expected} (got ${JSON.stringify((meta as unknown as Record<string, unknown>)[field.split('.')[0]])})`);
  if (meta.method !== 'dopri5' && meta.method !== 'gd') throw bad('method', "'dopri5' or 'gd'");
  if (meta.method === 'gd') {
    if (!isCount(meta.step)) throw bad('step', 'an integer >= 0');
    if (meta.resume !== undefined) throw bad('resume', 'absent for a GD checkpoint');
    if (meta.marginPrev !== null && !isFiniteNumber(meta.marginPrev)) throw bad('marginPrev', 'a finite number or null');
  } else {
    if (meta.step !== undefined) throw bad('step', 'absent for a flow checkpoint');
    const r = meta.resume;
    if (!r || typeof r !== 'object') throw bad('resume', 'an object (the integrator state)');
    if (!isFiniteNumber(r.t) || r.t < 0) throw bad('resume.t', 'a finite number >= 0');
    if (!isFiniteNumber(r.h) || r.h <= 0) throw bad('resume.h', 'a finite number > 0');
    const c = r.controller;
    if (!c || (c.kind !== 'I' && c.kind !== 'PI')) throw bad('resume.controller.kind', "'I' or 'PI'");
    if (c.errPrev !== null && (!isFiniteNumber(c.errPrev) || c.errPrev < 0)) throw bad('resume.controller.errPrev', 'a finite number >= 0 or null');
    if (r.pendingRejection !== undefined && typeof r.pendingRejection !== 'boolean') throw bad('resume.pendingRejection', 'true, false or absent');
    if (typeof r.hasDydt !== 'boolean') throw bad('resume.hasDydt', 'true or false');
    const st = r.stats;
    if (!st || !isCount(st.nfev) || !isCount(st.naccepted) || !isCount(st.nrejected)) throw bad('resume.stats', 'counts nfev, naccepted, nrejected (integers >= 0)');
    if (meta.marginPrev !== null) throw bad('marginPrev', 'null for a flow checkpoint');
  }
  if (!Array.isArray(meta.scales) || meta.scales.length !== 2 || !meta.scales.every((x) => isFiniteNumber(x) && x > 0)) throw bad('scales', 'two finite numbers > 0');
  if (!Array.isArray(meta.events)) throw bad('events', 'a list');
  meta.events.forEach((e, i) => {
    if (!e || typeof e !== 'object' || !EVENT_NAMES.includes(e.name)) throw damaged(`field 'events[${i}].name' must be one of ${EVENT_NAMES.join(', ')}`);
    if (!isFiniteNumber(e.t) || e.t < 0) throw damaged(`field 'events[${i}].t' must be a finite number >= 0`);
    if (meta.method === 'gd' ? !isCount(e.step) : e.step !== undefined) throw damaged(`field 'events[${i}].step' must be ${meta.method === 'gd' ? 'an integer >= 0' : 'absent'}`);
    const keys = Object.keys(e).filter((k) => !['name', 't', 'step'].includes(k));
    if (keys.length > 0) throw damaged(`field 'events[${i}]' has unknown keys ${keys.join(', ')}`);
  });
  const until = meta.method === 'gd' ? meta.step! : meta.resume!.t;
  meta.events.forEach((e, i) => {
    if ((meta.method === 'gd' ? e.step! : e.t) > until) throw damaged(`field 'events[${i}]' lies after the checkpoint (${meta.method === 'gd' ? `step ${e.step} > ${until}` : `t ${e.t} > ${until}`})`);
  });
  if (!isFiniteNumber(meta.wallSeconds) || meta.wallSeconds < 0) throw bad('wallSeconds', 'a finite number >= 0');
  if (!isCount(meta.columns) || meta.columns < 1) throw bad('columns', 'an integer >= 1');
  if (typeof meta.npzFile !== 'string' || !NPZ_PATTERN.test(meta.npzFile)) throw bad('npzFile', 'a name checkpoint.<16 hex digits>.npz');
  if (typeof meta.npzSha256 !== 'string' || !SHA256_PATTERN.test(meta.npzSha256)) throw bad('npzSha256', 'a SHA-256 (64 hex digits)');
  if (typeof meta.configSha256 !== 'string') throw bad('configSha256', 'a SHA-256 (64 hex digits)');
  const known = ['method', 'step', 'resume', 'scales', 'events', 'wallSeconds', 'columns', 'marginPrev', 'npzFile', 'npzSha256', 'configSha256', 'sha256'];
  const unknown = Object.keys(meta).filter((k) => !known.includes(k));
  if (unknown.length > 0) throw damaged(`unknown fields ${unknown.join(', ')}`);
}

/** The checkpoint belongs to this run and fits its settings. */
function checkContext(meta: CheckpointMeta, ctx: CheckpointContext, damaged: (what: string) => UsageError): void {
  if (meta.configSha256 !== ctx.configSha256) throw damaged("it was written for a different config.json (field 'configSha256' differs): config.json was edited or replaced; restore it");
  if (meta.method !== (ctx.method === 'odex' ? 'dopri5' : ctx.method)) throw damaged(`field 'method' is '${meta.method}' but config.json says '${ctx.method}'`);
  if (meta.columns !== ctx.columns) throw damaged(`field 'columns' is ${meta.columns} but this run records ${ctx.columns} columns`);
  if (meta.method === 'gd' && meta.step! > ctx.steps) throw damaged(`field 'step' is ${meta.step}, beyond the run's ${ctx.steps} steps`);
  if (meta.method === 'dopri5' && meta.resume!.t > ctx.tEnd) throw damaged(`field 'resume.t' is ${meta.resume!.t}, beyond the run's end time ${ctx.tEnd}`);
}

export function removeCheckpoint(dir: string): void {
  const p = join(dir, CHECKPOINT_JSON);
  if (existsSync(p)) unlinkSync(p);
  if (existsSync(dir)) removeCheckpointArrays(dir);
}

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { writeBytesAtomic } from '../io/atomic.js';
import { f8Array } from '../io/npy.js';
import { encodeNpz, readNpz } from '../io/npz.js';
import type { ResumeState } from '../ode/types.js';
import { RunCheckpoint } from './run.js';

/**
 * A checkpoint is two files in the run directory: `checkpoint.<hash>.npz` (the state, the rows so
 * far, the invariants at t = 0, the integrator's FSAL derivative, event rows) and
 * `checkpoint.json` (scalars: time, step size, controller memory, counters, events, and the name
 * and SHA-256 of its .npz). Each is written atomically, the .npz first under a name of its own,
 * then the .json, and only then is the previous .npz removed: a kill at any moment leaves a
 * checkpoint.json whose .npz exists and matches (a single fixed .npz name would be replaced before
 * the .json that describes it, and a kill between the two would leave a mismatched pair).
 */
export const CHECKPOINT_JSON = 'checkpoint.json';
const NPZ_PATTERN = /^checkpoint\.[0-9a-f]{16}\.npz$/;

interface CheckpointMeta {
  method: RunCheckpoint['method'];
  step?: number;
  resume?: Omit<ResumeState, 'y' | 'dydt'> & { hasDydt: boolean };
  scales: [number, number];
  events: RunCheckpoint['events'];
  wallSeconds: number;
  columns: number;
  /** the file holding the arrays (in the run directory) */
  npzFile: string;
  /** NaN is stored as null (JSON has no NaN) */
  marginPrev: number | null;
  npzSha256: string;
}

export function writeCheckpoint(dir: string, c: RunCheckpoint): void {
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
          controller: c.resume.controller,
          pendingRejection: c.resume.pendingRejection,
          stats: { ...c.resume.stats },
          hasDydt: c.resume.dydt !== undefined,
        }
      : undefined,
    scales: c.invariants0.scales,
    events: c.events.map(({ row, ...e }) => (void row, e)),
    wallSeconds: c.wallSeconds,
    columns: cols,
    marginPrev: c.marginPrev === undefined || Number.isNaN(c.marginPrev) ? null : c.marginPrev,
    npzFile,
    npzSha256: sha,
  };
  writeBytesAtomic(join(dir, CHECKPOINT_JSON), new TextEncoder().encode(JSON.stringify(meta, null, 2) + '\n'));
  removeCheckpointArrays(dir, npzFile);
}

/** Removes the checkpoint .npz files of the directory except `keep`. */
function removeCheckpointArrays(dir: string, keep?: string): void {
  for (const f of readdirSync(dir)) if (NPZ_PATTERN.test(f) && f !== keep) unlinkSync(join(dir, f));
}

export function hasCheckpoint(dir: string): boolean {
  return existsSync(join(dir, CHECKPOINT_JSON));
}

export function readCheckpoint(dir: string): RunCheckpoint {
  const jsonPath = join(dir, CHECKPOINT_JSON);
  if (!existsSync(jsonPath)) throw new UsageError(`${dir} has no checkpoint (${CHECKPOINT_JSON}); run without --resume to start afresh`);
  let meta: CheckpointMeta;
  try {
    meta = JSON.parse(readFileSync(jsonPath, 'utf8')) as CheckpointMeta;
  } catch {
    throw new UsageError(`${jsonPath} is not valid JSON; the checkpoint is damaged, start afresh`);
  }
  const npzPath = join(dir, typeof meta.npzFile === 'string' && NPZ_PATTERN.test(meta.npzFile) ? meta.npzFile : 'checkpoint.npz');
  if (!existsSync(npzPath)) throw new UsageError(`${jsonPath} names ${npzPath}, which is missing; the checkpoint is damaged, start afresh`);
  const sha = createHash('sha256').update(readFileSync(npzPath)).digest('hex');
  if (sha !== meta.npzSha256) throw new UsageError(`${npzPath} does not match ${jsonPath} (hash differs); the checkpoint is damaged, start afresh`);
  const npz = readNpz(npzPath);
  const get = (k: string) => {
    const a = npz.get(k);
    if (!a || !(a.data instanceof Float64Array)) throw new UsageError(`${npzPath}: key '${k}' missing or not float64`);
    return a.data;
  };
  const flat = get('rows');
  const cols = meta.columns;
  const rows: number[][] = [];
  for (let i = 0; cols > 0 && i < flat.length / cols; i++) rows.push(Array.from(flat.subarray(i * cols, (i + 1) * cols)));
  const y = get('y');
  const resume: ResumeState | undefined = meta.resume
    ? {
        t: meta.resume.t,
        y,
        h: meta.resume.h,
        controller: meta.resume.controller,
        pendingRejection: meta.resume.pendingRejection,
        stats: meta.resume.stats,
        ...(meta.resume.hasDydt ? { dydt: get('dydt') } : {}),
      }
    : undefined;
  return {
    method: meta.method,
    y,
    resume,
    step: meta.step,
    rows,
    invariants0: { groups: [get('inv0_a'), get('inv0_b')], scales: meta.scales },
    events: meta.events.map((e, i) => (npz.has(`event_row_${i}`) ? { ...e, row: Array.from(get(`event_row_${i}`)) } : e)),
    wallSeconds: meta.wallSeconds,
    marginPrev: meta.marginPrev === null ? NaN : meta.marginPrev,
    ...(npz.has('track_prev') ? { trackPrev: get('track_prev') } : {}),
  };
}

export function removeCheckpoint(dir: string): void {
  const p = join(dir, CHECKPOINT_JSON);
  if (existsSync(p)) unlinkSync(p);
  if (existsSync(dir)) removeCheckpointArrays(dir);
}

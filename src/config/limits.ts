/**
 * Size limits, and the memory a command needs, estimated from its settings alone. Settings that
 * cannot work are refused here, before anything is allocated, with one line that gives the limit
 * and the fix (docs/options.md lists every limit). The estimates count the large buffers of each level
 * (src/run/levels.ts, src/model, src/gram, src/observe, src/ode) plus a fixed allowance for the
 * Node.js runtime; they are estimates, not measurements, and only their order of magnitude matters.
 */
import { UsageError } from '../errors.js';

const KiB = 1024;
const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

/**
 * Largest memory coflow lets one command use, by the estimates below: 8 GiB. A command above it
 * would, on a typical workstation, swap or be killed by the operating system minutes into a run,
 * or fail with an internal error (an allocation or array length failure) after seconds of work;
 * refusing it at once is kinder. A run that fits is not slowed by the check.
 */
export const MAX_MEMORY_BYTES = 8 * GiB;

/**
 * Largest number of entries in one typed array (tokens, the pair table, a state vector, the
 * weights a run forms): 2^31 - 1. V8 allows longer arrays on 64-bit machines, but coflow indexes
 * with int32 arithmetic in places (Int32Array indices, the pair table's ids) and stays below it
 * for safety.
 */
export const MAX_ARRAY_ENTRIES = 2 ** 31 - 1;

/**
 * Largest .npz file coflow writes: 2^31 - 1 bytes (2 GiB). Its files are written in one
 * writeSync call (src/io/atomic.ts), which Node limits to 2^31 - 1 bytes, and read with
 * readFileSync, which refuses files above 2 GiB; the zip format without zip64 (src/io/zip.ts)
 * would allow 4 GiB. Measured: `coflow init` of 3.2 GB of weights failed after 100 s of drawing.
 */
export const MAX_NPZ_BYTES = 2 ** 31 - 1;

/**
 * Largest vocabulary d: 2^24 = 16,777,216. Building a data set first lays out the d - 3 filler
 * tokens (and shuffles them for distinct fillers), which takes about a second at 2^24 and minutes
 * at 10^9; a data set with distinct fillers uses at most n (3L - 7) / 3 + 3 tokens, so a larger d
 * only adds tokens that never occur.
 */
export const MAX_VOCAB = 2 ** 24;

/** Seeds are exact integers 0 .. 2^53 - 1 (larger ones would round to another seed). */
export const MAX_SEED = Number.MAX_SAFE_INTEGER;

/**
 * Most trajectory rows (--samples): 100,000. trajectory.csv is built as one string of up to ~60
 * columns of up to ~25 characters; 100,000 rows stay below 150 MB, well within V8's largest
 * string (2^29 - 24 characters), which about 350,000 rows could exceed.
 */
export const MAX_SAMPLES = 100_000;

/**
 * Most snapshots (--snapshots): 1000, because snapshot files are numbered with three digits
 * (snapshot_000.npz .. snapshot_999.npz, so that they sort in order), and each one is a copy of
 * the full state on disk. Also at most samples - 1 (snapshots are taken at recorded rows).
 */
export const MAX_SNAPSHOTS = 1000;

/** Largest held-out test set (--test-n): 10^6 samples, evaluated at every recorded row. */
export const MAX_TEST_N = 1_000_000;

/**
 * Most GD steps (--steps) and most integrator steps (--max-steps): 10^9. The step counter is
 * written as int32 in final.npz and the checkpoints (limit 2^31 - 1); 10^9 steps of even the
 * smallest model take days.
 */
export const MAX_STEPS = 1_000_000_000;

/** Smallest --rtol: 1e-14, near float64 resolution (2.2e-16) with the margin an error norm needs. */
export const MIN_RTOL = 1e-14;

/** Wall seconds between checkpoints when --checkpoint-every is not given. */
export const DEFAULT_CHECKPOINT_SECONDS = 30;

// Estimated costs (bytes) of the large structures, named so docs/options.md can quote them.
/** Per (sample, key position, query position) slot of a pair table (src/model/pairTable.ts): its int32 id, and per distinct pair a Map entry, ids and scores. */
const PAIR_SLOT_BYTES = 4;
const PAIR_BYTES = 100;
/** Per vocabulary token at Level F: u, gu, udot (float64), the pair table's per-token lists. */
const FULL_TOKEN_BYTES = 100;
/** Per recorded row: its numbers, its checkpoint copy and its line of trajectory.csv. */
const ROW_BYTES = 4 * KiB;
/** Per token slot at Level T: the orbit check's map of fillers (src/reduced/orbits.ts). */
const ORBIT_SLOT_BYTES = 64;
/**
 * Peak memory of a run in state-sized float64 vectors, everything included (the integrator's
 * vectors: dopri5 keeps 6 + 7 stages, src/ode/dopri5.ts; the start, the gradient, Level F's
 * token-major copies, the outputs, garbage awaiting collection), measured as peak RSS minus the
 * runtime on Node 20 (docs/options.md) and rounded up: Level F dopri5 25, GD 15, odex ~100 vectors;
 * Level G dopri5 18, GD 8 (besides its Wishart draw).
 */
const STATE_VECTORS = {
  full: { dopri5: 28, gd: 18, odex: 110 },
  gram: { dopri5: 20, gd: 10, odex: 100 },
  type: { dopri5: 20, gd: 10, odex: 100 },
  paper: { dopri5: 20, gd: 10, odex: 100 },
} as const;
/** Node.js itself, with coflow's modules loaded: about 60 MiB measured. */
const RUNTIME_BYTES = 100 * MiB;

export interface Dims {
  n: number;
  L: number;
  d: number;
}

/** What a run's limits depend on (the settings, with n, L, d, m, m1 taken from input files when given). */
export interface RunShape extends Dims {
  m: number;
  m1: number;
  fillers: 'distinct' | 'repeat';
  level: 'full' | 'gram' | 'type' | 'paper';
  init: 'gaussian' | 'wishart' | 'orthogonal' | 'mean';
  method: 'dopri5' | 'gd' | 'odex';
  samples: number;
  testN: number;
  snapshots: number;
  /** the data come from a file (n, L, d are the file's; fillers unknown) */
  dataFromFile: boolean;
  /** the weights come from a file (m, m1, d are the file's) */
  paramsFromFile: boolean;
}

interface Part {
  what: string;
  bytes: number;
  fix: string;
}

/** One limit check: `value` of `what` against `limit`; fails with "<what> ..., above <limit text>; <fix>". */
interface Check {
  what: string;
  value: number;
  limit: number;
  unit: 'entries' | 'bytes';
  limitText: string;
  fix: string;
}

export function formatBytes(b: number): string {
  if (b >= GiB) return `${(b / GiB).toFixed(1)} GiB`;
  if (b >= MiB) return `${(b / MiB).toFixed(1)} MiB`;
  return `${Math.ceil(b / KiB)} KiB`;
}

function formatCount(x: number): string {
  return Number.isSafeInteger(x) ? String(x) : x.toPrecision(4);
}

function runChecks(command: string, checks: Check[], parts: Part[]): void {
  for (const c of checks) {
    if (c.value > c.limit) {
      const value = c.unit === 'bytes' ? formatBytes(c.value) : `${formatCount(c.value)} entries`;
      throw new UsageError(`${command}: ${c.what} would be ${value}, above ${c.limitText}; ${c.fix}`);
    }
  }
  const total = parts.reduce((s, p) => s + p.bytes, 0);
  if (total > MAX_MEMORY_BYTES) {
    const top = parts.reduce((a, b) => (b.bytes > a.bytes ? b : a));
    throw new UsageError(
      `${command}: these settings need about ${formatBytes(total)} of memory (mostly ${top.what}: ${formatBytes(top.bytes)}), above coflow's limit of ${formatBytes(MAX_MEMORY_BYTES)}; ${top.fix}`,
    );
  }
}

const arrayLimit = `the ${MAX_ARRAY_ENTRIES} (2^31 - 1) entries coflow allows in one array`;
const npzLimit = 'the 2 GiB coflow can write or read as one .npz file';

function entries(what: string, value: number, fix: string): Check {
  return { what, value, limit: MAX_ARRAY_ENTRIES, unit: 'entries', limitText: arrayLimit, fix };
}

function npzFile(what: string, bytes: number, fix: string): Check {
  // 1 KiB for the zip and .npy headers
  return { what, value: bytes + KiB, limit: MAX_NPZ_BYTES, unit: 'bytes', limitText: npzLimit, fix };
}

/** The data set: tokens (int32), y (float64), type (int32), written once more as .npz bytes. */
function dataBytes(n: number, L: number): number {
  return 4 * n * L + 12 * n;
}

function dataChecks(x: Dims, fix: string, file = 'data.npz'): Check[] {
  return [
    entries(`the tokens array (n*L = ${x.n}*${x.L})`, x.n * x.L, fix),
    npzFile(`${file} (4 n L + 12 n bytes)`, dataBytes(x.n, x.L), fix),
  ];
}

/** `coflow data`: the tokens, their .npz bytes and the shuffled filler pool (d int32). */
export function checkDataLimits(x: Dims): void {
  const fix = 'lower --n or --L';
  runChecks('data', dataChecks(x, fix, 'the .npz file'), [
    { what: 'the data set and its .npz bytes', bytes: 2 * dataBytes(x.n, x.L), fix },
    { what: 'the filler pool (4 bytes per token of d)', bytes: 4 * x.d, fix: 'lower --d' },
  ]);
}

export interface WeightDims {
  m: number;
  m1: number;
  d: number;
}

function weightCount(w: WeightDims): number {
  return 3 * w.m * w.d + w.m1 * w.m;
}

/** `coflow init`: W_Q, W_K, W_V (m x d), W (m1 x m), a (m1), and their .npz bytes. */
export function checkInitLimits(w: WeightDims): void {
  const fix = 'lower --m, --m1 or --d';
  const bytes = 8 * (weightCount(w) + w.m1);
  runChecks(
    'init',
    [
      entries(`W_Q (m*d = ${w.m}*${w.d})`, w.m * w.d, 'lower --m or --d'),
      entries(`W (m1*m = ${w.m1}*${w.m})`, w.m1 * w.m, 'lower --m1 or --m'),
      npzFile(`the .npz file (8 (3 m d + m1 m + m1) bytes)`, bytes, fix),
    ],
    [{ what: 'the weights and their .npz bytes (16 bytes per weight)', bytes: 2 * bytes, fix }],
  );
}

/** Level F pair tables: an int32 id per (sample, key, query) slot, and ~100 bytes per distinct pair (at most d^2). */
function pairTableBytes(n: number, L: number, d: number): number {
  return PAIR_SLOT_BYTES * n * L * L + PAIR_BYTES * Math.min(n * L * L, d * d);
}

/** `coflow grad`: the loss and gradient of Level F at the files' sizes. */
export function checkGradLimits(x: Dims & WeightDims): void {
  const fix = 'use smaller files (coflow data / coflow init with smaller --n, --L, --m, --m1, --d)';
  const S = weightCount(x);
  runChecks(
    'grad',
    [entries(`the pair table (n*L*L = ${x.n}*${x.L}*${x.L})`, x.n * x.L * x.L, fix), npzFile('the gradient .npz (8 (3 m d + m1 m + n) bytes)', 8 * (S + x.n), fix)],
    [
      { what: 'the weights, the gradient and their copies (8 x 16 bytes per weight)', bytes: 16 * 8 * S, fix },
      { what: `the pair table (about ${PAIR_BYTES} bytes per sample x L^2)`, bytes: pairTableBytes(x.n, x.L, x.d), fix },
      { what: 'the vocabulary buffers', bytes: FULL_TOKEN_BYTES * x.d, fix },
    ],
  );
}

/**
 * Number of tokens Level G tracks, at most: the data's distinct tokens (all 3 + n (3L - 7) / 3
 * with distinct fillers; at most 3 + n (L - 1) with repeated ones; at most n L from a file) and
 * those of the test set, and never more than d.
 */
export function gramTokensBound(x: RunShape): number {
  const trainFillers = x.dataFromFile ? x.n * x.L : x.fillers === 'distinct' ? (x.n * (3 * x.L - 7)) / 3 : x.n * (x.L - 1);
  const testFillers = x.testN * x.L;
  return Math.min(x.d, 3 + trainFillers + testFillers);
}

/** The state size of a run: Level F 3 m d + m1 m, Level G 4 k^2 + k + 1, Level T its fixed orbit count. */
function stateSize(x: RunShape, k: number): number {
  if (x.level === 'full') return weightCount(x);
  if (x.level === 'gram') return 4 * k * k + k + 1;
  if (x.level === 'paper') return k * k + k + 1;
  return 64;
}

/** `coflow run`: every limit of docs/options.md, from the settings (and input files' sizes). */
export function checkRunLimits(x: RunShape): void {
  const { checks, parts } = runNeeds(x);
  runChecks('run', checks, parts);
}

/** coflow's estimate of the memory a run needs (bytes), by part. */
export function runMemoryEstimate(x: RunShape): { total: number; parts: { what: string; bytes: number }[] } {
  const { parts } = runNeeds(x);
  return { total: parts.reduce((a, p) => a + p.bytes, 0), parts: parts.map(({ what, bytes }) => ({ what, bytes })) };
}

function runNeeds(x: RunShape): { checks: Check[]; parts: Part[] } {
  const checks: Check[] = [];
  const parts: Part[] = [];
  const sizeFix = x.dataFromFile ? 'use a smaller --data file' : 'lower --n or --L';
  checks.push(...dataChecks(x, sizeFix));
  if (x.testN > 0) checks.push(...dataChecks({ n: x.testN, L: x.L, d: x.d }, 'lower --test-n', 'test.npz'));
  parts.push({ what: 'the data set', bytes: 2 * dataBytes(x.n, x.L) + 8 * x.d, fix: sizeFix });
  if (x.testN > 0) parts.push({ what: 'the test set', bytes: 2 * dataBytes(x.testN, x.L), fix: 'lower --test-n' });
  parts.push({ what: `the trajectory (about ${ROW_BYTES / KiB} KiB per row)`, bytes: ROW_BYTES * x.samples, fix: 'lower --samples' });

  // Level P tracks Level G's tokens and builds its start from a Level G start (src/paper/start.ts).
  const gramLike = x.level === 'gram' || x.level === 'paper';
  const k = gramLike ? gramTokensBound(x) : 0;
  const S = stateSize(x, k);
  const formsWeights = !x.paramsFromFile && (x.level === 'full' || (gramLike && (x.init === 'gaussian' || x.init === 'orthogonal')));
  if (formsWeights && weightCount(x) > MAX_ARRAY_ENTRIES) {
    // All the weights are one array as Level F's state; the same bound applies wherever they are
    // formed. The same words as src/run/levels.ts, which applies it again later (library
    // callers); below it, the memory estimate bounds them.
    throw new UsageError(
      `--m ${x.m} --m1 ${x.m1} means ${weightCount(x)} weights, above ${arrayLimit}; ` +
        (x.level === 'full' ? 'lower --m, --m1 or --d, or use --level gram --init wishart (or mean), which never forms them' : 'use --level gram --init wishart (or mean), which never forms them'),
    );
  }
  const levelFix =
    x.level === 'full'
      ? 'lower --m, --m1 or --d, or use --level gram --init wishart (or mean)'
      : gramLike
        ? `lower the number of tokens Level ${x.level === 'paper' ? 'P' : 'G'} tracks (at most ${k}: lower --n, --L${x.testN > 0 ? ', --test-n' : ''} or --d), or use --level type`
        : sizeFix;
  checks.push(entries(`the state (${S} values)`, S, levelFix));
  const vectors = STATE_VECTORS[x.level][x.method];
  parts.push({ what: 'the Node.js runtime', bytes: RUNTIME_BYTES, fix: levelFix });
  parts.push({ what: `${vectors} vectors of the ${S}-value state (${x.method} at Level ${{ full: 'F', gram: 'G', type: 'T', paper: 'P' }[x.level]})`, bytes: 8 * S * vectors, fix: levelFix });
  if (x.method === 'odex') parts.push({ what: 'the states odex keeps, one per recorded row', bytes: 8 * S * x.samples, fix: 'lower --samples, or use --method dopri5' });
  if (x.snapshots > 0) checks.push(npzFile('each snapshot .npz (8 bytes per state value)', 8 * S, levelFix));
  checks.push(npzFile('final.npz (8 bytes per state value)', 8 * S, levelFix));

  if (x.level === 'full') {
    const pairFix = x.dataFromFile ? 'use a smaller --data file' : 'lower --n or --L';
    checks.push(entries(`the pair table (n*L*L = ${x.n}*${x.L}*${x.L})`, x.n * x.L * x.L, pairFix));
    if (x.testN > 0) checks.push(entries(`the test set's pair table (test-n*L*L = ${x.testN}*${x.L}*${x.L})`, x.testN * x.L * x.L, 'lower --test-n'));
    parts.push({ what: `the pair tables (about ${PAIR_BYTES} bytes per sample x L^2, twice)`, bytes: 2 * pairTableBytes(x.n, x.L, x.d), fix: pairFix });
    if (x.testN > 0) parts.push({ what: 'the test set\'s pair table', bytes: pairTableBytes(x.testN, x.L, x.d), fix: 'lower --test-n' });
    parts.push({ what: 'the vocabulary buffers (about 100 bytes per token of d)', bytes: FULL_TOKEN_BYTES * x.d, fix: 'lower --d' });
  } else if (gramLike) {
    const p = 3 * k + 1;
    checks.push(entries(`the pair table (n*L*L = ${x.n}*${x.L}*${x.L})`, x.n * x.L * x.L, sizeFix));
    parts.push({ what: `the pair table (about ${PAIR_BYTES} bytes per sample x L^2)`, bytes: pairTableBytes(x.n, x.L, x.d), fix: sizeFix });
    // Gam and the kernels' memory: a copy of the state and four k x k scratch matrices (src/gram/kernels.ts)
    parts.push({ what: `Level G's workspace (9 k^2 float64, k = ${k})`, bytes: 72 * k * k, fix: levelFix });
    // the Bartlett factor's lower triangle in 4-row panels (src/gram/wishartKernel.ts); the direct
    // draw (m < 3k + 1) forms the (3k+1)^2 Gram matrix instead
    if (x.init === 'wishart') parts.push({ what: `the Wishart draw ((3k+1)^2 float64 at most, k = ${k})`, bytes: 8 * p * p, fix: levelFix });
    if (formsWeights) parts.push({ what: 'the weights it lifts from (3 m d + m1 m float64, twice)', bytes: 16 * weightCount(x) + 24 * k * x.m, fix: 'use --init wishart (or mean), which never forms them' });
    parts.push({ what: 'the vocabulary index (5 bytes per token of d)', bytes: 5 * x.d, fix: 'lower --d' });
  } else {
    parts.push({ what: `the orbit check (about ${ORBIT_SLOT_BYTES} bytes per token slot)`, bytes: ORBIT_SLOT_BYTES * x.n * x.L, fix: sizeFix });
  }
  return { checks, parts };
}

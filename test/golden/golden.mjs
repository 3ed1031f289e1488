/**
 * Golden outputs: the four reference runs, how their outputs are hashed, and how hashes are
 * compared. One definition shared by test/golden/outputs.test.ts (the check) and
 * test/golden/update.mjs (the generator of hashes.json). Plain Node ESM, no dependencies.
 *
 * What is hashed (SHA-256, hex):
 * - trajectory.csv column by column: sha256(`${name}\n` + cells.join('\n')), the cells exactly as
 *   written in the file. A later change may ADD a column (it is only noted) but any change of an
 *   existing column's bytes, or its removal, fails.
 * - final.npz as a whole file. Its bytes are deterministic: coflow writes a STORED zip with a
 *   fixed DOS timestamp (1980-01-01 00:00, src/io/zip.ts) and no extra fields, so the same arrays
 *   give the same file (two runs of each command, seconds apart, gave identical files).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = join(ROOT, 'dist/src/cli/main.js');
export const HASHES_FILE = fileURLToPath(new URL('./hashes.json', import.meta.url));
/** The Node major the hashes in hashes.json were made with (V8's fdlibm Math.exp/log are pinned to it). */
export const GOLDEN_NODE_MAJOR = 20;
export const REGENERATE = 'numbers changed: if intended, regenerate with `node test/golden/update.mjs` and explain in the commit';

/** Stands for the output directory in a stored command. */
export const OUT = 'DIR';

/**
 * The four reference runs, each as a user types it (`coflow ...`), with `--out DIR` replaced by
 * a fresh directory. `start` says which starting state each run uses.
 */
export const RUNS = [
  {
    name: 'paper-fig1',
    start: '--init gaussian (preset default): Kaiming-scaled Gaussian weights, seed 0; full model, GD lr 0.01 x 30,000 steps',
    command: ['run', '--preset', 'paper-fig1', '--out', OUT, '--no-plots', '--quiet'],
  },
  {
    name: 'theory-full',
    start: '--init gaussian (preset default): theory-scaled Gaussian weights, seed 0; Level F, dopri5 to t = 1000',
    command: ['run', '--preset', 'theory', '--level', 'full', '--out', OUT, '--no-plots', '--quiet'],
  },
  {
    name: 'theory-gram',
    start: '--init gaussian (preset default): the Gram lift of the same Gaussian weights as theory-full; Level G, dopri5 to t = 1000',
    command: ['run', '--preset', 'theory', '--level', 'gram', '--out', OUT, '--no-plots', '--quiet'],
  },
  {
    name: 'theory-type',
    // The preset's default --init gaussian is refused at --level type ("use --init mean"): the
    // mean state is the only start Level T has, so it must be named.
    start: '--init mean (the only start at Level T; the preset default gaussian is refused): Level T, dopri5 to t = 1000',
    command: ['run', '--preset', 'theory', '--level', 'type', '--init', 'mean', '--out', OUT, '--no-plots', '--quiet'],
  },
];

/** The run's arguments with `--out` pointing at `dir`. */
export function argsFor(run, dir) {
  return run.command.map((a) => (a === OUT ? dir : a));
}

/** `node CLI ...args` as a child process (not blocking the event loop, so runs can overlap). */
export function runCli(args, cli = CLI) {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, ms: performance.now() - started }));
  });
}

/**
 * Runs every RUN into `${baseDir}/${name}`, at most `lanes` at a time in RUNS order (paper-fig1,
 * the long one, first; the three short theory runs then share the other lane), so two cores are
 * kept busy without four processes competing for them. Resolves to {name: {dir, result}}; throws
 * (naming the run and its stderr) if any run fails.
 */
export async function runAll(baseDir, { cli = CLI, lanes = 2 } = {}) {
  const results = {};
  let next = 0;
  const lane = async () => {
    while (next < RUNS.length) {
      const run = RUNS[next++];
      const dir = join(baseDir, run.name);
      results[run.name] = { dir, result: await runCli(argsFor(run, dir), cli) };
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  for (const run of RUNS) {
    const { result } = results[run.name];
    if (result.code !== 0) {
      throw new Error(`golden run ${run.name} (coflow ${run.command.join(' ')}) exited with ${result.code ?? result.signal}:\n${result.stderr}`);
    }
  }
  return results;
}

const sha256 = (data) => createHash('sha256').update(data).digest('hex');

/**
 * trajectory.csv as {name: cells[]} with the cells' texts exactly as written. coflow writes it
 * with Trajectory.toCsv (src/analysis/trajectory.ts): a header of names, then rows of
 * formatNumber cells (String(x), nan, inf, -inf), joined by ',' and '\n', ending in '\n'; no
 * quoting, no commas inside cells. Those assumptions are checked here, not trusted.
 */
export function parseCsvColumns(text, label = 'trajectory.csv') {
  if (text.includes('\r')) throw new Error(`${label}: contains '\\r' (expected '\\n' line ends only)`);
  if (text.includes('"')) throw new Error(`${label}: contains '"' (expected unquoted cells)`);
  if (!text.endsWith('\n')) throw new Error(`${label}: does not end with a newline`);
  const lines = text.slice(0, -1).split('\n');
  const names = lines[0].split(',');
  if (new Set(names).size !== names.length) throw new Error(`${label}: repeated column names in the header`);
  if (names.some((n) => n === '')) throw new Error(`${label}: empty column name in the header`);
  if (lines.length < 2) throw new Error(`${label}: no data rows`);
  const cells = names.map(() => []);
  for (let i = 1; i < lines.length; i++) {
    const fields = lines[i].split(',');
    if (fields.length !== names.length) {
      throw new Error(`${label}: line ${i + 1} has ${fields.length} fields, the header has ${names.length}`);
    }
    fields.forEach((f, j) => cells[j].push(f));
  }
  return Object.fromEntries(names.map((n, j) => [n, cells[j]]));
}

/** sha256 of `${name}\n` + the column's cells joined by '\n'. */
export function hashColumn(name, cells) {
  return sha256(`${name}\n${cells.join('\n')}`);
}

/** The hashes of one run directory: {"final.npz": hex, columns: {name: hex}}. */
export function hashRunDir(dir) {
  const columns = parseCsvColumns(readFileSync(join(dir, 'trajectory.csv'), 'utf8'), join(dir, 'trajectory.csv'));
  return {
    'final.npz': sha256(readFileSync(join(dir, 'final.npz'))),
    columns: Object.fromEntries(Object.entries(columns).map(([name, cells]) => [name, hashColumn(name, cells)])),
  };
}

/**
 * Compares a run's hashes with its golden ones.
 * failures: [{run, item, message}] with item 'final.npz', 'column <name>' (changed) or
 * 'missing column <name>'; added: names of columns the golden file does not have (not failures).
 */
export function compareHashes(run, golden, actual) {
  const failures = [];
  if (golden['final.npz'] !== actual['final.npz']) {
    failures.push({
      run,
      item: 'final.npz',
      message: `${run}: final.npz changed (sha256 golden ${golden['final.npz']}, now ${actual['final.npz']}); ${REGENERATE}`,
    });
  }
  for (const [name, hash] of Object.entries(golden.columns)) {
    if (!(name in actual.columns)) {
      failures.push({ run, item: `missing column ${name}`, message: `${run}: trajectory.csv column '${name}' is missing (it has a golden hash); ${REGENERATE}` });
    } else if (actual.columns[name] !== hash) {
      failures.push({
        run,
        item: `column ${name}`,
        message: `${run}: trajectory.csv column '${name}' changed (sha256 golden ${hash}, now ${actual.columns[name]}); ${REGENERATE}`,
      });
    }
  }
  const added = Object.keys(actual.columns).filter((name) => !(name in golden.columns));
  return { failures, added };
}

/** The content of hashes.json for runs done by runAll. */
export function goldenFile(done) {
  return Object.fromEntries(RUNS.map((run) => [run.name, { command: run.command, ...hashRunDir(done[run.name].dir) }]));
}

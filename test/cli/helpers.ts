/** Running the built `coflow` as a user would: synchronously, or as a child to signal or kill. */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CLI = join(process.cwd(), 'dist/src/cli/main.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** `coflow ARGS` to completion, with its wall time in ms (Node's start-up included). */
export function coflow(args: string[], cwd?: string): CliResult & { ms: number } {
  const started = performance.now();
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - started };
}

export function tmp(prefix = 'coflow-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A running coflow process and a promise of its result. */
export function coflowChild(args: string[]): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (b) => (stdout += b));
  child.stderr!.on('data', (b) => {
    stderr += b;
    stderrSoFar.set(child, stderr);
  });
  const done = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

const stderrSoFar = new WeakMap<ChildProcess, string>();

/** What a running child has written to stderr so far. */
export function stderrOf(child: ChildProcess): string {
  return stderrSoFar.get(child) ?? '';
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `path` exists (the run has written it), at most `timeoutMs`. */
export async function waitFor(path: string, timeoutMs = 20_000): Promise<void> {
  const t0 = Date.now();
  while (!existsSync(path)) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${path}`);
    await sleep(5);
  }
}

/** The outputs that must be byte-identical between two runs of the same config (timing.json holds wall time). */
export const DETERMINISTIC_OUTPUTS = ['config.json', 'data.npz', 'initial.npz', 'final.npz', 'trajectory.csv', 'summary.json'];

/** Names of the files of `a` and `b` (among DETERMINISTIC_OUTPUTS) whose bytes differ. */
export function differingOutputs(a: string, b: string): string[] {
  return DETERMINISTIC_OUTPUTS.filter((f) => !existsSync(join(a, f)) || !existsSync(join(b, f)) || !readFileSync(join(a, f)).equals(readFileSync(join(b, f))));
}

/** Leftovers a finished run must not have: temp files, checkpoints, its lock. */
export function leftovers(dir: string): string[] {
  const names = readdirSync(dir);
  const sub = existsSync(join(dir, 'snapshots')) ? readdirSync(join(dir, 'snapshots')).map((f) => `snapshots/${f}`) : [];
  return [...names, ...sub].filter((f) => /\.tmp-\d+$/.test(f) || /^checkpoint\./.test(f) || f === 'run.lock');
}

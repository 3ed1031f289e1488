/** Types of golden.mjs (plain ESM so that update.mjs runs with node alone). */
export interface Run {
  name: string;
  /** which starting state the run uses */
  start: string;
  /** the arguments after `coflow`, with OUT standing for the output directory */
  command: string[];
}
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}
export interface Hashes {
  'final.npz': string;
  columns: Record<string, string>;
}
export interface Failure {
  run: string;
  /** 'final.npz', 'column <name>' or 'missing column <name>' */
  item: string;
  message: string;
}
export const ROOT: string;
export const CLI: string;
export const HASHES_FILE: string;
export const GOLDEN_NODE_MAJOR: number;
export const REGENERATE: string;
export const OUT: string;
export const RUNS: Run[];
export function argsFor(run: Run, dir: string): string[];
export function runCli(args: string[], cli?: string): Promise<CliResult>;
export function runAll(baseDir: string, options?: { cli?: string; lanes?: number }): Promise<Record<string, { dir: string; result: CliResult }>>;
export function parseCsvColumns(text: string, label?: string): Record<string, string[]>;
export function hashColumn(name: string, cells: string[]): string;
export function hashRunDir(dir: string): Hashes;
export function compareHashes(run: string, golden: Hashes, actual: Hashes): { failures: Failure[]; added: string[] };
export function goldenFile(done: Record<string, { dir: string }>): Record<string, Hashes & { command: string[] }>;

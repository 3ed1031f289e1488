/**
 * `coflow report RUN_DIR [RUN_DIR ...] [--out FILE.html]` and `coflow report SWEEP_DIR`: gathers
 * what the report shows (the claims, checked now by the code of `coflow check`; the figures,
 * rendered now by the code of `coflow plot`; the derivations, generated now by the code of
 * `coflow derive`) and writes the pages (src/report/). Every input is read and every page built
 * in memory before the first file is written, so bad input exits 2 with nothing written.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { checkRun } from '../claims/claims.js';
import { UsageError } from '../errors.js';
import { makeDirectory, writeBytesAtomic } from '../io/atomic.js';
import { FIGURE_NAMES } from '../plot/figures.js';
import { combinedPage, runPage, sweepPage, type Rendered, type ReportSweep, type RunLink } from '../report/pages.js';
import { derivationsForLevel, verdictLine, type ReportRun } from '../report/run.js';
import { renderRunFigures } from './plot.js';

/** The page each run gets in a combined report, inside its own directory. */
export const RUN_PAGE = 'report.html';

/** A file to write: path and text. */
interface Page {
  path: string;
  text: string;
}

export interface ReportResult {
  /** the main page */
  out: string;
  /** every file written, in order */
  written: string[];
  /** one summary line per run: "name: N passed, N failed, ..." (empty for a sweep) */
  summary: string[];
  /** display equations in the main page */
  displayMath: number;
}

function isDir(p: string): boolean {
  return existsSync(p) && statSync(p).isDirectory();
}

/** A sweep directory holds sweep.json and results.jsonl (coflow sweep, docs/sweeps.md). */
export function isSweepDir(dir: string): boolean {
  return existsSync(join(dir, 'sweep.json')) && existsSync(join(dir, 'results.jsonl'));
}

function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`report: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new UsageError(`report: ${path} is not valid JSON (${(e as Error).message.split('\n')[0]}); restore it or rerun the command that wrote it`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Derivation documents by file name (model.md, ...), generated once per report. */
let derivationCache: Map<string, string> | undefined;
async function derivationDocs(): Promise<Map<string, string>> {
  if (!derivationCache) {
    // Loaded here, not at the top: the symbolic stage (mathjs) costs most of a second to load,
    // and a refused input should be refused at once.
    const { derivedFiles } = await import('./derive.js');
    derivationCache = new Map();
    for (const [rel, text] of derivedFiles()) if (rel.startsWith('derivations/')) derivationCache.set(rel.slice('derivations/'.length), text);
  }
  return derivationCache;
}

/** Reads, checks and draws one run: everything its section shows. */
export async function gatherRun(dir: string): Promise<ReportRun> {
  // checkRun validates config.json, trajectory.csv, summary.json and data.npz (UsageError on each problem).
  const check = checkRun(dir);
  const config = readJsonFile(join(dir, 'config.json')) as ReportRun['config'];
  const summary = readJsonFile(join(dir, 'summary.json')) as ReportRun['summary'];
  const timingPath = join(dir, 'timing.json');
  const timingJson = existsSync(timingPath) ? readJsonFile(timingPath) : null;
  const timing = isObject(timingJson) ? (timingJson as ReportRun['timing']) : null;
  let figures = new Map<string, string>();
  let noFigures: string | undefined;
  try {
    for (const [name, fig] of await renderRunFigures(dir, 'report')) figures.set(name, fig.svg);
  } catch (e) {
    // A run stopped at t = 0 has nothing to draw on a log time axis; its claims are still reported.
    if (!(e instanceof UsageError) || !/no row after t = 0/.test(e.message)) throw e;
    figures = new Map();
    noFigures = 'the trajectory has no row after t = 0';
  }
  const docs = await derivationDocs();
  const derivations = new Map<string, string>();
  for (const f of derivationsForLevel(String(config.settings.level))) {
    const text = docs.get(f);
    if (text !== undefined) derivations.set(f, text);
  }
  return { dir, name: basename(resolve(dir)), config, summary, timing, check, figures, noFigures, derivations };
}

/** The figure files a run directory holds (for report.md's links). */
function figureFilesOf(dir: string): string[] {
  return FIGURE_NAMES.filter((n) => existsSync(join(dir, 'figures', `${n}.svg`)));
}

/** Path from the directory of `fromFile` to `to`, with forward slashes (a link in HTML or Markdown). */
function link(fromFile: string, to: string): string {
  const r = relative(dirname(resolve(fromFile)), resolve(to)).split('\\').join('/');
  return r === '' ? '.' : r;
}

/** report.md beside FILE.html: same directory, same base name. */
export function markdownPathOf(out: string): string {
  return join(dirname(out), `${basename(out, extname(out))}.md`);
}

function gatherSweep(dir: string): ReportSweep {
  const meta = readJsonFile(join(dir, 'sweep.json'));
  const fitsPath = join(dir, 'fits.json');
  const fits = existsSync(fitsPath) ? readJsonFile(fitsPath) : {};
  if (!isObject(fits)) throw new UsageError(`report: ${fitsPath} is not a JSON object; rerun coflow sweep to rewrite it`);
  const rows: Record<string, unknown>[] = [];
  const jsonl = readFileSync(join(dir, 'results.jsonl'), 'utf8').split('\n');
  jsonl.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      rows.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      throw new UsageError(`report: ${join(dir, 'results.jsonl')} line ${i + 1} is not valid JSON; rerun coflow sweep (or --merge) to rewrite it`);
    }
  });
  const figures = new Map<string, string>();
  for (const f of readdirSync(dir).filter((x) => /^fit_.*\.svg$/.test(x)).sort()) figures.set(f.slice(0, -4), readFileSync(join(dir, f), 'utf8'));
  return {
    dir,
    name: basename(resolve(dir)),
    spec: isObject(meta) ? meta.spec : meta,
    fits: fits as ReportSweep['fits'],
    figures,
    rows,
  };
}

/**
 * Builds every page in memory and returns them with the main page's path. `out` is FILE.html;
 * without it a single run or sweep directory gets DIR/report.html.
 */
export async function buildReport(dirs: readonly string[], out: string | undefined): Promise<{ pages: Page[]; result: Omit<ReportResult, 'written'> }> {
  if (dirs.length === 0) throw new UsageError('report: give at least one run directory (the --out of coflow run) or one sweep directory');
  for (const d of dirs) if (!isDir(d)) throw new UsageError(`report ${d}: no such directory; give the --out directory of a coflow run or sweep`);
  if (new Set(dirs.map((d) => resolve(d))).size !== dirs.length) throw new UsageError('report: a directory is given twice; give each run once');
  if (out !== undefined && extname(out).toLowerCase() !== '.html') throw new UsageError(`--out ${out} must name an .html file (e.g. runs/report.html); report.md is written beside it`);
  if (out !== undefined && isDir(out)) throw new UsageError(`--out ${out} is a directory; give a file name ending in .html`);
  const sweeps = dirs.filter(isSweepDir);
  if (sweeps.length > 0 && dirs.length > 1) throw new UsageError(`report: ${sweeps[0]} is a sweep directory; report one sweep on its own, or run directories together`);
  if (out === undefined && dirs.length > 1) throw new UsageError('report: --out FILE.html is needed with several run directories (e.g. --out runs/report.html)');
  const main = out ?? join(dirs[0], 'report.html');

  if (sweeps.length === 1) {
    const s = gatherSweep(dirs[0]);
    const r = sweepPage(s, link(main, dirs[0]));
    return { pages: pagesOf(main, r), result: { out: main, summary: [], displayMath: 0 } };
  }

  if (dirs.length > 1) {
    for (const d of dirs) {
      if (resolve(d, RUN_PAGE) === resolve(main)) throw new UsageError(`--out ${out} is where ${d}'s own page goes; choose another file (e.g. next to the run directories)`);
    }
  }
  const runs: ReportRun[] = [];
  for (const d of dirs) runs.push(await gatherRun(d));
  const summary = runs.map((r) => `${r.name}: ${verdictLine(r.check)}`);
  if (runs.length === 1) {
    const r = runPage(runs[0], link(main, dirs[0]), figureFilesOf(dirs[0]));
    return { pages: pagesOf(main, r), result: { out: main, summary, displayMath: r.displayMath } };
  }
  const pages: Page[] = [];
  const links: RunLink[] = [];
  for (const run of runs) {
    const own = join(run.dir, RUN_PAGE);
    pages.push(...pagesOf(own, runPage(run, '.', figureFilesOf(run.dir))));
    links.push({ run, href: link(main, own), relDir: link(main, run.dir), figureFiles: figureFilesOf(run.dir) });
  }
  const c = combinedPage(links);
  return { pages: [...pagesOf(main, c), ...pages], result: { out: main, summary, displayMath: c.displayMath } };
}

function pagesOf(html: string, r: Rendered): Page[] {
  return [
    { path: html, text: r.html },
    { path: markdownPathOf(html), text: r.md },
  ];
}

/** `coflow report`: builds the pages, writes each atomically, prints (unless `quiet`) the per-run summary and `report: PATH` last. */
export async function reportCommand(dirs: readonly string[], out: string | undefined, quiet = false): Promise<ReportResult> {
  const { pages, result } = await buildReport(dirs, out);
  makeDirectory(dirname(result.out), out !== undefined ? '--out' : 'report');
  const enc = new TextEncoder();
  const written: string[] = [];
  for (const p of pages) {
    writeBytesAtomic(p.path, enc.encode(p.text));
    written.push(p.path);
  }
  if (!quiet) {
    for (const p of written.slice(1)) process.stdout.write(`wrote ${p}\n`);
    for (const line of result.summary) process.stdout.write(`${line}\n`);
    process.stdout.write(`report: ${result.out}\n`);
  }
  return { ...result, written };
}

import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { formatNumber } from '../analysis/trajectory.js';
import { readRunDir } from '../claims/runDir.js';
import { Comparison, CompareRun, compareRuns, DEPARTURE_THRESHOLDS, departureTimes, EXCLUDED_COLUMNS, PairResult } from '../compare/compare.js';
import { compareFigure } from '../compare/figure.js';
import { UsageError } from '../errors.js';
import { makeDirectory, writeBytesAtomic } from '../io/atomic.js';
import { writeFigure } from '../plot/render.js';

/** Files `coflow compare` writes into --out. */
export const COMPARE_FILES = ['compare.csv', 'compare.json', 'compare.svg', 'compare.png'];

export interface CompareOptions {
  out: string;
  force: boolean;
  quiet?: boolean;
}

function readCompareRun(dir: string): CompareRun {
  const run = readRunDir(dir, 'compare');
  // readRunDir has validated config.json; the comparison also reports seed, method, tEnd, lr.
  const settings = (JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { settings: Record<string, unknown> }).settings;
  return {
    dir,
    level: run.settings.level,
    method: run.settings.method,
    init: run.settings.init,
    settings,
    columns: run.columns,
    columnNames: run.columnNames,
    rows: run.rows,
    data: run.data,
    T1: run.summary.events.find((e) => e.name === 'all-correct')?.t ?? null,
  };
}

/** A finite number as itself; NaN and infinities as null (JSON has no such numbers). */
function jsonNumber(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

function record(m: Map<string, number>): Record<string, number | null> {
  const o: Record<string, number | null> = {};
  for (const [k, v] of m) o[k] = jsonNumber(v);
  return o;
}

function departureRecord(d: Map<number, number | null>): Record<string, number | null> {
  return Object.fromEntries([...d].map(([thr, t]) => [String(thr), t]));
}

export function comparisonJson(c: Comparison): string {
  const json = {
    runs: c.runs.map((r) => ({
      dir: r.dir,
      level: r.level,
      method: r.method,
      init: r.init,
      preset: r.settings.preset ?? null,
      seed: r.settings.seed ?? null,
      rows: r.rows,
      T1: r.T1,
    })),
    columns: c.columns,
    excluded: EXCLUDED_COLUMNS.filter((x) => x !== 't' && x !== 'step'),
    pairs: c.pairs.map((p) => ({
      a: p.a,
      b: p.b,
      aligned_on: p.alignment.on,
      common_rows: p.t.length,
      t_last: p.t[p.t.length - 1],
      max_rel_all: jsonNumber(p.maxRelAll),
      worst_column: p.worstColumn,
      departure: departureRecord(p.departure),
      by_family: Object.fromEntries(
        [...p.familyRowMaxRel].map(([fam, rel]) => [fam, { max_rel: jsonNumber(Math.max(...rel)), departure: departureRecord(departureTimes(p.t, rel)) }]),
      ),
      max_abs: record(p.maxAbs),
      max_rel: record(p.maxRel),
      scale: record(p.scale),
    })),
  };
  return JSON.stringify(json, null, 2) + '\n';
}

/** One row per (pair, common time): the signed deviation x_b - x_a of every compared column. */
export function comparisonCsv(c: Comparison): string {
  const lines = [['a', 'b', 't', 'step', 'max_rel', ...c.columns].join(',')];
  for (const p of c.pairs) {
    for (let r = 0; r < p.t.length; r++) {
      const cells = [String(p.a), String(p.b), formatNumber(p.t[r]), p.step ? formatNumber(p.step[r]) : '', formatNumber(p.rowMaxRel[r])];
      for (const col of c.columns) cells.push(formatNumber(p.diff.get(col)![r]));
      lines.push(cells.join(','));
    }
  }
  return lines.join('\n') + '\n';
}

function describe(r: CompareRun): string {
  return `${r.level}/${r.method}/${r.init}`;
}

export function comparisonText(c: Comparison): string {
  const lines: string[] = [];
  c.runs.forEach((r, i) => lines.push(`run ${i}: ${describe(r)}  ${r.dir}  (${r.rows} rows)`));
  lines.push(`compared ${c.columns.length} columns (drift columns left out: each is its own run's integration error)`);
  for (const p of c.pairs) lines.push(pairLine(c, p));
  return lines.join('\n') + '\n';
}

function pairLine(c: Comparison, p: PairResult): string {
  const dep = DEPARTURE_THRESHOLDS.filter((thr) => p.departure.get(thr) !== null)
    .map((thr) => `>${thr} from t = ${formatNumber(p.departure.get(thr)!)}`)
    .join(', ');
  return (
    `pair ${p.a}-${p.b} (${describe(c.runs[p.a])} vs ${describe(c.runs[p.b])}): ${p.t.length} common ${p.alignment.on === 'step' ? 'steps' : 'times'}, ` +
    `max relative deviation ${p.maxRelAll.toExponential(3)} (${p.worstColumn})` +
    (dep ? `; ${dep}` : '')
  );
}

/**
 * `coflow compare RUN_A RUN_B ... --out DIR`: reads the runs, refuses runs that do not share a
 * start, and writes compare.csv, compare.json and the overlay figure compare.svg / compare.png.
 * Everything is read and checked before the first file is written.
 */
export async function compareCommand(dirs: string[], o: CompareOptions): Promise<void> {
  const runs = dirs.map(readCompareRun);
  const comparison = compareRuns(runs);
  if (existsSync(o.out) && !statSync(o.out).isDirectory()) throw new UsageError(`compare --out ${o.out} is a file, not a directory; give a directory`);
  if (existsSync(join(o.out, 'compare.json')) && !o.force) {
    throw new UsageError(`compare --out ${o.out} already holds a comparison (compare.json); give another --out, or --force to replace it`);
  }
  if (!existsSync(o.out)) makeDirectory(o.out, '--out');
  const enc = new TextEncoder();
  writeBytesAtomic(join(o.out, 'compare.csv'), enc.encode(comparisonCsv(comparison)));
  writeBytesAtomic(join(o.out, 'compare.json'), enc.encode(comparisonJson(comparison)));
  await writeFigure(o.out, 'compare', compareFigure(comparison));
  if (!o.quiet) process.stdout.write(comparisonText(comparison) + `wrote ${COMPARE_FILES.map((f) => join(o.out, f)).join(', ')}\n`);
}

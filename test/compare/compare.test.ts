/**
 * `coflow compare` through the built CLI. The oracle of every number in compare.json and
 * compare.csv is this file's own reading of the two trajectory.csv files (a plain CSV parse and
 * the deviation definitions of docs/compare.md written out again here), not the comparison code.
 */
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { coflow, tmp } from '../cli/helpers.js';

interface Csv {
  names: string[];
  col: Record<string, number[]>;
}

function readCsv(path: string): Csv {
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  const names = lines[0].split(',');
  const col: Record<string, number[]> = {};
  for (const n of names) col[n] = [];
  for (const line of lines.slice(1)) {
    line.split(',').forEach((cell, i) => col[names[i]].push(cell === 'nan' ? NaN : cell === '' ? NaN : Number(cell)));
  }
  return { names, col };
}

/** The families of docs/compare.md, written out again: name -> columns test, and floors. */
function family(c: string): [string, number] {
  if (/^(loss|loss_I\d|test_loss)$/.test(c)) return ['loss', 0];
  if (/^(G[123]|Gfiller_max|fillerF_I\d|minMargin|margin_I\d|maxAbsF)$/.test(c)) return ['G', 0];
  if (/^dG[123]$/.test(c)) return ['dG', 0];
  if (/^sumg_I\d$/.test(c)) return ['sumg', 0];
  if (/^(score_k\d_q\d|move_S_\w+)$/.test(c)) return ['S', 0];
  if (/^C\d\d$/.test(c)) return ['C', 0];
  if (/^(balance44|R45|lemma43_max|lemma43_sum|test_error)$/.test(c)) return ['ratio', 1];
  if (/^attn_dev_\w+$/.test(c)) return ['attn', 1];
  return [c, 0];
}

/** max_abs and max_rel of every shared column, from the two files, on rows with equal `key`. */
function expectedDeviations(a: Csv, b: Csv, key: 'step' | 't') {
  const rowsA: number[] = [];
  const rowsB: number[] = [];
  const index = new Map<number, number>();
  b.col[key].forEach((x, j) => {
    if (!index.has(x)) index.set(x, j);
  });
  const seen = new Set<number>();
  a.col[key].forEach((x, i) => {
    if (index.has(x) && !seen.has(x)) {
      seen.add(x);
      rowsA.push(i);
      rowsB.push(index.get(x)!);
    }
  });
  const shared = a.names.filter((n) => !['t', 'step', 'drift_QK', 'drift_VW'].includes(n) && b.names.includes(n));
  const famScale = new Map<string, number>();
  for (const c of shared) {
    const [f, floor] = family(c);
    let s = famScale.get(f) ?? floor;
    rowsA.forEach((i, r) => (s = Math.max(s, Math.abs(a.col[c][i]), Math.abs(b.col[c][rowsB[r]]))));
    famScale.set(f, s);
  }
  const maxAbs: Record<string, number> = {};
  const maxRel: Record<string, number> = {};
  for (const c of shared) {
    let m = 0;
    rowsA.forEach((i, r) => (m = Math.max(m, Math.abs(b.col[c][rowsB[r]] - a.col[c][i]))));
    maxAbs[c] = m;
    maxRel[c] = m === 0 ? 0 : m / famScale.get(family(c)[0])!;
  }
  return { rowsA, rowsB, shared, maxAbs, maxRel };
}

function readJson(path: string) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

function pngSize(path: string): [number, number] {
  const b = readFileSync(path);
  return [b.readUInt32BE(16), b.readUInt32BE(20)];
}

describe('coflow compare: Level F vs Level G, GD, paper-fig1, 3,000 steps', () => {
  const root = tmp();
  const F = join(root, 'F');
  const G = join(root, 'G');
  const out = join(root, 'cmp');
  beforeAll(() => {
    for (const [dir, level] of [[F, 'full'], [G, 'gram']]) {
      const r = coflow(['run', '--preset', 'paper-fig1', '--steps', '3000', '--level', level, '--out', dir, '--quiet', '--no-plots']);
      expect(r.code, r.stderr).toBe(0);
    }
  }, 120_000);

  it('reports a max relative deviation <= 1e-9 that equals what the two trajectory.csv files give', () => {
    const r = coflow(['compare', F, G, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const json = readJson(join(out, 'compare.json'));
    const pair = json.pairs[0];
    expect(pair.a).toBe(0);
    expect(pair.b).toBe(1);
    expect(pair.aligned_on).toBe('step');
    const ref = expectedDeviations(readCsv(join(F, 'trajectory.csv')), readCsv(join(G, 'trajectory.csv')), 'step');
    expect(pair.common_rows).toBe(ref.rowsA.length);
    expect(ref.rowsA.length).toBeGreaterThan(100);
    expect(Object.keys(pair.max_abs).sort()).toEqual([...ref.shared].sort());
    for (const c of ref.shared) {
      expect(pair.max_abs[c], c).toBe(ref.maxAbs[c]);
      expect(pair.max_rel[c], c).toBeCloseTo(ref.maxRel[c], 20);
      expect(Math.abs(pair.max_rel[c] - ref.maxRel[c])).toBeLessThanOrEqual(1e-15 * ref.maxRel[c]);
    }
    const worst = Math.max(...Object.values(ref.maxRel));
    expect(pair.max_rel_all).toBe(worst);
    expect(worst).toBeLessThanOrEqual(1e-9);
    // the two levels are not trivially equal: the deviation is round-off, not zero
    expect(worst).toBeGreaterThan(0);
    // and the stdout summary says the same number
    expect(r.stdout).toContain(`max relative deviation ${worst.toExponential(3)}`);
  });

  it('compare.csv holds x_b - x_a of every shared column at every common step', () => {
    const csv = readCsv(join(out, 'compare.csv'));
    const a = readCsv(join(F, 'trajectory.csv'));
    const b = readCsv(join(G, 'trajectory.csv'));
    const ref = expectedDeviations(a, b, 'step');
    expect(csv.col.a.length).toBe(ref.rowsA.length);
    for (const c of ref.shared) {
      ref.rowsA.forEach((i, r) => {
        const u = a.col[c][i];
        const v = b.col[c][ref.rowsB[r]];
        expect(csv.col[c][r], `${c} row ${r}`).toBe(u === v ? 0 : v - u);
      });
    }
    ref.rowsA.forEach((i, r) => expect(csv.col.step[r]).toBe(a.col.step[i]));
  });

  it('negative control: a 1e-6 relative change in one value of run B shows up as that deviation', () => {
    const tampered = join(root, 'G-tampered');
    cpSync(G, tampered, { recursive: true });
    const path = join(tampered, 'trajectory.csv');
    const lines = readFileSync(path, 'utf8').split('\n');
    const names = lines[0].split(',');
    const gi = names.indexOf('G1');
    const cells = lines[50].split(',');
    cells[gi] = String(Number(cells[gi]) * (1 + 1e-6));
    lines[50] = cells.join(',');
    writeFileSync(path, lines.join('\n'));
    const out2 = join(root, 'cmp-tampered');
    expect(coflow(['compare', F, tampered, '--out', out2]).code).toBe(0);
    const pair = readJson(join(out2, 'compare.json')).pairs[0];
    const ref = expectedDeviations(readCsv(join(F, 'trajectory.csv')), readCsv(path), 'step');
    expect(pair.max_abs.G1).toBe(ref.maxAbs.G1);
    expect(pair.max_rel_all).toBeGreaterThan(1e-8);
    expect(pair.worst_column).toBe('G1');
  });

  it('writes the overlay figure (SVG and a PNG of at least 1200 x 500) and refuses to overwrite without --force', () => {
    expect(readdirSync(out).sort()).toEqual(['compare.csv', 'compare.json', 'compare.png', 'compare.svg']);
    const [w, h] = pngSize(join(out, 'compare.png'));
    expect(w).toBeGreaterThanOrEqual(1200);
    expect(h).toBeGreaterThanOrEqual(500);
    expect(readFileSync(join(out, 'compare.svg'), 'utf8')).toContain('<svg');
    const before = readFileSync(join(out, 'compare.json'), 'utf8');
    const again = coflow(['compare', F, G, '--out', out]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already holds a comparison.*--force/);
    expect(coflow(['compare', F, G, '--out', out, '--force']).code).toBe(0);
    // deterministic: the same runs give the same bytes
    expect(readFileSync(join(out, 'compare.json'), 'utf8')).toBe(before);
  });
});

describe('coflow compare: Level G from the mean start vs Level T (flows, rtol 1e-10)', () => {
  it('agree to <= 1e-8 relative on every shared column, as the two trajectory.csv files give', () => {
    const root = tmp();
    const common = ['--preset', 'theory', '--init', 'mean', '--rtol', '1e-10', '--atol', '1e-14', '--quiet', '--no-plots'];
    expect(coflow(['run', ...common, '--level', 'gram', '--out', join(root, 'G')]).code).toBe(0);
    expect(coflow(['run', ...common, '--level', 'type', '--out', join(root, 'T')]).code).toBe(0);
    const r = coflow(['compare', join(root, 'G'), join(root, 'T'), '--out', join(root, 'cmp')]);
    expect(r.code, r.stderr).toBe(0);
    const pair = readJson(join(root, 'cmp', 'compare.json')).pairs[0];
    expect(pair.aligned_on).toBe('t');
    const ref = expectedDeviations(readCsv(join(root, 'G', 'trajectory.csv')), readCsv(join(root, 'T', 'trajectory.csv')), 't');
    expect(pair.common_rows).toBe(ref.rowsA.length);
    for (const c of ref.shared) expect(Math.abs(pair.max_rel[c] - ref.maxRel[c]), c).toBeLessThanOrEqual(1e-15 * Math.max(ref.maxRel[c], 1e-300));
    expect(pair.max_rel_all).toBeLessThanOrEqual(1e-8);
    expect(pair.max_rel_all).toBeGreaterThan(1e-13);
    // balance44 is exactly 0 at Level T (I2, I3 symmetric) and round-off at Level G: against its unit, not its round-off
    expect(pair.max_rel.balance44).toBeLessThan(1e-12);
  }, 60_000);
});

describe('coflow compare refuses what cannot be compared (exit 2, one line, nothing written)', () => {
  const root = tmp();
  const run = (name: string, extra: string[]) => {
    const r = coflow(['run', '--preset', 'theory', '--level', 'type', '--init', 'mean', '--t-end', '10', '--samples', '20', '--quiet', '--no-plots', '--out', join(root, name), ...extra]);
    expect(r.code, r.stderr).toBe(0);
    return join(root, name);
  };
  let base: string;
  beforeAll(() => {
    base = run('base', []);
  }, 60_000);

  const refused = (args: string[], pattern: RegExp) => {
    const out = join(root, `out-${Math.random().toString(36).slice(2)}`);
    const r = coflow(['compare', ...args, '--out', out]);
    expect(r.code, r.stdout).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(pattern);
    expect(existsSync(out)).toBe(false);
  };

  it('another start (other s0): names the column and the values at t = 0', () => {
    refused([base, run('s0', ['--s0', '0.05'])], /do not share a start: at t = 0, \w+ is/);
  });
  it('another width m', () => {
    refused([base, run('m', ['--m', '256'])], /has m = 256.*m = 128.*do not share a start/);
  });
  it('another data set (seed)', () => {
    refused([base, run('seed', ['--seed', '7'])], /another data set/);
  });
  it('no common recorded time after t = 0 (another --t-end)', () => {
    refused([base, run('tend', ['--t-end', '11'])], /share no recorded time after t = 0.*--t-end/);
  });
  it('a single run, and a directory that is not a run', () => {
    refused([base], /at least two run directories/);
    refused([base, root], /is missing|no such/);
  });
  it('negative control: the same settings from the same start are accepted, and deviate by exactly 0', () => {
    const twin = run('twin', []);
    const out = join(root, 'twin-cmp');
    expect(coflow(['compare', base, twin, '--out', out]).code).toBe(0);
    expect(readJson(join(out, 'compare.json')).pairs[0].max_rel_all).toBe(0);
  });
});

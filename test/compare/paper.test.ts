/**
 * Level P (the paper's approximate system) against the exact Level T from the mean start, through
 * `coflow compare`, as docs/levels.md states it: the deviation of G and of the losses is tiny well
 * before T1 (frozen attention costs almost nothing in Phase 1) and grows after T1 (Phase 2 drops
 * Eq. 4's value term). The oracle is this file's own reading of the two trajectory.csv files.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { coflow, tmp } from '../cli/helpers.js';

function readCsv(path: string): Record<string, number[]> {
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  const names = lines[0].split(',');
  const col: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (const line of lines.slice(1)) line.split(',').forEach((c, i) => col[names[i]].push(Number(c)));
  return col;
}

const G_FAMILY = ['G1', 'G2', 'G3', 'Gfiller_max', 'fillerF_I1', 'fillerF_I2', 'fillerF_I3', 'fillerF_I4', 'minMargin', 'margin_I1', 'margin_I2', 'margin_I3', 'margin_I4', 'maxAbsF'];
const LOSS_FAMILY = ['loss', 'loss_I1', 'loss_I2', 'loss_I3', 'loss_I4'];

/** max over rows with t in [lo, hi] and over the family of |b - a| / (the family's largest |value| over both runs) */
function familyDeviation(a: Record<string, number[]>, b: Record<string, number[]>, family: string[], lo: number, hi: number): number {
  let scale = 0;
  for (const c of family) for (let r = 0; r < a.t.length; r++) scale = Math.max(scale, Math.abs(a[c][r]), Math.abs(b[c][r]));
  let m = 0;
  for (const c of family) for (let r = 0; r < a.t.length; r++) if (a.t[r] >= lo && a.t[r] <= hi) m = Math.max(m, Math.abs(b[c][r] - a[c][r]) / scale);
  return m;
}

describe('Level P vs Level T (theory preset, mean start, rtol 1e-10)', () => {
  const root = tmp('coflow-paper-vs-type-');
  const common = ['--preset', 'theory', '--init', 'mean', '--rtol', '1e-10', '--atol', '1e-13', '--quiet', '--no-plots'];
  let T: Record<string, number[]>;
  let P: Record<string, number[]>;
  let T1: number;
  let json: { runs: Array<{ T1: number }>; pairs: Array<{ common_rows: number; by_family: Record<string, { max_rel: number; departure: Record<string, number | null> }> }> };
  beforeAll(() => {
    for (const level of ['type', 'paper']) {
      const r = coflow(['run', ...common, '--level', level, '--out', join(root, level)]);
      expect(r.code, r.stderr).toBe(0);
    }
    const r = coflow(['compare', join(root, 'type'), join(root, 'paper'), '--out', join(root, 'cmp')]);
    expect(r.code, r.stderr).toBe(0);
    T = readCsv(join(root, 'type', 'trajectory.csv'));
    P = readCsv(join(root, 'paper', 'trajectory.csv'));
    json = JSON.parse(readFileSync(join(root, 'cmp', 'compare.json'), 'utf8'));
    T1 = JSON.parse(readFileSync(join(root, 'type', 'summary.json'), 'utf8')).events.find((e: { name: string }) => e.name === 'all-correct').t;
  }, 60_000);

  it('shares every recorded time, and compare.json gives the families the trajectories give', () => {
    expect(T.t).toEqual(P.t);
    expect(json.pairs[0].common_rows).toBe(T.t.length);
    expect(json.runs[0].T1).toBe(T1);
    expect(json.pairs[0].by_family['G and outputs'].max_rel).toBe(familyDeviation(T, P, G_FAMILY, 0, Infinity));
    expect(json.pairs[0].by_family.loss.max_rel).toBe(familyDeviation(T, P, LOSS_FAMILY, 0, Infinity));
  });

  it('is tiny well before T1 (< 1e-7 on [0, T1/2]) and grows after T1 (> 1e-2 by the end)', () => {
    for (const fam of [G_FAMILY, LOSS_FAMILY]) {
      const early = familyDeviation(T, P, fam, 0, T1 / 2);
      const late = familyDeviation(T, P, fam, 0, Infinity);
      expect(early).toBeLessThan(1e-7);
      expect(early).toBeGreaterThan(0);
      expect(late).toBeGreaterThan(1e-2);
      expect(late).toBeLessThan(0.1);
    }
    // compare.json's departure times agree: past 1e-3 only after T1
    const dep = json.pairs[0].by_family['G and outputs'].departure;
    expect(dep['0.001']).toBeGreaterThan(T1);
    expect(dep['0.1']).toBeNull();
  });

  it('negative control: Level T against itself never departs, so the growth check above can fail', () => {
    expect(familyDeviation(T, T, G_FAMILY, 0, Infinity)).toBe(0);
  });
});

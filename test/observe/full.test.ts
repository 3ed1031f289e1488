/**
 * Level F columns against plain loops over Eq. 1 (test/observe/helpers.ts: plainRow), column by
 * column by name, for both filler modes, with and without a test set; dG is checked against a
 * central difference of G along the Level F field. Negative control: every column, scaled by
 * 1.001 in turn, is reported as a mismatch (no tolerance is vacuous).
 */
import { describe, expect, it } from 'vitest';
import { Dataset } from '../../src/data/dataset.js';
import { FillerMode, generateDataset, generateTestSet } from '../../src/data/generate.js';
import { initParams } from '../../src/model/init.js';
import { Observer } from '../../src/observe/derive.js';
import { FullDynamics } from '../../src/run/fullDynamics.js';
import { probeFor } from '../../src/run/probes.js';
import { axpy, compareRows, dGByDifference, fullTolerances, measure, norm, plainG, plainRow, rowObject, scaled, shifted, worstScaled } from './helpers.js';

interface Case {
  fillers: FillerMode;
  n: number;
  L: number;
  d: number;
  m: number;
  m1: number;
}

const CASES: Case[] = [
  { fillers: 'distinct', n: 12, L: 4, d: 40, m: 8, m1: 6 },
  { fillers: 'repeat', n: 12, L: 5, d: 10, m: 8, m1: 6 },
];

function setup(c: Case, withTest: boolean) {
  const data: Dataset = generateDataset({ n: c.n, L: c.L, d: c.d, seed: 3, fillers: c.fillers });
  const test = withTest ? generateTestSet({ n: 60, L: c.L, d: c.d, seed: 3 }) : undefined;
  // s0 = 0.5 makes the scores O(1) (attention far from uniform), so no column is trivially small.
  const p0 = initParams({ m: c.m, m1: c.m1, d: c.d, s0: 0.5, s1: 0.5, seed: 11 });
  const p1 = shifted(p0, initParams({ m: c.m, m1: c.m1, d: c.d, s0: 0.5, s1: 0.5, seed: 12 }), 0.4);
  const dyn = new FullDynamics(data, p0);
  const observer = new Observer(probeFor(dyn, test ? { data: test } : undefined), dyn.pack(p0), false);
  return { data, test, p0, p1, dyn, observer };
}

describe('Level F columns vs plain loops over Eq. 1', () => {
  for (const c of CASES) {
    for (const withTest of [false, true]) {
      it(`${c.fillers} fillers${withTest ? ', with a test set' : ''}: every column by name within its tolerance; each column x1.001 is caught`, () => {
        const { data, test, p0, p1, dyn, observer } = setup(c, withTest);
        const y1 = dyn.pack(p1);
        const drift: [number, number] = [3.5e-9, 7.25e-9];
        const got = rowObject(observer.columns, observer.row(1.5, null, y1, drift));
        const { row: ref, scale } = plainRow({ p: p1, p0, data, t: 1.5, drift, dG: dGByDifference(dyn, y1), test });
        const tol = fullTolerances(scale);
        expect(compareRows(got, ref, tol)).toEqual([]);
        measure(`full ${c.fillers} test=${withTest} worst |diff|/scale`, worstScaled(got, ref, scale));
        if (withTest) expect(Object.keys(got)).toEqual(expect.arrayContaining(['test_loss', 'test_error']));
        else expect(Object.keys(got).some((k) => k.startsWith('test_'))).toBe(false);
        // Not vacuous: no column is 0 or NaN here (so scaling it changes it), and the state moved.
        for (const [k, v] of Object.entries(ref)) expect(Number.isFinite(v) && v !== 0, k).toBe(true);
        // Negative control: one column off by 0.1% is reported, for every column.
        for (const col of Object.keys(got)) {
          const bad = compareRows(scaled(got, col, 1.001), ref, tol);
          expect(bad.map((b) => b.column), col).toEqual([col]);
        }
      });
    }
  }

  it('GD rows: the step column follows t; at the start state every movement column is exactly 0', () => {
    const { data, p0, dyn } = setup(CASES[0], false);
    const observer = new Observer(probeFor(dyn), dyn.pack(p0), true);
    expect(observer.columns.slice(0, 3)).toEqual(['t', 'step', 'loss']);
    const got = rowObject(observer.columns, observer.row(0.07, 7, dyn.pack(p0), [0, 0]));
    const { row: ref, scale } = plainRow({ p: p0, p0, data, t: 0.07, step: 7, drift: [0, 0], dG: dGByDifference(dyn, dyn.pack(p0)) });
    const tol = fullTolerances(scale);
    expect(compareRows(got, ref, tol)).toEqual([]);
    for (const k of ['move_A', 'move_B', 'move_C', 'move_S_tt', 'move_S_sf', 'move_S_ff', 'attn_dev_init']) expect(got[k], k).toBe(0);
    expect(compareRows(scaled(got, 'step', 1.001), ref, tol).map((b) => b.column)).toEqual(['step']);
  });

  it('negative control for the dG oracle: the same difference quotient along a field 1% too large disagrees', () => {
    const { p1, dyn, observer } = setup(CASES[0], false);
    const y1 = dyn.pack(p1);
    const got = rowObject(observer.columns, observer.row(1, null, y1, [0, 0]));
    const dG = dGByDifference(dyn, y1);
    const rel = Math.max(...[0, 1, 2].map((i) => Math.abs(got[`dG${i + 1}`] - dG[i]) / Math.abs(dG[i])));
    expect(rel).toBeLessThan(1e-12);
    // A field 1% too large (as a wrong time scale in dG would be) is seen: since G is quadratic the
    // quotient is exact for any step, so the only difference is the 1%.
    const f = new Float64Array(dyn.size);
    dyn.field(0, y1, f);
    const h = norm(y1) / norm(f);
    const gp = plainG(dyn.toParams(axpy(y1, 1.01 * h, f)));
    const gm = plainG(dyn.toParams(axpy(y1, -1.01 * h, f)));
    const wrong = [0, 1, 2].map((i) => (gp[i] - gm[i]) / (2 * h));
    expect(Math.abs(got.dG1 - wrong[0]) / Math.abs(wrong[0])).toBeGreaterThan(5e-3);
  });
});

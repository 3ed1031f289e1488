/** The family scales of docs/compare.md on synthetic runs whose deviations are known exactly. */
import { describe, expect, it } from 'vitest';
import { compareRuns, CompareRun, familyOf } from '../../src/compare/compare.js';

function run(cols: Record<string, number[]>): CompareRun {
  const columns = new Map(Object.entries(cols).map(([k, v]) => [k, Float64Array.from(v)]));
  const rows = cols.t.length;
  return {
    dir: 'synthetic',
    level: 'type',
    method: 'dopri5',
    init: 'mean',
    settings: { n: 6, L: 3, d: 9, m: 4, m1: 2 },
    columns,
    columnNames: Object.keys(cols),
    rows,
    data: { n: 6, L: 3, d: 9, tokens: new Int32Array(18), y: new Float64Array(6), type: new Int32Array(6) },
    T1: null,
  };
}

describe('relative deviations are measured against the family scale', () => {
  it('G3 from 0 is measured against the size of G1..G3; balance44 round-off against 1', () => {
    const t = [0, 1, 2];
    const a = run({ t, G1: [0, 5, 10], G3: [0, 0, 0], balance44: [0, 0, 0] });
    const b = run({ t, G1: [0, 5, 10], G3: [0, 1e-6, 0], balance44: [0, 4e-15, 0] });
    const p = compareRuns([a, b]).pairs[0];
    expect(p.maxRel.get('G3')).toBe(1e-6 / 10);
    expect(p.maxRel.get('balance44')).toBe(4e-15);
    // negative control: with no ratio in the run above 1e-15, its own scale would give 1
    expect(familyOf('balance44').floor).toBe(1);
    expect(p.maxRelAll).toBe(1e-7);
    expect(p.worstColumn).toBe('G3');
    expect(p.departure.get(1e-9)).toBe(1);
    expect(p.departure.get(1e-6)).toBe(null);
    // per family: the row maximum over the family's columns only
    expect(Array.from(p.familyRowMaxRel.get('G and outputs')!)).toEqual([0, 1e-7, 0]);
    expect(Array.from(p.familyRowMaxRel.get('ratios')!)).toEqual([0, 4e-15, 0]);
  });

  it('a column of no family is its own scale; NaN in both runs deviates by 0, in one by Infinity', () => {
    const t = [0, 1, 2];
    const a = run({ t, foo: [0, 2, 4], R45: [NaN, 1.5, 1.5] });
    const b = run({ t, foo: [0, 2, 5], R45: [NaN, 1.5, NaN] });
    const p = compareRuns([a, b]).pairs[0];
    expect(p.maxRel.get('foo')).toBe(1 / 5);
    expect(p.maxRel.get('R45')).toBe(Infinity);
    const c = run({ t, foo: [0, 2, 4], R45: [NaN, 1.5, 1.5] });
    expect(compareRuns([a, c]).pairs[0].maxRelAll).toBe(0);
  });

  it('runs align on common times; repeated times use their first row', () => {
    const a = run({ t: [0, 1, 1, 2, 3], G1: [0, 1, 9, 2, 3] });
    const b = run({ t: [0, 0.5, 1, 3], G1: [0, 7, 1, 3] });
    const p = compareRuns([a, b]).pairs[0];
    expect(Array.from(p.t)).toEqual([0, 1, 3]);
    expect(p.maxAbs.get('G1')).toBe(0);
  });
});

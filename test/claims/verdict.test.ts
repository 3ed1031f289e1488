import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Hypothesis, HypothesisId } from '../../src/claims/hypotheses.js';
import { fractionMoving, linearFit, maxOf } from '../../src/claims/series.js';
import { bandText, decide, inBand, type Band, type Check, type ClaimSpec } from '../../src/claims/verdict.js';

const IDS: HypothesisId[] = ['condition1-m', 'n-ge-L2', 'distinct-fillers', 'exact-proportions', 'small-F0', 'theory-scales', 'gradient-flow'];

function hyps(failing: HypothesisId[] = []): Hypothesis[] {
  return IDS.map((id) => ({ id, statement: id, measured: '', holds: !failing.includes(id) }));
}

const spec: ClaimSpec = { id: 'thm3.1', statement: 's', needs: ['small-F0', 'gradient-flow'], threshold: 't' };

describe('decide: the one verdict rule', () => {
  it('PASS only when every check is inside its band and every needed hypothesis holds', () => {
    const ok: Check[] = [{ name: 'a', value: 1, band: { min: 0, max: 2 } }];
    const bad: Check[] = [...ok, { name: 'b', value: 3, band: { max: 2 } }];
    expect(decide(spec, { kind: 'measured', checks: ok }, hyps())).toMatchObject({ verdict: 'PASS', holds: true });
    const f = decide(spec, { kind: 'measured', checks: bad }, hyps());
    expect(f).toMatchObject({ verdict: 'FAIL', holds: false });
    expect(f.reason).toBe('Check b = 3 is outside <= 2.');
    // a failing hypothesis that the claim does not need changes nothing
    expect(decide(spec, { kind: 'measured', checks: ok }, hyps(['n-ge-L2'])).verdict).toBe('PASS');
  });

  it('OUTSIDE-HYPOTHESES keeps the measurement: holds says whether the behaviour matches', () => {
    const ok: Check[] = [{ name: 'a', value: 1, band: { min: 0 } }];
    const bad: Check[] = [{ name: 'a', value: -1, band: { min: 0 } }];
    const o1 = decide(spec, { kind: 'measured', checks: ok }, hyps(['gradient-flow']));
    expect(o1).toMatchObject({ verdict: 'OUTSIDE-HYPOTHESES', holds: true });
    expect(o1.reason).toMatch(/gradient-flow does not hold.*matches/);
    const o2 = decide(spec, { kind: 'measured', checks: bad }, hyps(['small-F0', 'gradient-flow']));
    expect(o2).toMatchObject({ verdict: 'OUTSIDE-HYPOTHESES', holds: false });
    expect(o2.reason).toMatch(/small-F0, gradient-flow do not hold.*does not match/);
    // a needed hypothesis that was not evaluated at all counts as not holding
    expect(decide(spec, { kind: 'measured', checks: ok }, hyps().filter((h) => h.id !== 'small-F0')).verdict).toBe('OUTSIDE-HYPOTHESES');
  });

  it('NOT-EVALUABLE has holds = null and no checks', () => {
    const r = decide(spec, { kind: 'not-evaluable', why: 'no T1' }, hyps());
    expect(r).toMatchObject({ verdict: 'NOT-EVALUABLE', holds: null, checks: [], reason: 'No T1.', threshold: 't' });
  });

  it('a claim without checks cannot pass: it is a programming error', () => {
    expect(() => decide(spec, { kind: 'measured', checks: [] }, hyps())).toThrow(/no checks/);
  });

  it('NaN is in no band; infinities compare as numbers; values are JSON-safe', () => {
    expect(inBand(NaN, {})).toBe(false);
    expect(inBand(Infinity, { min: 2 })).toBe(true);
    expect(inBand(Infinity, { max: 2 })).toBe(false);
    expect(inBand(0, { min: 0, minOpen: true })).toBe(false);
    expect(inBand(0, { max: 0, maxOpen: true })).toBe(false);
    expect(inBand(0, { min: 0, max: 0 })).toBe(true);
    const r = decide(spec, { kind: 'measured', checks: [{ name: 'x', value: NaN, band: {} }, { name: 'y', value: Infinity, band: { min: 1 } }] }, hyps());
    expect(r.verdict).toBe('FAIL');
    expect(r.checks.map((c) => c.value)).toEqual(['nan', 'inf']);
    expect(bandText({ min: 0, minOpen: true })).toBe('> 0');
    expect(bandText({ min: 0.05, max: 0.5 })).toBe('[0.05, 0.5]');
  });

  const band: fc.Arbitrary<Band> = fc.record(
    { min: fc.double({ noNaN: true, min: -10, max: 10 }), max: fc.double({ noNaN: true, min: -10, max: 10 }), minOpen: fc.boolean(), maxOpen: fc.boolean() },
    { requiredKeys: [] },
  );
  const value = fc.oneof(fc.double({ min: -20, max: 20 }), fc.constant(NaN), fc.constant(Infinity), fc.constant(-Infinity));

  it('property: the verdict follows from the checks and the hypotheses, never PASS with a NaN', () => {
    let runs = 0;
    let withNaN = 0;
    fc.assert(
      fc.property(fc.array(fc.record({ value, band }), { minLength: 1, maxLength: 6 }), fc.subarray(IDS), fc.subarray(IDS), (cs, needs, failing) => {
        runs++;
        const checks = cs.map((c, i) => ({ name: `c${i}`, ...c }));
        const r = decide({ ...spec, needs }, { kind: 'measured', checks }, hyps(failing));
        const allIn = checks.every((c) => inBand(c.value, c.band));
        const outside = needs.some((id) => failing.includes(id));
        expect(r.holds).toBe(allIn);
        expect(r.verdict).toBe(outside ? 'OUTSIDE-HYPOTHESES' : allIn ? 'PASS' : 'FAIL');
        const hasNaN = checks.some((c) => Number.isNaN(c.value));
        if (hasNaN) withNaN++;
        // never PASS with a NaN (an implication, asserted on every run)
        expect(hasNaN && r.verdict === 'PASS').toBe(false);
        expect(JSON.parse(JSON.stringify(r))).toEqual(r);
      }),
      { seed: 20240611, numRuns: 300 },
    );
    expect(runs).toBe(300);
    expect(withNaN).toBeGreaterThan(10); // the NaN case was really exercised
  });
});

describe('series helpers', () => {
  it('linearFit recovers an exact line with R^2 = 1, and a known R^2 for a known residual', () => {
    const x = [0, 1, 2, 3, 4];
    const f = linearFit(x, x.map((v) => 3 + 2 * v));
    expect(f.a).toBeCloseTo(3, 12);
    expect(f.b).toBeCloseTo(2, 12);
    expect(f.r2).toBeCloseTo(1, 12);
    // y = [0, 1, 0, 1]: slope 0.4, SSres = 0.8, SStot = 1 -> R^2 = 0.2
    const g = linearFit([0, 1, 2, 3], [0, 1, 0, 1]);
    expect(g.b).toBeCloseTo(0.2, 12);
    expect(g.r2).toBeCloseTo(0.2, 12);
    expect(Number.isNaN(linearFit([0, 1, 2], [1, 1, 1]).r2)).toBe(true);
  });

  it('fractionMoving counts strict moves; maxOf propagates NaN', () => {
    expect(fractionMoving([1, 2, 2, 3, 1], 1)).toBe(0.5);
    expect(fractionMoving([3, 2, 1], -1)).toBe(1);
    expect(fractionMoving([1, NaN, 3], 1)).toBe(0);
    expect(Number.isNaN(fractionMoving([1], 1))).toBe(true);
    expect(maxOf([1, 5, 2])).toBe(5);
    expect(Number.isNaN(maxOf([1, NaN, 2]))).toBe(true);
  });
});

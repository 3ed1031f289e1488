/**
 * The per-sample closed forms against mathjs's symbolic derivative of the model output, for
 * L = 2..5, with negative controls (a wrong closed form must be caught), and the JavaScript
 * printer that puts those forms into the generated kernel.
 */
import { parse } from 'mathjs';
import { describe, expect, test } from 'vitest';
import { mathToJs } from '../../src/symbolic/emit/toJs.js';
import { SAMPLE_FORMULAS } from '../../src/symbolic/sample/closedForm.js';
import { SAMPLE_VERIFY_TOLERANCE, assertSampleFormulas, verifySampleFormulas } from '../../src/symbolic/sample/verify.js';

describe('per-sample closed forms', () => {
  test('every closed form equals the mathjs derivative / definition to 1e-14 for L = 2..5', () => {
    const checks = verifySampleFormulas({ Ls: [2, 3, 4, 5], points: 12, seed: 3 });
    for (const L of [2, 3, 4, 5]) {
      for (const f of ['queryOutput', 'output', 'shiftedExp', 'dFdu', 'dFdz'] as const) {
        const c = checks.find((x) => x.L === L && x.formula === f);
        expect(c, `${f} L=${L}`).toBeDefined();
        expect(c!.comparisons).toBeGreaterThanOrEqual(12);
        expect(c!.maxError, `${f} L=${L}`).toBeLessThanOrEqual(SAMPLE_VERIFY_TOLERANCE);
      }
    }
    for (const f of ['loss', 'dLossdF'] as const) {
      expect(checks.find((x) => x.formula === f)!.maxError).toBeLessThanOrEqual(SAMPLE_VERIFY_TOLERANCE);
    }
    // dFdz at L=5 compares 25 derivatives at each point
    expect(checks.find((x) => x.L === 5 && x.formula === 'dFdz')!.comparisons).toBe(25 * 12);
  });

  test('negative controls: wrong closed forms are caught', () => {
    const wrongs = [
      { formulas: { dFdz: { meaning: 'x', expr: 'P_pl * u_p' } }, which: 'dFdz' },
      { formulas: { dFdz: { meaning: 'x', expr: 'P_pl * (u_p - F_l) * (1 - P_pl)' } }, which: 'dFdz' },
      { formulas: { dFdu: { meaning: 'x', expr: 'P_pl * u_p', sumOver: 'l' } }, which: 'dFdu' },
      { formulas: { dLossdF: { meaning: 'x', expr: 'y / (1 + exp(y * F))' } }, which: 'dLossdF' },
      { formulas: { loss: { meaning: 'x', expr: 'log1p(exp(-abs(y * F)))' } }, which: 'loss' },
      { formulas: { shiftedExp: { meaning: 'x', expr: 'exp(z_pl) - zmax_l' } }, which: 'shiftedExp' },
    ] as const;
    for (const w of wrongs) {
      const checks = verifySampleFormulas({ Ls: [3], points: 6, formulas: w.formulas });
      const c = checks.find((x) => x.formula === w.which)!;
      expect(c.maxError, w.which).toBeGreaterThan(1e-3);
      expect(() => assertSampleFormulas({ Ls: [3], points: 6, formulas: w.formulas })).toThrow(/does not match/);
    }
  });

  test('mathToJs prints the templates as JavaScript that evaluates like mathjs', () => {
    const scope = { P_pl: 0.3, u_p: -1.7, F_l: 0.4, y: -1, F: 2.5, z_pl: 0.2, zmax_l: 1.1 };
    const names = Object.fromEntries(Object.keys(scope).map((k) => [k, `s.${k}`]));
    for (const f of Object.values(SAMPLE_FORMULAS)) {
      const node = parse(f.expr);
      const js = mathToJs(node, names);
      const got = new Function('s', `return ${js};`)(scope) as number;
      const want = node.compile().evaluate(scope) as number;
      expect(Math.abs(got - want), f.expr).toBeLessThanOrEqual(1e-15 * Math.max(1, Math.abs(want)));
    }
    expect(() => mathToJs(parse('sin(x)'), { x: 'x' })).toThrow(/unsupported function sin/);
    expect(() => mathToJs(parse('x ^ 2'), { x: 'x' })).toThrow(/unsupported operator/);
    expect(() => mathToJs(parse('q'), {})).toThrow(/no JavaScript for symbol/);
  });
});

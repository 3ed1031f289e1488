/**
 * The non-commutative polynomial algebra: products expand without reordering, transposes
 * reverse words, rewrite rules, scalar extraction, traces; and, as the oracle for all of it,
 * evaluation is a homomorphism: evaluating a normalised polynomial gives the same matrix as
 * evaluating the expression it came from with concrete matrices (property test).
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { DenseMatrix, evaluatePoly } from '../../src/symbolic/algebra/evaluate.js';
import { Poly } from '../../src/symbolic/algebra/ncpoly.js';
import { parsePoly } from '../../src/symbolic/algebra/parse.js';
import { deriveGramSystem, gramAlgebra } from '../../src/symbolic/derivation/gramSystem.js';
import { DIMS, T, add, maxAbs, maxAbsDiff, mul, randomEnv, scale } from './env.js';

const alg = gramAlgebra();
const P = (s: string): Poly => parsePoly(alg, s);
const same = (a: string, b: string): void => {
  expect(P(a).termSet(), `${a} vs ${b}`).toEqual(P(b).termSet());
};

// The coefficients' exact arithmetic (Rational, src/exact/rational.ts) is tested in test/exact/rational.test.ts.

describe('matrix-polynomial algebra', () => {
  test('products expand in order; matrices do not commute', () => {
    same('(A + S)(C + Gam)', 'A C + A Gam + S C + S Gam');
    expect(P('A B').equals(P('B A'))).toBe(false);
    expect(P('A B - B A').isZero()).toBe(false);
    expect(P('A B - A B').isZero()).toBe(true);
  });

  test('transpose reverses words and flips factors; symmetric symbols absorb it', () => {
    same('(S Gam)^T', 'Gam^T S^T');
    same('(A B C)^T', 'C B A');
    same('A^T', 'A');
    expect(P('S^T').equals(P('S'))).toBe(false);
    same('((S Gam^T)^T)^T', 'S Gam^T');
  });

  test('rewrite rules turn weight products into Gram variables', () => {
    same('K^T Q', 'S');
    same('Q^T K', 'S^T');
    same('(K^T Q)^T', 'S^T');
    same('Q^T Q', 'A');
    same('V^T r', 'u');
    same('r^T V', 'u^T');
    same('r^T r', 's');
    same('a^T a', 'm1');
    same('Gam^T K^T Q Gam', 'Gam^T S Gam');
    // a pair that is not a rule stays
    expect(P('Q K^T').symbols()).toEqual(new Set(['Q', 'K']));
  });

  test('1 x 1 sub-products are scalars: they commute and equal their transpose', () => {
    same('gu u^T gu', '(u^T gu) gu');
    same('gu u^T gu', '(gu^T u) gu');
    expect(P('u^T gu - gu^T u').isZero()).toBe(true);
    same('2 eta m1 eta', '2 m1 eta^2');
    expect(P('gu^T C gu').isScalar()).toBe(true);
  });

  test('traces are invariant under rotation and transposition', () => {
    same('tr(Gam^T S)', 'tr(S Gam^T)');
    same('tr(Gam^T S)', 'tr(S^T Gam)');
    same('tr(gu u^T)', 'u^T gu');
    same('tr(A Gam^T Gam)', 'tr(Gam A Gam^T)');
    expect(P('tr(A B)').equals(P('tr(A S)'))).toBe(false);
  });

  test('printing and parsing round-trip for every derived equation', () => {
    const sys = deriveGramSystem();
    for (const p of [...Object.values(sys.flow), ...Object.values(sys.gd), sys.lossRate, sys.gdInvariantSteps.QK, sys.gdInvariantSteps.V]) {
      expect(P(p.toString()).termSet()).toEqual(p.termSet());
    }
  });

  test('shape errors and unknown symbols are refused', () => {
    expect(() => P('Q Q')).toThrow(/cannot multiply/);
    expect(() => P('A + u')).toThrow(/shapes/);
    expect(() => P('Z')).toThrow(/unknown symbol/);
    expect(() => P('tr(S u)')).toThrow();
  });

  test('evaluation is a homomorphism (random expressions, random matrices)', () => {
    // k x k building blocks written with WEIGHTS; their normal forms use Gram symbols
    const atoms: [string, (e: ReturnType<typeof randomEnv>) => DenseMatrix][] = [
      ['K^T Q', (e) => mul(T(e.K), e.Q)],
      ['Q^T K', (e) => mul(T(e.Q), e.K)],
      ['Q^T Q', (e) => mul(T(e.Q), e.Q)],
      ['V^T V', (e) => mul(T(e.V), e.V)],
      ['Gam', (e) => e.Gam],
      ['gu r^T V', (e) => mul(e.gu, T(e.r), e.V)],
      ['V^T r gu^T', (e) => mul(T(e.V), e.r, T(e.gu))],
      ['eta Gam^T', (e) => scale(T(e.Gam), e.eta)],
      ['r^T r A', (e) => scale(mul(T(e.Q), e.Q), mul(T(e.r), e.r).data[0])],
      ['a^T a K^T K', (e) => scale(mul(T(e.K), e.K), DIMS.m1)],
    ];
    type Tree = { kind: 'atom'; i: number } | { kind: 'add' | 'mul'; l: Tree; r: Tree } | { kind: 'T'; x: Tree } | { kind: 'trmul'; l: Tree; r: Tree };
    const { tree } = fc.letrec<{ tree: Tree }>((tie) => ({
      tree: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.record({ kind: fc.constant('atom' as const), i: fc.integer({ min: 0, max: atoms.length - 1 }) }),
        fc.record({ kind: fc.constantFrom('add' as const, 'mul' as const), l: tie('tree'), r: tie('tree') }),
        fc.record({ kind: fc.constant('T' as const), x: tie('tree') }),
        fc.record({ kind: fc.constant('trmul' as const), l: tie('tree'), r: tie('tree') }),
      ),
    }));
    const toPoly = (t: Tree): Poly => {
      switch (t.kind) {
        case 'atom':
          return P(atoms[t.i][0]);
        case 'add':
          return toPoly(t.l).add(toPoly(t.r));
        case 'mul':
          return toPoly(t.l).mul(toPoly(t.r));
        case 'T':
          return toPoly(t.x).transpose();
        case 'trmul':
          return toPoly(t.l).trace().mul(toPoly(t.r));
      }
    };
    const toValue = (t: Tree, e: ReturnType<typeof randomEnv>): DenseMatrix => {
      switch (t.kind) {
        case 'atom':
          return atoms[t.i][1](e);
        case 'add':
          return add(toValue(t.l, e), toValue(t.r, e));
        case 'mul':
          return mul(toValue(t.l, e), toValue(t.r, e));
        case 'T':
          return T(toValue(t.x, e));
        case 'trmul': {
          const l = toValue(t.l, e);
          let tr = 0;
          for (let i = 0; i < l.rows; i++) tr += l.data[i * l.cols + i];
          return scale(toValue(t.r, e), tr);
        }
      }
    };
    const envs = [randomEnv(1), randomEnv(2)];
    let runs = 0;
    fc.assert(
      fc.property(tree, (t) => {
        runs++;
        const p = toPoly(t);
        for (const e of envs) {
          const want = toValue(t, e);
          const got = evaluatePoly(p, e.env, DIMS);
          if (maxAbsDiff(got, want) > 1e-9 * (1 + maxAbs(want))) return false;
        }
        return true;
      }),
      { numRuns: 300, seed: 42 },
    );
    expect(runs).toBe(300); // the property body ran every time
  });

  test('the homomorphism check has power: a wrong rewrite is caught numerically', () => {
    const e = randomEnv(3);
    // K^T Q is S; claiming it is S^T must fail at random matrices
    const wrong = evaluatePoly(P('S^T'), e.env, DIMS);
    const right = mul(T(e.K), e.Q);
    expect(maxAbsDiff(wrong, right)).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(evaluatePoly(P('K^T Q'), e.env, DIMS), right)).toBeLessThan(1e-12);
  });
});

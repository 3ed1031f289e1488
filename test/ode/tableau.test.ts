/**
 * Butcher order conditions, evaluated exactly in BigInt rationals over the rooted trees
 * (Butcher; HNW I, Sect. II.2, Theorem 2.13): a method has order p iff for every rooted tree t
 * with |t| <= p, sum_i b_i Phi_i(t) = 1 / gamma(t), where Phi(leaf) = 1 and
 * Phi([t_1..t_m])_i = prod_k (A Phi(t_k))_i, gamma(t) = |t| prod_k gamma(t_k).
 */
import { describe, expect, test } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { DOPRI5, DOPRI5_RATIONAL, buildTableau, denseWeightPolynomials, validateTableau, type RationalPair, type RationalTableau } from '../../src/ode/tableau.js';
import { Rational } from '../../src/exact/rational.js';
import { isNearestDouble, nextDown, nextUp } from '../exact/exactDouble.js';

/** A rooted tree as its (canonically sorted) list of child subtrees. */
interface Tree {
  order: number;
  children: Tree[];
  key: string;
}

/** All rooted trees up to maxOrder, by order, generated as multisets of smaller trees. */
function rootedTrees(maxOrder: number): Tree[][] {
  const byOrder: Tree[][] = [[], [{ order: 1, children: [], key: '()' }]];
  for (let n = 2; n <= maxOrder; n++) {
    const smaller: Tree[] = byOrder.slice(1, n).flat();
    const out: Tree[] = [];
    // Non-decreasing index sequences into `smaller` whose orders sum to n - 1 (multisets).
    const rec = (start: number, remaining: number, chosen: Tree[]): void => {
      if (remaining === 0) {
        out.push({ order: n, children: chosen.slice(), key: `(${chosen.map((c) => c.key).join('')})` });
        return;
      }
      for (let i = start; i < smaller.length; i++) {
        if (smaller[i].order > remaining) continue;
        chosen.push(smaller[i]);
        rec(i, remaining - smaller[i].order, chosen);
        chosen.pop();
      }
    };
    rec(0, n - 1, []);
    byOrder.push(out);
  }
  return byOrder;
}

function phi(t: Tree, a: Rational[][]): Rational[] {
  const s = a.length;
  let v: Rational[] = Array.from({ length: s }, () => Rational.ONE);
  for (const child of t.children) {
    const pc = phi(child, a);
    const apc = a.map((row) => row.reduce((acc, aij, j) => acc.add(aij.mul(pc[j])), Rational.ZERO));
    v = v.map((x, i) => x.mul(apc[i]));
  }
  return v;
}

function gamma(t: Tree): bigint {
  return t.children.reduce((g, c) => g * gamma(c), BigInt(t.order));
}

function dot(w: Rational[], v: Rational[]): Rational {
  return w.reduce((acc, wi, i) => acc.add(wi.mul(v[i])), Rational.ZERO);
}

const exact = validateTableau(DOPRI5_RATIONAL);
const trees = rootedTrees(5);

/** Which trees (by key) of order <= maxOrder a weight vector fails, with residuals. */
function failures(w: Rational[], maxOrder: number, scale: (order: number) => Rational = () => Rational.ONE): string[] {
  const bad: string[] = [];
  for (let n = 1; n <= maxOrder; n++) {
    for (const t of trees[n]) {
      const lhs = dot(w, phi(t, exact.a));
      const rhs = scale(n).div(new Rational(gamma(t)));
      if (!lhs.equals(rhs)) bad.push(`${t.key}: ${lhs} != ${rhs}`);
    }
  }
  return bad;
}

describe('rooted trees', () => {
  test('there are 1, 1, 2, 4, 9 trees of orders 1..5 (17 in all), all distinct', () => {
    expect(trees.slice(1).map((l) => l.length)).toEqual([1, 1, 2, 4, 9]);
    const keys = trees.flat().map((t) => t.key);
    expect(new Set(keys).size).toBe(17);
    // gamma of the tall tree of order 5 is 5!, of the bushy one 5.
    const tall = trees[5].find((t) => t.key === '((((()))))');
    const bushy = trees[5].find((t) => t.key === '(()()()())');
    expect(tall && gamma(tall)).toBe(120n);
    expect(bushy && gamma(bushy)).toBe(5n);
  });
});

describe('Dormand-Prince 5(4) order conditions (exact rationals)', () => {
  test('b satisfies all 17 conditions up to order 5', () => {
    expect(failures(exact.b, 5)).toEqual([]);
  });

  test('bHat satisfies all 8 conditions up to order 4', () => {
    expect(failures(exact.bHat, 4)).toEqual([]);
  });

  test('negative control: bHat fails at least one order-5 condition (it is a 4th-order method)', () => {
    const order5 = failures(exact.bHat, 5).length;
    expect(order5).toBeGreaterThan(0);
  });

  test('negative control: a perturbed b (b_3 + 1/1000, b_4 - 1/1000) is caught', () => {
    const bad = exact.b.slice();
    bad[2] = bad[2].add(new Rational(1, 1000));
    bad[3] = bad[3].sub(new Rational(1, 1000));
    expect(failures(bad, 5).length).toBeGreaterThan(0);
  });

  test('dense output: b(theta) satisfies the order <= 4 conditions theta^|t| / gamma(t) for all theta', () => {
    // Both sides are polynomials of degree <= 4 in theta, so equality at 6 distinct points is an identity.
    const P = denseWeightPolynomials(exact);
    const thetas = [new Rational(0), new Rational(1, 5), new Rational(1, 3), new Rational(1, 2), new Rational(3, 4), new Rational(1)];
    for (const th of thetas) {
      const w = P.map((p) => p.reduce((acc, coef, k) => acc.add(coef.mul(th.pow(k + 1))), Rational.ZERO));
      expect(failures(w, 4, (n) => th.pow(n))).toEqual([]);
    }
  });

  test('dense output: b(1) = b exactly and b(0) = 0 (so theta=0 gives y0, theta=1 the 5th-order solution)', () => {
    const P = denseWeightPolynomials(exact);
    expect(P.length).toBe(7); // one polynomial per stage: the loop below compares all seven
    P.forEach((p, j) => {
      const at1 = p.reduce((acc, coef) => acc.add(coef), Rational.ZERO);
      expect(at1.equals(exact.b[j])).toBe(true);
    });
    // No constant term by construction: every polynomial is sum_k p_k theta^k, k >= 1.
    expect(P.every((p) => p.length === 4)).toBe(true);
  });

  test('negative control: the dense output is not of order 5 at theta = 1/2', () => {
    const P = denseWeightPolynomials(exact);
    const th = new Rational(1, 2);
    const w = P.map((p) => p.reduce((acc, coef, k) => acc.add(coef.mul(th.pow(k + 1))), Rational.ZERO));
    expect(failures(w, 5, (n) => th.pow(n)).length).toBeGreaterThan(0);
  });

  test('float coefficients are the correctly rounded rationals; e = b - bHat rounded once', () => {
    expect([exact.a.length, exact.b.length, DOPRI5.a.length]).toEqual([7, 7, 7]);
    exact.a.forEach((row, i) => row.forEach((q, j) => expect(DOPRI5.a[i][j]).toBe(q.toNumber())));
    exact.b.forEach((q, j) => expect(DOPRI5.b[j]).toBe(q.toNumber()));
    // Spot values against the published decimals (e.g. scipy's RK45.E = bHat - b; ours is b - bHat).
    expect(DOPRI5.e[0]).toBe(71 / 57600);
    expect(DOPRI5.e[6]).toBe(-1 / 40);
    expect(DOPRI5.b[0]).toBe(35 / 384);
  });
});

function corrupt(edit: (t: { -readonly [K in keyof RationalTableau]: unknown }) => void): RationalTableau {
  const copy = JSON.parse(JSON.stringify(DOPRI5_RATIONAL)) as { -readonly [K in keyof RationalTableau]: unknown };
  edit(copy);
  return copy as RationalTableau;
}

describe('validateTableau rejects corrupted tableaux', () => {
  test('the genuine tableau passes', () => {
    expect(() => buildTableau(DOPRI5_RATIONAL)).not.toThrow();
  });

  const cases: [string, (t: { a: unknown; b: unknown; c: unknown; bHat: unknown; denseD: unknown }) => void, RegExp][] = [
    ['row-sum (a[2][1] changed)', (t) => ((t.a as RationalPair[][])[2][1] = [10, 40]), /row-sum|sums to/],
    ['not explicit (a[1][1] nonzero)', (t) => ((t.a as RationalPair[][])[1][1] = [1, 7]), /diagonal/],
    ['FSAL broken (last row != b)', (t) => ((t.b as RationalPair[])[0] = [36, 384]), /sums to|FSAL/],
    ['c changed', (t) => ((t.c as RationalPair[])[3] = [3, 5]), /row-sum/],
    ['b wrong length', (t) => (t.b as RationalPair[]).pop(), /entries, expected 7/],
    ['non-integer coefficient', (t) => ((t.c as RationalPair[])[1] = [0.2, 1]), /integer pair/],
    ['zero denominator', (t) => ((t.bHat as RationalPair[])[0] = [1, 0]), /integer pair/],
    ['bHat not consistent', (t) => ((t.bHat as RationalPair[])[6] = [1, 20]), /bHat.*sums to/],
    ['dense coefficients missing', (t) => (t.denseD as RationalPair[]).pop(), /denseD/],
  ];
  for (const [name, edit, message] of cases) {
    test(name, () => {
      const bad = corrupt(edit as never);
      expect(() => validateTableau(bad)).toThrow(UsageError);
      expect(() => validateTableau(bad)).toThrow(message);
    });
  }

  test('FSAL: a consistent tableau whose last row differs from b is rejected by the FSAL check', () => {
    // Swap b and bHat: both sum to 1, rows unchanged, but now last row (old b) != new b.
    const bad = corrupt((t) => {
      const b = t.b;
      t.b = t.bHat;
      t.bHat = b;
    });
    expect(() => validateTableau(bad)).toThrow(/FSAL/);
  });
});

/**
 * Every float64 array of DOPRI5 against its exact rational, decided in exact arithmetic (the
 * float's own bits as a fraction, compared with the fraction and with the float's neighbours):
 * each float must be the rational rounded to the nearest double. The rationals come straight
 * from the published fractions, not through the code's conversion: c, a, b, bHat from
 * DOPRI5_RATIONAL's integer pairs, e = b - bHat subtracted here, and the dense-output matrix as
 * printed in SciPy's RK45.P (scipy/integrate/_ivp/rk.py, Shampine 1986), which must also equal
 * the matrix the code derives from Hairer's d_i.
 */
describe('float tableau = exact rationals rounded to nearest (every array, every entry)', () => {
  const q = (pair: RationalPair) => new Rational(pair[0], pair[1]);
  const c = DOPRI5_RATIONAL.c.map(q);
  const A = DOPRI5_RATIONAL.a.map((row) => row.map(q));
  const b = DOPRI5_RATIONAL.b.map(q);
  const bHat = DOPRI5_RATIONAL.bHat.map(q);
  const e = b.map((bj, j) => bj.sub(bHat[j]));
  /** SciPy's RK45.P, row j = stage j, columns theta^1..theta^4 (literal copy). */
  const SCIPY_P: RationalPair[][] = [
    [[1, 1], [-8048581381, 2820520608], [8663915743, 2820520608], [-12715105075, 11282082432]],
    [[0, 1], [0, 1], [0, 1], [0, 1]],
    [[0, 1], [131558114200, 32700410799], [-68118460800, 10900136933], [87487479700, 32700410799]],
    [[0, 1], [-1754552775, 470086768], [14199869525, 1410260304], [-10690763975, 1880347072]],
    [[0, 1], [127303824393, 49829197408], [-318862633887, 49829197408], [701980252875, 199316789632]],
    [[0, 1], [-282668133, 205662961], [2019193451, 616988883], [-1453857185, 822651844]],
    [[0, 1], [40617522, 29380423], [-110615467, 29380423], [69997945, 29380423]],
  ];
  const P = SCIPY_P.map((row) => row.map(q));
  /** SciPy's RK45.E = bHat - b (literal), the opposite sign of ours. */
  const SCIPY_E: RationalPair[] = [[-71, 57600], [0, 1], [71, 16695], [-71, 1920], [17253, 339200], [-22, 525], [1, 40]];

  const arrays: [string, ArrayLike<number>, Rational[]][] = [
    ['c', DOPRI5.c, c],
    ['b', DOPRI5.b, b],
    ['bHat', DOPRI5.bHat, bHat],
    ['e', DOPRI5.e, e],
    ...A.map((row, i): [string, ArrayLike<number>, Rational[]] => [`a[${i}]`, DOPRI5.a[i], row]),
    ...P.map((row, j): [string, ArrayLike<number>, Rational[]] => [`denseP[${j}]`, DOPRI5.denseP[j], row]),
  ];

  test('the literal rationals: e = -(SciPy E), and the derived dense matrix = SciPy P exactly', () => {
    SCIPY_E.forEach((pair, j) => expect(e[j].equals(q(pair).neg()), `e[${j}] = ${e[j]}`).toBe(true));
    const derived = denseWeightPolynomials(validateTableau(DOPRI5_RATIONAL));
    expect(derived.length).toBe(7);
    derived.forEach((row, j) => row.forEach((v, k) => expect(v.equals(P[j][k]), `P[${j}][${k}] = ${v}, SciPy ${P[j][k]}`).toBe(true)));
  });

  test('each of the 105 floats (c, a, b, bHat, e, denseP) is its rational rounded to nearest', () => {
    let compared = 0;
    const bad: string[] = [];
    for (const [name, floats, exact] of arrays) {
      expect(floats.length, name).toBe(exact.length);
      for (let j = 0; j < exact.length; j++) {
        compared++;
        if (!isNearestDouble(floats[j], exact[j])) bad.push(`${name}[${j}] = ${floats[j]} is not the nearest double to ${exact[j]}`);
      }
    }
    expect(bad).toEqual([]);
    expect(compared).toBe(4 * 7 + 7 * 7 + 7 * 4); // c, b, bHat, e; the 7 x 7 a; the 7 x 4 dense matrix
  });

  test('the order conditions hold exactly for these rationals (b: 17 trees to order 5, bHat: 8 to order 4, e: 0 to order 4)', () => {
    expect(failures(b, 5)).toEqual([]);
    expect(failures(bHat, 4)).toEqual([]);
    // e = b - bHat annihilates every tree of order <= 4, so the estimate is O(h^5)
    expect(failures(e, 4, () => Rational.ZERO)).toEqual([]);
    expect(failures(e, 5, () => Rational.ZERO).length).toBeGreaterThan(0);
  });

  test('negative control: every coefficient moved by one ulp (up or down) is caught', () => {
    let perturbed = 0;
    for (const [name, floats, exact] of arrays) {
      for (let j = 0; j < exact.length; j++) {
        for (const moved of [nextUp(floats[j]), nextDown(floats[j])]) {
          expect(isNearestDouble(moved, exact[j]), `${name}[${j}] moved to ${moved}`).toBe(false);
          perturbed++;
        }
      }
    }
    expect(perturbed).toBe(2 * 105);
  });
});

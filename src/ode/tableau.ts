/**
 * Runge-Kutta tableaux as plain data (exact rationals), validated and converted to float64 once.
 *
 * The Dormand-Prince 5(4) pair: J. R. Dormand and P. J. Prince, "A family of embedded
 * Runge-Kutta formulae", J. Comput. Appl. Math. 6 (1980) 19-26, the RK5(4)7M pair (reproduced in
 * Hairer-Norsett-Wanner, Solving ODEs I, 2nd ed., Sect. II.5). The 5th-order weights b are
 * propagated (local extrapolation); the embedded 4th-order weights bHat are exactly the 1980
 * paper's (no later alternative estimator); only b - bHat enters the error estimate.
 */
import { UsageError } from '../errors.js';
import { Rational } from '../exact/rational.js';

/** A rational written as an integer pair [numerator, denominator], as in published tableaux. */
export type RationalPair = readonly [number, number];

/** A tableau stated in exact rationals: the source of truth. */
export interface RationalTableau {
  readonly name: string;
  /** Order of the propagated solution (weights b). */
  readonly order: number;
  /** Order of the embedded solution (weights bHat); the error estimate is O(h^(embeddedOrder+1)). */
  readonly embeddedOrder: number;
  readonly c: readonly RationalPair[];
  /** Full s x s rows; must be strictly lower triangular (explicit method). */
  readonly a: readonly (readonly RationalPair[])[];
  readonly b: readonly RationalPair[];
  readonly bHat: readonly RationalPair[];
  /**
   * Dense output in Hairer's DOPRI5 form (the coefficients d_i of his code's CONTD5): with
   * ydiff = y1 - y0, bspl = h k1 - ydiff,
   *   y(t0 + theta h) = y0 + theta (ydiff + (1-theta) (bspl + theta ((ydiff - h k7 - bspl)
   *                     + (1-theta) h sum_i d_i k_i))).
   */
  readonly denseD: readonly RationalPair[];
}

/** The float64 form used by the integrator. Arrays are never mutated after construction. */
export interface ButcherTableau {
  readonly name: string;
  readonly stages: number;
  readonly order: number;
  readonly embeddedOrder: number;
  readonly c: Float64Array;
  /** a[i][j], full rows (zeros on and above the diagonal). */
  readonly a: readonly Float64Array[];
  readonly b: Float64Array;
  readonly bHat: Float64Array;
  /** b - bHat, subtracted exactly in rationals before rounding: local error = h sum_j e_j k_j. */
  readonly e: Float64Array;
  /**
   * Dense-output weight polynomials: b_j(theta) = sum_{k=1..4} denseP[j][k-1] theta^k, so that
   * y(t0 + theta h) = y0 + h sum_j b_j(theta) k_j. Derived exactly from denseD.
   */
  readonly denseP: readonly Float64Array[];
}

const Z: RationalPair = [0, 1];

/**
 * Dormand-Prince RK5(4)7M (1980). The dense-output coefficients d_i are those of the 4th-order
 * continuous extension in Hairer's DOPRI5 code (HNW I, Sect. II.6 "Dense output"; the same
 * interpolant as Shampine 1986, "Some practical Runge-Kutta formulas", Math. Comp. 46, whose
 * polynomial form is also used by scipy's RK45).
 */
export const DOPRI5_RATIONAL: RationalTableau = {
  name: 'Dormand-Prince 5(4) (1980)',
  order: 5,
  embeddedOrder: 4,
  c: [Z, [1, 5], [3, 10], [4, 5], [8, 9], [1, 1], [1, 1]],
  a: [
    [Z, Z, Z, Z, Z, Z, Z],
    [[1, 5], Z, Z, Z, Z, Z, Z],
    [[3, 40], [9, 40], Z, Z, Z, Z, Z],
    [[44, 45], [-56, 15], [32, 9], Z, Z, Z, Z],
    [[19372, 6561], [-25360, 2187], [64448, 6561], [-212, 729], Z, Z, Z],
    [[9017, 3168], [-355, 33], [46732, 5247], [49, 176], [-5103, 18656], Z, Z],
    [[35, 384], Z, [500, 1113], [125, 192], [-2187, 6784], [11, 84], Z],
  ],
  b: [[35, 384], Z, [500, 1113], [125, 192], [-2187, 6784], [11, 84], Z],
  bHat: [[5179, 57600], Z, [7571, 16695], [393, 640], [-92097, 339200], [187, 2100], [1, 40]],
  denseD: [
    [-12715105075, 11282082432],
    Z,
    [87487479700, 32700410799],
    [-10690763975, 1880347072],
    [701980252875, 199316789632],
    [-1453857185, 822651844],
    [69997945, 29380423],
  ],
};

function fail(field: string, problem: string, fix: string): never {
  throw new UsageError(`tableau ${field}: ${problem}; ${fix}`);
}

function checkPairs(field: string, pairs: readonly RationalPair[], length: number): Rational[] {
  if (pairs.length !== length) fail(field, `has ${pairs.length} entries, expected ${length}`, 'give one entry per stage');
  return pairs.map((p, i) => {
    if (!Array.isArray(p) || p.length !== 2 || !Number.isSafeInteger(p[0]) || !Number.isSafeInteger(p[1]) || p[1] === 0) {
      fail(`${field}[${i}]`, `is not an integer pair [num, den] with den != 0`, 'write each coefficient as an exact fraction');
    }
    return new Rational(p[0], p[1]);
  });
}

/** The exact rationals of a validated tableau (for tests and derivations). */
export interface ExactTableau {
  c: Rational[];
  a: Rational[][];
  b: Rational[];
  bHat: Rational[];
  denseD: Rational[];
}

/**
 * Check the structural conditions the integrator relies on, in exact arithmetic, and return the
 * exact coefficients. Throws UsageError naming the first violated condition.
 *  - sizes consistent (c, every row of a, b, bHat, denseD all of length s);
 *  - explicit: a strictly lower triangular, so stage i uses only stages j < i;
 *  - row-sum condition c_i = sum_j a_ij (stage i approximates y at t + c_i h);
 *  - c_1 = 0 (the first stage is f(t, y));
 *  - consistency sum b = sum bHat = 1 (order >= 1 for both solutions);
 *  - FSAL: last row of a equals b, c_s = 1 and b_s = 0, so the last stage is f(t+h, y_new) and
 *    serves as the next step's first stage.
 * Order conditions are not re-checked here (they are a test: test/ode/tableau.test.ts).
 */
export function validateTableau(t: RationalTableau): ExactTableau {
  const s = t.c.length;
  if (s < 2) fail('c', `has ${s} stages`, 'an embedded FSAL pair needs at least 2 stages');
  const c = checkPairs('c', t.c, s);
  if (t.a.length !== s) fail('a', `has ${t.a.length} rows, expected ${s}`, 'give a full s x s matrix');
  const a = t.a.map((row, i) => checkPairs(`a[${i}]`, row, s));
  const b = checkPairs('b', t.b, s);
  const bHat = checkPairs('bHat', t.bHat, s);
  const denseD = checkPairs('denseD', t.denseD, s);
  for (let i = 0; i < s; i++) {
    for (let j = i; j < s; j++) {
      if (!a[i][j].isZero()) fail(`a[${i}][${j}]`, `is ${a[i][j]} on or above the diagonal`, 'an explicit method needs a strictly lower triangular a');
    }
    let rowSum = Rational.ZERO;
    for (let j = 0; j < s; j++) rowSum = rowSum.add(a[i][j]);
    if (!rowSum.equals(c[i])) fail(`c[${i}]`, `is ${c[i]} but row ${i} of a sums to ${rowSum}`, 'the row-sum condition c_i = sum_j a_ij must hold');
  }
  if (!c[0].isZero()) fail('c[0]', `is ${c[0]}`, 'the first stage must be at c = 0');
  let sumB = Rational.ZERO;
  let sumBHat = Rational.ZERO;
  for (let j = 0; j < s; j++) {
    sumB = sumB.add(b[j]);
    sumBHat = sumBHat.add(bHat[j]);
  }
  if (!sumB.equals(Rational.ONE)) fail('b', `sums to ${sumB}`, 'weights must sum to 1');
  if (!sumBHat.equals(Rational.ONE)) fail('bHat', `sums to ${sumBHat}`, 'embedded weights must sum to 1');
  for (let j = 0; j < s; j++) {
    if (!a[s - 1][j].equals(b[j])) fail(`a[${s - 1}][${j}]`, `is ${a[s - 1][j]} but b[${j}] is ${b[j]}`, 'FSAL needs the last row of a equal to b');
  }
  if (!c[s - 1].equals(Rational.ONE)) fail(`c[${s - 1}]`, `is ${c[s - 1]}`, 'FSAL needs the last node at c = 1');
  if (!b[s - 1].isZero()) fail(`b[${s - 1}]`, `is ${b[s - 1]}`, 'FSAL needs a zero weight on the last stage');
  return { c, a, b, bHat, denseD };
}

/**
 * Exact dense-output weight polynomials from Hairer's form. Expanding the nested CONTD5 formula
 * with ydiff = h sum b_j k_j, bspl = h k_1 - ydiff gives, for stage j (delta = Kronecker):
 *   u_j = delta_j1 - b_j,  v_j = 2 b_j - delta_j1 - delta_js,
 *   b_j(theta) = delta_j1 theta + (v_j - u_j + d_j) theta^2 - (v_j + 2 d_j) theta^3 + d_j theta^4.
 * Returns P[j] = [coef theta^1, theta^2, theta^3, theta^4].
 */
export function denseWeightPolynomials(x: ExactTableau): Rational[][] {
  const s = x.b.length;
  return x.b.map((bj, j) => {
    const d1 = j === 0 ? Rational.ONE : Rational.ZERO;
    const ds = j === s - 1 ? Rational.ONE : Rational.ZERO;
    const u = d1.sub(bj);
    const v = bj.add(bj).sub(d1).sub(ds);
    const d = x.denseD[j];
    return [d1, v.sub(u).add(d), v.add(d).add(d).neg(), d];
  });
}

/** Validate and convert a rational tableau to float64 (each coefficient rounded once, correctly). */
export function buildTableau(t: RationalTableau): ButcherTableau {
  const x = validateTableau(t);
  if (!Number.isInteger(t.order) || !Number.isInteger(t.embeddedOrder) || t.embeddedOrder < 1 || t.order <= t.embeddedOrder) {
    fail('order', `order ${t.order} / embeddedOrder ${t.embeddedOrder}`, 'give integers with order > embeddedOrder >= 1');
  }
  const toF64 = (v: Rational[]): Float64Array => Float64Array.from(v, (q) => q.toNumber());
  return {
    name: t.name,
    stages: x.c.length,
    order: t.order,
    embeddedOrder: t.embeddedOrder,
    c: toF64(x.c),
    a: x.a.map(toF64),
    b: toF64(x.b),
    bHat: toF64(x.bHat),
    e: toF64(x.b.map((bj, j) => bj.sub(x.bHat[j]))),
    denseP: denseWeightPolynomials(x).map(toF64),
  };
}

/** The Dormand-Prince 5(4) tableau in float64, validated at module load. */
export const DOPRI5: ButcherTableau = buildTableau(DOPRI5_RATIONAL);

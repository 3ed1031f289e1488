/**
 * Rational (src/exact/rational.ts), the one exact rational class of coflow: the integrator's
 * tableau coefficients and the symbolic algebra's coefficients. Hand-computed values; algebraic
 * properties (fast-check, fixed seeds, every property body counted); and the conversion to
 * float64 against independent oracles: IEEE division where both parts are exact doubles, the
 * engine's own correctly rounded Number(bigint), a round-to-odd BigInt division, and an exact
 * comparison with the result's two neighbouring doubles. Negative controls: a result one ulp off,
 * and the naive Number(p) / Number(q), are caught by those checks.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { Rational } from '../../src/exact/rational.js';
import { exactOfDouble, isNearestDouble, nextDown, nextUp } from './exactDouble.js';

function bigGcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  b = b < 0n ? -b : b;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/** Lowest terms with a positive denominator (0 is 0/1). */
function isNormalised(q: Rational): boolean {
  return q.den > 0n && bigGcd(q.num, q.den) === 1n;
}

function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

/** x * 2^k for a double x and an integer k, exact while every intermediate is a normal double. */
function timesPow2(x: number, k: number): number {
  while (k > 0) {
    const s = Math.min(k, 1000);
    x *= Number(1n << BigInt(s));
    k -= s;
  }
  while (k < 0) {
    const s = Math.min(-k, 1000);
    x /= Number(1n << BigInt(s));
    k += s;
  }
  return x;
}

/**
 * An independent correctly rounded p / q (normal range only): the quotient scaled to 66+ bits,
 * its last bit forced to 1 when inexact (round to odd: keeps the sticky information), converted by
 * the engine's correctly rounded Number(bigint), then scaled back exactly by a power of two.
 */
function roundToOddReference(p: bigint, q: bigint): number {
  const negative = p < 0n;
  const a = negative ? -p : p;
  const k = 66 - (bitLength(a) - bitLength(q));
  const scaled = k >= 0 ? a << BigInt(k) : a;
  const divisor = k >= 0 ? q : q << BigInt(-k);
  let t = scaled / divisor;
  if (scaled % divisor !== 0n) t |= 1n;
  const x = timesPow2(Number(t), -k);
  return negative ? -x : x;
}

const anyBig = fc.bigInt({ min: -(1n << 130n), max: 1n << 130n });
const rational = fc.tuple(anyBig, fc.bigInt({ min: 1n, max: 1n << 120n })).map(([n, d]) => new Rational(n, d));
const nonZeroRational = rational.filter((q) => !q.isZero());
const finiteDouble = fc.double({ noNaN: true, noDefaultInfinity: true });
const subnormal = fc.double({ min: -2.225073858507201e-308, max: 2.225073858507201e-308, noNaN: true });

describe('Rational: arithmetic (hand-computed values)', () => {
  test('exact and normalised: add, sub, mul, div, neg, abs, pow; sign moved to the numerator', () => {
    const a = new Rational(1, 3);
    const b = new Rational(1, 6);
    expect(a.add(b).toString()).toBe('1/2');
    expect(a.sub(b).toString()).toBe('1/6');
    expect(a.mul(b).toString()).toBe('1/18');
    expect(a.div(b).toString()).toBe('2');
    expect(new Rational(6, -4).toString()).toBe('-3/2');
    expect(new Rational(6n, -4n).neg().toString()).toBe('3/2');
    expect(new Rational(-6, -4).toString()).toBe('3/2');
    expect(new Rational(-3, 2).abs().toString()).toBe('3/2');
    expect(new Rational(3, 2).abs().toString()).toBe('3/2');
    expect(new Rational(2, 3).pow(3).toString()).toBe('8/27');
    expect(new Rational(-2, 3).pow(0).isOne()).toBe(true);
    expect(new Rational(0, -7).equals(Rational.ZERO)).toBe(true);
    expect([new Rational(0, -7).num, new Rational(0, -7).den]).toEqual([0n, 1n]);
    expect(new Rational(2, 3).mul(new Rational(3, 2)).isOne()).toBe(true);
    expect(new Rational(1, 3).add(new Rational(-1, 3)).isZero()).toBe(true);
    expect(new Rational(-1, 3).isNegative()).toBe(true);
    expect(new Rational(1, -3).isNegative()).toBe(true);
    expect(Rational.ZERO.isNegative()).toBe(false);
    expect(new Rational(4, 4).isOne()).toBe(true);
    expect(new Rational(-1).isOne()).toBe(false);
  });

  test('large parts as bigints; numbers must be safe integers; zero denominators and 1/0 rejected', () => {
    const big = (1n << 80n) + 1n;
    expect(new Rational(big * 3n, 6n).toString()).toBe(`${big}/2`);
    expect(new Rational(Number.MAX_SAFE_INTEGER).num).toBe(BigInt(Number.MAX_SAFE_INTEGER));
    expect(() => new Rational(1, 0)).toThrow(RangeError);
    expect(() => new Rational(1n, 0n)).toThrow(RangeError);
    expect(() => new Rational(0.5, 1)).toThrow(RangeError);
    expect(() => new Rational(1, 0.5)).toThrow(RangeError);
    expect(() => new Rational(2 ** 53)).toThrow(RangeError);
    expect(() => new Rational(NaN)).toThrow(RangeError);
    expect(() => new Rational(1).div(Rational.ZERO)).toThrow(RangeError);
    expect(() => new Rational(1, 2).pow(-1)).toThrow(RangeError);
    expect(() => new Rational(1, 2).pow(1.5)).toThrow(RangeError);
  });

  test('compare, equals; toString and toTex formats', () => {
    expect(new Rational(1, 3).compare(new Rational(1, 2))).toBe(-1);
    expect(new Rational(1, 2).compare(new Rational(1, 3))).toBe(1);
    expect(new Rational(2, 4).compare(new Rational(1, 2))).toBe(0);
    expect(new Rational(-1, 2).compare(new Rational(-1, 3))).toBe(-1);
    expect(new Rational(2, 4).equals(new Rational(1, 2))).toBe(true);
    expect(new Rational(1, 2).equals(new Rational(-1, 2))).toBe(false);
    expect(new Rational(-3, 2).toString()).toBe('-3/2');
    expect(new Rational(4, 2).toString()).toBe('2');
    expect(new Rational(-3, 2).toTex()).toBe('\\tfrac{-3}{2}');
    expect(new Rational(-4, 2).toTex()).toBe('-2');
  });
});

describe('Rational: algebraic properties (fast-check)', () => {
  test('(a + b) - b = a, a + b = b + a, a - b = a + (-b); results in lowest terms', () => {
    let runs = 0;
    fc.assert(
      fc.property(rational, rational, (a, b) => {
        runs++;
        const s = a.add(b);
        expect(isNormalised(s) && isNormalised(a.sub(b)) && isNormalised(a.mul(b))).toBe(true);
        expect(s.sub(b).equals(a)).toBe(true);
        expect(s.equals(b.add(a))).toBe(true);
        expect(a.sub(b).equals(a.add(b.neg()))).toBe(true);
        expect(a.sub(a).isZero()).toBe(true);
      }),
      { numRuns: 500, seed: 2024 },
    );
    expect(runs).toBe(500);
  });

  test('a * b / b = a for b != 0, a * b = b * a, (a + b) c = a c + b c; quotients in lowest terms', () => {
    let runs = 0;
    fc.assert(
      fc.property(rational, nonZeroRational, rational, (a, b, c) => {
        runs++;
        const q = a.mul(b).div(b);
        expect(isNormalised(q) && isNormalised(a.div(b))).toBe(true);
        expect(q.equals(a)).toBe(true);
        expect(a.mul(b).equals(b.mul(a))).toBe(true);
        expect(a.add(b).mul(c).equals(a.mul(c).add(b.mul(c)))).toBe(true);
        expect(b.div(b).isOne()).toBe(true);
      }),
      { numRuns: 500, seed: 4048 },
    );
    expect(runs).toBe(500);
  });

  test('the constructor reduces: num/den equals the reduced pair times any common factor; equals is value equality', () => {
    let runs = 0;
    fc.assert(
      fc.property(anyBig, fc.bigInt({ min: 1n, max: 1n << 90n }), fc.bigInt({ min: -(1n << 40n), max: 1n << 40n }).filter((k) => k !== 0n), (n, d, k) => {
        runs++;
        const r = new Rational(n, d);
        const scaled = new Rational(n * k, d * k);
        expect(isNormalised(r)).toBe(true);
        expect(scaled.equals(r)).toBe(true);
        // cross-multiplication: the reduced pair represents the same value
        expect(r.num * d).toBe(n * r.den);
      }),
      { numRuns: 500, seed: 99 },
    );
    expect(runs).toBe(500);
  });

  test('compare = sign of the difference, antisymmetric; matches exact integer arithmetic on small parts', () => {
    let runs = 0;
    const small = fc.integer({ min: -(2 ** 20), max: 2 ** 20 });
    const pos = fc.integer({ min: 1, max: 2 ** 20 });
    fc.assert(
      fc.property(small, pos, small, pos, rational, rational, (p1, q1, p2, q2, a, b) => {
        runs++;
        // p1 q2 and p2 q1 are below 2^41: exact in float64
        const expected = Math.sign(p1 * q2 - p2 * q1);
        expect(new Rational(p1, q1).compare(new Rational(p2, q2))).toBe(expected);
        const c = a.compare(b);
        expect(c).toBe(a.sub(b).isZero() ? 0 : a.sub(b).isNegative() ? -1 : 1);
        expect(b.compare(a)).toBe(-c);
        expect(c === 0).toBe(a.equals(b));
        expect(a.abs().isNegative()).toBe(false);
        expect(a.abs().equals(a.isNegative() ? a.neg() : a)).toBe(true);
      }),
      { numRuns: 500, seed: 7 },
    );
    expect(runs).toBe(500);
  });

  test('pow(k) = k-fold product', () => {
    let runs = 0;
    fc.assert(
      fc.property(rational, fc.integer({ min: 0, max: 6 }), (a, k) => {
        runs++;
        let r = Rational.ONE;
        for (let i = 0; i < k; i++) r = r.mul(a);
        expect(a.pow(k).equals(r)).toBe(true);
      }),
      { numRuns: 200, seed: 5 },
    );
    expect(runs).toBe(200);
  });
});

describe('Rational.toNumber: the correctly rounded float64', () => {
  test('= the IEEE quotient when both parts are exact doubles (all safe integers; the old symbolic Number(p)/Number(q))', () => {
    let runs = 0;
    fc.assert(
      fc.property(fc.maxSafeInteger(), fc.maxSafeNat().filter((q) => q > 0), (p, q) => {
        runs++;
        const expected = p / q;
        expect(Object.is(new Rational(p, q).toNumber(), expected === 0 ? 0 : expected)).toBe(true);
        expect(Object.is(new Rational(p, q).toNumber(), Number(BigInt(p)) / Number(BigInt(q)) || 0)).toBe(true);
      }),
      { numRuns: 3000, seed: 12345 },
    );
    expect(runs).toBe(3000);
  });

  test('= the IEEE product / quotient of a double and an integer over the whole range: subnormal results, overflow to Infinity', () => {
    let runs = 0;
    fc.assert(
      fc.property(
        fc.oneof(finiteDouble, subnormal),
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        fc.boolean(),
        (x, m, divide) => {
          runs++;
          // x and m are exact doubles, so x / m and x * m are one IEEE operation each: correctly rounded
          const r = divide ? exactOfDouble(x).div(new Rational(m)) : exactOfDouble(x).mul(new Rational(m));
          const expected = divide ? x / m : x * m;
          expect(Object.is(r.toNumber(), expected === 0 && r.isZero() ? 0 : expected), `${x} ${divide ? '/' : '*'} ${m}`).toBe(true);
        },
      ),
      { numRuns: 3000, seed: 31 },
    );
    expect(runs).toBe(3000);
    // The boundaries themselves
    expect(new Rational(1n, 1n << 1074n).toNumber()).toBe(Number.MIN_VALUE);
    expect(new Rational(1n, 1n << 1075n).toNumber()).toBe(0); // the midpoint 2^-1075: ties to even (0)
    expect(new Rational(3n, 1n << 1076n).toNumber()).toBe(Number.MIN_VALUE); // 0.75 of MIN_VALUE
    expect(new Rational(-1n, 1n << 1076n).toNumber()).toBe(-0);
    expect(new Rational(1n, 1n << 1022n).toNumber()).toBe(2.2250738585072014e-308);
    const max = exactOfDouble(Number.MAX_VALUE);
    expect(max.toNumber()).toBe(Number.MAX_VALUE);
    const halfUlpAbove = max.add(new Rational(1n << 970n)); // MAX + ulp/2 (ulp 2^971): rounds to even = Infinity
    expect(halfUlpAbove.toNumber()).toBe(Infinity);
    expect(halfUlpAbove.sub(Rational.ONE).toNumber()).toBe(Number.MAX_VALUE);
    expect(halfUlpAbove.neg().toNumber()).toBe(-Infinity);
  });

  test('integers: = Number(bigint), the engine own correctly rounded conversion (up to 2^1100, overflow included)', () => {
    let runs = 0;
    fc.assert(
      fc.property(fc.bigInt({ min: -(1n << 1100n), max: 1n << 1100n }), fc.integer({ min: 0, max: 1100 }), (n, shift) => {
        runs++;
        const x = n >> BigInt(shift); // many magnitudes, not only ~2^1100
        expect(Object.is(new Rational(x).toNumber(), Number(x))).toBe(true);
      }),
      { numRuns: 3000, seed: 8 },
    );
    expect(runs).toBe(3000);
  });

  test('every finite double round-trips through its exact rational (subnormals included)', () => {
    let runs = 0;
    fc.assert(
      fc.property(fc.oneof(finiteDouble, subnormal), (x) => {
        runs++;
        expect(Object.is(exactOfDouble(x).toNumber(), x === 0 ? 0 : x)).toBe(true);
      }),
      { numRuns: 3000, seed: 3 },
    );
    expect(runs).toBe(3000);
  });

  test('exact midpoints between neighbouring doubles round to the even one (normal and subnormal)', () => {
    let runs = 0;
    const positive = fc.double({ min: Number.MIN_VALUE, max: 1e300, noNaN: true });
    fc.assert(
      fc.property(fc.oneof(positive, subnormal.filter((x) => x > 0)), fc.boolean(), (x, negate) => {
        runs++;
        const up = nextUp(x);
        let mid = exactOfDouble(x).add(exactOfDouble(up)).mul(new Rational(1, 2));
        const view = new DataView(new ArrayBuffer(8));
        view.setFloat64(0, x);
        const even = (view.getBigUint64(0) & 1n) === 0n ? x : up;
        if (negate) mid = mid.neg();
        expect(mid.toNumber()).toBe(negate ? -even : even);
      }),
      { numRuns: 2000, seed: 17 },
    );
    expect(runs).toBe(2000);
  });

  test('huge BigInt fractions: = a round-to-odd BigInt division, and nearer than both neighbours (exact comparison)', () => {
    let runs = 0;
    fc.assert(
      fc.property(fc.bigInt({ min: -(1n << 200n), max: 1n << 200n }), fc.bigInt({ min: 1n, max: 1n << 190n }), (p, q) => {
        runs++;
        const exact = new Rational(p, q);
        const x = exact.toNumber();
        expect(isNearestDouble(x, exact), `${exact}`).toBe(true);
        if (Math.abs(x) >= 2 ** -1000) expect(Object.is(x, roundToOddReference(p, q) || 0)).toBe(true);
      }),
      { numRuns: 1000, seed: 777 },
    );
    expect(runs).toBe(1000);
  });

  test('tiny fractions down to the subnormal range: nearer than both neighbours', () => {
    let runs = 0;
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 1n << 60n }), fc.integer({ min: 1000, max: 1140 }), fc.bigInt({ min: 1n, max: 1n << 30n }), (p, k, m) => {
        runs++;
        const exact = new Rational(p, (1n << BigInt(k)) * m);
        expect(isNearestDouble(exact.toNumber(), exact), `${exact}`).toBe(true);
      }),
      { numRuns: 1000, seed: 1074 },
    );
    expect(runs).toBe(1000);
  });

  test('negative control: a result one ulp off (up or down) fails both oracles', () => {
    let runs = 0;
    let caught = 0;
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 1n << 200n }), fc.bigInt({ min: 1n, max: 1n << 190n }), (p, q) => {
        runs++;
        const exact = new Rational(p, q);
        const x = exact.toNumber();
        for (const wrong of [nextUp(x), nextDown(x)]) {
          expect(isNearestDouble(wrong, exact)).toBe(false);
          expect(wrong === roundToOddReference(p, q)).toBe(false);
          caught++;
        }
      }),
      { numRuns: 300, seed: 778 },
    );
    expect(runs).toBe(300);
    expect(caught).toBe(600);
  });

  test('negative control: naive Number(p)/Number(q) rounds twice and is caught as not nearest', () => {
    // Deterministic pseudo-random 100-bit numerators and 90-bit denominators.
    let state = 0x9e3779b97f4a7c15n;
    const next = (bits: bigint): bigint => {
      state = (state * 6364136223846793005n + 1442695040888963407n) & ((1n << 128n) - 1n);
      return (state >> 20n) & ((1n << bits) - 1n);
    };
    let caught = 0;
    for (let i = 0; i < 2000; i++) {
      const p = next(100n) | (1n << 99n);
      const q = next(90n) | (1n << 89n);
      const exact = new Rational(p, q);
      const naive = Number(p) / Number(q);
      expect(isNearestDouble(exact.toNumber(), exact)).toBe(true);
      if (naive === exact.toNumber()) continue;
      expect(isNearestDouble(naive, exact)).toBe(false);
      expect(naive === roundToOddReference(p, q)).toBe(false);
      caught++;
    }
    expect(caught).toBeGreaterThan(0);
  });
});

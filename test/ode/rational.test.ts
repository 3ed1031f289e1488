import { exactOfDouble } from './exactDouble.js';
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { Fraction } from '../../src/ode/rational.js';

function nextUp(x: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const b = view.getBigInt64(0);
  view.setBigInt64(0, x >= 0 ? b + 1n : b - 1n);
  return view.getFloat64(0);
}
function nextDown(x: number): number {
  return -nextUp(-x);
}

function absFrac(q: Fraction): Fraction {
  return q.num < 0n ? q.neg() : q;
}
function lessEq(p: Fraction, q: Fraction): boolean {
  return p.num * q.den <= q.num * p.den;
}

describe('Fraction', () => {
  test('arithmetic is exact and normalised (hand-computed values)', () => {
    const a = new Fraction(1, 3);
    const b = new Fraction(1, 6);
    expect(a.add(b).toString()).toBe('1/2');
    expect(a.sub(b).toString()).toBe('1/6');
    expect(a.mul(b).toString()).toBe('1/18');
    expect(a.div(b).toString()).toBe('2');
    expect(new Fraction(6, -4).toString()).toBe('-3/2');
    expect(new Fraction(2, 3).pow(3).toString()).toBe('8/27');
    expect(new Fraction(0, -7).equals(Fraction.ZERO)).toBe(true);
    expect(() => new Fraction(1, 0)).toThrow(RangeError);
    expect(() => new Fraction(0.5, 1)).toThrow(RangeError);
  });

  test('toNumber equals the IEEE quotient when both parts are exact doubles (correctly rounded division)', () => {
    let runs = 0;
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), fc.integer({ min: 1, max: 2 ** 40 }), (p, q) => {
        runs++;
        const expected = p / q;
        expect(Object.is(new Fraction(p, q).toNumber(), expected === 0 ? 0 : expected)).toBe(true);
      }),
      { numRuns: 2000, seed: 12345 },
    );
    expect(runs).toBe(2000);
  });

  test('toNumber is the nearest double for huge BigInt fractions (exact comparison with both neighbours)', () => {
    let runs = 0;
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 1n << 200n }), fc.bigInt({ min: 1n, max: 1n << 190n }), (p, q) => {
        runs++;
        const exact = new Fraction(p, q);
        const x = exact.toNumber();
        const dist = absFrac(exactOfDouble(x).sub(exact));
        expect(lessEq(dist, absFrac(exactOfDouble(nextUp(x)).sub(exact)))).toBe(true);
        expect(lessEq(dist, absFrac(exactOfDouble(nextDown(x)).sub(exact)))).toBe(true);
      }),
      { numRuns: 500, seed: 777 },
    );
    expect(runs).toBe(500);
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
      const exact = new Fraction(p, q);
      const naive = Number(p) / Number(q);
      if (naive === exact.toNumber()) continue;
      const dNaive = absFrac(exactOfDouble(naive).sub(exact));
      const dBest = absFrac(exactOfDouble(exact.toNumber()).sub(exact));
      expect(lessEq(dNaive, dBest)).toBe(false);
      caught++;
    }
    expect(caught).toBeGreaterThan(0);
  });
});

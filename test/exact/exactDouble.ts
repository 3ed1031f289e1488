/**
 * Exact arithmetic on float64 values for the tableau tests: the exact rational value of a double
 * (from its bits), its neighbours, and "x is the double nearest to q" decided without rounding.
 * Nothing here calls the code under test (Rational is only used as exact BigInt arithmetic, never its toNumber).
 */
import { Rational } from '../../src/exact/rational.js';

const view = new DataView(new ArrayBuffer(8));

/** The exact rational value of a finite double (mantissa * 2^exponent), from its bits. */
export function exactOfDouble(x: number): Rational {
  if (!Number.isFinite(x)) throw new RangeError(`exactOfDouble: ${x} is not finite`);
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const sign = bits >> 63n ? -1n : 1n;
  const expBits = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  const mant = expBits === 0 ? frac : frac | (1n << 52n);
  const e = (expBits === 0 ? 1 : expBits) - 1075;
  return e >= 0 ? new Rational(sign * (mant << BigInt(e))) : new Rational(sign * mant, 1n << BigInt(-e));
}

/** The next double towards +Infinity (for 0 or -0: the smallest positive subnormal). */
export function nextUp(x: number): number {
  if (x === 0) return Number.MIN_VALUE;
  view.setFloat64(0, x);
  const b = view.getBigInt64(0);
  view.setBigInt64(0, x > 0 ? b + 1n : b - 1n);
  return view.getFloat64(0);
}

/** The next double towards -Infinity. */
export function nextDown(x: number): number {
  return -nextUp(-x);
}

function absQ(q: Rational): Rational {
  return q.num < 0n ? q.neg() : q;
}

/** p < q, exactly. */
function less(p: Rational, q: Rational): boolean {
  return p.num * q.den < q.num * p.den;
}

/** The last bit of x's significand is 0 (the tie-breaking rule of round-half-to-even). */
function evenSignificand(x: number): boolean {
  view.setFloat64(0, x);
  return (view.getBigUint64(0) & 1n) === 0n;
}

/**
 * x is q rounded to the nearest double (ties to even): |x - q| is strictly smaller than the
 * distance from q to either neighbour of x, or equal to it with x's significand even. Decided in
 * exact rationals; so |x - q| <= half an ulp of x.
 */
export function isNearestDouble(x: number, q: Rational): boolean {
  if (!Number.isFinite(x)) return false;
  const d = absQ(exactOfDouble(x).sub(q));
  const up = absQ(exactOfDouble(nextUp(x)).sub(q));
  const down = absQ(exactOfDouble(nextDown(x)).sub(q));
  if (less(up, d) || less(down, d)) return false;
  if (less(d, up) && less(d, down)) return true;
  return evenSignificand(x);
}

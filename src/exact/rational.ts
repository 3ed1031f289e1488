/**
 * Exact rational numbers on BigInt: the one rational class of coflow, shared by the integrator
 * (Runge-Kutta coefficients stated as the published fractions, validateTableau and the order
 * conditions, src/ode/tableau.ts) and the symbolic stage (coefficients of the matrix-polynomial
 * algebra, src/symbolic/algebra). It depends on nothing, so neither layer depends on the other.
 *
 * Exactness matters on both sides: a tableau's consistency conditions are checked without
 * rounding and each coefficient is rounded to float64 once, correctly; derived equations are
 * compared as term sets, so a coefficient like 2 must be 2, not 1.9999999999999998. Never used in
 * a hot loop: values are converted to float64 once.
 */

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) {
    const r = x % y;
    x = y;
    y = r;
  }
  return x;
}

function toBigInt(value: bigint | number, field: string): bigint {
  if (typeof value === 'bigint') return value;
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`Rational ${field} must be a safe integer (|x| < 2^53), got ${value}; pass a bigint instead`);
  }
  return BigInt(value);
}

function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

const TWO_52 = 1n << 52n;
const TWO_53 = 1n << 53n;
/** Exponent of the least significant bit of a subnormal (and of the smallest normal) float64. */
const MIN_EXP = -1074;
const bits = new DataView(new ArrayBuffer(8));

/**
 * round(p / (q 2^e)) to an integer, ties to even, for p >= 0, q > 0 (exact BigInt division: the
 * remainder decides the rounding, so there is no second rounding anywhere).
 */
function roundedQuotient(p: bigint, q: bigint, e: number): bigint {
  const scaledP = e >= 0 ? p : p << BigInt(-e);
  const divisor = e >= 0 ? q << BigInt(e) : q;
  let quotient = scaledP / divisor;
  const twiceRem = 2n * (scaledP % divisor);
  if (twiceRem > divisor || (twiceRem === divisor && (quotient & 1n) === 1n)) quotient += 1n;
  return quotient;
}

/** An exact rational num/den in lowest terms with den > 0. Immutable. */
export class Rational {
  readonly num: bigint;
  readonly den: bigint;

  /** num/den, reduced; numbers must be safe integers (larger values: pass bigints). */
  constructor(num: bigint | number, den: bigint | number = 1n) {
    let n = toBigInt(num, 'numerator');
    let d = toBigInt(den, 'denominator');
    if (d === 0n) throw new RangeError('Rational denominator must be nonzero');
    if (d < 0n) {
      n = -n;
      d = -d;
    }
    const g = gcd(n, d);
    this.num = g === 0n ? 0n : n / g;
    this.den = g === 0n ? 1n : d / g;
  }

  static readonly ZERO = new Rational(0n);
  static readonly ONE = new Rational(1n);

  add(o: Rational): Rational {
    return new Rational(this.num * o.den + o.num * this.den, this.den * o.den);
  }
  sub(o: Rational): Rational {
    return new Rational(this.num * o.den - o.num * this.den, this.den * o.den);
  }
  mul(o: Rational): Rational {
    return new Rational(this.num * o.num, this.den * o.den);
  }
  div(o: Rational): Rational {
    if (o.num === 0n) throw new RangeError('Rational division by zero');
    return new Rational(this.num * o.den, this.den * o.num);
  }
  neg(): Rational {
    return new Rational(-this.num, this.den);
  }
  abs(): Rational {
    return this.num < 0n ? this.neg() : this;
  }
  /** this^k for an integer k >= 0. */
  pow(k: number): Rational {
    if (!Number.isInteger(k) || k < 0) throw new RangeError(`Rational.pow exponent must be an integer >= 0, got ${k}`);
    let r: Rational = Rational.ONE;
    for (let i = 0; i < k; i++) r = r.mul(this);
    return r;
  }

  equals(o: Rational): boolean {
    // Both are in lowest terms with positive denominators, so equality is component-wise.
    return this.num === o.num && this.den === o.den;
  }
  /** -1, 0 or 1 as this <, =, > o (exact: cross-multiplication, the denominators are positive). */
  compare(o: Rational): -1 | 0 | 1 {
    const l = this.num * o.den;
    const r = o.num * this.den;
    return l < r ? -1 : l > r ? 1 : 0;
  }
  isZero(): boolean {
    return this.num === 0n;
  }
  isOne(): boolean {
    return this.num === 1n && this.den === 1n;
  }
  isNegative(): boolean {
    return this.num < 0n;
  }

  /**
   * The float64 nearest to this rational (round half to even), i.e. correctly rounded, unlike
   * Number(num) / Number(den), which rounds twice when num or den exceed 2^53 (when both are
   * exact doubles the two agree: IEEE division is correctly rounded). Over the whole float64
   * range, like IEEE division: subnormal results are rounded at 2^-1074, and values beyond
   * MAX_VALUE (after rounding) are +-Infinity. Zero gives +0.
   */
  toNumber(): number {
    if (this.num === 0n) return 0;
    const negative = this.num < 0n;
    const p = negative ? -this.num : this.num;
    const q = this.den;
    // Choose e so that the integer quotient floor(p / (q 2^e)) has exactly 53 bits.
    let e = bitLength(p) - bitLength(q) - 53;
    for (;;) {
      const scaledP = e >= 0 ? p : p << BigInt(-e);
      const divisor = e >= 0 ? q << BigInt(e) : q;
      const floor = scaledP / divisor;
      if (floor >= TWO_53) e += 1;
      else if (floor < TWO_52) e -= 1;
      else break;
    }
    // Below the normal range the spacing of float64 is fixed at 2^-1074.
    if (e < MIN_EXP) e = MIN_EXP;
    let significand = roundedQuotient(p, q, e);
    if (significand === TWO_53) {
      significand = TWO_52;
      e += 1;
    }
    // value = significand 2^e with significand < 2^53; as float64 bits: a normal number has
    // significand >= 2^52 and biased exponent e + 1075 (the implicit bit carries into it), a
    // subnormal has e = -1074, significand < 2^52 and biased exponent 0.
    const biased = significand >= TWO_52 ? e + 1075 : 0;
    if (biased >= 2047) return negative ? -Infinity : Infinity;
    const field = significand >= TWO_52 ? significand - TWO_52 : significand;
    bits.setBigUint64(0, (BigInt(biased) << 52n) | field | (negative ? 1n << 63n : 0n));
    return bits.getFloat64(0);
  }

  toString(): string {
    return this.den === 1n ? `${this.num}` : `${this.num}/${this.den}`;
  }
  toTex(): string {
    return this.den === 1n ? `${this.num}` : `\\tfrac{${this.num}}{${this.den}}`;
  }
}

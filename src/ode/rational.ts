/**
 * Exact rational numbers on BigInt, used to state Runge-Kutta coefficients as the published
 * fractions and to check their algebraic properties without rounding (validateTableau, order
 * conditions). Never used in a hot loop: coefficients are converted to float64 once.
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
    throw new RangeError(`${field} must be a safe integer (|x| < 2^53), got ${value}; pass a bigint instead`);
  }
  return BigInt(value);
}

function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

/** An exact fraction num/den in lowest terms with den > 0. Immutable. */
export class Fraction {
  readonly num: bigint;
  readonly den: bigint;

  constructor(num: bigint | number, den: bigint | number = 1n) {
    let n = toBigInt(num, 'Fraction numerator');
    let d = toBigInt(den, 'Fraction denominator');
    if (d === 0n) throw new RangeError('Fraction denominator must be nonzero');
    if (d < 0n) {
      n = -n;
      d = -d;
    }
    const g = gcd(n, d);
    this.num = g === 0n ? 0n : n / g;
    this.den = g === 0n ? 1n : d / g;
  }

  static readonly ZERO = new Fraction(0n);
  static readonly ONE = new Fraction(1n);

  add(o: Fraction): Fraction {
    return new Fraction(this.num * o.den + o.num * this.den, this.den * o.den);
  }
  sub(o: Fraction): Fraction {
    return new Fraction(this.num * o.den - o.num * this.den, this.den * o.den);
  }
  mul(o: Fraction): Fraction {
    return new Fraction(this.num * o.num, this.den * o.den);
  }
  div(o: Fraction): Fraction {
    if (o.num === 0n) throw new RangeError('Fraction division by zero');
    return new Fraction(this.num * o.den, this.den * o.num);
  }
  neg(): Fraction {
    return new Fraction(-this.num, this.den);
  }
  /** this^k for an integer k >= 0. */
  pow(k: number): Fraction {
    if (!Number.isInteger(k) || k < 0) throw new RangeError(`Fraction.pow exponent must be an integer >= 0, got ${k}`);
    let r: Fraction = Fraction.ONE;
    for (let i = 0; i < k; i++) r = r.mul(this);
    return r;
  }
  equals(o: Fraction): boolean {
    // Both are in lowest terms with positive denominators, so equality is component-wise.
    return this.num === o.num && this.den === o.den;
  }
  isZero(): boolean {
    return this.num === 0n;
  }

  /**
   * The float64 nearest to this fraction (round half to even), i.e. correctly rounded, unlike
   * Number(num) / Number(den) which rounds twice when num or den exceed 2^53. Restricted to the
   * normal float64 range, which is all the Runge-Kutta coefficients need.
   */
  toNumber(): number {
    if (this.num === 0n) return 0;
    const negative = this.num < 0n;
    const p = negative ? -this.num : this.num;
    const q = this.den;
    // Choose e so that the integer quotient floor(p / (q * 2^e)) has exactly 53 bits.
    let e = bitLength(p) - bitLength(q) - 53;
    let quotient: bigint;
    let remainder: bigint;
    let divisor: bigint;
    for (;;) {
      const scaledP = e >= 0 ? p : p << BigInt(-e);
      divisor = e >= 0 ? q << BigInt(e) : q;
      quotient = scaledP / divisor;
      remainder = scaledP % divisor;
      if (quotient >= 1n << 53n) e += 1;
      else if (quotient < 1n << 52n) e -= 1;
      else break;
    }
    const twiceRem = 2n * remainder;
    if (twiceRem > divisor || (twiceRem === divisor && (quotient & 1n) === 1n)) quotient += 1n;
    if (quotient === 1n << 53n) {
      quotient = 1n << 52n;
      e += 1;
    }
    // quotient < 2^53 converts exactly; multiplying by a power of two is exact in the normal range.
    const magnitude = Number(quotient) * Math.pow(2, e);
    if (!(magnitude >= 2.2250738585072014e-308 && magnitude <= Number.MAX_VALUE)) {
      throw new RangeError(`Fraction ${this.toString()} is outside the normal float64 range`);
    }
    return negative ? -magnitude : magnitude;
  }

  toString(): string {
    return this.den === 1n ? `${this.num}` : `${this.num}/${this.den}`;
  }
}

/** A rational written as an integer pair [numerator, denominator], as in published tableaux. */
export type RationalPair = readonly [number, number];

/** Convert a pair to a Fraction (throws on non-integer parts or zero denominator). */
export function fractionOf(pair: RationalPair): Fraction {
  return new Fraction(pair[0], pair[1]);
}

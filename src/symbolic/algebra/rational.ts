/**
 * Exact rational numbers on bigint, for the coefficients of the matrix-polynomial algebra.
 * Exactness matters: the derived equations are compared as term sets, so a coefficient like
 * 2 must be 2, not 1.9999999999999998.
 */
export class Rational {
  readonly num: bigint;
  readonly den: bigint;

  constructor(num: bigint, den: bigint = 1n) {
    if (den === 0n) throw new RangeError('Rational: zero denominator');
    if (den < 0n) {
      num = -num;
      den = -den;
    }
    const g = gcd(num < 0n ? -num : num, den);
    this.num = g === 0n ? 0n : num / g;
    this.den = g === 0n ? 1n : den / g;
  }

  static readonly ZERO = new Rational(0n);
  static readonly ONE = new Rational(1n);

  static of(num: number | bigint, den: number | bigint = 1): Rational {
    if (typeof num === 'number' && !Number.isInteger(num)) throw new RangeError(`Rational.of: ${num} is not an integer`);
    if (typeof den === 'number' && !Number.isInteger(den)) throw new RangeError(`Rational.of: ${den} is not an integer`);
    return new Rational(BigInt(num), BigInt(den));
  }

  add(o: Rational): Rational {
    return new Rational(this.num * o.den + o.num * this.den, this.den * o.den);
  }

  mul(o: Rational): Rational {
    return new Rational(this.num * o.num, this.den * o.den);
  }

  neg(): Rational {
    return new Rational(-this.num, this.den);
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

  abs(): Rational {
    return this.num < 0n ? this.neg() : this;
  }

  equals(o: Rational): boolean {
    return this.num === o.num && this.den === o.den;
  }

  toNumber(): number {
    return Number(this.num) / Number(this.den);
  }

  toString(): string {
    return this.den === 1n ? `${this.num}` : `${this.num}/${this.den}`;
  }

  toTex(): string {
    return this.den === 1n ? `${this.num}` : `\\tfrac{${this.num}}{${this.den}}`;
  }
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

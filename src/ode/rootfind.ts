/**
 * Brent's root finder (R. P. Brent, "Algorithms for Minimization without Derivatives", 1973,
 * Ch. 4, the "zeroin" algorithm): inverse quadratic interpolation or secant steps, falling back
 * to bisection whenever they would not shrink the bracket fast enough, so it never does worse
 * than bisection and keeps the root bracketed throughout.
 */

const EPS = Number.EPSILON;

/**
 * A root of fn in the bracket [a, b] where fa = fn(a) and fb = fn(b) have opposite signs (or one
 * is zero). Stops when the bracket is below 2 eps |x| + tol/2 (so tol = 0 means machine
 * precision) or after maxIter evaluations. Returns the endpoint with the smaller |fn|.
 */
export function brentRoot(fn: (x: number) => number, a: number, b: number, fa: number, fb: number, tol: number, maxIter = 200): number {
  if (fa === 0) return a;
  if (fb === 0) return b;
  if (fa > 0 === fb > 0) throw new RangeError(`brentRoot: no sign change on [${a}, ${b}] (f = ${fa}, ${fb})`);
  let c = a;
  let fc = fa;
  let d = b - a;
  let e = d;
  for (let iter = 0; iter < maxIter; iter++) {
    if (fb > 0 === fc > 0) {
      // Keep c on the opposite side of the root from b.
      c = a;
      fc = fa;
      d = b - a;
      e = d;
    }
    if (Math.abs(fc) < Math.abs(fb)) {
      // b is always the best estimate so far.
      a = b;
      b = c;
      c = a;
      fa = fb;
      fb = fc;
      fc = fa;
    }
    const tol1 = 2 * EPS * Math.abs(b) + 0.5 * tol;
    const xm = 0.5 * (c - b);
    if (Math.abs(xm) <= tol1 || fb === 0) return b;
    if (Math.abs(e) >= tol1 && Math.abs(fa) > Math.abs(fb)) {
      let p: number;
      let q: number;
      const s = fb / fa;
      if (a === c) {
        p = 2 * xm * s; // secant
        q = 1 - s;
      } else {
        const qa = fa / fc; // inverse quadratic interpolation through a, b, c
        const r = fb / fc;
        p = s * (2 * xm * qa * (qa - r) - (b - a) * (r - 1));
        q = (qa - 1) * (r - 1) * (s - 1);
      }
      if (p > 0) q = -q;
      else p = -p;
      if (2 * p < Math.min(3 * xm * q - Math.abs(tol1 * q), Math.abs(e * q))) {
        e = d;
        d = p / q;
      } else {
        d = xm; // interpolation not good enough: bisect
        e = d;
      }
    } else {
      d = xm;
      e = d;
    }
    a = b;
    fa = fb;
    b += Math.abs(d) > tol1 ? d : xm > 0 ? tol1 : -tol1;
    fb = fn(b);
  }
  return b;
}

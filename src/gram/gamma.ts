/**
 * Gamma and chi-square variates for the Bartlett decomposition (./wishart.ts).
 *
 * Marsaglia & Tsang, "A simple method for generating gamma variables", ACM TOMS 26(3), 2000:
 * for shape a >= 1 let d = a - 1/3, c = 1/sqrt(9d); draw x ~ N(0,1), v = (1 + c x)^3 (> 0), and
 * accept d v if u < 1 - 0.0331 x^4 (squeeze) or log u < x^2/2 + d (1 - v + log v). For a < 1,
 * Gamma(a) = Gamma(a + 1) U^(1/a) (their section 6). chi2(nu) = 2 Gamma(nu/2).
 * Exact in distribution for every shape, with acceptance above 95%, so m up to 1e7 costs the
 * same as m = 10.
 */
import { Rng } from '../random/rng.js';

export function sampleGamma(rng: Rng, shape: number): number {
  if (!(shape > 0) || !Number.isFinite(shape)) throw new RangeError(`sampleGamma: shape must be finite and > 0 (got ${shape})`);
  if (shape < 1) {
    const g = sampleGamma(rng, shape + 1);
    // 1 - U is in (0, 1], so the power is finite and positive
    return g * Math.pow(1 - rng.uniform(), 1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = rng.normal();
    const cx = c * x;
    if (cx <= -1) continue;
    const v = (1 + cx) * (1 + cx) * (1 + cx);
    const u = 1 - rng.uniform();
    const x2 = x * x;
    if (u < 1 - 0.0331 * x2 * x2) return d * v;
    // log v = 3 log1p(c x) keeps the acceptance test accurate when c x is tiny (huge shapes)
    if (Math.log(u) < 0.5 * x2 + d * (1 - v + 3 * Math.log1p(cx))) return d * v;
  }
}

export function sampleChiSquare(rng: Rng, dof: number): number {
  return 2 * sampleGamma(rng, dof / 2);
}

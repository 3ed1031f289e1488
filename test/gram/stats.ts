/** Small statistics helpers for the sampler tests (moment z-scores, Kolmogorov-Smirnov). */

export interface MomentZ {
  /** (sample mean - mean) / standard error */
  readonly mean: number;
  /** (sample variance - variance) / standard error, SE from the sample 4th central moment */
  readonly variance: number;
}

export function momentZ(xs: ArrayLike<number>, mean: number, variance: number): MomentZ {
  const n = xs.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += xs[i];
  const xbar = s / n;
  let m2 = 0;
  let m4 = 0;
  for (let i = 0; i < n; i++) {
    const d = xs[i] - xbar;
    m2 += d * d;
    m4 += d * d * d * d;
  }
  const sampleVar = m2 / (n - 1);
  m4 /= n;
  const seVar = Math.sqrt(Math.max(m4 - sampleVar * sampleVar, 0) / n);
  return { mean: (xbar - mean) / Math.sqrt(variance / n), variance: (sampleVar - variance) / seVar };
}

/** Two-sample Kolmogorov-Smirnov statistic D = sup |F1 - F2|. */
export function ks2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const x = Float64Array.from(a).sort();
  const y = Float64Array.from(b).sort();
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < x.length && j < y.length) {
    const v = Math.min(x[i], y[j]);
    while (i < x.length && x[i] <= v) i++;
    while (j < y.length && y[j] <= v) j++;
    d = Math.max(d, Math.abs(i / x.length - j / y.length));
  }
  return d;
}

/** One-sample KS statistic against a continuous CDF. */
export function ks1(a: ArrayLike<number>, cdf: (x: number) => number): number {
  const x = Float64Array.from(a).sort();
  const n = x.length;
  let d = 0;
  for (let i = 0; i < n; i++) {
    const f = cdf(x[i]);
    d = Math.max(d, (i + 1) / n - f, f - i / n);
  }
  return d;
}

/** Critical D at level alpha = 0.001 (c = 1.949) for sample sizes n1, n2 (n2 = Infinity: one-sample). */
export function ksCritical001(n1: number, n2 = Infinity): number {
  const eff = n2 === Infinity ? n1 : (n1 * n2) / (n1 + n2);
  return 1.949 / Math.sqrt(eff);
}

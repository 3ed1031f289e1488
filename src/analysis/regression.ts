/**
 * Ordinary least squares of y on x: the one line fit of coflow, used by the claims checker
 * (Thm F.8's loss rate, src/claims/series.ts) and by the sweeps' power-law fits (src/sweep/fit.ts).
 */
export interface LeastSquaresLine {
  slope: number;
  intercept: number;
  /** standard error of the slope, sqrt(SSR / (n - 2) / Sxx) (null with fewer than 3 points) */
  se: number | null;
  /** coefficient of determination 1 - SSR / Syy (NaN when y is constant) */
  r2: number;
  points: number;
}

/** The least-squares line; null with fewer than 2 points or fewer than 2 distinct x. */
export function leastSquaresLine(x: readonly number[], y: readonly number[]): LeastSquaresLine | null {
  const n = x.length;
  if (n < 2) return null;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  if (!(sxx > 0)) return null;
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  let ssr = 0;
  for (let i = 0; i < n; i++) {
    const e = y[i] - intercept - slope * x[i];
    ssr += e * e;
  }
  return { slope, intercept, se: n > 2 ? Math.sqrt(ssr / (n - 2) / sxx) : null, r2: 1 - ssr / syy, points: n };
}

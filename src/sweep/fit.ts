/**
 * Power-law fits of a sweep's results: y = c m^k, estimated as the slope k of an ordinary least
 * squares fit of log y on log m. Each seed is one independent replicate (its own data set and
 * random start), so k is fitted per seed and the exponent is the mean over seeds, with the 95 %
 * interval mean +- t_{0.975, n-1} sd / sqrt(n) (n seeds, sd their sample standard deviation).
 * With fewer than two seeds that allow a fit, the points are pooled into one OLS fit and the
 * interval is slope +- t_{0.975, N-2} SE(slope) (N points), its standard error interval at 95 %.
 * docs/sweeps.md states the method; the tests recover known exponents from synthetic power laws.
 */
import { leastSquaresLine } from '../analysis/regression.js';
import { studentTQuantile } from './tquantile.js';

export interface FitPoint {
  /** the replicate (the run's seed) */
  seed: number;
  m: number;
  /** the fitted quantity; null when the run did not produce it */
  y: number | null;
}

export interface LineFit {
  slope: number;
  intercept: number;
  /** standard error of the slope (null with fewer than 3 points) */
  se: number | null;
  points: number;
}

export interface PowerFit {
  /** 'per-seed': mean of per-seed slopes; 'pooled-ols': one fit of every point; 'none': too few points */
  method: 'per-seed' | 'pooled-ols' | 'none';
  /** the fitted exponent k of y ~ m^k (null when no fit was possible) */
  exponent: number | null;
  ci95: [number, number] | null;
  /** number of seeds whose points entered the fit */
  n: number;
  /** number of (m, y) points used */
  points: number;
  /** the t quantile used for the interval (t_{0.975, n-1} per seed, t_{0.975, N-2} pooled) */
  t975: number | null;
  /** per seed: its slope, intercept (of ln y on ln m) and number of points */
  perSeed: { seed: number; slope: number; intercept: number; points: number }[];
  /** pooled fit, present when method is 'pooled-ols' */
  pooled?: LineFit;
  /** rows left out: y missing (not reached, not a number) or y <= 0 (no logarithm) */
  leftOut: { missing: number; nonPositive: number };
  /** seeds with fewer than two distinct m values among their usable points (no slope) */
  seedsWithoutFit: number[];
  note: string;
}

/** OLS of y on x (src/analysis/regression.ts); null with fewer than 2 distinct x. */
export function olsLine(x: readonly number[], y: readonly number[]): LineFit | null {
  const f = leastSquaresLine(x, y);
  return f ? { slope: f.slope, intercept: f.intercept, se: f.se, points: f.points } : null;
}

/** Fits y ~ m^k over the points (see the module comment). Deterministic: seeds in ascending order, points in the given order. */
export function fitPowerLaw(points: readonly FitPoint[]): PowerFit {
  const leftOut = { missing: 0, nonPositive: 0 };
  const bySeed = new Map<number, { x: number[]; y: number[] }>();
  for (const p of points) {
    if (p.y === null || !Number.isFinite(p.y)) {
      leftOut.missing++;
      continue;
    }
    if (!(p.y > 0) || !(p.m > 0)) {
      leftOut.nonPositive++;
      continue;
    }
    let s = bySeed.get(p.seed);
    if (!s) bySeed.set(p.seed, (s = { x: [], y: [] }));
    s.x.push(Math.log(p.m));
    s.y.push(Math.log(p.y));
  }
  const seeds = [...bySeed.keys()].sort((a, b) => a - b);
  const perSeed: PowerFit['perSeed'] = [];
  const seedsWithoutFit: number[] = [];
  for (const seed of seeds) {
    const s = bySeed.get(seed)!;
    const line = olsLine(s.x, s.y);
    if (line) perSeed.push({ seed, slope: line.slope, intercept: line.intercept, points: line.points });
    else seedsWithoutFit.push(seed);
  }
  const used = perSeed.reduce((a, f) => a + f.points, 0);
  const base = { perSeed, leftOut, seedsWithoutFit };
  if (perSeed.length >= 2) {
    const n = perSeed.length;
    const mean = perSeed.reduce((a, f) => a + f.slope, 0) / n;
    const sd = Math.sqrt(perSeed.reduce((a, f) => a + (f.slope - mean) ** 2, 0) / (n - 1));
    const t975 = studentTQuantile(0.975, n - 1);
    const half = (t975 * sd) / Math.sqrt(n);
    return {
      method: 'per-seed',
      exponent: mean,
      ci95: [mean - half, mean + half],
      n,
      points: used,
      t975,
      ...base,
      note: `mean of ${n} per-seed OLS slopes of ln y on ln m; 95 % interval mean +- t(0.975, ${n - 1}) sd / sqrt(${n})`,
    };
  }
  // Fewer than two seeds with a slope: one OLS over every usable point (all seeds pooled).
  const x: number[] = [];
  const y: number[] = [];
  for (const seed of seeds) {
    x.push(...bySeed.get(seed)!.x);
    y.push(...bySeed.get(seed)!.y);
  }
  const pooled = olsLine(x, y);
  if (!pooled) {
    return { method: 'none', exponent: null, ci95: null, n: 0, points: 0, t975: null, ...base, note: 'no fit: fewer than two distinct m values with a usable y' };
  }
  const t975 = pooled.se !== null ? studentTQuantile(0.975, pooled.points - 2) : null;
  const ci95: [number, number] | null = pooled.se !== null && t975 !== null ? [pooled.slope - t975 * pooled.se, pooled.slope + t975 * pooled.se] : null;
  return {
    method: 'pooled-ols',
    exponent: pooled.slope,
    ci95,
    n: seeds.length,
    points: pooled.points,
    t975,
    pooled,
    ...base,
    note:
      `fewer than two seeds allow a per-seed fit: one OLS of ln y on ln m over all ${pooled.points} points` +
      (ci95 ? `; 95 % interval slope +- t(0.975, ${pooled.points - 2}) SE(slope)` : '; no interval (two points leave no degrees of freedom)'),
  };
}

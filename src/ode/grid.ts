/**
 * Output grids. The dynamics of interest span about 1e-3 to 1e4 time units, so log-spaced
 * grids are the norm; a flow starts at t = 0, so logGridFromZero prepends 0.
 * Every grid has its endpoints exactly as given and is checked strictly monotone.
 */
import { UsageError } from '../errors.js';

function checkCount(name: string, count: number, min: number): void {
  if (!Number.isInteger(count) || count < min) throw new UsageError(`${name} must be an integer >= ${min}, got ${count}`);
}

function checkStrict(name: string, g: Float64Array): Float64Array {
  if (g.length < 2) return g;
  const dir = Math.sign(g[g.length - 1] - g[0]);
  for (let i = 1; i < g.length; i++) {
    if (!(dir * (g[i] - g[i - 1]) > 0)) {
      throw new UsageError(`${name}: points ${i - 1} and ${i} are not strictly monotone (${g[i - 1]}, ${g[i]}); use fewer points`);
    }
  }
  return g;
}

/** count points from start to end inclusive, equally spaced (start > end gives a decreasing grid). */
export function linspace(start: number, end: number, count: number): Float64Array {
  checkCount('linspace count', count, 1);
  if (!Number.isFinite(start) || !Number.isFinite(end)) throw new UsageError('linspace start and end must be finite');
  const g = new Float64Array(count);
  if (count === 1) {
    g[0] = start;
    return g;
  }
  const width = end - start;
  for (let i = 0; i < count; i++) g[i] = start + (width * i) / (count - 1);
  g[count - 1] = end;
  return checkStrict('linspace', g);
}

/**
 * count points geometrically spaced from first to last inclusive (both > 0, either order):
 * t_i = first * (last/first)^(i/(count-1)), computed through logarithms, endpoints exact.
 */
export function logspace(first: number, last: number, count: number): Float64Array {
  checkCount('logspace count', count, 1);
  if (!(first > 0) || !(last > 0) || !Number.isFinite(first) || !Number.isFinite(last)) {
    throw new UsageError(`logspace endpoints must be finite and > 0, got ${first} and ${last}; prepend 0 with logGridFromZero`);
  }
  const g = new Float64Array(count);
  g[0] = first;
  if (count === 1) return g;
  const a = Math.log(first);
  const b = Math.log(last);
  for (let i = 1; i < count - 1; i++) g[i] = Math.exp(a + ((b - a) * i) / (count - 1));
  g[count - 1] = last;
  return checkStrict('logspace', g);
}

/** [0, then count log-spaced points from tFirst to tLast] (tLast > tFirst > 0): a flow's output grid. */
export function logGridFromZero(tFirst: number, tLast: number, count: number): Float64Array {
  if (!(tLast > tFirst)) throw new UsageError(`logGridFromZero needs tLast > tFirst > 0, got ${tFirst} and ${tLast}`);
  const tail = logspace(tFirst, tLast, count);
  const g = new Float64Array(count + 1);
  g.set(tail, 1);
  return g;
}

/**
 * About count distinct iterate indices in [0, kMax], including 0 and kMax, log-spaced: for
 * recording gradient descent every few steps early and rarely late. Returns fewer than count
 * when rounding merges indices (small kMax).
 */
export function logStepIndices(kMax: number, count: number): number[] {
  checkCount('logStepIndices kMax', kMax, 1);
  checkCount('logStepIndices count', count, 2);
  if (kMax === 1) return [0, 1];
  const out = [0];
  const g = logspace(1, kMax, Math.max(1, count - 1));
  for (let i = 0; i < g.length; i++) {
    const k = Math.round(g[i]);
    if (k > out[out.length - 1]) out.push(k);
  }
  if (out[out.length - 1] !== kMax) out.push(kMax);
  return out;
}

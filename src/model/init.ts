import { UsageError } from '../errors.js';
import { Rng } from '../random/rng.js';
import { Params } from './params.js';

/**
 * Gaussian initialisation (paper Sec. 2): W_Q, W_K, W_V entries N(0, s0^2), W entries
 * N(0, s1^2), a uniform on {+1, -1}. Draw order (fixed, so a seed fully determines the
 * parameters): W_Q, W_K, W_V row-major, then W row-major, then a.
 */
export interface InitConfig {
  m: number;
  m1: number;
  d: number;
  s0: number;
  s1: number;
  seed: number;
}

/** Named initialisation scales; each resolves to explicit (s0, s1). */
export type InitScheme = 'theory' | 'kaiming' | 'explicit';

/**
 * - theory (Condition 1): s0 = 1/sqrt(L m), s1 = 1/sqrt(m1).
 * - kaiming (He normal, std sqrt(2 / fan_in) per matrix): W_Q, W_K, W_V act on R^d, so
 *   s0 = sqrt(2/d); W acts on R^m, so s1 = sqrt(2/m). The paper says "Kaiming initialization"
 *   without the variant; this is the fan-in normal variant (PyTorch's kaiming_normal_ default
 *   mode='fan_in' with gain sqrt(2)).
 */
export function initScales(
  scheme: InitScheme,
  dims: { m: number; m1: number; d: number; L: number },
  explicit?: { s0?: number; s1?: number },
): { s0: number; s1: number } {
  if (scheme === 'theory') return { s0: 1 / Math.sqrt(dims.L * dims.m), s1: 1 / Math.sqrt(dims.m1) };
  if (scheme === 'kaiming') return { s0: Math.sqrt(2 / dims.d), s1: Math.sqrt(2 / dims.m) };
  if (explicit?.s0 === undefined || explicit?.s1 === undefined) {
    throw new UsageError('init=explicit needs both s0 and s1 (e.g. --s0 0.05 --s1 0.1)');
  }
  return { s0: explicit.s0, s1: explicit.s1 };
}

export function initParams(c: InitConfig): Params {
  for (const key of ['m', 'm1', 'd'] as const) {
    if (!Number.isInteger(c[key]) || c[key] < 1) throw new UsageError(`${key} must be a positive integer (got ${c[key]})`);
  }
  for (const key of ['s0', 's1'] as const) {
    if (!Number.isFinite(c[key]) || c[key] < 0) throw new UsageError(`${key} must be a finite number >= 0 (got ${c[key]})`);
  }
  const rng = new Rng(`init:${c.seed}`);
  const { m, m1, d } = c;
  const WQ = rng.fillNormal(new Float64Array(m * d), c.s0);
  const WK = rng.fillNormal(new Float64Array(m * d), c.s0);
  const WV = rng.fillNormal(new Float64Array(m * d), c.s0);
  const W = rng.fillNormal(new Float64Array(m1 * m), c.s1);
  const a = new Float64Array(m1);
  for (let j = 0; j < m1; j++) a[j] = rng.sign();
  return { m, m1, d, WQ, WK, WV, W, a };
}

/** A deep copy (the integrators own their state buffers). */
export function cloneParams(p: Params): Params {
  return { m: p.m, m1: p.m1, d: p.d, WQ: p.WQ.slice(), WK: p.WK.slice(), WV: p.WV.slice(), W: p.W.slice(), a: p.a.slice() };
}

import { UsageError } from '../errors.js';
import { Rng } from '../random/rng.js';
import { Params } from './params.js';

/**
 * Gaussian initialisation (paper Sec. 2): W_Q, W_K, W_V entries N(0, s0^2), W entries
 * N(0, s1^2), a uniform on {+1, -1}. Draw order (fixed, so a seed fully determines the
 * parameters): W_Q, W_K, W_V row-major, then W row-major, then a.
 */
export interface InitConfig {
  /** attention / value width */
  m: number;
  /** MLP width */
  m1: number;
  /** vocabulary size */
  d: number;
  /** standard deviation of the entries of W_Q, W_K, W_V */
  s0: number;
  /** standard deviation of the entries of W */
  s1: number;
  /** seed (an integer in [0, 2^53 - 1]) */
  seed: number;
}

/** Named initialisation scales; each resolves to explicit (s0, s1). */
export type InitScheme = 'theory' | 'theory-small' | 'kaiming' | 'explicit';

/**
 * Factor on s0 of the 'theory-small' scheme. At the Condition 1 scales the initial output is
 * F(X) ~ sum over the L tokens of G(mu) (near-uniform attention), and G(mu) = r^T W_V mu with
 * r = W^T a has variance m * (m1 s1^2) * s0^2 = 1/L, so F(0) has std s0 sqrt(L m) * s1 sqrt(m1) = 1:
 * F(0) = Theta(1), whereas the proofs start from a
 * near-zero output (src/claims/hypotheses.ts, small-F0: max_i |F_i(0)| <= 0.01). Shrinking s0 by
 * 1e-3 makes the std of F(0) 1e-3, so the maximum over a few hundred samples is about 3e-3,
 * a margin of about 3 below the bound. Condition 1 gives s0 only up to log factors, and a
 * smaller s0 is the reading under which the small initial output holds.
 */
export const THEORY_SMALL_S0_FACTOR = 1e-3;

/**
 * - theory (Condition 1): s0 = 1/sqrt(L m), s1 = 1/sqrt(m1).
 * - theory-small: s0 = THEORY_SMALL_S0_FACTOR / sqrt(L m), s1 = 1/sqrt(m1) (Condition 1 with the
 *   small initial output the proofs assume; scales with m, so `--m` keeps F(0) small).
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
  if (scheme === 'theory-small') return { s0: THEORY_SMALL_S0_FACTOR / Math.sqrt(dims.L * dims.m), s1: 1 / Math.sqrt(dims.m1) };
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

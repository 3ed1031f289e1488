/**
 * Gradient checking: compare two gradients, or a gradient with central finite differences.
 *
 * RELATIVE DIFFERENCE (used everywhere in this project, also by bench/python/torch_grad.py):
 * for each matrix M in {WQ, WK, WV, W}, with candidate a and reference b,
 *
 *     rel(M) = max_k |a_k - b_k| / max( max_k |b_k|, TINY )
 *
 * over the compared entries k (all entries, or the subset in a mask). The check reports
 * maxRel = max_M rel(M) and names the worst matrix. Scaling by the matrix's largest entry
 * (not entry by entry) keeps tiny entries, whose relative error is meaningless, from
 * dominating, while any error that matters at the matrix's own scale is seen. A NaN in either
 * gradient makes rel = Infinity, so it can never pass.
 */
import seedrandom from 'seedrandom';
import type { ParamGrad, Params } from './params.js';

export const GRAD_KEYS = ['dWQ', 'dWK', 'dWV', 'dW'] as const;
export type GradKey = (typeof GRAD_KEYS)[number];

/** Guards the division when the reference matrix is exactly zero (then any nonzero a fails). */
export const TINY = 1e-300;

/** Indices of the compared entries of each matrix (a subset, for big models). */
export type GradMask = Record<GradKey, Int32Array>;

export interface GradComparison {
  maxRel: number;
  /** the matrix attaining maxRel */
  worst: GradKey;
  perMatrix: Record<GradKey, number>;
}

export function compareGrads(a: ParamGrad, b: ParamGrad, mask?: GradMask): GradComparison {
  const perMatrix = { dWQ: 0, dWK: 0, dWV: 0, dW: 0 };
  let maxRel = -1;
  let worst: GradKey = 'dWQ';
  for (const key of GRAD_KEYS) {
    const x = a[key];
    const y = b[key];
    if (x.length !== y.length) {
      throw new RangeError(`compareGrads: ${key} has ${x.length} entries in a and ${y.length} in b`);
    }
    let maxDiff = 0;
    let maxRef = 0;
    const visit = (k: number) => {
      const diff = Math.abs(x[k] - y[k]);
      // NaN compares false with everything: turn it into an infinite difference.
      maxDiff = Number.isNaN(diff) ? Infinity : Math.max(maxDiff, diff);
      maxRef = Math.max(maxRef, Math.abs(y[k]));
    };
    if (mask) {
      for (const k of mask[key]) visit(k);
    } else {
      for (let k = 0; k < x.length; k++) visit(k);
    }
    // A NaN in the reference makes rel NaN, which would slip past `rel > maxRel`.
    const quotient = maxDiff / Math.max(maxRef, TINY);
    const rel = Number.isNaN(quotient) ? Infinity : quotient;
    perMatrix[key] = rel;
    if (rel > maxRel) {
      maxRel = rel;
      worst = key;
    }
  }
  return { maxRel, worst, perMatrix };
}

export interface GradCheckResult extends GradComparison {
  pass: boolean;
  tol: number;
}

/** Pass iff maxRel <= tol under the definition above. */
export function checkGradient(candidate: ParamGrad, reference: ParamGrad, tol: number, mask?: GradMask): GradCheckResult {
  if (!(tol > 0)) throw new RangeError(`checkGradient: tol must be > 0, got ${tol}`);
  const cmp = compareGrads(candidate, reference, mask);
  return { ...cmp, pass: cmp.maxRel <= tol, tol };
}

export interface FiniteDifferenceOptions {
  /**
   * Step relative to the entry scale: h_k = relStep * max(|theta_k|, rms(matrix)). The rms
   * floor keeps the step sensible for entries near zero. Default 1e-3 with Richardson
   * extrapolation (error O(h^4), so a large step keeps the round-off eps*|f|/h small), 1e-5
   * without it (about eps^(1/3): balances truncation h^2 against round-off eps/h).
   */
  relStep?: number;
  /**
   * Richardson extrapolation (default true): D = (4 D(h/2) - D(h)) / 3 cancels the h^2 term of
   * the central difference D(h) = f' + c h^2 + O(h^4). Needed because the loss's curvature
   * scale and the weights' scale differ by orders of magnitude across initialisation scales
   * (s0, s1 in [0.1, 2]); no single plain central step is accurate to 1e-6 over that range.
   */
  richardson?: boolean;
  /** Check at most this many entries per matrix (chosen by `seed`); default: all entries. */
  maxPerMatrix?: number;
  /** Seed of the deterministic subset choice (default 0). */
  seed?: number;
}

export interface FiniteDifferenceResult {
  /** finite-difference gradient; entries outside `mask` are 0 and must not be compared */
  grad: ParamGrad;
  /** compared entries, or undefined when every entry was differenced */
  mask?: GradMask;
}

const PARAM_OF: Record<GradKey, 'WQ' | 'WK' | 'WV' | 'W'> = { dWQ: 'WQ', dWK: 'WK', dWV: 'WV', dW: 'W' };

/**
 * Central differences (f(theta + h e_k) - f(theta - h e_k)) / (2h) of a loss function, one
 * coordinate at a time, Richardson-extrapolated by default. The divisor is the step actually
 * taken, (theta+h) - (theta-h) in floating point, which removes the representation error of
 * h. `lossFn` is called on a private copy of `p` whose arrays are modified in place between
 * calls (then restored bit-exactly), so it must not cache results across calls.
 */
export function finiteDifferenceGrad(
  lossFn: (p: Params) => number,
  p: Params,
  opts: FiniteDifferenceOptions = {},
): FiniteDifferenceResult {
  const richardson = opts.richardson ?? true;
  const relStep = opts.relStep ?? (richardson ? 1e-3 : 1e-5);
  if (!(relStep > 0)) throw new RangeError(`finiteDifferenceGrad: relStep must be > 0, got ${relStep}`);
  const work: Params = {
    m: p.m,
    m1: p.m1,
    d: p.d,
    WQ: Float64Array.from(p.WQ),
    WK: Float64Array.from(p.WK),
    WV: Float64Array.from(p.WV),
    W: Float64Array.from(p.W),
    a: Float64Array.from(p.a),
  };
  const subset = opts.maxPerMatrix !== undefined;
  const rng = seedrandom.alea(String(opts.seed ?? 0));
  const grad = {} as Record<GradKey, Float64Array>;
  const mask = {} as GradMask;
  for (const key of GRAD_KEYS) {
    const theta = work[PARAM_OF[key]];
    const g = new Float64Array(theta.length);
    const coords = subset ? chooseSubset(theta.length, opts.maxPerMatrix!, rng) : allIndices(theta.length);
    let sq = 0;
    for (const v of theta) sq += v * v;
    // An all-zero matrix has no scale of its own: fall back to steps relative to 1.
    const rms = Math.sqrt(sq / theta.length) || 1;
    // Central difference with step h; the divisor is the step actually taken in floating point.
    const central = (k: number, h: number): number => {
      const t0 = theta[k];
      const tPlus = t0 + h;
      const tMinus = t0 - h;
      theta[k] = tPlus;
      const fPlus = lossFn(work);
      theta[k] = tMinus;
      const fMinus = lossFn(work);
      theta[k] = t0;
      return (fPlus - fMinus) / (tPlus - tMinus);
    };
    for (const k of coords) {
      const h = relStep * Math.max(Math.abs(theta[k]), rms);
      g[k] = richardson ? (4 * central(k, h / 2) - central(k, h)) / 3 : central(k, h);
    }
    grad[key] = g;
    mask[key] = coords;
  }
  return subset ? { grad: grad as ParamGrad, mask } : { grad: grad as ParamGrad };
}

function allIndices(n: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}

/** k distinct indices of [0, n), by a partial Fisher-Yates shuffle, sorted ascending. */
function chooseSubset(n: number, k: number, rng: () => number): Int32Array {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`finiteDifferenceGrad: maxPerMatrix must be a positive integer, got ${k}`);
  const perm = allIndices(n);
  const take = Math.min(k, n);
  for (let i = 0; i < take; i++) {
    const j = i + Math.floor(rng() * (n - i));
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  return perm.slice(0, take).sort();
}

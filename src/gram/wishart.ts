/**
 * Initial Level G states for any width m without forming m x k matrices.
 *
 * With Gaussian initialisation (W_Q, W_K, W_V entries N(0, s0^2), W entries N(0, s1^2), a = +-1)
 * the m x (3k+1) matrix X = [Q K V r] (Q = W_Q M etc., r = W^T a) has independent rows
 * N(0, Sigma), Sigma = diag(s0^2 I_3k, s1^2 m1): r_c = sum_j a_j W_jc has variance m1 s1^2 and
 * distinct c use distinct columns of W. So the joint Gram X^T X is Wishart_{3k+1}(m, Sigma), and
 * the Level G state is read off its blocks (S = K^T Q, A = Q^T Q, ..., u = V^T r, s = r^T r).
 *
 * Sampling (p = 3k + 1):
 * - Bartlett (m >= p): X^T X has the law of D T T^T D with D = Sigma^(1/2) and T lower
 *   triangular, T_ii = sqrt(chi2(m - i)) (0-based i), T_ij ~ N(0, 1) below the diagonal
 *   (Bartlett 1933; e.g. Anderson, An Introduction to Multivariate Statistical Analysis,
 *   Thm 7.2.1). O(p^3) whatever m is. sampleGramState forms only the blocks of T T^T the state
 *   reads, with the same bits as the full product (./wishartKernel.ts).
 * - direct (any m): draw X and form X^T X, O(m p^2).
 * Draw order (so a seed fixes the state): Bartlett row by row, i = 0..p-1, the i normals
 * T_i0..T_i,i-1 then the chi-square of T_ii; direct row by row of X. With extra tracked tokens
 * their columns come after the data's (see sampleGramState).
 */
import { Dataset } from '../data/dataset.js';
import { UsageError } from '../errors.js';
import { Rng } from '../random/rng.js';
import { sampleChiSquare } from './gamma.js';
import { ExtraTokens, gramLayout, tokenIndex } from './layout.js';
import { bartlettGramState, COL_K, COL_NONE, COL_Q, COL_R, COL_V } from './wishartKernel.js';

export type WishartMethod = 'auto' | 'bartlett' | 'direct';

export interface GramInitConfig {
  readonly data: Dataset;
  readonly m: number;
  readonly m1: number;
  readonly s0: number;
  readonly s1: number;
  /** tokens tracked beyond the data's own (as GramModelOptions.extraTokens); none by default */
  readonly extraTokens?: ExtraTokens;
}

export interface GramSampleConfig extends GramInitConfig {
  readonly seed: number;
  /** 'auto' (default): Bartlett when m >= 3k + 1, direct otherwise */
  readonly method?: WishartMethod;
}

function checkConfig(c: GramInitConfig): void {
  if (!Number.isInteger(c.m) || c.m < 1) throw new UsageError(`m must be a positive integer (got ${c.m})`);
  if (!Number.isInteger(c.m1) || c.m1 < 1) throw new UsageError(`m1 must be a positive integer (got ${c.m1})`);
  for (const key of ['s0', 's1'] as const) {
    if (!Number.isFinite(c[key]) || c[key] < 0) throw new UsageError(`${key} must be a finite number >= 0 (got ${c[key]})`);
  }
}

function bartlettRefusal(p0: number, m: number): string {
  return `the Bartlett decomposition needs m >= p = ${p0} (got m = ${m}); use method 'direct' or 'auto'`;
}

/**
 * A draw of Wishart_p(m, diag(sigma)^2) as a dense p x p row-major matrix.
 * Exported for the moment tests; sampleGramState is the entry point.
 */
export function sampleWishartDiag(rng: Rng, m: number, sigma: Float64Array, method: 'bartlett' | 'direct'): Float64Array {
  return sampleWishartNested(() => rng, m, sigma, sigma.length, method);
}

/**
 * A draw of Wishart_p(m, diag(sigma)^2) whose leading p0 x p0 block is, bit for bit, the draw
 * sampleWishartDiag(newRng(), m, sigma[0..p0), method) makes. So appending columns (extra
 * tracked tokens) never changes the draw of the first ones. `newRng` must return a fresh
 * generator on the same stream at every call (the direct method replays the stream once).
 *
 * - Bartlett, generalised to m < p (needs m >= p0): Gram-Schmidt on the columns x_0, x_1, ... of
 *   an m x p standard normal X in order. Column i < m has i N(0, 1) coordinates on the earlier
 *   directions and a residual of squared length chi2(m - i); once m directions span R^m, a
 *   column i >= m is m N(0, 1) coordinates and nothing else. So X^T X = T T^T with row i of T
 *   holding min(i, m) normals and, if i < m, T_ii = sqrt(chi2(m - i)); for m >= p this is the
 *   usual decomposition, and rows are drawn in order, so the first p0 rows are the p0-draw.
 * - direct: the m x p0 block row by row (as for p0 alone), then the m x (p - p0) block row by row
 *   from the continuing stream, while a second generator replays the first block's rows to form
 *   the cross products: O(p) memory whatever m is.
 */
function sampleWishartNested(newRng: () => Rng, m: number, sigma: Float64Array, p0: number, method: 'bartlett' | 'direct'): Float64Array {
  const p = sigma.length;
  const G = new Float64Array(p * p);
  const rng = newRng();
  if (method === 'bartlett') {
    if (m < p0) throw new UsageError(bartlettRefusal(p0, m));
    const T = new Float64Array(p * p);
    for (let i = 0; i < p; i++) {
      const below = Math.min(i, m);
      for (let j = 0; j < below; j++) T[i * p + j] = rng.normal();
      if (i < m) T[i * p + i] = Math.sqrt(sampleChiSquare(rng, m - i));
    }
    for (let i = 0; i < p; i++) {
      for (let j = 0; j <= i; j++) {
        let s = 0;
        for (let l = 0; l <= j; l++) s += T[i * p + l] * T[j * p + l];
        const v = sigma[i] * sigma[j] * s;
        G[i * p + j] = v;
        G[j * p + i] = v;
      }
    }
    return G;
  }
  const row = new Float64Array(p);
  for (let r = 0; r < m; r++) {
    for (let j = 0; j < p0; j++) row[j] = sigma[j] * rng.normal();
    for (let i = 0; i < p0; i++) {
      const xi = row[i];
      for (let j = 0; j <= i; j++) G[i * p + j] += xi * row[j];
    }
  }
  if (p0 < p) {
    const replay = newRng();
    for (let r = 0; r < m; r++) {
      for (let j = 0; j < p0; j++) row[j] = sigma[j] * replay.normal();
      for (let j = p0; j < p; j++) row[j] = sigma[j] * rng.normal();
      for (let i = p0; i < p; i++) {
        const xi = row[i];
        for (let j = 0; j <= i; j++) G[i * p + j] += xi * row[j];
      }
    }
  }
  for (let i = 0; i < p; i++) for (let j = 0; j < i; j++) G[j * p + i] = G[i * p + j];
  return G;
}

/**
 * A random Level G state with the exact law of the Gram variables at Gaussian initialisation,
 * on the data's tokens and any extra tokens (c.extraTokens).
 *
 * The Wishart columns are ordered [Q K V] of the data's k0 tokens, r, then [Q K V] of the extra
 * tokens (any order of columns gives the same law, Sigma being diagonal). The extra columns come
 * last so that the data tokens' block is the same draw with or without extra tokens: a run that
 * adds a test set starts from the same training state. 'auto' picks Bartlett when
 * m >= 3 k0 + 1 (exactly the choice without extra tokens), direct otherwise.
 */
export function sampleGramState(c: GramSampleConfig): Float64Array {
  checkConfig(c);
  if (!Number.isInteger(c.seed)) throw new UsageError(`seed must be an integer (got ${c.seed})`);
  const method = c.method ?? 'auto';
  if (method !== 'auto' && method !== 'bartlett' && method !== 'direct') {
    throw new UsageError(`method must be 'auto', 'bartlett' or 'direct' (got '${String(method)}')`);
  }
  const idx = tokenIndex(c.data, c.extraTokens);
  const k = idx.k;
  const inData = new Uint8Array(k);
  for (let i = 0; i < idx.sampleLocal.length; i++) inData[idx.sampleLocal[i]] = 1;
  let k0 = 0;
  for (let a = 0; a < k; a++) k0 += inData[a];
  const ke = k - k0;
  const p0 = 3 * k0 + 1;
  const p = 3 * k + 1;
  // col[X * k + a]: the Wishart column of block X (0 = Q, 1 = K, 2 = V) of local token a
  const col = new Int32Array(3 * k);
  let jd = 0;
  let je = 0;
  for (let a = 0; a < k; a++) {
    for (let X = 0; X < 3; X++) col[X * k + a] = inData[a] ? X * k0 + jd : p0 + X * ke + je;
    if (inData[a]) jd++;
    else je++;
  }
  const rCol = 3 * k0;
  const sigma = new Float64Array(p);
  sigma.fill(c.s0);
  sigma[rCol] = c.s1 * Math.sqrt(c.m1);
  const use = method === 'auto' ? (c.m >= p0 ? 'bartlett' : 'direct') : method;
  const stream = `wishart:${c.seed}`;
  const lay = gramLayout(k);
  if (use === 'bartlett') {
    // Straight into the state, without the p x p matrices, the same bits (./wishartKernel.ts)
    if (c.m < p0) throw new UsageError(bartlettRefusal(p0, c.m));
    const kind = new Uint8Array(4 * ((p + 3) >> 2)).fill(COL_NONE);
    const tok = new Int32Array(kind.length);
    for (let X = 0; X < 3; X++) {
      for (let a = 0; a < k; a++) {
        kind[col[X * k + a]] = X === 0 ? COL_Q : X === 1 ? COL_K : COL_V;
        tok[col[X * k + a]] = a;
      }
    }
    kind[rCol] = COL_R;
    return bartlettGramState(new Rng(stream), c.m, sigma, kind, tok, lay);
  }
  const G = sampleWishartNested(() => new Rng(stream), c.m, sigma, p0, use);

  const y = new Float64Array(lay.size);
  const at = (i: number, j: number): number => G[i * p + j];
  for (let b = 0; b < k; b++) {
    const qb = col[b];
    const kb = col[k + b];
    const vb = col[2 * k + b];
    for (let a = 0; a < k; a++) {
      y[lay.S + b * k + a] = at(kb, col[a]);
      y[lay.A + b * k + a] = at(qb, col[a]);
      y[lay.B + b * k + a] = at(kb, col[k + a]);
      y[lay.C + b * k + a] = at(vb, col[2 * k + a]);
    }
    y[lay.u + b] = at(vb, rCol);
  }
  y[lay.s] = at(rCol, rCol);
  return y;
}

/**
 * E[state] at Gaussian initialisation: A = B = C = s0^2 m I, S = 0, u = 0, s = s1^2 m1 m, on the
 * data's tokens and any extra tokens (c.extraTokens).
 */
export function meanGramState(c: GramInitConfig): Float64Array {
  checkConfig(c);
  const { k } = tokenIndex(c.data, c.extraTokens);
  const lay = gramLayout(k);
  const y = new Float64Array(lay.size);
  const diag = c.s0 * c.s0 * c.m;
  for (let i = 0; i < k; i++) {
    y[lay.A + i * k + i] = diag;
    y[lay.B + i * k + i] = diag;
    y[lay.C + i * k + i] = diag;
  }
  y[lay.s] = c.s1 * c.s1 * c.m1 * c.m;
  return y;
}

/**
 * Level G state layout and the token index of a data set.
 *
 * Only the k tokens that occur in the data matter (embeddings are orthonormal, so the weights'
 * columns of absent tokens never enter F and never receive gradient). Local token order: the
 * distinct tokens sorted ascending by vocabulary id, so mu_1, mu_2, mu_3 (ids 0, 1, 2) are local
 * 0, 1, 2 whenever they occur.
 *
 * Extra tokens (e.g. those of a test set) can be tracked as well. Their own columns of W_Q, W_K,
 * W_V never move, but their Gram entries with the data's tokens do (A[x, a] = <Q_x, Q_a> moves
 * with Q_a), and the Gram flow covers them exactly: a token in no training sample has zero rows
 * and columns of Gam and a zero entry of gu, so adding it changes nothing else.
 *
 * One Float64Array holds the state, blocks in this order, matrices row-major:
 *   S (k x k, S[b*k + a] = <K_b, Q_a>, key b, query a), A = Q^T Q, B = K^T K, C = V^T V (k x k),
 *   u = V^T r (k), s = r^T r (1).
 */
import { Dataset, meanOver } from '../data/dataset.js';
import { UsageError } from '../errors.js';

export const GRAM_BLOCK_ORDER = ['S', 'A', 'B', 'C', 'u', 's'] as const;

/** The offset of each block in a state; Level T's state (src/reduced/orbits.ts) has the same blocks. */
export type BlockOffsets = { readonly [block in (typeof GRAM_BLOCK_ORDER)[number]]: number };

export interface GramLayout extends BlockOffsets {
  readonly k: number;
  /** total length 4k^2 + k + 1 */
  readonly size: number;
}

export function gramLayout(k: number): GramLayout {
  if (!Number.isInteger(k) || k < 1) throw new UsageError(`k (number of tracked tokens) must be a positive integer (got ${k})`);
  const kk = k * k;
  return { k, size: 4 * kk + k + 1, S: 0, A: kk, B: 2 * kk, C: 3 * kk, u: 4 * kk, s: 4 * kk + k };
}

export interface TokenIndex {
  /** number of tracked tokens: the distinct tokens of the data set and any extra tokens */
  readonly k: number;
  /** vocabulary id of each local token (ascending) */
  readonly globalOf: Int32Array;
  /** local id of each vocabulary token, -1 when it does not occur */
  readonly localOf: Int32Array;
  /** the data's tokens as local ids, n x L row-major */
  readonly sampleLocal: Int32Array;
}

/** Checks the shape of a Dataset; every Level G entry point calls it. */
export function checkDataset(data: Dataset): void {
  const { n, L, d } = data;
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`data.n must be a positive integer (got ${n})`);
  if (!Number.isInteger(L) || L < 1) throw new UsageError(`data.L must be a positive integer (got ${L})`);
  if (!Number.isInteger(d) || d < 1) throw new UsageError(`data.d must be a positive integer (got ${d})`);
  if (data.tokens.length !== n * L) throw new UsageError(`data.tokens has length ${data.tokens.length}, expected n*L = ${n * L}`);
  if (data.y.length !== n) throw new UsageError(`data.y has length ${data.y.length}, expected n = ${n}`);
  if (data.type.length !== n) throw new UsageError(`data.type has length ${data.type.length}, expected n = ${n}`);
  for (let i = 0; i < n * L; i++) {
    const t = data.tokens[i];
    if (!(t >= 0 && t < d)) throw new UsageError(`data.tokens[${i}] = ${t} is outside [0, d=${d}); token ids are 0-based vocabulary indices`);
  }
  for (let i = 0; i < n; i++) {
    if (data.y[i] !== 1 && data.y[i] !== -1) throw new UsageError(`data.y[${i}] = ${data.y[i]}; labels must be +1 or -1`);
    if (!(data.type[i] >= 1 && data.type[i] <= 4)) throw new UsageError(`data.type[${i}] = ${data.type[i]}; types must be 1..4 (I1..I4)`);
  }
}

/** Token ids to track beyond the data's own (e.g. a test set's tokens; repeats are fine). */
export type ExtraTokens = Int32Array | readonly number[];

/**
 * The tracked token set: the tokens of `data` together with `extraTokens`, sorted ascending by
 * vocabulary id. Without extra tokens (or with extra tokens that all occur in the data) the result
 * is the data's own index.
 */
export function tokenIndex(data: Dataset, extraTokens?: ExtraTokens): TokenIndex {
  checkDataset(data);
  const { d } = data;
  const present = new Uint8Array(d);
  for (let i = 0; i < data.tokens.length; i++) present[data.tokens[i]] = 1;
  if (extraTokens !== undefined) {
    for (let i = 0; i < extraTokens.length; i++) {
      const t = extraTokens[i];
      if (!(Number.isInteger(t) && t >= 0 && t < d)) {
        throw new UsageError(`extraTokens[${i}] = ${t} is not a token id in [0, d=${d}); extra tokens must be 0-based vocabulary ids of the same vocabulary`);
      }
      present[t] = 1;
    }
  }
  const localOf = new Int32Array(d).fill(-1);
  let k = 0;
  for (let t = 0; t < d; t++) if (present[t]) localOf[t] = k++;
  const globalOf = new Int32Array(k);
  for (let t = 0; t < d; t++) if (present[t]) globalOf[localOf[t]] = t;
  const sampleLocal = new Int32Array(data.tokens.length);
  for (let i = 0; i < data.tokens.length; i++) sampleLocal[i] = localOf[data.tokens[i]];
  return { k, globalOf, localOf, sampleLocal };
}

/**
 * The run's event signals at a state whose u block holds G(mu) of the local tokens (Levels G and
 * P): out[0..2] = G(mu_1..3), NaN for a token the data lacks; out[3..4] = the mean sample losses
 * of I2 and I3 (`typeSamples` = their sample indices) from the model's last evaluation.
 */
export function uSignals(out: Float64Array, y: Float64Array, uOffset: number, localOf: Int32Array, sampleLoss: Float64Array, typeSamples: readonly Int32Array[]): void {
  for (let i = 0; i < 3; i++) out[i] = localOf[i] >= 0 ? y[uOffset + localOf[i]] : NaN;
  for (let j = 0; j < 2; j++) out[3 + j] = meanOver(sampleLoss, typeSamples[j]);
}

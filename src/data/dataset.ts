/**
 * A training set of the co-occurrence task (paper Def. 2.1, Assumption 2.3).
 *
 * Tokens are 0-based vocabulary indices: 0 is mu_1, 1 is mu_2, 2 is mu_3 (the common token),
 * 3..d-1 are filler tokens. Embeddings are orthonormal (one-hot), so a sample is fully described
 * by its token indices; there is no positional encoding (the model sees a bag of tokens).
 */
export const MU1 = 0;
export const MU2 = 1;
export const MU3 = 2;

/** Sample types I1..I4 (paper Def. 2.1). */
export type SampleType = 1 | 2 | 3 | 4;

export interface Dataset {
  /** number of samples */
  readonly n: number;
  /** sequence length */
  readonly L: number;
  /** vocabulary size (embedding dimension) */
  readonly d: number;
  /** n x L token indices, row-major: tokens[i * L + l] */
  readonly tokens: Int32Array;
  /** labels +1 / -1, length n */
  readonly y: Float64Array;
  /** sample type 1..4 (I1..I4), length n */
  readonly type: Int32Array;
}

/** Indices of the samples of each type I1..I4 (index 0..3). */
export function samplesByType(data: Pick<Dataset, 'type'>): Int32Array[] {
  const lists: number[][] = [[], [], [], []];
  data.type.forEach((t, i) => lists[t - 1].push(i));
  return lists.map((l) => Int32Array.from(l));
}

/** Mean of x over the given indices (NaN for none). */
export function meanOver(x: Float64Array, idx: Int32Array): number {
  let s = 0;
  for (let i = 0; i < idx.length; i++) s += x[idx[i]];
  return s / idx.length;
}

import { Dataset } from '../data/dataset.js';

/**
 * The distinct (key token, query token) pairs that occur together in some sample, built once
 * per data set. F depends on the scores only through these pairs, so each score
 * <W_K mu_b, W_Q mu_a> is computed once however many samples share it (mu_3 is in every
 * sample; mu_1 and mu_2 in half or more), and the score gradient Gam[b, a] is summed per pair
 * before it is pushed back to the weights.
 *
 * Pairs are stored twice in compressed-row form, grouped by query (for dW_Q) and by key (for
 * dW_K), so each gradient row is accumulated in registers and written once.
 */
export class PairTable {
  /** number of distinct pairs */
  readonly count: number;
  /** key and query token of each pair */
  readonly key: Int32Array;
  readonly query: Int32Array;
  /** pairOf[i * L * L + p * L + l] = pair id of (key x_p, query x_l) in sample i */
  readonly pairOf: Int32Array;
  /** the distinct tokens used by the data, ascending, and the vocabulary tokens it never uses */
  readonly used: Int32Array;
  readonly unused: Int32Array;
  /** CSR by query: pairs byQuery[queryStart[j] .. queryStart[j+1]) have query used[j]... */
  readonly queryToken: Int32Array;
  readonly queryStart: Int32Array;
  readonly byQuery: Int32Array;
  readonly keyToken: Int32Array;
  readonly keyStart: Int32Array;
  readonly byKey: Int32Array;

  constructor(data: Dataset) {
    const { n, L, d, tokens } = data;
    const ids = new Map<number, number>();
    const key: number[] = [];
    const query: number[] = [];
    this.pairOf = new Int32Array(n * L * L);
    for (let i = 0; i < n; i++) {
      for (let p = 0; p < L; p++) {
        const b = tokens[i * L + p];
        for (let l = 0; l < L; l++) {
          const a = tokens[i * L + l];
          const code = b * d + a;
          let id = ids.get(code);
          if (id === undefined) {
            id = key.length;
            ids.set(code, id);
            key.push(b);
            query.push(a);
          }
          this.pairOf[i * L * L + p * L + l] = id;
        }
      }
    }
    this.count = key.length;
    this.key = Int32Array.from(key);
    this.query = Int32Array.from(query);
    this.used = Int32Array.from(new Set(tokens)).sort();
    const isUsed = new Uint8Array(d);
    for (const t of this.used) isUsed[t] = 1;
    this.unused = Int32Array.from({ length: d }, (_, t) => t).filter((t) => !isUsed[t]);
    [this.queryToken, this.queryStart, this.byQuery] = groupBy(this.query, d);
    [this.keyToken, this.keyStart, this.byKey] = groupBy(this.key, d);
  }
}

/** Compressed rows: the distinct values of `of`, and the pair ids of each, in id order. */
function groupBy(of: Int32Array, d: number): [Int32Array, Int32Array, Int32Array] {
  const lists: number[][] = Array.from({ length: d }, () => []);
  of.forEach((t, id) => lists[t].push(id));
  const tokens: number[] = [];
  const start: number[] = [0];
  const flat: number[] = [];
  lists.forEach((list, t) => {
    if (list.length === 0) return;
    tokens.push(t);
    flat.push(...list);
    start.push(flat.length);
  });
  return [Int32Array.from(tokens), Int32Array.from(start), Int32Array.from(flat)];
}

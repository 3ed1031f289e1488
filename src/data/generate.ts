import { UsageError } from '../errors.js';
import { Rng } from '../random/rng.js';
import { Dataset, MU1, MU2, MU3 } from './dataset.js';

/**
 * How filler tokens are assigned.
 * - `distinct`: every filler slot of the whole training set gets its own token (paper
 *   Assumption 2.3(ii)); needs n(3L-7)/3 <= d - 3.
 * - `repeat`: each sample draws its fillers without replacement from mu_4..mu_d, independently
 *   of the other samples, so fillers repeat ACROSS samples but never within one. The paper's own
 *   experiment (App. A: n=60, L=5, d=64, 160 filler slots, 61 filler tokens) can only be built
 *   this way. Needs d - 3 >= L - 1 (an I4 sample has L-1 fillers).
 */
export type FillerMode = 'distinct' | 'repeat';

export interface DataConfig {
  /** number of samples, a multiple of 6 (exact type proportions 1/2, 1/6, 1/6, 1/6) */
  n: number;
  /** sequence length, >= 3 */
  L: number;
  /** vocabulary size */
  d: number;
  /** seed of the generator (an integer in [0, 2^53 - 1]) */
  seed: number;
  /** 'distinct': every filler token occurs once in the set (Assumption 2.3); 'repeat': fillers drawn with repetition (paper App. A) */
  fillers: FillerMode;
}

/** Number of filler slots in a set with exact proportions: n/2 (L-3) + 2 n/6 (L-2) + n/6 (L-1). */
export function fillerSlots(n: number, L: number): number {
  return (n * (3 * L - 7)) / 3;
}

/** Counts of I1..I4 in a set of size n with the exact proportions 1/2, 1/6, 1/6, 1/6. */
export function typeCounts(n: number): [number, number, number, number] {
  return [n / 2, n / 6, n / 6, n / 6];
}

function checkInteger(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new UsageError(`${name} must be an integer >= ${min} (got ${value})`);
  }
}

/**
 * Checks a data set's settings. `name` says how messages name a setting (the key itself by
 * default; the CLI passes its flags, or a config file's keys).
 */
export function validateDataConfig(c: DataConfig, name: (key: string) => string = (key) => key): void {
  const integer = (key: 'n' | 'L' | 'd', min: number) => {
    if (!Number.isInteger(c[key]) || c[key] < min) throw new UsageError(`${name(key)} must be an integer >= ${min} (got ${c[key]})`);
  };
  integer('n', 6);
  if (c.n % 6 !== 0) {
    throw new UsageError(
      `${name('n')} must be a multiple of 6 so that I1..I4 have exact sizes n/2, n/6, n/6, n/6 (got n=${c.n}; try ${6 * Math.max(1, Math.round(c.n / 6))})`,
    );
  }
  integer('L', 3);
  integer('d', 4);
  if (!Number.isInteger(c.seed)) throw new UsageError(`${name('seed')} must be an integer (got ${c.seed})`);
  if (c.fillers !== 'distinct' && c.fillers !== 'repeat') {
    throw new UsageError(`${name('fillers')} must be 'distinct' or 'repeat' (got '${String(c.fillers)}')`);
  }
  const fillerTokens = c.d - 3;
  if (c.fillers === 'distinct') {
    const slots = fillerSlots(c.n, c.L);
    if (slots > fillerTokens) {
      throw new UsageError(
        `fillers=distinct needs d >= ${slots + 3} (n=${c.n}, L=${c.L} have ${slots} filler slots; got d=${c.d}); raise ${name('d')}, or set ${name('fillers')} to repeat`,
      );
    }
  } else if (c.L - 1 > fillerTokens) {
    throw new UsageError(`fillers=repeat needs d >= L + 2 = ${c.L + 2} (got d=${c.d}); raise ${name('d')}, or lower ${name('L')}`);
  }
}

/**
 * Step k of a partial Fisher-Yates shuffle: swaps a uniform pick of pool[k..] into position k
 * and returns it, so successive steps k = 0, 1, ... draw distinct entries (one rng.int each).
 */
function drawFromPool(pool: Int32Array, k: number, rng: Rng): number {
  const pick = k + rng.int(pool.length - k);
  const tmp = pool[k];
  pool[k] = pool[pick];
  pool[pick] = tmp;
  return pool[k];
}

/**
 * What both generators fill: the arrays of n samples of length L over d tokens, and their
 * scratch: the pool of filler tokens mu_4..mu_d (ids 3..d-1, in id order) and the positions
 * 0..L-1 of one sample.
 */
function blankSamples(n: number, L: number, d: number) {
  return {
    tokens: new Int32Array(n * L),
    y: new Float64Array(n),
    type: new Int32Array(n),
    pool: Int32Array.from({ length: d - 3 }, (_, i) => i + 3),
    positions: Int32Array.from({ length: L }, (_, i) => i),
  };
}

/**
 * Builds a training set (paper Def. 2.1, Assumption 2.3): samples ordered I1 block, I2, I3, I4;
 * mu_3 at a uniform position; mu_1 / mu_2 at distinct uniform other positions; fillers elsewhere.
 */
export function generateDataset(c: DataConfig): Dataset {
  validateDataConfig(c);
  const { n, L, d } = c;
  const rng = new Rng(`data:${c.seed}`);
  const { tokens, y, type, pool, positions } = blankSamples(n, L, d);

  // Distinct mode: a shuffled pool of all filler tokens consumed left to right.
  if (c.fillers === 'distinct') rng.shuffle(pool);
  let next = 0;

  const counts = typeCounts(n);
  let i = 0;
  for (let t = 0; t < 4; t++) {
    for (let j = 0; j < counts[t]; j++, i++) {
      const sampleType = t + 1;
      type[i] = sampleType;
      y[i] = sampleType === 1 ? 1 : -1;
      const special = [MU3];
      if (sampleType === 1 || sampleType === 2) special.push(MU1);
      if (sampleType === 1 || sampleType === 3) special.push(MU2);
      rng.shuffle(positions);
      const row = tokens.subarray(i * L, (i + 1) * L);
      for (let s = 0; s < special.length; s++) row[positions[s]] = special[s];
      if (c.fillers === 'repeat') {
        // Partial Fisher-Yates over the pool: fillers distinct within this sample.
        for (let s = special.length; s < L; s++) row[positions[s]] = drawFromPool(pool, s - special.length, rng);
      } else {
        for (let s = special.length; s < L; s++) row[positions[s]] = pool[next++];
      }
    }
  }
  return { n, L, d, tokens, y, type };
}

/** A test set: n i.i.d. samples of the Def. 2.1 distribution (see generateTestSet). */
export interface TestSetConfig {
  n: number;
  L: number;
  d: number;
  seed: number;
}

export function validateTestSetConfig(c: TestSetConfig): void {
  // The flag is named because this is only ever built from `coflow run --test-n N`.
  if (!Number.isInteger(c.n) || c.n < 1) throw new UsageError(`--test-n must be a positive integer (got ${c.n})`);
  checkInteger('L', c.L, 3);
  checkInteger('d', c.d, 4);
  if (!Number.isInteger(c.seed)) throw new UsageError(`seed must be an integer (got ${c.seed})`);
  if (c.d < c.L + 2) {
    throw new UsageError(
      `--test-n needs d >= L + 2 = ${c.L + 2} (an I4 sample has L - 1 = ${c.L - 1} distinct fillers from mu_4..mu_d; got d=${c.d})`,
    );
  }
}

/**
 * Draws a test set: n i.i.d. samples of the distribution of paper Def. 2.1. Unlike the training
 * set (exact proportions, Assumption 2.3), each sample draws its type independently: I1 with
 * probability 1/2, I2, I3, I4 with 1/6 each. mu_3 sits at a uniform position, mu_1 / mu_2 at
 * distinct uniform other positions, and the fillers are a uniform draw without replacement from
 * mu_4..mu_d (distinct within the sample, independent across samples), so a test sample may hold
 * tokens that no training sample holds.
 *
 * The stream `test:${seed}` is separate from the training set's `data:${seed}`, so the same seed
 * gives a test set that shares no draws with its training set, and adding a test set to a run
 * leaves its training set unchanged. Draw order per sample: the type (one int(6)), a shuffle of
 * the L positions, then the fillers one by one (partial Fisher-Yates over the filler pool).
 */
export function generateTestSet(c: TestSetConfig): Dataset {
  validateTestSetConfig(c);
  const { n, L, d } = c;
  const rng = new Rng(`test:${c.seed}`);
  // The pool stays a permutation of the filler tokens across samples; a partial Fisher-Yates
  // from any permutation picks a uniform ordered subset, so no reset is needed.
  const { tokens, y, type, pool, positions } = blankSamples(n, L, d);
  const special = new Int32Array(3);
  for (let i = 0; i < n; i++) {
    // int(6) in {0,1,2} -> I1 (1/2), 3 -> I2, 4 -> I3, 5 -> I4 (1/6 each): exact rational
    // probabilities, no comparison of a uniform against rounded thresholds.
    const roll = rng.int(6);
    const sampleType = roll < 3 ? 1 : roll - 1;
    type[i] = sampleType;
    y[i] = sampleType === 1 ? 1 : -1;
    let ns = 0;
    special[ns++] = MU3;
    if (sampleType === 1 || sampleType === 2) special[ns++] = MU1;
    if (sampleType === 1 || sampleType === 3) special[ns++] = MU2;
    rng.shuffle(positions);
    const base = i * L;
    for (let s = 0; s < ns; s++) tokens[base + positions[s]] = special[s];
    for (let s = ns; s < L; s++) tokens[base + positions[s]] = drawFromPool(pool, s - ns, rng);
  }
  return { n, L, d, tokens, y, type };
}

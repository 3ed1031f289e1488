/**
 * The observation contract (docs/observables.md): what a level (F, G, T, or any later one) must
 * provide at a state so that src/observe/derive.ts can compute every trajectory column from it.
 * A level computes only these few primitives; the derived quantities (losses, g-sums, Lemma 4.3,
 * 4.4 and 4.5 ratios, movements, attention deviations, ...) are computed once, in one place, so
 * their definitions cannot drift apart between levels.
 *
 * Buffers are owned by the level's probe and overwritten on the next call: copy what you keep.
 */
export interface Primitives {
  /** number of training samples n, and sequence length L */
  readonly n: number;
  readonly L: number;
  /**
   * Sample groups: samples with identical outputs. Level F/G: one sample per group (n groups);
   * Level T: one group per type I1..I4 holding its N_t samples. Arrays of the group count.
   */
  readonly groupType: Int32Array;
  readonly groupCount: Float64Array;
  readonly groupLabel: Float64Array;
  /** output F of each sample of the group (Eq. 1) */
  readonly F: Float64Array;
  /** sum over filler keys p of (sum_l P_pl) G(x_p): the part of F carried by filler tokens (Def. F.1) */
  readonly fillerF: Float64Array;
  /** G(mu_1), G(mu_2), G(mu_3) */
  readonly G: Float64Array;
  /** max over the training set's filler tokens of |G(filler)| (0 without fillers) */
  readonly GfillerMaxAbs: number;
  /** dG(mu_i)/dt under the gradient-flow field at this state (Lemma 4.1, 4.3) */
  readonly dG: Float64Array;
  /** 3 x 3 blocks on mu_1..mu_3, row-major: S[key * 3 + query], A = Q^T Q, B = K^T K, C = V^T V */
  readonly S: Float64Array;
  readonly A: Float64Array;
  readonly B: Float64Array;
  readonly C: Float64Array;
  /** s = ||W^T a||^2 */
  readonly s: number;
  /** every attention weight (Level F/G: P^(i)_{key, query} of each sample; Level T: of each key kind), fixed order */
  readonly attention: Float64Array;
  /** unscaled score of every (key, query) pair that co-occurs in a training sample, fixed order */
  readonly pairScores: Float64Array;
  /** PAIR_* class of each entry of pairScores (fixed) */
  readonly pairClass: Uint8Array;
  /** held-out set (`--test-n`): mean logistic loss and error rate; absent when there is none */
  readonly test: { loss: number; error: number } | null;
}

/** Pair classes of co-occurring scores (Lemma 4.7: filler-involving scores move ~n times slower). */
export const PAIR_TARGET_TARGET = 0;
export const PAIR_SPECIAL_FILLER = 1;
export const PAIR_FILLER_FILLER = 2;
/** a pair of special tokens involving mu_3: its scores are columns of their own (score_k*_q*) */
export const PAIR_OTHER = 3;

/** Token ids: mu_1, mu_2, mu_3 are 0, 1, 2; fillers are >= 3 (src/data/dataset.ts). */
export function pairClassOf(key: number, query: number): number {
  const kf = key >= 3;
  const qf = query >= 3;
  if (kf && qf) return PAIR_FILLER_FILLER;
  if (kf || qf) return PAIR_SPECIAL_FILLER;
  return key <= 1 && query <= 1 ? PAIR_TARGET_TARGET : PAIR_OTHER;
}

/** The buffers of a probe's primitives (all but the scalars), filled on every probe call. */
export type PrimitiveBuffers = Omit<Primitives, 'GfillerMaxAbs' | 's' | 'test'>;

/**
 * Allocates a probe's buffers: the sample groups (type 1..4, sample count, label of each), the
 * attention and pair-score lengths, and the pairs' classes.
 */
export function primitiveBuffers(c: {
  n: number;
  L: number;
  groupType: Int32Array;
  groupCount: Float64Array;
  groupLabel: Float64Array;
  attentionLength: number;
  pairClass: Uint8Array;
}): PrimitiveBuffers {
  const groups = c.groupType.length;
  const block = () => new Float64Array(9);
  return {
    n: c.n,
    L: c.L,
    groupType: c.groupType,
    groupCount: c.groupCount,
    groupLabel: c.groupLabel,
    F: new Float64Array(groups),
    fillerF: new Float64Array(groups),
    G: new Float64Array(3),
    dG: new Float64Array(3),
    S: block(),
    A: block(),
    B: block(),
    C: block(),
    attention: new Float64Array(c.attentionLength),
    pairScores: new Float64Array(c.pairClass.length),
    pairClass: c.pairClass,
  };
}

/** Sample groups of a level that keeps every sample apart (Level F, G): one sample per group. */
export function sampleGroups(data: { n: number; type: Int32Array; y: Float64Array }) {
  return { groupType: Int32Array.from(data.type), groupCount: new Float64Array(data.n).fill(1), groupLabel: Float64Array.from(data.y) };
}

/** A level's primitives as a function of its state. */
export interface Probe {
  /** whether primitives include a test set (so the test columns exist) */
  readonly hasTest: boolean;
  probe(y: Float64Array): Primitives;
  /**
   * dF/dt of each sample group along the gradient flow, given the field dydt at y; probe(y) must
   * have been the last call. Chain rule through Eq. 1 (softmax Jacobian):
   * dF/dt = sum_l sum_p P_pl ((u_p - F_l) dz_pl/dt + du_p/dt), z = S / sqrt(m), F_l = sum_p P_pl u_p.
   */
  outputRates(y: Float64Array, dydt: Float64Array): Float64Array;
}

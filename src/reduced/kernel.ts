/**
 * Per-type outputs F_I1..F_I4 and the gradients Gam = dL/dS, gu = dL/du in orbit form.
 *
 * In a sample of type t every query position is a special token present in the type or one of
 * its F_t fillers; all fillers of one sample are alike, so the softmax of query a over the keys
 * (Eq. 1, z = S / sqrt(m)) only needs, per "key kind", one score orbit and a count of keys:
 *   special query a:  each special b of the type (1 key, orbit (b, a)), the fillers (F_t keys,
 *                     orbit (f_t, a));
 *   filler query:     each special b (orbit (b, f_t)), itself (orbit (f_t, f_t; same-token)),
 *                     its F_t - 1 sample-mates (orbit (f_t, f_t; same-sample)).
 * F_t = sum over queries of sum_p P_pl u_p, with the filler query counted F_t times.
 * The per-sample kernel is dF/du_p = sum_l P_pl and dF/dz_pl = P_pl (u_p - F_l) (softmax
 * Jacobian), weighted by dL/dF_i = -y_i g_i / n with g_i = 1/(1+exp(y_i F_i)) (paper Sec. 2).
 * A pair of special tokens occurs in all N_t samples of a type that holds both; a pair involving
 * a filler occurs in exactly one sample. Hence Gam[b, a] != 0 only if b and a share a sample.
 */
import { logisticLoss, logisticWeight } from '../model/logistic.js';
import {
  NUM_CLASSES,
  NUM_ORDERED,
  REL_SAME_SAMPLE,
  REL_SAME_TOKEN,
  TYPE_LABEL,
  TYPE_SPECIALS,
  TypeLayout,
  fillerClassOf,
  orbitId,
} from './orbits.js';
import { fillersPerSample, samplesOfType } from './derive.js';

/** A per-type amount: 1, N_t (samples of the type), F_t (fillers per sample) or F_t - 1. */
export type Amount = 'one' | 'N' | 'F' | 'F-1';

export function amountValue(a: Amount, t: number, n: number, L: number): number {
  if (a === 'one') return 1;
  if (a === 'N') return samplesOfType(t, n);
  const F = fillersPerSample(t, L);
  return a === 'F' ? F : F - 1;
}

/** One kind of key seen by one query group (one special query, or the filler queries) of a type. */
export interface KeyKindSpec {
  /** type index 0..3 */
  readonly type: number;
  readonly queryClass: number;
  /** number of queries in the group per sample (1, or F_t for the fillers) */
  readonly groupSize: Amount;
  readonly keyClass: number;
  /** score orbit (key, query) */
  readonly orbit: number;
  /** number of keys of this kind for one query */
  readonly count: Amount;
  /** for one key token of this kind, the number of queries of the group that see it so */
  readonly reverseCount: Amount;
  /** number of samples holding one given (key token, query token) pair of this kind */
  readonly pairSamples: Amount;
  /** number of samples holding the key token */
  readonly keySamples: Amount;
}

/** All key kinds, grouped by (type, query group) in a fixed order. */
export function keyKindSpecs(): KeyKindSpec[] {
  const out: KeyKindSpec[] = [];
  for (let t = 0; t < 4; t++) {
    const ft = fillerClassOf(t);
    const specials = TYPE_SPECIALS[t];
    for (const a of specials) {
      const base = { type: t, queryClass: a, groupSize: 'one' as const };
      for (const b of specials) {
        out.push({ ...base, keyClass: b, orbit: orbitId(b, a), count: 'one', reverseCount: 'one', pairSamples: 'N', keySamples: 'N' });
      }
      out.push({ ...base, keyClass: ft, orbit: orbitId(ft, a), count: 'F', reverseCount: 'one', pairSamples: 'one', keySamples: 'one' });
    }
    const base = { type: t, queryClass: ft, groupSize: 'F' as const };
    for (const b of specials) {
      out.push({ ...base, keyClass: b, orbit: orbitId(b, ft), count: 'one', reverseCount: 'F', pairSamples: 'one', keySamples: 'N' });
    }
    out.push({ ...base, keyClass: ft, orbit: orbitId(ft, ft, REL_SAME_TOKEN), count: 'one', reverseCount: 'one', pairSamples: 'one', keySamples: 'one' });
    out.push({ ...base, keyClass: ft, orbit: orbitId(ft, ft, REL_SAME_SAMPLE), count: 'F-1', reverseCount: 'F-1', pairSamples: 'one', keySamples: 'one' });
  }
  return out;
}

export class TypeKernel {
  /** per-type outputs F_t (the output of every sample of type t) */
  readonly F = new Float64Array(4);
  /** per-type losses l(y_t F_t) */
  readonly lossByType = new Float64Array(4);
  /** dL/dF_i for one sample of type t: -y_t g_t / n */
  readonly dLdF = new Float64Array(4);
  /** Gam = dL/dS (1/sqrt(m) included) on the ordered orbits */
  readonly gam = new Float64Array(NUM_ORDERED);
  /** gu = dL/du per class */
  readonly gu = new Float64Array(NUM_CLASSES);
  /** attention probability of one key of each kind (last evaluation) */
  readonly kindP: Float64Array;

  /** read by the observation probe (src/observe/type.ts) */
  readonly groupType: Int32Array;
  /** read by the observation probe (src/observe/type.ts) */
  readonly groupSize: Float64Array;
  /** read by the observation probe (src/observe/type.ts) */
  readonly groupStart: Int32Array;
  /** read by the observation probe (src/observe/type.ts) */
  readonly groupF: Float64Array;
  /** read by the observation probe (src/observe/type.ts) */
  readonly kindKeyClass: Int32Array;
  /** read by the observation probe (src/observe/type.ts) */
  readonly kindOrbit: Int32Array;
  /** read by the observation probe (src/observe/type.ts) */
  readonly kindCount: Float64Array;
  private readonly kindReverse: Float64Array;
  private readonly kindPairSamples: Float64Array;
  private readonly kindKeySamples: Float64Array;
  private readonly typeSamples: Float64Array;
  private readonly invSqrtM: number;

  constructor(
    readonly n: number,
    readonly L: number,
    m: number,
  ) {
    this.invSqrtM = 1 / Math.sqrt(m);
    // Evaluate the symbolic kinds at (n, L); kinds with no keys and empty groups drop out.
    const groups: { type: number; size: number }[] = [];
    const kinds: { group: number; spec: KeyKindSpec; count: number }[] = [];
    let lastKey = '';
    for (const spec of keyKindSpecs()) {
      const size = amountValue(spec.groupSize, spec.type, n, L);
      const count = amountValue(spec.count, spec.type, n, L);
      if (size === 0 || count === 0) continue;
      const key = `${spec.type}:${spec.queryClass}`;
      if (key !== lastKey) {
        groups.push({ type: spec.type, size });
        lastKey = key;
      }
      kinds.push({ group: groups.length - 1, spec, count });
    }
    const value = (a: Amount, k: (typeof kinds)[number]) => amountValue(a, k.spec.type, n, L);
    this.typeSamples = Float64Array.from({ length: 4 }, (_, t) => samplesOfType(t, n));
    this.groupType = Int32Array.from(groups, (g) => g.type);
    this.groupSize = Float64Array.from(groups, (g) => g.size);
    this.groupStart = new Int32Array(groups.length + 1);
    for (const k of kinds) this.groupStart[k.group + 1]++;
    for (let g = 0; g < groups.length; g++) this.groupStart[g + 1] += this.groupStart[g];
    this.groupF = new Float64Array(groups.length);
    this.kindKeyClass = Int32Array.from(kinds, (k) => k.spec.keyClass);
    this.kindOrbit = Int32Array.from(kinds, (k) => k.spec.orbit);
    this.kindCount = Float64Array.from(kinds, (k) => k.count);
    this.kindReverse = Float64Array.from(kinds, (k) => value(k.spec.reverseCount, k));
    this.kindPairSamples = Float64Array.from(kinds, (k) => value(k.spec.pairSamples, k));
    this.kindKeySamples = Float64Array.from(kinds, (k) => value(k.spec.keySamples, k));
    this.kindP = new Float64Array(kinds.length);
  }

  /**
   * Evaluates F_t, the loss, and (if `withGrad`) Gam and gu at the type-level state y.
   * Returns the mean loss (1/n) sum_t N_t l(y_t F_t). Allocates nothing.
   */
  evaluate(y: Float64Array, layout: TypeLayout, withGrad: boolean): number {
    const { F, groupF, kindP, kindOrbit, kindCount, kindKeyClass, groupStart, groupType, groupSize } = this;
    const S0 = layout.S;
    const U0 = layout.u;
    const scale = this.invSqrtM;
    F.fill(0);
    const numGroups = groupF.length;
    for (let g = 0; g < numGroups; g++) {
      const start = groupStart[g];
      const end = groupStart[g + 1];
      // Numerically stable softmax over the key kinds (each weighted by its number of keys).
      let zmax = -Infinity;
      for (let j = start; j < end; j++) {
        const z = y[S0 + kindOrbit[j]] * scale;
        if (z > zmax) zmax = z;
      }
      let Z = 0;
      for (let j = start; j < end; j++) {
        const e = Math.exp(y[S0 + kindOrbit[j]] * scale - zmax);
        kindP[j] = e;
        Z += kindCount[j] * e;
      }
      let Fq = 0;
      for (let j = start; j < end; j++) {
        const p = kindP[j] / Z;
        kindP[j] = p;
        Fq += kindCount[j] * p * y[U0 + kindKeyClass[j]];
      }
      groupF[g] = Fq;
      F[groupType[g]] += groupSize[g] * Fq;
    }
    let loss = 0;
    for (let t = 0; t < 4; t++) {
      const margin = TYPE_LABEL[t] * F[t];
      this.lossByType[t] = logisticLoss(margin);
      this.dLdF[t] = (-TYPE_LABEL[t] * logisticWeight(margin)) / this.n;
      loss += this.typeSamples[t] * this.lossByType[t];
    }
    loss /= this.n;
    if (!withGrad) return loss;

    const { gam, gu, kindReverse, kindPairSamples, kindKeySamples, dLdF } = this;
    gam.fill(0);
    gu.fill(0);
    for (let g = 0; g < numGroups; g++) {
      const w = dLdF[groupType[g]];
      const Fq = groupF[g];
      for (let j = groupStart[g]; j < groupStart[g + 1]; j++) {
        const p = kindP[j];
        const keyClass = kindKeyClass[j];
        gu[keyClass] += kindKeySamples[j] * w * kindReverse[j] * p;
        gam[kindOrbit[j]] += kindPairSamples[j] * w * p * (y[U0 + keyClass] - Fq) * scale;
      }
    }
    return loss;
  }
}

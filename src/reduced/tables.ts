/**
 * Numeric multiplicity tables of the type-level system for one (n, L): the symbolic counts of
 * derive.ts evaluated once, flattened into typed arrays for the allocation-free hot loops.
 */
import { classSize, deriveMatVecTerms, deriveProductTerms, evaluateCount, orbitSize, type MatVecTerm, type ProductTerm } from './derive.js';
import { NUM_CLASSES, NUM_ORDERED, ORDERED_ORBITS } from './orbits.js';

export interface MultiplicityTables {
  readonly n: number;
  readonly L: number;
  /** number of tokens per class */
  readonly classSizes: Float64Array;
  /** number of ordered pairs per ordered orbit */
  readonly orbitSizes: Float64Array;
  /** 1 if the orbit has at least one pair for this (n, L) */
  readonly orbitActive: Uint8Array;
  readonly classActive: Uint8Array;
  /** product terms with a non-empty target and a nonzero count: Z[target] += count X[left] Y[right] */
  readonly prodTarget: Int32Array;
  /** the terms of target o are prodStart[o] .. prodStart[o+1]-1 (terms are sorted by target) */
  readonly prodStart: Int32Array;
  readonly prodLeft: Int32Array;
  readonly prodRight: Int32Array;
  /** the transposed orbits of left/right, for products with X^T or Y^T */
  readonly prodLeftT: Int32Array;
  readonly prodRightT: Int32Array;
  readonly prodCount: Float64Array;
  /** matrix-vector terms: z[targetClass] += count X[orbit] v[sumClass] */
  readonly mvTarget: Int32Array;
  readonly mvOrbit: Int32Array;
  readonly mvClass: Int32Array;
  readonly mvCount: Float64Array;
}

/**
 * Evaluates the derived counts at (n, L). Terms whose count is 0 are dropped; orbits with no
 * pairs (possible when n = 6 or L <= 4) are marked inactive and never feed an active one, which
 * is checked here: a count that is nonzero for an active target but refers to an empty orbit
 * would mean a wrong derivation.
 */
export function buildTables(
  n: number,
  L: number,
  productTerms: readonly ProductTerm[] = deriveProductTerms(),
  matVecTerms: readonly MatVecTerm[] = deriveMatVecTerms(),
): MultiplicityTables {
  const classSizes = Float64Array.from({ length: NUM_CLASSES }, (_, c) => evaluateCount(classSize(c), n, L));
  const orbitSizes = Float64Array.from({ length: NUM_ORDERED }, (_, o) => evaluateCount(orbitSize(o), n, L));
  const orbitActive = Uint8Array.from(orbitSizes, (v) => (v > 0 ? 1 : 0));
  const classActive = Uint8Array.from(classSizes, (v) => (v > 0 ? 1 : 0));

  const prod = productTerms
    .filter((t) => orbitActive[t.target])
    .map((t) => ({ ...t, value: evaluateCount(t.count, n, L) }))
    .filter((t) => t.value !== 0);
  const prodStart = new Int32Array(NUM_ORDERED + 1);
  for (let i = 0; i < prod.length; i++) {
    if (i > 0 && prod[i].target < prod[i - 1].target) throw new Error('product terms must be sorted by target');
    prodStart[prod[i].target + 1]++;
  }
  for (let o = 0; o < NUM_ORDERED; o++) prodStart[o + 1] += prodStart[o];
  for (const t of prod) {
    if (t.value < 0 || !orbitActive[t.left] || !orbitActive[t.right]) {
      throw new Error(`multiplicity table inconsistent at n=${n}, L=${L}: target ${ORDERED_ORBITS[t.target].label}`);
    }
  }
  const mv = matVecTerms
    .filter((t) => classActive[t.targetClass])
    .map((t) => ({ ...t, value: evaluateCount(t.count, n, L) }))
    .filter((t) => t.value !== 0);
  for (const t of mv) {
    if (t.value < 0 || !orbitActive[t.orbit]) throw new Error(`mat-vec table inconsistent at n=${n}, L=${L}`);
  }
  return {
    n,
    L,
    classSizes,
    orbitSizes,
    orbitActive,
    classActive,
    prodTarget: Int32Array.from(prod, (t) => t.target),
    prodStart,
    prodLeft: Int32Array.from(prod, (t) => t.left),
    prodRight: Int32Array.from(prod, (t) => t.right),
    prodLeftT: Int32Array.from(prod, (t) => ORDERED_ORBITS[t.left].transpose),
    prodRightT: Int32Array.from(prod, (t) => ORDERED_ORBITS[t.right].transpose),
    prodCount: Float64Array.from(prod, (t) => t.value),
    mvTarget: Int32Array.from(mv, (t) => t.targetClass),
    mvOrbit: Int32Array.from(mv, (t) => t.orbit),
    mvClass: Int32Array.from(mv, (t) => t.sumClass),
    mvCount: Float64Array.from(mv, (t) => t.value),
  };
}

/**
 * Z = op(X) op(Y) in orbit form, op = transpose if the flag is set; X, Y, Z are indexed by
 * ordered orbit (X read at xOff, Y at yOff). Allocates nothing.
 */
export function orbitProduct(
  tab: MultiplicityTables,
  X: Float64Array,
  xOff: number,
  transposeX: boolean,
  Y: Float64Array,
  yOff: number,
  transposeY: boolean,
  Z: Float64Array,
): void {
  const li = transposeX ? tab.prodLeftT : tab.prodLeft;
  const ri = transposeY ? tab.prodRightT : tab.prodRight;
  const start = tab.prodStart;
  const cnt = tab.prodCount;
  // Accumulate each target in a register (terms are grouped by target).
  for (let o = 0; o < NUM_ORDERED; o++) {
    let acc = 0;
    for (let i = start[o]; i < start[o + 1]; i++) acc += cnt[i] * X[xOff + li[i]] * Y[yOff + ri[i]];
    Z[o] = acc;
  }
}

/** z = X v in orbit form (X by ordered orbit, v and z by class). Allocates nothing. */
export function orbitMatVec(tab: MultiplicityTables, X: Float64Array, v: Float64Array, vOff: number, z: Float64Array): void {
  z.fill(0);
  const { mvTarget, mvOrbit, mvClass, mvCount } = tab;
  for (let i = 0; i < mvTarget.length; i++) z[mvTarget[i]] += mvCount[i] * X[mvOrbit[i]] * v[vOff + mvClass[i]];
}

/** sum over tokens of x_c v_c = sum over classes |class| x[c] v[c]. */
export function tokenDot(tab: MultiplicityTables, x: Float64Array, xOff: number, v: Float64Array, vOff: number): number {
  let s = 0;
  for (let c = 0; c < NUM_CLASSES; c++) s += tab.classSizes[c] * x[xOff + c] * v[vOff + c];
  return s;
}

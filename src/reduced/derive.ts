/**
 * Multiplicities of the type-level system, derived symbolically by class-level counting.
 *
 * A matrix product (X Y)[b, a] = sum_c X[b, c] Y[c, a] of two orbit-invariant matrices is again
 * orbit-invariant, and grouping the summed token c by the orbits of (b, c) and (c, a) gives
 *   (X Y)[O] = sum_{O1, O2} N(O; O1, O2) X[O1] Y[O2],
 * where N(O; O1, O2) = #{c : (b, c) in O1, (c, a) in O2} does not depend on which pair (b, a)
 * of O is taken (these are the intersection numbers of the coherent configuration that the
 * symmetry group induces on token pairs). Every N is a product of a few factors n/2, n/6 - 1,
 * L - 3, ... (numbers of samples of a type and of fillers per sample), written here as
 * expressions in n and L (mathjs syntax, evaluated in plain TypeScript). They are counted class
 * by class of c below and checked against brute enumeration on concrete data sets in
 * test/reduced/multiplicity.test.ts.
 */
import { NUM_CLASSES, ORDERED_ORBITS, REL_FIXED, REL_OTHER_SAMPLE, REL_SAME_SAMPLE, REL_SAME_TOKEN, fillerTypeOf, isFillerClass, orbitId } from './orbits.js';

/**
 * One factor of a count: N_t - minus (samples of type t) or F_t - minus (fillers per sample of
 * type t), with N = (n/2, n/6, n/6, n/6) and F = (L-3, L-2, L-2, L-1) for I1..I4.
 */
export interface CountFactor {
  readonly base: 'N' | 'F';
  /** type index 0..3 (I1..I4) */
  readonly type: number;
  readonly minus: number;
}

/** A product of factors (the empty product is 1). */
export type SymCount = readonly CountFactor[];

const N_DENOMINATOR = [2, 6, 6, 6];
const F_OFFSET = [3, 2, 2, 1];

function factorExpr(f: CountFactor): string {
  if (f.base === 'N') {
    const frac = `n/${N_DENOMINATOR[f.type]}`;
    return f.minus === 0 ? `(${frac})` : `(${frac} - ${f.minus})`;
  }
  return `(L - ${F_OFFSET[f.type] + f.minus})`;
}

function factorTex(f: CountFactor): string {
  if (f.base === 'N') {
    const frac = `\\tfrac{n}{${N_DENOMINATOR[f.type]}}`;
    return f.minus === 0 ? frac : `(${frac}-${f.minus})`;
  }
  return `(L-${F_OFFSET[f.type] + f.minus})`;
}

/** The count as a mathjs expression in n and L, e.g. `(n/2 - 1) * (L - 3)`. */
export function countExpr(c: SymCount): string {
  return c.length === 0 ? '1' : c.map(factorExpr).join(' * ');
}

/** The count as LaTeX, e.g. `(\tfrac{n}{2}-1)(L-3)`. */
export function countTex(c: SymCount): string {
  return c.length === 0 ? '1' : c.map(factorTex).join('');
}

/** One factor's value at (n, L), as countExpr writes it: n / den - minus, or L - (offset + minus). */
function factorValue(f: CountFactor, n: number, L: number): number {
  return f.base === 'N' ? n / N_DENOMINATOR[f.type] - f.minus : L - (F_OFFSET[f.type] + f.minus);
}

/**
 * Evaluates a count at (n, L): the product of its factors left to right, the arithmetic of
 * countExpr's expression (test/reduced/counts.test.ts checks it against mathjs evaluating that
 * expression). Plain TypeScript, so a Level T run never loads mathjs (about 0.7 s per process or
 * sweep worker). The result is an exact integer for valid n, L.
 */
export function evaluateCount(c: SymCount, n: number, L: number): number {
  let value = 1;
  for (let i = 0; i < c.length; i++) value = i === 0 ? factorValue(c[0], n, L) : value * factorValue(c[i], n, L);
  const rounded = Math.round(value);
  if (Math.abs(value - rounded) > 1e-9) throw new Error(`count ${countExpr(c)} is not an integer at n=${n}, L=${L}`);
  return rounded + 0; // + 0 turns -0 (a zero factor times a negative one) into 0
}

const N = (t: number, minus = 0): CountFactor => ({ base: 'N', type: t, minus });
const F = (t: number, minus = 0): CountFactor => ({ base: 'F', type: t, minus });

/** Number of tokens of a class: 1 for mu_1, mu_2, mu_3; N_t F_t for the fillers of type t. */
export function classSize(c: number): SymCount {
  if (!isFillerClass(c)) return [];
  const t = fillerTypeOf(c);
  return [N(t), F(t)];
}

/**
 * For a fixed token b, the number of tokens a of class `colClass` with (b, a) in the orbit
 * (class of b, colClass, relation); `relation` is REL_FIXED unless b is a filler of colClass.
 */
export function partnerCount(colClass: number, relation: number): SymCount {
  if (relation === REL_FIXED) return classSize(colClass);
  const t = fillerTypeOf(colClass);
  if (relation === REL_SAME_TOKEN) return [];
  if (relation === REL_SAME_SAMPLE) return [F(t, 1)];
  return [N(t, 1), F(t)];
}

/** Number of ordered pairs in an orbit: |class of b| times the partners of one b. */
export function orbitSize(orbit: number): SymCount {
  const o = ORDERED_ORBITS[orbit];
  return [...classSize(o.rowClass), ...partnerCount(o.colClass, o.relation)];
}

/** One term N(O; O1, O2) X[O1] Y[O2] of an orbit-form matrix product. */
export interface ProductTerm {
  /** target orbit O (of the pair (b, a)) */
  readonly target: number;
  /** class of the summed token c */
  readonly sumClass: number;
  /** orbit O1 of (b, c) */
  readonly left: number;
  /** orbit O2 of (c, a) */
  readonly right: number;
  readonly count: SymCount;
}

/**
 * Class-level counting of the tokens c of filler class cc (type t) relative to a pair (b, a) in
 * orbit O. Only whether b and a themselves belong to cc matters: a filler of another class, or a
 * special token, has the same relation to every c of cc.
 */
function fillerTerms(target: number, cc: number): ProductTerm[] {
  const o = ORDERED_ORBITS[target];
  const t = fillerTypeOf(cc);
  const bIn = o.rowClass === cc;
  const aIn = o.colClass === cc;
  const term = (relBC: number, relCA: number, count: SymCount): ProductTerm => ({
    target,
    sumClass: cc,
    left: orbitId(o.rowClass, cc, bIn ? relBC : REL_FIXED),
    right: orbitId(cc, o.colClass, aIn ? relCA : REL_FIXED),
    count,
  });
  const X = REL_FIXED;
  if (!bIn && !aIn) return [term(X, X, [N(t), F(t)])];
  if (bIn && !aIn) {
    // c = b; c another filler of b's sample (F_t - 1); c in the other N_t - 1 samples.
    return [term(REL_SAME_TOKEN, X, []), term(REL_SAME_SAMPLE, X, [F(t, 1)]), term(REL_OTHER_SAMPLE, X, [N(t, 1), F(t)])];
  }
  if (!bIn && aIn) {
    return [term(X, REL_SAME_TOKEN, []), term(X, REL_SAME_SAMPLE, [F(t, 1)]), term(X, REL_OTHER_SAMPLE, [N(t, 1), F(t)])];
  }
  if (o.relation === REL_SAME_TOKEN) {
    // b = a: c is b itself, a sample-mate, or in another sample.
    return [
      term(REL_SAME_TOKEN, REL_SAME_TOKEN, []),
      term(REL_SAME_SAMPLE, REL_SAME_SAMPLE, [F(t, 1)]),
      term(REL_OTHER_SAMPLE, REL_OTHER_SAMPLE, [N(t, 1), F(t)]),
    ];
  }
  if (o.relation === REL_SAME_SAMPLE) {
    // b != a in one sample: c = b, c = a, a third filler of that sample, or elsewhere.
    return [
      term(REL_SAME_TOKEN, REL_SAME_SAMPLE, []),
      term(REL_SAME_SAMPLE, REL_SAME_TOKEN, []),
      term(REL_SAME_SAMPLE, REL_SAME_SAMPLE, [F(t, 2)]),
      term(REL_OTHER_SAMPLE, REL_OTHER_SAMPLE, [N(t, 1), F(t)]),
    ];
  }
  // b and a in two different samples: c = b, c = a, a mate of b, a mate of a, or a third sample.
  return [
    term(REL_SAME_TOKEN, REL_OTHER_SAMPLE, []),
    term(REL_OTHER_SAMPLE, REL_SAME_TOKEN, []),
    term(REL_SAME_SAMPLE, REL_OTHER_SAMPLE, [F(t, 1)]),
    term(REL_OTHER_SAMPLE, REL_SAME_SAMPLE, [F(t, 1)]),
    term(REL_OTHER_SAMPLE, REL_OTHER_SAMPLE, [N(t, 2), F(t)]),
  ];
}

/** All terms of the orbit-form matrix product, for every target orbit and summed class. */
export function deriveProductTerms(): ProductTerm[] {
  const terms: ProductTerm[] = [];
  for (const o of ORDERED_ORBITS) {
    for (let cc = 0; cc < NUM_CLASSES; cc++) {
      if (isFillerClass(cc)) {
        terms.push(...fillerTerms(o.id, cc));
      } else {
        // One special token c; its relation to b and to a is fixed by the classes.
        terms.push({ target: o.id, sumClass: cc, left: orbitId(o.rowClass, cc), right: orbitId(cc, o.colClass), count: [] });
      }
    }
  }
  return terms;
}

/** One term of the orbit-form matrix-vector product (X v)[a] = sum_c X[a, c] v[c]. */
export interface MatVecTerm {
  /** class of a */
  readonly targetClass: number;
  /** class of the summed token c */
  readonly sumClass: number;
  /** orbit of (a, c) */
  readonly orbit: number;
  readonly count: SymCount;
}

export function deriveMatVecTerms(): MatVecTerm[] {
  const terms: MatVecTerm[] = [];
  for (let ca = 0; ca < NUM_CLASSES; ca++) {
    for (let cc = 0; cc < NUM_CLASSES; cc++) {
      if (ca === cc && isFillerClass(cc)) {
        for (const rel of [REL_SAME_TOKEN, REL_SAME_SAMPLE, REL_OTHER_SAMPLE]) {
          terms.push({ targetClass: ca, sumClass: cc, orbit: orbitId(ca, cc, rel), count: partnerCount(cc, rel) });
        }
      } else {
        terms.push({ targetClass: ca, sumClass: cc, orbit: orbitId(ca, cc), count: classSize(cc) });
      }
    }
  }
  return terms;
}

/** Number of filler positions per sample of type index t: L-3, L-2, L-2, L-1. */
export function fillersPerSample(t: number, L: number): number {
  return L - F_OFFSET[t];
}

/** Number of samples of type index t: n/2, n/6, n/6, n/6. */
export function samplesOfType(t: number, n: number): number {
  return n / N_DENOMINATOR[t];
}

/** `F_t` symbol for documents. */
export function fillersPerSampleTex(t: number): string {
  return `L-${F_OFFSET[t]}`;
}

export function samplesOfTypeTex(t: number): string {
  return `\\tfrac{n}{${N_DENOMINATOR[t]}}`;
}

/** Class name for documents, e.g. `\mu_1`, `f_2`. */
export function classTex(c: number): string {
  return isFillerClass(c) ? `f_${fillerTypeOf(c) + 1}` : `\\mu_${c + 1}`;
}


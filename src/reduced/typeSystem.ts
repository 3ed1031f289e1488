/**
 * Level T: the Level G gradient flow and GD map (docs/levels.md#level-g) restricted to the
 * symmetric subspace of a theory-conforming data set, in orbit variables.
 *
 * Why it is exact: the group that permutes the samples of one type (with their fillers) and the
 * fillers inside a sample maps the data set to itself and the mean state
 *   A = B = C = s0^2 m I, S = 0, u = 0, s = s1^2 m1 m
 * to itself; the Level G field is equivariant under it (the loss is invariant), so the flow and
 * every GD iterate stay in the subspace of group-invariant Gram matrices, whose coordinates are
 * the orbit variables. Every matrix product of Level G becomes the orbit product of tables.ts,
 * and Gam, gu come from the per-type closed forms of kernel.ts. The mu_1 <-> mu_2 swap is NOT
 * built in: G1 = G2 etc. are outcomes, checked in the tests.
 */
import { UsageError } from '../errors.js';
import { Dataset } from '../data/dataset.js';
import { TypeKernel } from './kernel.js';
import { expandToGram, restrictFromGram } from './gramBridge.js';
import {
  NUM_CLASSES,
  NUM_ORDERED,
  NUM_UNORDERED,
  ORDERED_ORBITS,
  REL_SAME_TOKEN,
  TYPE_LABEL,
  TYPE_LAYOUT,
  TypeLayout,
  UNORDERED_ORBITS,
  orbitId,
} from './orbits.js';
import { MultiplicityTables, buildTables, orbitMatVec, orbitProduct, tokenDot } from './tables.js';

export interface TypeSystemConfig {
  /** number of samples, a multiple of 6 */
  n: number;
  /** sequence length, >= 3 */
  L: number;
  /** attention width (enters through the softmax temperature 1/sqrt(m)) */
  m: number;
  /** MLP width (enters through a^T a = m1) */
  m1: number;
}

export interface TypeOutputs {
  /** output of every sample of type I1..I4 */
  F: number[];
  /** l(y_t F_t) for I1..I4 */
  lossByType: number[];
  /** mean loss (1/n) sum_t N_t l(y_t F_t) */
  loss: number;
  /** G(mu_1), G(mu_2), G(mu_3) = u */
  G1: number;
  G2: number;
  G3: number;
  /** scores[i][j] = <W_K mu_{i+1}, W_Q mu_{j+1}> (unscaled; key i, query j) */
  scores: number[][];
  /** min over types of y_t F_t */
  minMargin: number;
}

function checkInt(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new UsageError(`${name} must be an integer >= ${min} (got ${v})`);
}

export class TypeSystem {
  readonly layout: TypeLayout = TYPE_LAYOUT;
  readonly n: number;
  readonly L: number;
  readonly m: number;
  readonly m1: number;
  readonly tables: MultiplicityTables;
  readonly kernel: TypeKernel;

  // Workspaces (ordered-orbit or class vectors), allocated once.
  private readonly Sord = new Float64Array(NUM_ORDERED);
  private readonly Aord = new Float64Array(NUM_ORDERED);
  private readonly Bord = new Float64Array(NUM_ORDERED);
  private readonly Cord = new Float64Array(NUM_ORDERED);
  private readonly P1 = new Float64Array(NUM_ORDERED);
  private readonly P2 = new Float64Array(NUM_ORDERED);
  private readonly P3 = new Float64Array(NUM_ORDERED);
  private readonly P4 = new Float64Array(NUM_ORDERED);
  private readonly Cgu = new Float64Array(NUM_CLASSES);
  private readonly next: Float64Array;
  private readonly repOrdered: Int32Array;
  private readonly repTranspose: Int32Array;
  private readonly symActive: Uint8Array;
  private readonly symLow: Int32Array;
  private readonly symHigh: Int32Array;
  private readonly unorderedOf: Int32Array;

  constructor(config: TypeSystemConfig) {
    const { n, L, m, m1 } = config;
    checkInt('n', n, 6);
    if (n % 6 !== 0) throw new UsageError(`n must be a multiple of 6 for exact proportions n/2, n/6, n/6, n/6 (got ${n})`);
    checkInt('L', L, 3);
    checkInt('m', m, 1);
    checkInt('m1', m1, 1);
    this.n = n;
    this.L = L;
    this.m = m;
    this.m1 = m1;
    this.tables = buildTables(n, L);
    this.kernel = new TypeKernel(n, L, m);
    this.next = new Float64Array(this.layout.size);
    this.repOrdered = Int32Array.from(UNORDERED_ORBITS, (o) => o.ordered);
    this.repTranspose = Int32Array.from(UNORDERED_ORBITS, (o) => ORDERED_ORBITS[o.ordered].transpose);
    this.symActive = Uint8Array.from(UNORDERED_ORBITS, (o) => this.tables.orbitActive[o.ordered]);
    this.symLow = Int32Array.from(UNORDERED_ORBITS, (o) => o.lowClass);
    this.symHigh = Int32Array.from(UNORDERED_ORBITS, (o) => o.highClass);
    this.unorderedOf = Int32Array.from(ORDERED_ORBITS, (o) => o.unordered);
  }

  /** Number of scalar variables (173). */
  get size(): number {
    return this.layout.size;
  }

  /**
   * The mean initial condition A = B = C = s0^2 m I, S = 0, u = 0, s = s1^2 m1 m (the
   * expectation of the Gaussian initialisation's Gram matrices). Orbits with no pairs are 0.
   */
  meanState({ s0, s1 }: { s0: number; s1: number }): Float64Array {
    for (const [name, v] of [['s0', s0], ['s1', s1]] as const) {
      if (!Number.isFinite(v) || v < 0) throw new UsageError(`${name} must be a finite number >= 0 (got ${v})`);
    }
    const lay = this.layout;
    const y = new Float64Array(lay.size);
    for (const o of UNORDERED_ORBITS) {
      const ord = ORDERED_ORBITS[o.ordered];
      if (!ord.diagonal || !this.tables.orbitActive[o.ordered]) continue;
      const v = s0 * s0 * this.m;
      y[lay.A + o.id] = v;
      y[lay.B + o.id] = v;
      y[lay.C + o.id] = v;
    }
    y[lay.s] = s1 * s1 * this.m1 * this.m;
    return y;
  }

  /** Expand the symmetric blocks to ordered-orbit vectors and copy S. */
  private loadMatrices(y: Float64Array): void {
    const lay = this.layout;
    const { Sord, Aord, Bord, Cord, unorderedOf } = this;
    for (let o = 0; o < NUM_ORDERED; o++) {
      const u = unorderedOf[o];
      Sord[o] = y[lay.S + o];
      Aord[o] = y[lay.A + u];
      Bord[o] = y[lay.B + u];
      Cord[o] = y[lay.C + u];
    }
  }

  /** Gradient-flow vector field dy/dt = -grad (Level G equations in orbit form). Allocates nothing. */
  field(_t: number, y: Float64Array, dydt: Float64Array): void {
    const lay = this.layout;
    const tab = this.tables;
    const { Sord, Aord, Bord, Cord, P1, P2, Cgu, repOrdered, repTranspose, symActive, symLow, symHigh } = this;
    this.kernel.evaluate(y, lay, true);
    const { gam, gu } = this.kernel;
    this.loadMatrices(y);
    const active = tab.orbitActive;

    // dS = -(Gam A + B Gam)
    orbitProduct(tab, gam, 0, false, Aord, 0, false, P1);
    orbitProduct(tab, Bord, 0, false, gam, 0, false, P2);
    for (let o = 0; o < NUM_ORDERED; o++) dydt[lay.S + o] = active[o] ? -(P1[o] + P2[o]) : 0;
    // dA = -(Gam^T S + S^T Gam) = -(P + P^T) with P = Gam^T S
    orbitProduct(tab, gam, 0, true, Sord, 0, false, P1);
    // dB = -(Gam S^T + S Gam^T) = -(P + P^T) with P = Gam S^T
    orbitProduct(tab, gam, 0, false, Sord, 0, true, P2);
    for (let v = 0; v < NUM_UNORDERED; v++) {
      const o = repOrdered[v];
      const ot = repTranspose[v];
      dydt[lay.A + v] = symActive[v] ? -(P1[o] + P1[ot]) : 0;
      dydt[lay.B + v] = symActive[v] ? -(P2[o] + P2[ot]) : 0;
      // dC = -(gu u^T + u gu^T): rank one, depends only on the two classes
      dydt[lay.C + v] = symActive[v] ? -(gu[symLow[v]] * y[lay.u + symHigh[v]] + y[lay.u + symLow[v]] * gu[symHigh[v]]) : 0;
    }
    // du = -(s gu + m1 C gu)
    const s = y[lay.s];
    orbitMatVec(tab, Cord, gu, 0, Cgu);
    for (let c = 0; c < NUM_CLASSES; c++) dydt[lay.u + c] = tab.classActive[c] ? -(s * gu[c] + this.m1 * Cgu[c]) : 0;
    // ds = -2 m1 u.gu (sum over tokens)
    dydt[lay.s] = -2 * this.m1 * tokenDot(tab, y, lay.u, gu, 0);
  }

  /**
   * One exact full-batch GD step with rate eta (docs/levels.md#level-g: the Level G map including
   * its eta^2 terms). yNext may be the same array as y. Allocates nothing.
   */
  gdStep(eta: number, y: Float64Array, yNext: Float64Array): void {
    const lay = this.layout;
    const tab = this.tables;
    const { Sord, Aord, Bord, Cord, P1, P2, P3, P4, Cgu, symActive, symLow, symHigh, next } = this;
    if (!Number.isFinite(eta)) throw new UsageError(`learning rate eta must be finite (got ${eta})`);
    const m1 = this.m1;
    const e2 = eta * eta;
    this.kernel.evaluate(y, lay, true);
    const { gam, gu } = this.kernel;
    this.loadMatrices(y);
    const active = tab.orbitActive;
    next.set(y);

    // S' = S - eta (Gam A + B Gam) + eta^2 Gam S^T Gam
    orbitProduct(tab, gam, 0, false, Aord, 0, false, P1);
    orbitProduct(tab, Bord, 0, false, gam, 0, false, P2);
    orbitProduct(tab, Sord, 0, true, gam, 0, false, P3);
    orbitProduct(tab, gam, 0, false, P3, 0, false, P4);
    for (let o = 0; o < NUM_ORDERED; o++) if (active[o]) next[lay.S + o] = y[lay.S + o] - eta * (P1[o] + P2[o]) + e2 * P4[o];

    // A' = A - eta (Gam^T S + S^T Gam) + eta^2 Gam^T B Gam
    orbitProduct(tab, gam, 0, true, Sord, 0, false, P1);
    orbitProduct(tab, Bord, 0, false, gam, 0, false, P2);
    orbitProduct(tab, gam, 0, true, P2, 0, false, P3);
    this.symmetricGdStep(lay.A, y, eta);
    // B' = B - eta (Gam S^T + S Gam^T) + eta^2 Gam A Gam^T
    orbitProduct(tab, gam, 0, false, Sord, 0, true, P1);
    orbitProduct(tab, Aord, 0, false, gam, 0, true, P2);
    orbitProduct(tab, gam, 0, false, P2, 0, false, P3);
    this.symmetricGdStep(lay.B, y, eta);
    // u' = u - eta (s gu + m1 C gu) + eta^2 m1 (u.gu) gu
    const s = y[lay.s];
    const ugu = tokenDot(tab, y, lay.u, gu, 0);
    orbitMatVec(tab, Cord, gu, 0, Cgu);
    for (let c = 0; c < NUM_CLASSES; c++) {
      if (tab.classActive[c]) next[lay.u + c] = y[lay.u + c] - eta * (s * gu[c] + m1 * Cgu[c]) + e2 * m1 * ugu * gu[c];
    }
    // C' = C - eta (gu u^T + u gu^T) + eta^2 s gu gu^T
    for (let v = 0; v < NUM_UNORDERED; v++) {
      if (!symActive[v]) continue;
      const lo = symLow[v];
      const hi = symHigh[v];
      next[lay.C + v] = y[lay.C + v] - eta * (gu[lo] * y[lay.u + hi] + y[lay.u + lo] * gu[hi]) + e2 * s * gu[lo] * gu[hi];
    }
    // s' = s - 2 eta m1 u.gu + eta^2 m1^2 gu^T C gu
    next[lay.s] = s - 2 * eta * m1 * ugu + e2 * m1 * m1 * tokenDot(tab, gu, 0, Cgu, 0);
    yNext.set(next);
  }

  /**
   * X' = X - eta (P + P^T) + eta^2 Q into next, for the symmetric block X at offset `off` (A or
   * B) with P in P1 and the symmetric Q in P3 (ordered-orbit vectors; each unordered orbit reads
   * its representative pair and that pair's transpose).
   */
  private symmetricGdStep(off: number, y: Float64Array, eta: number): void {
    const { P1, P3, repOrdered, repTranspose, symActive, next } = this;
    const e2 = eta * eta;
    for (let v = 0; v < NUM_UNORDERED; v++) {
      if (!symActive[v]) continue;
      const o = repOrdered[v];
      next[off + v] = y[off + v] - eta * (P1[o] + P1[repTranspose[v]]) + e2 * P3[o];
    }
  }

  /** Per-type outputs, losses, G(mu_1..3), the 3x3 special scores and the smallest margin. */
  outputs(y: Float64Array): TypeOutputs {
    this.checkState(y);
    const lay = this.layout;
    const loss = this.kernel.evaluate(y, lay, false);
    const F = Array.from(this.kernel.F);
    const scores = [0, 1, 2].map((i) => [0, 1, 2].map((j) => y[lay.S + orbitId(i, j)]));
    return {
      F,
      lossByType: Array.from(this.kernel.lossByType),
      loss,
      G1: y[lay.u],
      G2: y[lay.u + 1],
      G3: y[lay.u + 2],
      scores,
      minMargin: Math.min(...F.map((f, t) => TYPE_LABEL[t] * f)),
    };
  }

  /**
   * Conserved quantities of the flow (docs/levels.md#conserved-quantities) written with the class sizes:
   * tr A - tr B = sum_c |c| (A[c,c] - B[c,c]) and tr C - s/m1 = sum_c |c| C[c,c] - s/m1.
   */
  invariants(y: Float64Array): { trAminusTrB: number; trCminusSOverM1: number; trAplusTrB: number; trCplusSOverM1: number } {
    this.checkState(y);
    const lay = this.layout;
    let trA = 0;
    let trB = 0;
    let trC = 0;
    for (let c = 0; c < NUM_CLASSES; c++) {
      const v = ORDERED_ORBITS[orbitId(c, c, REL_SAME_TOKEN)].unordered;
      const size = this.tables.classSizes[c];
      trA += size * y[lay.A + v];
      trB += size * y[lay.B + v];
      trC += size * y[lay.C + v];
    }
    const sm = y[lay.s] / this.m1;
    // The sums are the scales against which the drift of the differences is reported.
    return { trAminusTrB: trA - trB, trCminusSOverM1: trC - sm, trAplusTrB: trA + trB, trCplusSOverM1: trC + sm };
  }

  /** The Level G state (k x k blocks S, A, B, C, then u, s) of a concrete data set. */
  expandToGram(y: Float64Array, data: Dataset): Float64Array {
    this.checkState(y);
    this.checkData(data);
    return expandToGram(y, data);
  }

  /** Orbit averages of a Level G state, and the largest relative spread inside an orbit. */
  restrictFromGram(yG: Float64Array, data: Dataset): { y: Float64Array; maxOrbitSpread: number } {
    this.checkData(data);
    return restrictFromGram(yG, data);
  }

  private checkState(y: Float64Array): void {
    if (y.length !== this.layout.size) throw new UsageError(`type-level state has length ${y.length}, expected ${this.layout.size}`);
  }

  private checkData(data: Dataset): void {
    if (data.n !== this.n || data.L !== this.L) {
      throw new UsageError(`data has (n, L) = (${data.n}, ${data.L}) but this TypeSystem was built for (${this.n}, ${this.L})`);
    }
  }
}

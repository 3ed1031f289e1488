/**
 * Level T: the Level G gradient flow and GD map (docs/levels.md#level-g) restricted to the
 * symmetric subspace of a theory-conforming data set, in orbit variables.
 *
 * Why it is exact: the group that permutes the samples of one type (with their fillers) and the
 * fillers inside a sample maps the data set to itself and the mean state
 *   A = B = C = s0^2 m I, S = 0, u = 0, s = s1^2 m1 m
 * to itself; the Level G field is equivariant under it (the loss is invariant), so the flow and
 * every GD iterate stay in the subspace of group-invariant Gram matrices, whose coordinates are
 * the orbit variables. Every matrix product of Level G becomes the orbit product of tables.ts:
 * the field and GD map are generated from the Level G polynomials (generated/typeField.ts, by
 * src/symbolic/emit/typeCode.ts), and Gam, gu come from the per-type closed forms of kernel.ts.
 * The mu_1 <-> mu_2 swap is NOT built in: G1 = G2 etc. are outcomes, checked in the tests.
 */
import { UsageError } from '../errors.js';
import { Dataset } from '../data/dataset.js';
import { TypeKernel } from './kernel.js';
import { expandToGram, restrictFromGram } from './gramBridge.js';
import { NUM_CLASSES, ORDERED_ORBITS, REL_SAME_TOKEN, TYPE_LABEL, TYPE_LAYOUT, TypeLayout, UNORDERED_ORBITS, orbitId } from './orbits.js';
import { MultiplicityTables, buildTables } from './tables.js';
import { TYPE_CLASS_VECTORS, TYPE_ORBIT_VECTORS, typeField, typeGdMap } from './generated/typeField.js';
import { TypeWorkspace, createTypeWorkspace } from './workspace.js';

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

  /** What the generated field and GD map read (tables, Gam, gu, orbit maps, work vectors), allocated once. */
  private readonly work: TypeWorkspace;
  private readonly next: Float64Array;

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
    this.work = createTypeWorkspace(this.tables, m1, this.kernel.gam, this.kernel.gu, TYPE_ORBIT_VECTORS, TYPE_CLASS_VECTORS);
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

  /**
   * Gradient-flow vector field dy/dt = -grad: the Level G equations in orbit form, generated from
   * the derived polynomials (generated/typeField.ts, printed by src/symbolic/emit/typeCode.ts),
   * with Gam and gu from the per-type closed forms of kernel.ts. Allocates nothing.
   */
  field(_t: number, y: Float64Array, dydt: Float64Array): void {
    this.kernel.evaluate(y, this.layout, true);
    typeField(this.work, y, dydt);
  }

  /**
   * One exact full-batch GD step with rate eta (docs/levels.md#level-g: the Level G map including
   * its eta^2 terms; generated/typeField.ts). yNext may be the same array as y. Allocates nothing.
   */
  gdStep(eta: number, y: Float64Array, yNext: Float64Array): void {
    if (!Number.isFinite(eta)) throw new UsageError(`learning rate eta must be finite (got ${eta})`);
    this.kernel.evaluate(y, this.layout, true);
    // the generated map reads y to the end, so it writes into a separate buffer first
    typeGdMap(this.work, eta, y, this.next);
    yNext.set(this.next);
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

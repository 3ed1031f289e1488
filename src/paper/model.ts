/**
 * Level P (docs/levels.md#level-p, derivations/paper-system.md): the paper's own approximate
 * system. The state is (C, u, s) over Level G's k tokens; the vector field is
 * generated code (./generated/paperField.ts): Phase 1 (attention frozen at uniform, Thm 3.1)
 * while some training sample is misclassified, Phase 2 (also without Eq. 4's value-correlation
 * term, C frozen; Def. F.1, Lemma F.6) once every sample is classified correctly. The run
 * machinery sees it through PaperDynamics (src/run/paperDynamics.ts), as Level G's GramModel
 * through GramDynamics; Level P has no GD map (the paper's approximation is of the flow).
 */
import { minMargin } from '../model/logistic.js';
import { Dataset, samplesByType } from '../data/dataset.js';
import { UsageError } from '../errors.js';
import { TokenIndex, tokenIndex, uSignals } from '../gram/layout.js';
import { paperField, paperKernel } from './generated/paperField.js';
import { PaperLayout, PaperWorkspace, paperLayout } from './layout.js';

/**
 * Which equations: 'switch' (the level as run: Phase 1 while min_i y_i F_i <= 0, else Phase 2),
 * or one phase throughout (for tests and comparisons: Phase 1 throughout is the exact flow of the
 * frozen-attention model).
 */
export type PaperPhases = 'switch' | 'phase1' | 'phase2';

/**
 * The attention part of the starting Level G state, which Level P does not evolve: the 3 x 3
 * blocks of S, A, B on mu_1..3 (row-major, key row) and the co-occurring pair scores in the
 * order of src/observe (PairTable). Reported unchanged at every row.
 */
export interface FrozenAttention {
  readonly S: Float64Array;
  readonly A: Float64Array;
  readonly B: Float64Array;
  readonly pairScores: Float64Array;
}

export interface PaperOptions {
  readonly phases?: PaperPhases;
  /** the frozen attention blocks (default: zero, as for Q = K = 0; the probe reports them) */
  readonly frozen?: FrozenAttention;
}

export class PaperModel {
  readonly layout: PaperLayout;
  readonly index: TokenIndex;
  readonly size: number;
  readonly k: number;
  readonly phases: PaperPhases;
  readonly frozen: FrozenAttention | undefined;
  /** min_i y_i F_i at the state of the most recent kernel call */
  lastMinMargin = NaN;
  /** the phase (1 or 2) of the most recent field call */
  lastPhase: 1 | 2 = 1;
  readonly w: PaperWorkspace;
  private typeSamples: Int32Array[] | null = null;

  constructor(
    readonly data: Dataset,
    readonly m: number,
    readonly m1: number,
    options: PaperOptions = {},
  ) {
    if (!Number.isInteger(m1) || m1 < 1) throw new UsageError(`m1 must be a positive integer (got ${m1})`);
    this.index = tokenIndex(data);
    this.k = this.index.k;
    this.layout = paperLayout(this.k);
    this.size = this.layout.size;
    this.phases = options.phases ?? 'switch';
    this.frozen = options.frozen;
    const { n, L } = data;
    this.w = {
      n,
      L,
      k: this.k,
      m1,
      tokens: this.index.sampleLocal,
      labels: Float64Array.from(data.y),
      F: new Float64Array(n),
      sampleLoss: new Float64Array(n),
      gu: new Float64Array(this.k),
    };
  }

  /** Throws a UsageError naming `name` when y is not a Level P state of this size. */
  checkState(name: string, y: Float64Array): void {
    if (y.length !== this.size) throw new UsageError(`${name} has length ${y.length}, expected k^2 + k + 1 = ${this.size} for k = ${this.k} tokens`);
  }

  /** Runs the generated kernel; sets lastMinMargin; returns the mean loss. */
  private runKernel(y: Float64Array, wantGrad: boolean): number {
    this.checkState('Level P state', y);
    const loss = paperKernel(this.w, y, wantGrad);
    this.lastMinMargin = minMargin(this.w.F, this.w.labels, this.w.n);
    return loss;
  }

  /**
   * The phase the run uses at margin `minMargin`: Phase 1 while some sample is misclassified
   * (min_i y_i F_i <= 0, NaN included), Phase 2 once all are correct (Thm 3.1's T1). A function
   * of the state only, so a checkpoint (the state) fixes it and a resumed run continues exactly.
   */
  phaseAt(minMargin: number): 1 | 2 {
    if (this.phases === 'phase1') return 1;
    if (this.phases === 'phase2') return 2;
    return minMargin > 0 ? 2 : 1;
  }

  /** The phase at state y (one forward pass). */
  phase(y: Float64Array): 1 | 2 {
    return this.phaseAt(this.minMargin(y));
  }

  field(_t: number, y: Float64Array, dydt: Float64Array): void {
    this.checkState('dydt', dydt);
    this.runKernel(y, true);
    this.lastPhase = this.phaseAt(this.lastMinMargin);
    paperField(this.w, this.lastPhase, y, dydt);
  }

  loss(y: Float64Array): number {
    return this.runKernel(y, false);
  }

  minMargin(y: Float64Array): number {
    this.runKernel(y, false);
    return this.lastMinMargin;
  }

  /** Outputs F_i and per-sample losses at y (fresh copies; not for hot loops). */
  outputs(y: Float64Array): { F: Float64Array; loss: number; sampleLoss: Float64Array } {
    const loss = this.runKernel(y, false);
    return { F: this.w.F.slice(), loss, sampleLoss: this.w.sampleLoss.slice() };
  }

  /** gu = dL/du at y (fresh copy). */
  gradU(y: Float64Array): Float64Array {
    this.runKernel(y, true);
    return this.w.gu.slice();
  }

  /**
   * G(mu_1..3) at y and the mean losses of I2 and I3 of the last evaluation (which must have been
   * at y), into out[0..4] (the run's event signals). Allocation-free after the first call.
   */
  lastSignals(y: Float64Array, out: Float64Array): void {
    if (!this.typeSamples) this.typeSamples = samplesByType(this.data).slice(1, 3);
    uSignals(out, y, this.layout.u, this.index.localOf, this.w.sampleLoss, this.typeSamples);
  }

  /**
   * Group 0 is empty: A and B are frozen, so tr A - tr B cannot drift (drift_QK = 0). Group 1 is
   * tr C - s/m1, conserved by Phase 1 and NOT by Phase 2, which drops the term that balances it
   * (derivations/paper-system.md, section 5): drift_VW measures that break. Phase 2's own
   * conserved quantity is m1 u^T u - s^2/2 (phase2Invariant).
   */
  invariants(y: Float64Array): { groups: [Float64Array, Float64Array]; scales: [number, number] } {
    this.checkState('Level P state', y);
    const { k, layout: lay, m1 } = this;
    let trC = 0;
    let scale = Math.abs(y[lay.s]) / m1;
    for (let i = 0; i < k; i++) {
      trC += y[lay.C + i * k + i];
      scale += Math.abs(y[lay.C + i * k + i]);
    }
    return { groups: [new Float64Array(0), Float64Array.of(trC - y[lay.s] / m1)], scales: [1, scale] };
  }

  /** m1 u^T u - s^2/2: conserved by Phase 2 (derivations/paper-system.md, section 5). */
  phase2Invariant(y: Float64Array): number {
    const { k, layout: lay, m1 } = this;
    let uu = 0;
    for (let i = 0; i < k; i++) uu += y[lay.u + i] * y[lay.u + i];
    return m1 * uu - (y[lay.s] * y[lay.s]) / 2;
  }
}

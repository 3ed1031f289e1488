/**
 * Level G dynamics (docs/levels.md#level-g): the exact gradient flow and the exact full-batch GD
 * map of the paper's model in the Gram variables S, A, B, C, u, s. The per-sample kernel and
 * the equations are generated code (./generated/gramField.ts, from src/symbolic); this class
 * owns the buffers and the data-dependent structure (token index, nonzero pattern of Gam).
 */
import { minMargin } from '../model/logistic.js';
import { Dataset, samplesByType } from '../data/dataset.js';
import { UsageError } from '../errors.js';
import { GramWorkspace } from './buffers.js';
import { GRAM_KERNEL_SLOTS, gramField, gramGdMap, sampleKernel } from './generated/gramField.js';
import { GramKernels } from './kernels.js';
import { StageMemory } from '../ode/simd.js';
import { releaseKernelMemory } from '../wasm/memory.js';
import { ExtraTokens, GramLayout, TokenIndex, gramLayout, tokenIndex, uSignals } from './layout.js';
import { gramInvariants } from './invariants.js';

export interface GramOutputs {
  /** per-sample outputs F_i */
  readonly F: Float64Array;
  /** mean logistic loss */
  readonly loss: number;
  /** mean loss of the samples of each type I1..I4 (NaN for a type without samples) */
  readonly lossByType: [number, number, number, number];
  /** y_i F_i */
  readonly margins: Float64Array;
  /** per-sample losses */
  readonly sampleLoss: Float64Array;
}

export interface GramModelOptions {
  /**
   * Tokens to track beyond the training data's own, e.g. a test set's (`test.tokens` as is:
   * repeats are fine). They occur in no training sample, so they receive no gradient of their
   * own and leave the training tokens' dynamics unchanged, but their Gram entries with the
   * training tokens evolve, which a test set's outputs need (./testSet.ts).
   */
  readonly extraTokens?: ExtraTokens;
  /**
   * Reserve room for an integrator's memory of this many state vectors in the kernels' memory
   * (stageMemory): the field then reads each stage and writes each derivative in place instead
   * of copying them in and out. 0 (default): nothing reserved.
   */
  readonly solverVectors?: number;
}

function positiveInteger(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new UsageError(`${name} must be a positive integer (got ${v})`);
}

/** Do two arrays share memory? (views of one buffer may be used as separate states) */
function overlaps(x: Float64Array, z: Float64Array): boolean {
  if (x.buffer !== z.buffer) return false;
  return x.byteOffset < z.byteOffset + z.byteLength && z.byteOffset < x.byteOffset + x.byteLength;
}

export class GramModel {
  readonly layout: GramLayout;
  readonly index: TokenIndex;
  /** state length 4k^2 + k + 1 */
  readonly size: number;
  readonly k: number;
  /** min_i y_i F_i at the state of the most recent loss / outputs / field / gdStep call */
  lastMinMargin = NaN;

  private readonly w: GramWorkspace;

  constructor(
    readonly data: Dataset,
    readonly m: number,
    readonly m1: number,
    options: GramModelOptions = {},
  ) {
    positiveInteger('m', m);
    positiveInteger('m1', m1);
    const solverVectors = options.solverVectors ?? 0;
    if (!(Number.isInteger(solverVectors) && solverVectors >= 0)) throw new UsageError(`solverVectors must be an integer >= 0 (got ${solverVectors})`);
    this.index = tokenIndex(data, options.extraTokens);
    const k = this.index.k;
    this.k = k;
    this.layout = gramLayout(k);
    this.size = this.layout.size;
    const { n, L } = data;
    const tokens = this.index.sampleLocal;

    // Gam[b, a] can be nonzero only if b (key) and a (query) occur in one sample; a tracked
    // token of no sample is thus in no pair, and the generated code, which loops over this
    // pattern and over gu, leaves it without gradient of its own.
    const mark = new Uint8Array(k * k);
    for (let i = 0; i < n; i++) {
      for (let p = 0; p < L; p++) {
        for (let l = 0; l < L; l++) mark[tokens[i * L + p] * k + tokens[i * L + l]] = 1;
      }
    }
    let nnz = 0;
    for (let i = 0; i < k * k; i++) nnz += mark[i];
    const nzRow = new Int32Array(nnz);
    const nzCol = new Int32Array(nnz);
    let e = 0;
    for (let b = 0; b < k; b++) {
      for (let a = 0; a < k; a++) {
        if (mark[b * k + a]) {
          nzRow[e] = b;
          nzCol[e] = a;
          e++;
        }
      }
    }

    const Gam = new Float64Array(k * k);
    this.w = {
      n,
      L,
      k,
      m1,
      layout: this.layout,
      invSqrtM: 1 / Math.sqrt(m),
      tokens,
      labels: Float64Array.from(data.y),
      nzRow,
      nzCol,
      nnz,
      Gam,
      gu: new Float64Array(k),
      P: new Float64Array(L * L),
      Fl: new Float64Array(L),
      F: new Float64Array(n),
      sampleLoss: new Float64Array(n),
      V1: new Float64Array(k),
      km: new GramKernels(k, this.size, { nzRow, nzCol, nnz }, Gam, GRAM_KERNEL_SLOTS, solverVectors > 0 ? StageMemory.bytes(this.size, solverVectors) : 0),
    };
    this.solverVectors = solverVectors;
  }

  private readonly solverVectors: number;
  private hosted: StageMemory | null = null;

  /**
   * An integrator memory of `count` state vectors inside the kernels' memory (the region
   * reserved by options.solverVectors), or undefined when none was reserved, `count` is more,
   * or the reservation did not fit (then the kernels copy the state in and the blocks out, as
   * for any other vector). One per model: asking again returns the same memory, which must not
   * be used by two solvers at once.
   */
  stageMemory(count: number): StageMemory | undefined {
    const { km } = this.w;
    if (km.memory === null || km.reservedOffset < 0 || count > this.solverVectors) return undefined;
    this.hosted ??= new StageMemory(this.size, this.solverVectors, { memory: km.memory, byteOffset: km.reservedOffset });
    return this.hosted;
  }

  /** Number of (key, query) token pairs where Gam can be nonzero. */
  get gamNonzeros(): number {
    return this.w.nnz;
  }

  private checkState(name: string, y: Float64Array): void {
    if (y.length !== this.size) {
      throw new UsageError(`${name} has length ${y.length}, expected 4k^2 + k + 1 = ${this.size} for k = ${this.k} tokens`);
    }
  }

  private released = false;

  /**
   * Gives the kernels' memory back (src/wasm/memory.ts releaseKernelMemory), so that the next
   * model of this size in this thread, a sweep's next run, reuses its pages instead of faulting
   * in new ones. The model, and a stageMemory it handed out, must not be used afterwards: its
   * evaluations throw.
   */
  release(): void {
    if (this.released) return;
    this.released = true;
    if (this.w.km.memory) releaseKernelMemory(this.w.km.memory);
  }

  private runKernel(y: Float64Array, wantGrad: boolean): number {
    if (this.released) throw new Error('GramModel: used after release()');
    this.checkState('Level G state', y);
    const loss = sampleKernel(this.w, y, wantGrad);
    this.lastMinMargin = minMargin(this.w.F, this.w.labels, this.w.n);
    return loss;
  }

  /** The mean loss at state y (no gradient). */
  loss(y: Float64Array): number {
    return this.runKernel(y, false);
  }

  /** min_i y_i F_i at state y (one forward pass). */
  minMargin(y: Float64Array): number {
    this.runKernel(y, false);
    return this.lastMinMargin;
  }

  /** Outputs and losses at state y (fresh arrays; not for hot loops). */
  outputs(y: Float64Array): GramOutputs {
    const loss = this.runKernel(y, false);
    const { F, sampleLoss, labels, n } = this.w;
    const sum = [0, 0, 0, 0];
    const count = [0, 0, 0, 0];
    const margins = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const t = this.data.type[i] - 1;
      sum[t] += sampleLoss[i];
      count[t]++;
      margins[i] = labels[i] * F[i];
    }
    const lossByType = [0, 1, 2, 3].map((t) => sum[t] / count[t]) as [number, number, number, number];
    return { F: F.slice(), loss, lossByType, margins, sampleLoss: sampleLoss.slice() };
  }

  /** Gradient flow: dydt = -grad L in the Gram variables (dydt must not overlap y). Allocation-free; t is unused (autonomous). */
  field(_t: number, y: Float64Array, dydt: Float64Array): void {
    if (overlaps(y, dydt)) throw new UsageError('field: dydt must be a different buffer from y (the field reads y while writing dydt)');
    this.checkState('dydt', dydt);
    this.runKernel(y, true);
    gramField(this.w, y, dydt);
  }

  /** One exact full-batch GD step with rate eta from y into yNext (yNext must not be y). */
  gdStep(eta: number, y: Float64Array, yNext: Float64Array): void {
    if (overlaps(y, yNext)) {
      throw new UsageError('gdStep: yNext must be a different buffer from y (the map reads y while writing yNext)');
    }
    if (!Number.isFinite(eta)) throw new UsageError(`learning rate eta must be finite (got ${eta})`);
    this.checkState('yNext', yNext);
    this.runKernel(y, true);
    gramGdMap(this.w, eta, y, yNext);
  }

  private typeSamples: Int32Array[] | null = null;

  /**
   * G(mu_1..3) at y and the mean losses of I2 and I3 of the last evaluation (which must have been
   * at y), into out[0..4] (the run's event signals). Allocation-free after the first call.
   */
  lastSignals(y: Float64Array, out: Float64Array): void {
    if (!this.typeSamples) this.typeSamples = samplesByType(this.data).slice(1, 3);
    uSignals(out, y, this.layout.u, this.index.localOf, this.w.sampleLoss, this.typeSamples);
  }

  /**
   * The two flow invariants, tr A - tr B and tr C - s/m1, each with a scale for relative drift
   * (tr A + tr B and tr C + s/m1).
   */
  invariants(y: Float64Array): { groups: [Float64Array, Float64Array]; scales: [number, number] } {
    this.checkState('Level G state', y);
    const inv = gramInvariants(y, this.layout, this.m1);
    const { k, layout: lay } = this;
    let scaleQK = 0;
    let scaleV = Math.abs(y[lay.s]) / this.m1;
    for (let i = 0; i < k; i++) {
      scaleQK += Math.abs(y[lay.A + i * k + i]) + Math.abs(y[lay.B + i * k + i]);
      scaleV += Math.abs(y[lay.C + i * k + i]);
    }
    return { groups: [Float64Array.of(inv.QK), Float64Array.of(inv.V)], scales: [scaleQK, scaleV] };
  }

  /** Gam = dL/dS (k x k, key b row, query a column) and gu = dL/du at y (fresh copies). */
  gramGrad(y: Float64Array): { Gam: Float64Array; gu: Float64Array; loss: number } {
    const loss = this.runKernel(y, true);
    return { Gam: this.w.Gam.slice(0, this.k * this.k), gu: this.w.gu.slice(0, this.k), loss };
  }
}

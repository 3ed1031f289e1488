import { meanOver } from '../data/dataset.js';
import { StageKernels, StageMemory } from '../ode/simd.js';
import { Dataset, samplesByType } from '../data/dataset.js';
import { LossGrad, TokenMajorGrad } from '../model/gradient.js';
import { conservedProbes } from '../model/conserved.js';
import { minMargin } from '../model/logistic.js';
import { Params } from '../model/params.js';
import { FullProbe } from '../observe/full.js';
import type { Probe } from '../observe/primitives.js';
import { Dynamics, SIGNALS, type ProbeTest } from './dynamics.js';

/** Views of a Level F state: token-major W_Q^T, W_K^T, W_V^T (d x m each) and W (m1 x m). */
interface StateViews {
  tQ: Float64Array;
  tK: Float64Array;
  tV: Float64Array;
  W: Float64Array;
  /** the same views as gradient destinations */
  asGrad: TokenMajorGrad;
}

/**
 * Level F: the state holds [W_Q^T, W_K^T, W_V^T, W] (a is fixed, paper Eq. 1). The three
 * attention matrices are stored TOKEN-MAJOR (row t = W_Q mu_t), the layout in which the gradient
 * reads and writes them, so a field evaluation does no transposes and writes -grad straight into
 * the integrator's buffer. `pack` and `toParams` convert from and to the paper's m x d layout.
 * Views over a buffer are cached per buffer: the integrators' buffers are fixed, so after the
 * first steps no call allocates.
 */
export class FullDynamics implements Dynamics {
  readonly level = 'full' as const;
  readonly size: number;
  private readonly lg: LossGrad;
  private readonly views = new Map<Float64Array, StateViews>();
  private readonly md: number;
  private evalT = NaN;
  private evalY: Float64Array | null = null;
  /** the gradient for gdStep */
  private readonly g: Float64Array;
  /**
   * The fused GD step's vectors: the gradient and the two iterates, in one WebAssembly memory
   * for the SIMD kernel, or plain vectors above its cap (src/ode/simd.ts StageMemory), built on
   * the first gdBuffers call, so flows never allocate them.
   */
  private gd: { kernels: StageKernels; g: Float64Array; y: Float64Array; out: Float64Array } | undefined;
  /** the samples of each type I1..I4 */
  private readonly ofType: Int32Array[];

  constructor(
    readonly data: Dataset,
    readonly template: Params,
  ) {
    const { m, m1, d } = template;
    this.md = m * d;
    this.size = 3 * this.md + m1 * m;
    this.lg = new LossGrad(data, m, m1);
    this.g = new Float64Array(this.size);
    this.ofType = samplesByType(data);
  }

  /** The state of `p`. */
  pack(p: Params): Float64Array {
    const y = new Float64Array(this.size);
    const v = this.view(y);
    transpose(p.WQ, p.m, p.d, v.tQ);
    transpose(p.WK, p.m, p.d, v.tK);
    transpose(p.WV, p.m, p.d, v.tV);
    v.W.set(p.W);
    return y;
  }

  /** The parameters of a state, in the paper's layout (a copy). */
  toParams(y: Float64Array): Params {
    const { m, m1, d, a } = this.template;
    const v = this.view(y);
    const WQ = new Float64Array(this.md);
    const WK = new Float64Array(this.md);
    const WV = new Float64Array(this.md);
    transpose(v.tQ, d, m, WQ);
    transpose(v.tK, d, m, WK);
    transpose(v.tV, d, m, WV);
    return { m, m1, d, a, WQ, WK, WV, W: v.W.slice() };
  }

  private view(y: Float64Array): StateViews {
    let v = this.views.get(y);
    if (!v) {
      const md = this.md;
      const tQ = y.subarray(0, md);
      const tK = y.subarray(md, 2 * md);
      const tV = y.subarray(2 * md, 3 * md);
      const W = y.subarray(3 * md);
      v = { tQ, tK, tV, W, asGrad: { gQ: tQ, gK: tK, gV: tV, dW: W } };
      // Bound the cache: only the integrators' fixed buffers should ever be seen here.
      if (this.views.size > 64) this.views.clear();
      this.views.set(y, v);
    }
    return v;
  }

  private grad(y: Float64Array, out: Float64Array | null, scale: number, t = NaN): number {
    const v = this.view(y);
    // Remember where the last evaluation was (NaN: not at a known time), see minMargin.
    this.evalT = t;
    this.evalY = y;
    return this.lg.lossTokenMajor(v.tQ, v.tK, v.tV, v.W, this.template.a, out ? this.view(out).asGrad : null, scale);
  }

  field(t: number, y: Float64Array, dydt: Float64Array): void {
    this.grad(y, dydt, -1, t);
  }

  gdBuffers(): { y: Float64Array; out: Float64Array } | undefined {
    if (this.gd === undefined) {
      const mem = new StageMemory(this.size, 3);
      this.gd = { kernels: new StageKernels(mem), g: mem.take(), y: mem.take(), out: mem.take() };
    }
    return { y: this.gd.y, out: this.gd.out };
  }

  gdStep(lr: number, y: Float64Array, out: Float64Array): number | void {
    // The full-batch GD step exactly as written: W <- W - lr * dL/dW.
    const gd = this.gd;
    if (gd && (y === gd.y || y === gd.out) && (out === gd.y || out === gd.out) && y !== out) {
      // Fused with the non-finite probe, bit-identical to the loop below (src/ode/simd.ts gdKernel,
      // or its plain loop above the kernel memory's cap).
      this.grad(y, gd.g, 1);
      return gd.kernels.gradientStep(out, y, gd.g, lr);
    }
    const g = this.g;
    this.grad(y, g, 1);
    for (let i = 0; i < out.length; i++) out[i] = y[i] - lr * g[i];
  }

  get lastMinMargin(): number {
    return minMargin(this.lg.F, this.data.y);
  }

  loss(y: Float64Array): number {
    return this.grad(y, null, 1);
  }

  /**
   * At an integrator node the last field evaluation was f(t_new, y_new) (FSAL), in the same
   * buffer the margin event is then asked about: reuse its outputs instead of a new forward pass.
   */
  minMargin(y: Float64Array, t = NaN): number {
    if (!(t === this.evalT && y === this.evalY)) this.grad(y, null, 1);
    return this.lastMinMargin;
  }

  lastSignals(y: Float64Array, out: Float64Array): void {
    // r = W^T a and the per-sample losses are those of the last evaluation, at y.
    const v = this.view(y);
    const { m } = this.template;
    const r = this.lg.r;
    for (let i = 0; i < 3; i++) {
      let s = 0;
      const o = i * m;
      for (let c = 0; c < m; c++) s += r[c] * v.tV[o + c];
      out[SIGNALS.G1 + i] = s;
    }
    out[SIGNALS.lossI2] = meanOver(this.lg.sampleLoss, this.ofType[1]);
    out[SIGNALS.lossI3] = meanOver(this.lg.sampleLoss, this.ofType[2]);
  }

  invariants(y: Float64Array) {
    const v = this.view(y);
    return conservedProbes(v.tQ, v.tK, v.tV, v.W, this.template.m, this.template.m1);
  }

  /** Level F's probe; a test set is evaluated from the weights. */
  probe(test?: ProbeTest): Probe {
    const t = this.template;
    return new FullProbe({ data: this.data, m: t.m, m1: t.m1, a: t.a, test: test?.data });
  }
}

/** out (cols x rows) = X^T for a row-major rows x cols matrix X. */
function transpose(X: Float64Array, rows: number, cols: number, out: Float64Array): void {
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    for (let j = 0; j < cols; j++) out[j * rows + i] = X[o + j];
  }
}

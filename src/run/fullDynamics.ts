import { Dataset } from '../data/dataset.js';
import { allocGrad, LossGrad } from '../model/gradient.js';
import { conservedMatrices, minMargin, observeParams } from '../model/observables.js';
import { ParamGrad, Params } from '../model/params.js';
import { Dynamics } from './dynamics.js';

/**
 * Level F: the state is [W_Q, W_K, W_V, W] flattened (a is fixed, paper Eq. 1). Parameter views
 * over a state buffer are cached per buffer, so after the integrator's first few calls (its
 * stage buffers are fixed) no call allocates.
 */
export class FullDynamics implements Dynamics {
  readonly level = 'full' as const;
  readonly size: number;
  private readonly lg: LossGrad;
  private readonly grad: ParamGrad;
  private readonly views = new Map<Float64Array, Params>();

  constructor(
    readonly data: Dataset,
    readonly template: Params,
  ) {
    const { m, m1, d } = template;
    this.size = 3 * m * d + m1 * m;
    this.lg = new LossGrad(data, m, m1);
    this.grad = allocGrad(template);
  }

  /** The flat state of `p`. */
  pack(p: Params): Float64Array {
    const y = new Float64Array(this.size);
    const md = p.m * p.d;
    y.set(p.WQ, 0);
    y.set(p.WK, md);
    y.set(p.WV, 2 * md);
    y.set(p.W, 3 * md);
    return y;
  }

  /** Parameters viewing the state buffer y (no copy). */
  view(y: Float64Array): Params {
    let p = this.views.get(y);
    if (!p) {
      const { m, m1, d, a } = this.template;
      const md = m * d;
      p = {
        m,
        m1,
        d,
        a,
        WQ: y.subarray(0, md),
        WK: y.subarray(md, 2 * md),
        WV: y.subarray(2 * md, 3 * md),
        W: y.subarray(3 * md, 3 * md + m1 * m),
      };
      // Bound the cache: only the integrator's fixed buffers should ever be seen here.
      if (this.views.size > 64) this.views.clear();
      this.views.set(y, p);
    }
    return p;
  }

  private gradient(y: Float64Array): number {
    return this.lg.lossAndGrad(this.view(y), this.grad);
  }

  get lastMinMargin(): number {
    return minMargin(this.lg.F, this.data.y);
  }

  field(_t: number, y: Float64Array, dydt: Float64Array): void {
    this.gradient(y);
    const { dWQ, dWK, dWV, dW } = this.grad;
    const md = dWQ.length;
    for (let i = 0; i < md; i++) {
      dydt[i] = -dWQ[i];
      dydt[md + i] = -dWK[i];
      dydt[2 * md + i] = -dWV[i];
    }
    const o = 3 * md;
    for (let i = 0; i < dW.length; i++) dydt[o + i] = -dW[i];
  }

  gdStep(lr: number, y: Float64Array, out: Float64Array): void {
    this.gradient(y);
    const { dWQ, dWK, dWV, dW } = this.grad;
    const md = dWQ.length;
    for (let i = 0; i < md; i++) {
      out[i] = y[i] - lr * dWQ[i];
      out[md + i] = y[md + i] - lr * dWK[i];
      out[2 * md + i] = y[2 * md + i] - lr * dWV[i];
    }
    const o = 3 * md;
    for (let i = 0; i < dW.length; i++) out[o + i] = y[o + i] - lr * dW[i];
  }

  loss(y: Float64Array): number {
    return this.lg.loss(this.view(y));
  }

  observe(y: Float64Array) {
    return observeParams(this.view(y), this.data, this.lg);
  }

  invariants(y: Float64Array) {
    const p = this.view(y);
    const all = conservedMatrices(p);
    const mm = p.m * p.m;
    const groups: [Float64Array, Float64Array] = [all.subarray(0, mm), all.subarray(mm)];
    // Scale: the size of the matrices whose difference is conserved, ||W_Q||_F^2 + ||W_K||_F^2
    // (= tr W_Q W_Q^T + tr W_K W_K^T), and likewise ||W||_F^2 + ||W_V||_F^2.
    const sq = (x: Float64Array) => x.reduce((s, v) => s + v * v, 0);
    return { groups, scales: [sq(p.WQ) + sq(p.WK), sq(p.W) + sq(p.WV)] as [number, number] };
  }

  finalArrays(y: Float64Array) {
    const p = this.view(y);
    return {
      WQ: { shape: [p.m, p.d], data: p.WQ.slice() },
      WK: { shape: [p.m, p.d], data: p.WK.slice() },
      WV: { shape: [p.m, p.d], data: p.WV.slice() },
      W: { shape: [p.m1, p.m], data: p.W.slice() },
      a: { shape: [p.m1], data: p.a.slice() },
    };
  }
}

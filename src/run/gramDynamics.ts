import { Dataset } from '../data/dataset.js';
import { GramModel } from '../gram/flow.js';
import { gramInvariants, observeGram } from '../gram/observables.js';
import { Dynamics, FinalArrays } from './dynamics.js';

/**
 * Level G (the exact Gram flow, design.md section 1) as a run's Dynamics. The state size is
 * 4k^2 + k + 1 whatever m and m1 are.
 */
export class GramDynamics implements Dynamics {
  readonly level = 'gram' as const;
  readonly size: number;
  readonly model: GramModel;

  constructor(data: Dataset, m: number, m1: number) {
    this.model = new GramModel(data, m, m1);
    this.size = this.model.size;
  }

  field(t: number, y: Float64Array, dydt: Float64Array): void {
    this.model.field(t, y, dydt);
  }

  gdStep(lr: number, y: Float64Array, out: Float64Array): void {
    this.model.gdStep(lr, y, out);
  }

  get lastMinMargin(): number {
    return this.model.lastMinMargin;
  }

  loss(y: Float64Array): number {
    return this.model.loss(y);
  }

  minMargin(y: Float64Array): number {
    this.model.loss(y);
    return this.model.lastMinMargin;
  }

  observe(y: Float64Array) {
    return observeGram(this.model, y);
  }

  /** tr A - tr B and tr C - s/m1, against the scales tr A + tr B and tr C + s/m1. */
  invariants(y: Float64Array) {
    const { layout: lay, k, m1 } = this.model;
    const inv = gramInvariants(y, lay, m1);
    let trA = 0;
    let trB = 0;
    let trC = 0;
    for (let i = 0; i < k; i++) {
      trA += y[lay.A + i * k + i];
      trB += y[lay.B + i * k + i];
      trC += y[lay.C + i * k + i];
    }
    return {
      groups: [Float64Array.of(inv.QK), Float64Array.of(inv.V)] as [Float64Array, Float64Array],
      scales: [trA + trB, trC + y[lay.s] / m1] as [number, number],
    };
  }

  finalArrays(y: Float64Array): FinalArrays {
    const { layout: lay, k } = this.model;
    const block = (o: number, len: number) => y.slice(o, o + len);
    return {
      tokens: { shape: [k], data: Int32Array.from(this.model.index.globalOf) },
      S: { shape: [k, k], data: block(lay.S, k * k) },
      A: { shape: [k, k], data: block(lay.A, k * k) },
      B: { shape: [k, k], data: block(lay.B, k * k) },
      C: { shape: [k, k], data: block(lay.C, k * k) },
      u: { shape: [k], data: block(lay.u, k) },
      s: { shape: [1], data: block(lay.s, 1) },
    };
  }
}

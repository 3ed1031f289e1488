import { UsageError } from '../errors.js';
import type { GramModel } from '../gram/flow.js';
import { GramProbe } from '../observe/gram.js';
import type { Probe } from '../observe/primitives.js';
import { LevelDynamics, type FinalArrays, type ProbeTest } from './dynamics.js';

/**
 * Level G (the exact Gram-matrix flow, derivations/gram-flow.md) as a run's Dynamics, like
 * FullDynamics for Level F and TypeDynamics for Level T: the level (src/gram/flow.ts, GramModel)
 * provides the field, the exact GD map, the invariants and the observation primitives; this
 * adapter is how the run machinery sees it, and names its state's blocks for final.npz.
 */
export class GramDynamics extends LevelDynamics<GramModel> {
  readonly level = 'gram' as const;

  gdStep(lr: number, y: Float64Array, out: Float64Array): void {
    this.model.gdStep(lr, y, out);
  }

  /** Level G's probe; a test set's outputs come from its tracked Gram rows (src/gram/testSet.ts). */
  probe(test?: ProbeTest): Probe {
    return new GramProbe(this.model, test?.gram);
  }

  /** The state as named arrays (S, A, B, C: k x k; u: k; s: 1) and the vocabulary id of each local token. */
  finalArrays(y: Float64Array): FinalArrays {
    if (y.length !== this.size) throw new UsageError(`Level G state has length ${y.length}, expected 4k^2 + k + 1 = ${this.size} for k = ${this.model.k} tokens`);
    const { k, layout: lay } = this.model;
    const block = (off: number, len: number): Float64Array => y.slice(off, off + len);
    return {
      S: { shape: [k, k], data: block(lay.S, k * k) },
      A: { shape: [k, k], data: block(lay.A, k * k) },
      B: { shape: [k, k], data: block(lay.B, k * k) },
      C: { shape: [k, k], data: block(lay.C, k * k) },
      u: { shape: [k], data: block(lay.u, k) },
      s: { shape: [1], data: block(lay.s, 1) },
      token_ids: { shape: [k], data: this.model.index.globalOf.slice() },
    };
  }
}

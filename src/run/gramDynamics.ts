import type { GramModel } from '../gram/flow.js';
import type { StageMemory } from '../ode/simd.js';
import { GramProbe } from '../observe/gram.js';
import type { Probe } from '../observe/primitives.js';
import { LevelDynamics, type ProbeTest } from './dynamics.js';

/**
 * Level G (the exact Gram-matrix flow, derivations/gram-flow.md) as a run's Dynamics, like
 * FullDynamics for Level F and TypeDynamics for Level T: the level (src/gram/flow.ts, GramModel)
 * provides the field, the exact GD map, the invariants and the observation primitives; this
 * adapter is how the run machinery sees it.
 */
export class GramDynamics extends LevelDynamics<GramModel> {
  readonly level = 'gram' as const;

  gdStep(lr: number, y: Float64Array, out: Float64Array): void {
    this.model.gdStep(lr, y, out);
  }

  stageMemory(count: number): StageMemory | undefined {
    return this.model.stageMemory(count);
  }

  release(): void {
    this.model.release();
  }

  /** Level G's probe; a test set's outputs come from its tracked Gram rows (src/gram/testSet.ts). */
  probe(test?: ProbeTest): Probe {
    return new GramProbe(this.model, test?.gram);
  }
}

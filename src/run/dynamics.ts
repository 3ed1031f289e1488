import type { Dataset } from '../data/dataset.js';
import type { GramTestEvaluator } from '../observe/gram.js';
import type { Probe } from '../observe/primitives.js';
import type { StageMemory } from '../ode/simd.js';

/**
 * Indices of the event signals a level reports cheaply from its last evaluation
 * (Dynamics.lastSignals): G(mu_1..3) and the mean losses of the one-target types I2, I3.
 */
export const SIGNALS = { G1: 0, G2: 1, G3: 2, lossI2: 3, lossI3: 4, count: 5 } as const;

/**
 * One level of the training dynamics as the run machinery sees it: a state vector, the
 * gradient-flow vector field (-grad L in these variables), the exact full-batch GD map, and the
 * conserved quantities. What a run records comes from the level's observation probe
 * (src/observe), not from here. Levels F, G, T and P each implement it, so every method and every recording works at
 * every level and trajectories can be laid side by side.
 */
export interface Dynamics {
  readonly level: 'full' | 'gram' | 'type' | 'paper';
  readonly size: number;
  /** dy/dt = -grad L, written into dydt; allocation-free */
  field(t: number, y: Float64Array, dydt: Float64Array): void;
  /** the exact state after one full-batch GD step with rate lr; allocation-free */
  gdStep(lr: number, y: Float64Array, out: Float64Array): number | void;
  /**
   * Optional: the two buffers a GD run should iterate in (e.g. in the memory of the level's SIMD
   * kernels). When y and out are these, gdStep may fuse the non-finite probe into its update and
   * return it (0: out is finite, NaN: it is not; src/ode/iterate.ts IterMap).
   */
  gdBuffers?(): { y: Float64Array; out: Float64Array } | undefined;
  /**
   * Optional: a memory of `count` state vectors for the integrator, in the memory of the level's
   * SIMD kernels, so that the field reads its stages and writes its derivatives in place
   * (undefined: the integrator allocates its own).
   */
  stageMemory?(count: number): StageMemory | undefined;
  /**
   * Optional: gives the level's large buffers back for reuse by the next dynamics of this size in
   * this thread (a sweep's next run); the dynamics must not be used afterwards.
   */
  release?(): void;
  /** min_i y_i F_i at the state of the most recent field / gdStep / loss call */
  readonly lastMinMargin: number;
  /** the loss only (one forward pass) */
  loss(y: Float64Array): number;
  /**
   * min_i y_i F_i (the margin events' function). With t, an implementation may reuse its last
   * evaluation if that was field(t, y) on this very buffer.
   */
  minMargin(y: Float64Array, t?: number): number;
  /**
   * Writes SIGNALS at y into out (G1, G2, G3, loss_I2, loss_I3); y must be the state of the most
   * recent field / gdStep / loss / minMargin evaluation, whose outputs it reuses. Allocation-free.
   */
  lastSignals(y: Float64Array, out: Float64Array): void;
  /**
   * Quantities every gradient flow conserves at this level (Level F: the two m x m balancedness
   * matrices; Level G/T: tr A - tr B and tr C - s/m1), and for each of the two groups a scale
   * used to report relative drift.
   */
  invariants(y: Float64Array): { groups: [Float64Array, Float64Array]; scales: [number, number] };
  /**
   * What a run records at every row: the level's observation probe (src/observe), with the
   * held-out set when the run has one (a level without test-set dynamics throws).
   */
  probe(test?: ProbeTest): Probe;
}

/** A held-out set for the probe: Level F evaluates it from the weights, Level G from the tracked Gram rows. */
export interface ProbeTest {
  data: Dataset;
  gram?: GramTestEvaluator;
}

/**
 * What a level class provides to be run (Level G's GramModel, Level P's PaperModel): the field,
 * the loss and margins, the event signals and the conserved quantities, with the meanings of the
 * Dynamics members of the same names. The level folders implement it structurally and import
 * nothing from src/run; LevelDynamics below adapts one to Dynamics.
 */
export interface LevelModel {
  readonly size: number;
  readonly lastMinMargin: number;
  field(t: number, y: Float64Array, dydt: Float64Array): void;
  loss(y: Float64Array): number;
  minMargin(y: Float64Array): number;
  lastSignals(y: Float64Array, out: Float64Array): void;
  invariants(y: Float64Array): { groups: [Float64Array, Float64Array]; scales: [number, number] };
}

/**
 * A level model as a run's Dynamics: every member delegates to the model, except what a level
 * adds for the run (its name, its GD map and its observation probe). How a state is laid out in
 * files is the app layer's (src/app/stateFiles.ts).
 */
export abstract class LevelDynamics<M extends LevelModel> implements Dynamics {
  abstract readonly level: Dynamics['level'];
  readonly size: number;

  constructor(readonly model: M) {
    this.size = model.size;
  }

  field(t: number, y: Float64Array, dydt: Float64Array): void {
    this.model.field(t, y, dydt);
  }

  get lastMinMargin(): number {
    return this.model.lastMinMargin;
  }

  loss(y: Float64Array): number {
    return this.model.loss(y);
  }

  minMargin(y: Float64Array): number {
    return this.model.minMargin(y);
  }

  lastSignals(y: Float64Array, out: Float64Array): void {
    this.model.lastSignals(y, out);
  }

  invariants(y: Float64Array): { groups: [Float64Array, Float64Array]; scales: [number, number] } {
    return this.model.invariants(y);
  }

  abstract gdStep(lr: number, y: Float64Array, out: Float64Array): number | void;
  abstract probe(test?: ProbeTest): Probe;
}

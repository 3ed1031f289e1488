import { TYPE_LABEL, UNORDERED_ORBITS, ORDERED_ORBITS } from '../reduced/orbits.js';
import type { TypeSystem } from '../reduced/typeSystem.js';
import { Dynamics, FinalArrays } from './dynamics.js';

/**
 * Level T (the symmetry-reduced system, exact from the mean start; derivations/type-level.md)
 * as a run's Dynamics. It depends on the data set only through n and L.
 */
export class TypeDynamics implements Dynamics {
  readonly level = 'type' as const;
  readonly size: number;

  constructor(readonly system: TypeSystem) {
    this.size = system.size;
  }

  field(t: number, y: Float64Array, dydt: Float64Array): void {
    this.system.field(t, y, dydt);
  }

  gdStep(lr: number, y: Float64Array, out: Float64Array): void {
    this.system.gdStep(lr, y, out);
  }

  /** min over the four sample types of y_t F_t, from the kernel's last evaluation */
  get lastMinMargin(): number {
    const F = this.system.kernel.F;
    let min = Infinity;
    for (let t = 0; t < 4; t++) min = Math.min(min, TYPE_LABEL[t] * F[t]);
    return min;
  }

  loss(y: Float64Array): number {
    return this.system.outputs(y).loss;
  }

  minMargin(y: Float64Array): number {
    return this.system.outputs(y).minMargin;
  }

  observe(y: Float64Array) {
    const o = this.system.outputs(y);
    return {
      loss: o.loss,
      lossByType: o.lossByType as [number, number, number, number],
      G: [o.G1, o.G2, o.G3] as [number, number, number],
      scores: Float64Array.from(o.scores.flat()),
      minMargin: o.minMargin,
    };
  }

  invariants(y: Float64Array) {
    const inv = this.system.invariants(y);
    return {
      groups: [Float64Array.of(inv.trAminusTrB), Float64Array.of(inv.trCminusSOverM1)] as [Float64Array, Float64Array],
      scales: [inv.trAplusTrB, inv.trCplusSOverM1] as [number, number],
    };
  }

  /** One array per block, in the orbit order listed in derivations/type-level.md. */
  finalArrays(y: Float64Array): FinalArrays {
    const lay = this.system.layout;
    const block = (o: number, len: number) => ({ shape: [len], data: y.slice(o, o + len) });
    return {
      S: block(lay.S, ORDERED_ORBITS.length),
      A: block(lay.A, UNORDERED_ORBITS.length),
      B: block(lay.B, UNORDERED_ORBITS.length),
      C: block(lay.C, UNORDERED_ORBITS.length),
      u: block(lay.u, 7),
      s: block(lay.s, 1),
    };
  }
}

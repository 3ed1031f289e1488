import { TYPE_LABEL } from '../reduced/orbits.js';
import type { TypeSystem } from '../reduced/typeSystem.js';
import type { Probe } from '../observe/primitives.js';
import { TypeProbe } from '../observe/type.js';
import { Dynamics, SIGNALS, type ProbeTest } from './dynamics.js';

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

  lastSignals(y: Float64Array, out: Float64Array): void {
    const lay = this.system.layout;
    for (let i = 0; i < 3; i++) out[SIGNALS.G1 + i] = y[lay.u + i];
    out[SIGNALS.lossI2] = this.system.kernel.lossByType[1];
    out[SIGNALS.lossI3] = this.system.kernel.lossByType[2];
  }

  invariants(y: Float64Array) {
    const inv = this.system.invariants(y);
    return {
      groups: [Float64Array.of(inv.trAminusTrB), Float64Array.of(inv.trCminusSOverM1)] as [Float64Array, Float64Array],
      scales: [inv.trAplusTrB, inv.trCplusSOverM1] as [number, number],
    };
  }

  probe(test?: ProbeTest): Probe {
    if (test) throw new Error('Level T has no test set (src/config/resolve.ts and src/run/levels.ts refuse --test-n at --level type)');
    return new TypeProbe(this.system);
  }
}

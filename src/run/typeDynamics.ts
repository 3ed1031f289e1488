import { TYPE_LABEL, UNORDERED_ORBITS, ORDERED_ORBITS } from '../reduced/orbits.js';
import type { TypeSystem } from '../reduced/typeSystem.js';
import type { Probe } from '../observe/primitives.js';
import { TypeProbe } from '../observe/type.js';
import { Dynamics, FinalArrays, SIGNALS, type ProbeTest } from './dynamics.js';

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

  /**
   * One array per block, in the orbit order listed in derivations/type-level.md, and every
   * variable also under its own name: the orbit label of derivations/type-level.md with its
   * brackets, commas and semicolons as dots (.npz keys are file names), e.g. `S.mu2.mu1` for
   * S[mu2,mu1], `A.f1.f1.same-sample` for A[f1,f1;same-sample], `u.mu3`. A reader of final.npz
   * then needs no table to know what an entry is.
   */
  finalArrays(y: Float64Array): FinalArrays {
    const lay = this.system.layout;
    const block = (o: number, len: number) => ({ shape: [len], data: y.slice(o, o + len) });
    const out: FinalArrays = {
      S: block(lay.S, ORDERED_ORBITS.length),
      A: block(lay.A, UNORDERED_ORBITS.length),
      B: block(lay.B, UNORDERED_ORBITS.length),
      C: block(lay.C, UNORDERED_ORBITS.length),
      u: block(lay.u, 7),
      s: block(lay.s, 1),
    };
    lay.names.forEach((name, i) => {
      if (name !== 's') out[name.replace(/[[\],;]+/g, '.').replace(/\.$/, '')] = { shape: [], data: Float64Array.of(y[i]) };
    });
    return out;
  }

  probe(test?: ProbeTest): Probe {
    if (test) throw new Error('Level T has no test set (src/config/resolve.ts and src/run/levels.ts refuse --test-n at --level type)');
    return new TypeProbe(this.system);
  }
}

/**
 * Level T primitives from the orbit variables (src/reduced). Every sample of a type has the same
 * outputs, so the sample groups are the four types with their counts N_t; every attention weight
 * of a sample is the weight of one key kind (src/reduced/kernel.ts), and every co-occurring pair
 * score is one ordered orbit variable. dG/dt is read from the Level T field itself.
 */
import { FIRST_FILLER_CLASS, NUM_CLASSES, ORDERED_ORBITS, TYPE_LABEL, orbitId } from '../reduced/orbits.js';
import type { TypeSystem } from '../reduced/typeSystem.js';
import { PrimitiveBuffers, Primitives, Probe, pairClassOf, primitiveBuffers } from './primitives.js';

export class TypeProbe implements Probe {
  readonly hasTest = false;
  private readonly pairOrbits: Int32Array;
  private readonly dydt: Float64Array;
  private readonly Fdot = new Float64Array(4);
  private readonly out: PrimitiveBuffers;

  constructor(private readonly system: TypeSystem) {
    const { n, L } = system;
    const active = system.tables.orbitActive;
    const cooccurring = ORDERED_ORBITS.filter((o) => o.cooccur && active[o.id]);
    this.pairOrbits = Int32Array.from(cooccurring, (o) => o.id);
    this.dydt = new Float64Array(system.size);
    this.out = primitiveBuffers({
      n,
      L,
      groupType: Int32Array.of(1, 2, 3, 4),
      // Level T's data has exact proportions n/2, n/6, n/6, n/6 (src/reduced/orbits.ts checks it).
      groupCount: Float64Array.of(n / 2, n / 6, n / 6, n / 6),
      groupLabel: Float64Array.from(TYPE_LABEL),
      attentionLength: system.kernel.kindP.length,
      pairClass: Uint8Array.from(cooccurring, (o) => pairClassOf(o.rowClass, o.colClass)),
    });
  }

  probe(y: Float64Array): Primitives {
    const { system, out } = this;
    const lay = system.layout;
    const kern = system.kernel;
    kern.evaluate(y, lay, false);
    out.F.set(kern.F);
    out.attention.set(kern.kindP);
    // F_t = sum over query groups of (group size) sum over key kinds of (count) P u_key; keep
    // the filler keys' part (Def. F.1's random-token contribution).
    out.fillerF.fill(0);
    for (let g = 0; g < kern.groupType.length; g++) {
      let part = 0;
      for (let j = kern.groupStart[g]; j < kern.groupStart[g + 1]; j++) {
        const c = kern.kindKeyClass[j];
        if (c >= FIRST_FILLER_CLASS) part += kern.kindCount[j] * kern.kindP[j] * y[lay.u + c];
      }
      out.fillerF[kern.groupType[g]] += kern.groupSize[g] * part;
    }
    for (let e = 0; e < this.pairOrbits.length; e++) out.pairScores[e] = y[lay.S + this.pairOrbits[e]];
    system.field(0, y, this.dydt);
    for (let i = 0; i < 3; i++) {
      out.G[i] = y[lay.u + i];
      out.dG[i] = this.dydt[lay.u + i];
      for (let j = 0; j < 3; j++) {
        const o = orbitId(i, j);
        const v = ORDERED_ORBITS[o].unordered;
        out.S[3 * i + j] = y[lay.S + o];
        out.A[3 * i + j] = y[lay.A + v];
        out.B[3 * i + j] = y[lay.B + v];
        out.C[3 * i + j] = y[lay.C + v];
      }
    }
    let gFill = 0;
    for (let c = FIRST_FILLER_CLASS; c < NUM_CLASSES; c++) if (system.tables.classActive[c]) gFill = Math.max(gFill, Math.abs(y[lay.u + c]));
    return { ...out, GfillerMaxAbs: gFill, s: y[lay.s], test: null };
  }

  outputRates(y: Float64Array, dydt: Float64Array): Float64Array {
    const { system, Fdot } = this;
    const lay = system.layout;
    const kern = system.kernel;
    const scale = 1 / Math.sqrt(system.m);
    Fdot.fill(0);
    for (let g = 0; g < kern.groupType.length; g++) {
      const Fq = kern.groupF[g];
      let rate = 0;
      for (let j = kern.groupStart[g]; j < kern.groupStart[g + 1]; j++) {
        const c = kern.kindKeyClass[j];
        rate += kern.kindCount[j] * kern.kindP[j] * ((y[lay.u + c] - Fq) * dydt[lay.S + kern.kindOrbit[j]] * scale + dydt[lay.u + c]);
      }
      Fdot[kern.groupType[g]] += kern.groupSize[g] * rate;
    }
    return Fdot;
  }
}

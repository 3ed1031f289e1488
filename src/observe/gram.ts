/**
 * Level G primitives, read from the Gram state (S, A, B, C, u, s; src/gram/layout.ts). The
 * outputs and attention weights are recomputed here from S and u. dG/dt is the u-part of the
 * Level G field, du/dt = -(s gu + m1 C gu) with gu = dL/du (derivations/gram-flow.md), taken
 * from gu accumulated here: O(n L^2 + k) instead of a whole field evaluation (O(nnz k), as costly
 * as a step at k ~ 1000). test/observe compares it with the generated field.
 */
import { GramModel } from '../gram/flow.js';
import { PairTable } from '../model/pairTable.js';
import { PrimitiveBuffers, Primitives, Probe, pairClassOf, primitiveBuffers, sampleGroups } from './primitives.js';

/** Something that evaluates a held-out set at a Level G state (src/gram/testSet.ts). */
export interface GramTestEvaluator {
  evaluate(y: Float64Array): { loss: number; error: number };
}

export class GramProbe implements Probe {
  readonly hasTest: boolean;
  private readonly local: Int32Array;
  private readonly pairKey: Int32Array;
  private readonly pairQuery: Int32Array;
  private readonly fillerLocal: Int32Array;
  private readonly gu: Float64Array;
  private readonly Fdot: Float64Array;
  private readonly out: PrimitiveBuffers;

  constructor(
    private readonly model: GramModel,
    private readonly testSet?: GramTestEvaluator,
  ) {
    const { data } = model;
    const { n, L } = data;
    this.hasTest = testSet !== undefined;
    const local = model.index.localOf;
    // The training set's tokens at their local (Level G) ids, sample by sample.
    this.local = Int32Array.from(data.tokens, (t) => local[t]);
    const pairs = new PairTable(data);
    this.pairKey = Int32Array.from(pairs.key, (t) => local[t]);
    this.pairQuery = Int32Array.from(pairs.query, (t) => local[t]);
    this.fillerLocal = Int32Array.from(pairs.used.filter((t) => t >= 3), (t) => local[t]);
    this.gu = new Float64Array(model.k);
    this.Fdot = new Float64Array(n);
    this.out = primitiveBuffers({
      n,
      L,
      ...sampleGroups(data),
      attentionLength: n * L * L,
      pairClass: Uint8Array.from(pairs.key, (key, e) => pairClassOf(key, pairs.query[e])),
    });
  }

  probe(y: Float64Array): Primitives {
    const { model, out, local } = this;
    const { layout: lay, k, data } = model;
    const { n, L } = data;
    const P = out.attention;
    const scale = 1 / Math.sqrt(model.m);
    const LL = L * L;
    const gu = this.gu;
    gu.fill(0);
    for (let i = 0; i < n; i++) {
      const row = i * L;
      let Fi = 0;
      for (let l = 0; l < L; l++) {
        const q = local[row + l];
        let zmax = -Infinity;
        for (let p = 0; p < L; p++) zmax = Math.max(zmax, y[lay.S + local[row + p] * k + q] * scale);
        let Z = 0;
        for (let p = 0; p < L; p++) {
          const e = Math.exp(y[lay.S + local[row + p] * k + q] * scale - zmax);
          P[i * LL + p * L + l] = e;
          Z += e;
        }
        for (let p = 0; p < L; p++) {
          const w = P[i * LL + p * L + l] / Z;
          P[i * LL + p * L + l] = w;
          Fi += w * y[lay.u + local[row + p]];
        }
      }
      out.F[i] = Fi;
      // dL/dF_i = -y_i g_i / n; dF_i/du_p = sum_l P_pl
      const yi = data.y[i];
      const w = -yi / (1 + Math.exp(yi * Fi)) / n;
      let filler = 0;
      for (let p = 0; p < L; p++) {
        let colSum = 0;
        for (let l = 0; l < L; l++) colSum += P[i * LL + p * L + l];
        const b = local[row + p];
        gu[b] += w * colSum;
        if (data.tokens[row + p] >= 3) filler += colSum * y[lay.u + b];
      }
      out.fillerF[i] = filler;
    }
    for (let e = 0; e < out.pairScores.length; e++) out.pairScores[e] = y[lay.S + this.pairKey[e] * k + this.pairQuery[e]];
    const li = model.index.localOf;
    const sNow = y[lay.s];
    for (let i = 0; i < 3; i++) {
      const a = li[i];
      out.G[i] = a >= 0 ? y[lay.u + a] : NaN;
      // du_a/dt = -(s gu_a + m1 sum_b C[a, b] gu_b), the u-part of the Level G field
      let Cgu = 0;
      if (a >= 0) for (let b = 0; b < k; b++) Cgu += y[lay.C + a * k + b] * gu[b];
      out.dG[i] = a >= 0 ? -(sNow * gu[a] + model.m1 * Cgu) : NaN;
      for (let j = 0; j < 3; j++) {
        const b = li[j];
        const at = (block: number) => (a >= 0 && b >= 0 ? y[block + a * k + b] : NaN);
        out.S[3 * i + j] = at(lay.S);
        out.A[3 * i + j] = at(lay.A);
        out.B[3 * i + j] = at(lay.B);
        out.C[3 * i + j] = at(lay.C);
      }
    }
    let gFill = 0;
    for (const f of this.fillerLocal) gFill = Math.max(gFill, Math.abs(y[lay.u + f]));
    const test = this.testSet ? this.testSet.evaluate(y) : null;
    return { ...out, GfillerMaxAbs: gFill, s: y[lay.s], test: test ? { loss: test.loss, error: test.error } : null };
  }

  outputRates(y: Float64Array, dydt: Float64Array): Float64Array {
    const { model, local, Fdot } = this;
    const { layout: lay, k, data } = model;
    const { n, L } = data;
    const P = this.out.attention;
    const scale = 1 / Math.sqrt(model.m);
    const LL = L * L;
    for (let i = 0; i < n; i++) {
      const row = i * L;
      let rate = 0;
      for (let l = 0; l < L; l++) {
        const q = local[row + l];
        let Fl = 0;
        for (let p = 0; p < L; p++) Fl += P[i * LL + p * L + l] * y[lay.u + local[row + p]];
        for (let p = 0; p < L; p++) {
          const b = local[row + p];
          rate += P[i * LL + p * L + l] * ((y[lay.u + b] - Fl) * dydt[lay.S + b * k + q] * scale + dydt[lay.u + b]);
        }
      }
      Fdot[i] = rate;
    }
    return Fdot;
  }
}

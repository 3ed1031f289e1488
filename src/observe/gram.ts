/**
 * Level G primitives, read from the Gram state (S, A, B, C, u, s; src/gram/layout.ts). The
 * outputs and attention weights are recomputed here from S and u. dG/dt is the u-part of the
 * Level G field, du/dt = -(s gu + m1 C gu) with gu = dL/du (derivations/gram-flow.md), taken
 * from gu accumulated here: O(n L^2 + k) instead of a whole field evaluation (O(nnz k), as costly
 * as a step at k ~ 1000). test/observe compares it with the generated field.
 */
import { GramModel } from '../gram/flow.js';
import { PairTable } from '../model/pairTable.js';
import { SampleScratch, sampleBackward, sampleForward, sampleRate } from './sample.js';
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
  private readonly scratch: SampleScratch;

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
    this.scratch = new SampleScratch(L);
    this.out = primitiveBuffers({
      n,
      L,
      ...sampleGroups(data),
      attentionLength: n * L * L,
      pairClass: Uint8Array.from(pairs.key, (key, e) => pairClassOf(key, pairs.query[e])),
    });
  }

  probe(y: Float64Array): Primitives {
    const { model, out } = this;
    const { layout: lay, k, data } = model;
    const { n, L } = data;
    const P = out.attention;
    const scale = 1 / Math.sqrt(model.m);
    const LL = L * L;
    const gu = this.gu;
    gu.fill(0);
    const sc = this.scratch;
    for (let i = 0; i < n; i++) {
      this.gather(y, i, scale);
      const Fi = sampleForward(sc, P, i * LL);
      out.F[i] = Fi;
      // dL/dF_i = -y_i g_i / n (paper Sec. 2)
      const yi = data.y[i];
      out.fillerF[i] = sampleBackward(sc, P, i * LL, -yi / (1 + Math.exp(yi * Fi)) / n, gu);
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

  /** Sample i's scaled scores S[x_p, x_l] / sqrt(m) and values u[x_p] from the Gram state into the scratch. */
  private gather(y: Float64Array, i: number, scale: number): void {
    const { layout: lay, k, data } = this.model;
    const { local, scratch: sc } = this;
    const L = data.L;
    const row = i * L;
    for (let p = 0; p < L; p++) {
      const b = local[row + p];
      sc.u[p] = y[lay.u + b];
      sc.ids[p] = b;
      sc.filler[p] = data.tokens[row + p] >= 3 ? 1 : 0;
      for (let l = 0; l < L; l++) sc.z[p * L + l] = y[lay.S + b * k + local[row + l]] * scale;
    }
  }

  outputRates(y: Float64Array, dydt: Float64Array): Float64Array {
    const { model, local, Fdot } = this;
    const { layout: lay, k, data } = model;
    const { n, L } = data;
    const P = this.out.attention;
    const scale = 1 / Math.sqrt(model.m);
    const LL = L * L;
    const sc = this.scratch;
    for (let i = 0; i < n; i++) {
      this.gather(y, i, scale);
      const row = i * L;
      for (let p = 0; p < L; p++) {
        const b = local[row + p];
        sc.udot[p] = dydt[lay.u + b];
        for (let l = 0; l < L; l++) sc.zdot[p * L + l] = dydt[lay.S + b * k + local[row + l]] * scale;
      }
      Fdot[i] = sampleRate(sc, P, i * LL);
    }
    return Fdot;
  }
}

/**
 * Level P primitives (docs/observables.md). Level P has no attention dynamics, and that IS the
 * approximation: every attention weight is reported as exactly 1/L, and S, A, B (the 3 x 3
 * blocks and the co-occurring pair scores) as frozen at the starting state's values. F, G, C, s
 * come from the Level P state; dG1..3 are Level P's own rates (its field, in the phase of the
 * state); dF/dt = sum over key positions of du/dt (the softmax Jacobian term multiplies dz/dt = 0).
 */
import { PairTable } from '../model/pairTable.js';
import { PrimitiveBuffers, Primitives, Probe, pairClassOf, primitiveBuffers, sampleGroups } from './primitives.js';
import { PaperModel } from '../paper/model.js';

export class PaperProbe implements Probe {
  readonly hasTest = false;
  private readonly out: PrimitiveBuffers;
  private readonly fillerLocal: Int32Array;
  private readonly dydt: Float64Array;
  private readonly Fdot: Float64Array;
  /** a twin of the run's Level P model, so that probing never replaces the run's last evaluation */
  private readonly dyn: PaperModel;

  constructor(run: PaperModel) {
    const dyn = new PaperModel(run.data, run.m, run.m1, { phases: run.phases, frozen: run.frozen });
    this.dyn = dyn;
    const { data } = dyn;
    const { n, L } = data;
    const local = dyn.index.localOf;
    const pairs = new PairTable(data);
    this.fillerLocal = Int32Array.from(pairs.used.filter((t) => t >= 3), (t) => local[t]);
    this.dydt = new Float64Array(dyn.size);
    this.Fdot = new Float64Array(n);
    this.out = primitiveBuffers({
      n,
      L,
      ...sampleGroups(data),
      attentionLength: n * L * L,
      pairClass: Uint8Array.from(pairs.key, (key, e) => pairClassOf(key, pairs.query[e])),
    });
    // Uniform attention (Thm 3.1's Phase 1 approximation, kept in Phase 2): exactly 1/L.
    this.out.attention.fill(1 / L);
    const fr = dyn.frozen;
    if (fr) {
      if (fr.pairScores.length !== this.out.pairScores.length) {
        throw new Error(`Level P: ${fr.pairScores.length} frozen pair scores for ${this.out.pairScores.length} co-occurring pairs`);
      }
      this.out.S.set(fr.S);
      this.out.A.set(fr.A);
      this.out.B.set(fr.B);
      this.out.pairScores.set(fr.pairScores);
    }
  }

  probe(y: Float64Array): Primitives {
    const { dyn, out } = this;
    const { data, layout: lay, k } = dyn;
    const { n, L } = data;
    // The field also runs the kernel (F, margins) at y, in y's phase.
    dyn.field(0, y, this.dydt);
    out.F.set(dyn.w.F);
    const tokens = dyn.w.tokens;
    for (let i = 0; i < n; i++) {
      // sum over filler keys p of (sum_l 1/L) G(x_p) = sum of G over the sample's filler tokens
      let part = 0;
      for (let p = 0; p < L; p++) if (data.tokens[i * L + p] >= 3) part += y[lay.u + tokens[i * L + p]];
      out.fillerF[i] = part;
    }
    const li = dyn.index.localOf;
    for (let i = 0; i < 3; i++) {
      const a = li[i];
      out.G[i] = a >= 0 ? y[lay.u + a] : NaN;
      out.dG[i] = a >= 0 ? this.dydt[lay.u + a] : NaN;
      for (let j = 0; j < 3; j++) {
        const b = li[j];
        out.C[3 * i + j] = a >= 0 && b >= 0 ? y[lay.C + a * k + b] : NaN;
      }
    }
    let gFill = 0;
    for (const f of this.fillerLocal) gFill = Math.max(gFill, Math.abs(y[lay.u + f]));
    return { ...out, GfillerMaxAbs: gFill, s: y[lay.s], test: null };
  }

  outputRates(_y: Float64Array, dydt: Float64Array): Float64Array {
    // (Level P's outputs are linear in u, its attention being uniform: their rates need only dy/dt)
    const { dyn, Fdot } = this;
    const { n, L } = dyn.data;
    const tokens = dyn.w.tokens;
    const o = dyn.layout.u;
    for (let i = 0; i < n; i++) {
      let r = 0;
      for (let p = 0; p < L; p++) r += dydt[o + tokens[i * L + p]];
      Fdot[i] = r;
    }
    return Fdot;
  }
}

/**
 * Level F primitives, computed from the weights themselves (the state of FullDynamics:
 * token-major W_Q^T, W_K^T, W_V^T, each d x m with row t = W_Q mu_t, then W, m1 x m).
 *
 * Cost per call: r = W^T a (m1 m), u = G(mu) for the data's tokens (k m), the scores of the
 * co-occurring pairs (pairs m), the softmax of every sample (n L^2), and 3 k m for dG/dt: a
 * fraction of one gradient evaluation, so recording every row stays cheap.
 */
import { Dataset } from '../data/dataset.js';
import { LossGrad, transposeTimesVector } from '../model/gradient.js';
import { logisticLoss } from '../model/logistic.js';
import { PairTable } from '../model/pairTable.js';
import { PairKernels } from '../model/simdPairs.js';
import { SampleScratch, sampleBackward, sampleForward, sampleRate } from './sample.js';
import { PrimitiveBuffers, Primitives, Probe, pairClassOf, primitiveBuffers, sampleGroups } from './primitives.js';

export interface FullProbeConfig {
  data: Dataset;
  m: number;
  m1: number;
  /** the fixed output signs (Eq. 1) */
  a: Float64Array;
  /** a held-out set evaluated at every row */
  test?: Dataset;
}

function dot(x: Float64Array, xo: number, y: Float64Array, yo: number, len: number): number {
  let s0 = 0;
  let s1 = 0;
  let c = 0;
  for (; c + 1 < len; c += 2) {
    s0 += x[xo + c] * y[yo + c];
    s1 += x[xo + c + 1] * y[yo + c + 1];
  }
  if (c < len) s0 += x[xo + c] * y[yo + c];
  return s0 + s1;
}

export class FullProbe implements Probe {
  readonly hasTest: boolean;
  private readonly data: Dataset;
  private readonly m: number;
  private readonly m1: number;
  private readonly d: number;
  private readonly a: Float64Array;
  private readonly pairs: PairTable;
  /** the co-occurring pairs' scores by the gradient's own SIMD kernel (src/model/simdPairs.ts) */
  private readonly simd: PairKernels;
  private readonly fillers: Int32Array;
  private readonly testGrad: LossGrad | null;
  private readonly testData: Dataset | null;
  private readonly r: Float64Array;
  private readonly u: Float64Array;
  private readonly z: Float64Array;
  private readonly gu: Float64Array;
  private readonly P: Float64Array;
  private readonly rdot: Float64Array;
  private readonly vgu: Float64Array;
  private readonly udot: Float64Array;
  private readonly zdot: Float64Array;
  private readonly Fdot: Float64Array;
  private readonly out: PrimitiveBuffers;
  private readonly scratch: SampleScratch;

  constructor(c: FullProbeConfig) {
    const { data, m, m1 } = c;
    this.data = data;
    this.m = m;
    this.m1 = m1;
    this.d = data.d;
    this.a = c.a;
    this.pairs = new PairTable(data);
    this.simd = new PairKernels(this.pairs, data.d, m);
    this.fillers = this.pairs.used.filter((t) => t >= 3);
    this.hasTest = c.test !== undefined;
    this.testData = c.test ?? null;
    this.testGrad = c.test ? new LossGrad(c.test, m, m1) : null;
    const { n, L } = data;
    this.r = new Float64Array(m);
    this.u = new Float64Array(data.d);
    this.gu = new Float64Array(data.d);
    this.rdot = new Float64Array(m);
    this.vgu = new Float64Array(m);
    this.udot = new Float64Array(data.d);
    this.zdot = new Float64Array(this.pairs.count);
    this.Fdot = new Float64Array(n);
    this.scratch = new SampleScratch(L);
    this.out = primitiveBuffers({
      n,
      L,
      ...sampleGroups(data),
      attentionLength: n * L * L,
      pairClass: Uint8Array.from(this.pairs.key, (key, e) => pairClassOf(key, this.pairs.query[e])),
    });
    this.P = this.out.attention;
    this.z = this.out.pairScores;
  }

  probe(y: Float64Array): Primitives {
    const { m, m1, d, a, data, pairs, r, u, z, gu, P, out } = this;
    const { n, L } = data;
    const md = m * d;
    const oQ = 0;
    const oK = md;
    const oV = 2 * md;
    const oW = 3 * md;
    // r = W^T a (G(mu) = r . W_V mu, paper Sec. 2)
    transposeTimesVector(y.subarray(oW, oW + m1 * m), m1, m, a, r);
    const s = dot(r, 0, r, 0, m);
    const used = pairs.used;
    for (let i = 0; i < used.length; i++) u[used[i]] = dot(r, 0, y, oV + used[i] * m, m);
    // Unscaled scores of the co-occurring pairs; the softmax uses them / sqrt(m) (Eq. 1).
    this.simd.load(y.subarray(oQ, oK), y.subarray(oK, oV));
    this.simd.scores(1);
    z.set(this.simd.z.subarray(0, pairs.count));
    const scale = 1 / Math.sqrt(m);
    gu.fill(0);
    const LL = L * L;
    const sc = this.scratch;
    for (let i = 0; i < n; i++) {
      this.gather(i, scale);
      const Fi = sampleForward(sc, P, i * LL);
      out.F[i] = Fi;
      // dL/dF_i = -y_i g_i / n (paper Sec. 2)
      const yi = data.y[i];
      out.fillerF[i] = sampleBackward(sc, P, i * LL, -yi / (1 + Math.exp(yi * Fi)) / n, gu);
    }
    // sum_p gu_p v_p (= -(dr/dt) / m1)
    const vgu = this.vgu;
    vgu.fill(0);
    for (let q = 0; q < used.length; q++) {
      const x = used[q];
      const gx = gu[x];
      if (gx === 0) continue;
      const o = oV + x * m;
      for (let c = 0; c < m; c++) vgu[c] += gx * y[o + c];
    }
    for (let i = 0; i < 3; i++) {
      out.G[i] = u[i];
      for (let j = 0; j < 3; j++) {
        out.S[3 * i + j] = dot(y, oK + i * m, y, oQ + j * m, m);
        out.A[3 * i + j] = dot(y, oQ + i * m, y, oQ + j * m, m);
        out.B[3 * i + j] = dot(y, oK + i * m, y, oK + j * m, m);
        out.C[3 * i + j] = dot(y, oV + i * m, y, oV + j * m, m);
      }
      // Under the flow dv_p/dt = -gu_p r and dr/dt = -m1 sum_p gu_p v_p (L depends on W_V and W
      // only through u = V^T r, and a^T a = m1), so du_i/dt = -(s gu_i + m1 v_i . sum_p gu_p v_p).
      out.dG[i] = -(s * gu[i] + m1 * dot(y, oV + i * m, vgu, 0, m));
    }
    let gFill = 0;
    for (let q = 0; q < this.fillers.length; q++) gFill = Math.max(gFill, Math.abs(u[this.fillers[q]]));
    let test: Primitives['test'] = null;
    if (this.testGrad && this.testData) {
      const tg = this.testGrad;
      tg.lossTokenMajor(y.subarray(oQ, oK), y.subarray(oK, oV), y.subarray(oV, oW), y.subarray(oW), a, null, 1);
      test = testMetrics(tg.F, this.testData.y);
    }
    return { ...out, GfillerMaxAbs: gFill, s, test };
  }

  /** Sample i's scaled pair scores and token values (from the last probe's z and u) into the scratch. */
  private gather(i: number, scale: number): void {
    const { L, tokens } = this.data;
    const { pairs, z, u, scratch: sc } = this;
    const LL = L * L;
    for (let p = 0; p < L; p++) {
      const x = tokens[i * L + p];
      sc.u[p] = u[x];
      sc.ids[p] = x;
      sc.filler[p] = x >= 3 ? 1 : 0;
      for (let l = 0; l < L; l++) sc.z[p * L + l] = z[pairs.pairOf[i * LL + p * L + l]] * scale;
    }
  }

  outputRates(y: Float64Array, dydt: Float64Array): Float64Array {
    const { m, m1, d, a, data, pairs, r, P, rdot, udot, zdot, Fdot } = this;
    const { n, L, tokens } = data;
    const md = m * d;
    const oK = md;
    const oV = 2 * md;
    const oW = 3 * md;
    // dr/dt = (dW/dt)^T a; du_p/dt = dr/dt . v_p + r . dv_p/dt; dS_ba/dt = dK_b/dt . Q_a + K_b . dQ_a/dt
    transposeTimesVector(dydt.subarray(oW, oW + m1 * m), m1, m, a, rdot);
    const used = pairs.used;
    for (let i = 0; i < used.length; i++) {
      const o = oV + used[i] * m;
      udot[used[i]] = dot(rdot, 0, y, o, m) + dot(r, 0, dydt, o, m);
    }
    // dz_ba/dt = (<dK_b/dt, Q_a> + <K_b, dQ_a/dt>) / sqrt(m): two passes of the pair-score kernel.
    const scale = 1 / Math.sqrt(m);
    const simd = this.simd;
    const count = pairs.count;
    simd.load(y.subarray(0, oK), dydt.subarray(oK, oV));
    simd.scores(scale);
    zdot.set(simd.z.subarray(0, count));
    simd.load(dydt.subarray(0, oK), y.subarray(oK, oV));
    simd.scores(scale);
    for (let e = 0; e < count; e++) zdot[e] += simd.z[e];
    const LL = L * L;
    const sc = this.scratch;
    for (let i = 0; i < n; i++) {
      this.gather(i, scale);
      for (let p = 0; p < L; p++) {
        sc.udot[p] = udot[tokens[i * L + p]];
        for (let l = 0; l < L; l++) sc.zdot[p * L + l] = zdot[pairs.pairOf[i * LL + p * L + l]];
      }
      Fdot[i] = sampleRate(sc, P, i * LL);
    }
    return Fdot;
  }
}

/** Mean logistic loss and the fraction of samples with y F <= 0. */
export function testMetrics(F: Float64Array, y: Float64Array): { loss: number; error: number } {
  let loss = 0;
  let wrong = 0;
  for (let i = 0; i < F.length; i++) {
    const mg = y[i] * F[i];
    loss += logisticLoss(mg);
    if (!(mg > 0)) wrong++;
  }
  return { loss: loss / F.length, error: wrong / F.length };
}

import { UsageError } from '../errors.js';
import { Dataset } from '../data/dataset.js';
import { logisticLoss, logisticWeight } from './logistic.js';
import { PairTable } from './pairTable.js';
import { PairKernels } from './simdPairs.js';
import { ParamGrad, Params } from './params.js';

/**
 * Loss and analytic gradient of the paper's model (Eq. 1) with respect to W_Q, W_K, W_V, W.
 *
 * Three facts make this cheap (docs/levels.md#level-f):
 * - the embeddings are one-hot, so W_Q X is a gather of L columns of W_Q, never a d x L product;
 * - F depends on W and a only through r = W^T a (G(mu) = r^T W_V mu), so dL/dW = a (dL/dr)^T;
 * - scores depend only on the (key token, query token) pair, so each distinct pair's score and
 *   score gradient is computed once (PairTable), not once per sample.
 *
 * Per sample, with z_pl = <k_p, q_l>/sqrt(m) (key p, query l), P = softmax over p, u_p = r.v_p:
 *   F = sum_l F_l, F_l = sum_p P_pl u_p,
 *   dF/du_p = sum_l P_pl,    dF/dz_pl = P_pl (u_p - F_l)     (softmax Jacobian),
 * and dl(yF)/dF = -y g with g = 1/(1+exp(yF)) (paper Sec. 2). All buffers are allocated once in
 * the constructor; `lossAndGrad` allocates nothing.
 */
export class LossGrad {
  /** per-sample outputs F_i of the last call */
  readonly F: Float64Array;
  /** per-sample losses l(y_i F_i) of the last call */
  readonly sampleLoss: Float64Array;
  /** r = W^T a of the last call (m) */
  readonly r: Float64Array;

  private readonly n: number;
  private readonly L: number;
  private readonly u: Float64Array;
  private readonly P: Float64Array;
  private readonly Fl: Float64Array;
  private readonly pairs: PairTable;
  /** scaled score of each distinct pair, and dL/dS summed per pair */
  private readonly z: Float64Array;
  private readonly gam: Float64Array;
  /** the pair loops as WebAssembly SIMD kernels; z and gam live in their memory */
  private readonly simd: PairKernels;
  /** dL/du per token (u_t = G(mu_t)) */
  private readonly gu: Float64Array;
  private readonly dr: Float64Array;
  private readonly drPlus: Float64Array;
  private readonly drMinus: Float64Array;
  // Token-major (d x m) copies of W_Q, W_K, W_V and of their gradients: a token's column
  // W_Q mu_t is then a contiguous row, read and accumulated in place (no gather, no scatter).
  private readonly tQ: Float64Array;
  private readonly tK: Float64Array;
  private readonly tV: Float64Array;
  private readonly gQ: Float64Array;
  private readonly gK: Float64Array;
  private readonly gV: Float64Array;

  constructor(
    private readonly data: Dataset,
    readonly m: number,
    readonly m1: number,
  ) {
    const { n, L } = data;
    this.n = n;
    this.L = L;
    for (let i = 0; i < data.tokens.length; i++) {
      const t = data.tokens[i];
      if (t < 0 || t >= data.d) throw new UsageError(`data token ${t} at index ${i} is outside [0, d=${data.d})`);
    }
    this.F = new Float64Array(n);
    this.sampleLoss = new Float64Array(n);
    this.r = new Float64Array(m);
    this.dr = new Float64Array(m);
    this.drPlus = new Float64Array(m);
    this.drMinus = new Float64Array(m);
    this.u = new Float64Array(data.d);
    this.P = new Float64Array(L * L);
    this.Fl = new Float64Array(L);
    this.pairs = new PairTable(data);
    this.simd = new PairKernels(this.pairs, data.d, m);
    this.z = this.simd.z;
    this.gam = this.simd.gam;
    this.gu = new Float64Array(data.d);
    const dm = data.d * m;
    this.tQ = new Float64Array(dm);
    this.tK = new Float64Array(dm);
    this.tV = new Float64Array(dm);
    this.gQ = new Float64Array(dm);
    this.gK = new Float64Array(dm);
    this.gV = new Float64Array(dm);
  }

  /** Mean loss; fills F and sampleLoss. */
  loss(p: Params): number {
    return this.run(p, null);
  }

  /** Mean loss; fills F, sampleLoss and `out` with dL/d(W_Q, W_K, W_V, W). */
  lossAndGrad(p: Params, out: ParamGrad): number {
    return this.run(p, out);
  }

  private checkShapes(p: Params): void {
    if (p.m !== this.m || p.m1 !== this.m1 || p.d !== this.data.d) {
      throw new UsageError(
        `params have (m, m1, d) = (${p.m}, ${p.m1}, ${p.d}) but this model was built for (${this.m}, ${this.m1}, ${this.data.d})`,
      );
    }
  }

  private run(p: Params, out: ParamGrad | null): number {
    this.checkShapes(p);
    const { m, pairs } = this;
    const d = p.d;
    const used = pairs.used;
    transposeRows(p.WQ, m, d, used, this.tQ);
    transposeRows(p.WK, m, d, used, this.tK);
    transposeRows(p.WV, m, d, used, this.tV);
    if (!out) return this.lossTokenMajor(this.tQ, this.tK, this.tV, p.W, p.a, null, 1);
    const loss = this.lossTokenMajor(this.tQ, this.tK, this.tV, p.W, p.a, { gQ: this.gQ, gK: this.gK, gV: this.gV, dW: out.dW }, 1);
    out.dWQ.fill(0);
    out.dWK.fill(0);
    out.dWV.fill(0);
    untransposeRows(this.gQ, m, d, used, out.dWQ);
    untransposeRows(this.gK, m, d, used, out.dWK);
    untransposeRows(this.gV, m, d, used, out.dWV);
    return loss;
  }

  /**
   * The same computation on token-major weights: tQ, tK, tV are d x m (row t = W_Q mu_t, i.e.
   * W_Q^T), W is m1 x m, a is m1. Writes `scale` times the gradient into `out` (gQ, gK, gV token
   * major, rows of unused tokens set to 0; dW as m1 x m), so a gradient-flow field can pass
   * scale = -1 and its own buffers. This is the hot path of Level F runs: no transposes at all.
   */
  lossTokenMajor(
    tQ: Float64Array,
    tK: Float64Array,
    tV: Float64Array,
    W: Float64Array,
    a: Float64Array,
    out: TokenMajorGrad | null,
    scale: number,
  ): number {
    const { n, L, m, m1, pairs } = this;
    const { u, P, Fl, r, dr, z, gam, gu } = this;
    const F = this.F;
    const sampleLoss = this.sampleLoss;
    const y = this.data.y;
    const tokens = this.data.tokens;
    const used = pairs.used;
    const pairOf = pairs.pairOf;
    const invSqrtM = 1 / Math.sqrt(m);

    // r = W^T a
    transposeTimesVector(W, m1, m, a, r);
    // u_t = G(mu_t) = r . W_V mu_t for every used token; two tokens per pass share the loads of
    // r (each dot product is still summed over c in order: the same bits).
    let j = 0;
    for (; j + 1 < used.length; j += 2) {
      const o1 = used[j] * m;
      const o2 = used[j + 1] * m;
      let s1 = 0;
      let s2 = 0;
      for (let c = 0; c < m; c++) {
        const rc = r[c];
        s1 += rc * tV[o1 + c];
        s2 += rc * tV[o2 + c];
      }
      u[used[j]] = s1;
      u[used[j + 1]] = s2;
    }
    for (; j < used.length; j++) {
      const o = used[j] * m;
      let s = 0;
      for (let c = 0; c < m; c++) s += r[c] * tV[o + c];
      u[used[j]] = s;
    }
    // z_ba = <W_K mu_b, W_Q mu_a> / sqrt(m) once per distinct co-occurring pair (SIMD kernel).
    const simd = this.simd;
    simd.load(tQ, tK);
    simd.scores(invSqrtM);
    if (out) {
      gam.fill(0);
      gu.fill(0);
    }

    let total = 0;
    const LL = L * L;
    for (let i = 0; i < n; i++) {
      const base = i * L;
      const pbase = i * LL;
      // Softmax over keys p for each query l; P[p * L + l].
      let Fi = 0;
      for (let l = 0; l < L; l++) {
        let zmax = -Infinity;
        for (let pp = 0; pp < L; pp++) {
          const zz = z[pairOf[pbase + pp * L + l]];
          P[pp * L + l] = zz;
          if (zz > zmax) zmax = zz;
        }
        let sum = 0;
        for (let pp = 0; pp < L; pp++) {
          const e = Math.exp(P[pp * L + l] - zmax);
          P[pp * L + l] = e;
          sum += e;
        }
        let f = 0;
        const inv = 1 / sum;
        for (let pp = 0; pp < L; pp++) {
          const pr = P[pp * L + l] * inv;
          P[pp * L + l] = pr;
          f += pr * u[tokens[base + pp]];
        }
        Fl[l] = f;
        Fi += f;
      }
      F[i] = Fi;
      const margin = y[i] * Fi;
      const li = logisticLoss(margin);
      sampleLoss[i] = li;
      total += li;
      if (!out) continue;

      // dL/dF_i for the mean loss; then dF/du_p = sum_l P_pl and dF/dz_pl = P_pl (u_p - F_l),
      // summed per token (gu) and per pair (gam): a repeated token or pair accumulates.
      const gF = (-y[i] * logisticWeight(margin)) / n;
      for (let pp = 0; pp < L; pp++) {
        const t = tokens[base + pp];
        const up = u[t];
        let w = 0;
        for (let l = 0; l < L; l++) {
          const pr = P[pp * L + l];
          w += pr;
          gam[pairOf[pbase + pp * L + l]] += gF * pr * (up - Fl[l]);
        }
        gu[t] += gF * w;
      }
    }
    if (!out) return total / n;
    const { gQ, gK, gV, dW } = out;

    // dW_Q mu_a = sum_b Gam[b, a] W_K mu_b / sqrt(m) (rows by query token) and
    // dW_K mu_b = sum_a Gam[b, a] W_Q mu_a / sqrt(m) (rows by key token), SIMD kernels; rows of
    // tokens absent from the data come back 0.
    simd.gradients(scale * invSqrtM, gQ, gK);
    // u_t = r . v_t: dv_t = gu_t r, dr = sum_t gu_t v_t.
    // Two tokens per pass, adding to dr[c] in token order as one token per pass would (same bits).
    dr.fill(0);
    let jv = 0;
    for (; jv + 1 < used.length; jv += 2) {
      const o1 = used[jv] * m;
      const o2 = used[jv + 1] * m;
      const g1 = gu[used[jv]];
      const g2 = gu[used[jv + 1]];
      const gs1 = g1 * scale;
      const gs2 = g2 * scale;
      for (let c = 0; c < m; c++) {
        const rc = r[c];
        gV[o1 + c] = gs1 * rc;
        gV[o2 + c] = gs2 * rc;
        dr[c] = dr[c] + g1 * tV[o1 + c] + g2 * tV[o2 + c];
      }
    }
    for (; jv < used.length; jv++) {
      const t = used[jv];
      const o = t * m;
      const g = gu[t];
      const gs = g * scale;
      for (let c = 0; c < m; c++) {
        gV[o + c] = gs * r[c];
        dr[c] += g * tV[o + c];
      }
    }
    // Tokens absent from the data get no gradient.
    const unused = pairs.unused;
    for (let j = 0; j < unused.length; j++) gV.fill(0, unused[j] * m, (unused[j] + 1) * m);
    // dL/dW = a (dL/dr)^T since r = W^T a. With a_j = +-1 (the model's a) every row is one of
    // two vectors, copied with set() (memcpy speed) instead of multiplied element by element.
    const { drPlus, drMinus } = this;
    for (let c = 0; c < m; c++) {
      drPlus[c] = scale * dr[c];
      drMinus[c] = -scale * dr[c];
    }
    for (let j = 0; j < m1; j++) {
      const aj = a[j];
      const row = j * m;
      if (aj === 1) dW.set(drPlus, row);
      else if (aj === -1) dW.set(drMinus, row);
      else for (let c = 0; c < m; c++) dW[row + c] = aj * scale * dr[c];
    }
    return total / n;
  }
}

/** r = W^T a for a row-major rows x cols matrix W, four rows at a time. */
export function transposeTimesVector(W: Float64Array, rows: number, cols: number, a: Float64Array, r: Float64Array): void {
  r.fill(0);
  let j = 0;
  // Four rows per step: r[c] += a0 W0 + a1 W1 + a2 W2 + a3 W3. Where eight rows remain, their two
  // groups of four go in one pass: r[c] + group1 + group2, the sums two four-row steps form in
  // the same order (same bits), with half the loads and stores of r.
  for (; j + 3 < rows; j += 4) {
    const a0 = a[j];
    const a1 = a[j + 1];
    const a2 = a[j + 2];
    const a3 = a[j + 3];
    const o0 = j * cols;
    const o1 = o0 + cols;
    const o2 = o1 + cols;
    const o3 = o2 + cols;
    if (j + 7 < rows) {
      const a4 = a[j + 4];
      const a5 = a[j + 5];
      const a6 = a[j + 6];
      const a7 = a[j + 7];
      const o4 = o3 + cols;
      const o5 = o4 + cols;
      const o6 = o5 + cols;
      const o7 = o6 + cols;
      for (let c = 0; c < cols; c++) {
        r[c] = r[c] + (a0 * W[o0 + c] + a1 * W[o1 + c] + a2 * W[o2 + c] + a3 * W[o3 + c]) + (a4 * W[o4 + c] + a5 * W[o5 + c] + a6 * W[o6 + c] + a7 * W[o7 + c]);
      }
      j += 4;
    } else {
      for (let c = 0; c < cols; c++) r[c] += a0 * W[o0 + c] + a1 * W[o1 + c] + a2 * W[o2 + c] + a3 * W[o3 + c];
    }
  }
  for (; j < rows; j++) {
    const aj = a[j];
    const o = j * cols;
    for (let c = 0; c < cols; c++) r[c] += aj * W[o + c];
  }
}

/** out[t * m + c] = X[c * d + t] for the used tokens t (token-major copy of an m x d matrix). */
export function transposeRows(X: Float64Array, m: number, d: number, used: Int32Array, out: Float64Array): void {
  for (let j = 0; j < used.length; j++) {
    const t = used[j];
    const o = t * m;
    for (let c = 0; c < m; c++) out[o + c] = X[c * d + t];
  }
}

/** out[c * d + t] = G[t * m + c] for the used tokens t (back to the m x d layout). */
export function untransposeRows(G: Float64Array, m: number, d: number, used: Int32Array, out: Float64Array): void {
  for (let j = 0; j < used.length; j++) {
    const t = used[j];
    const o = t * m;
    for (let c = 0; c < m; c++) out[c * d + t] = G[o + c];
  }
}

/** Gradient destinations in token-major layout (see LossGrad.lossTokenMajor). */
export interface TokenMajorGrad {
  /** d x m */
  gQ: Float64Array;
  gK: Float64Array;
  gV: Float64Array;
  /** m1 x m */
  dW: Float64Array;
}

/** A zero gradient with the shapes of `p`. */
export function allocGrad(p: Params): ParamGrad {
  return {
    dWQ: new Float64Array(p.WQ.length),
    dWK: new Float64Array(p.WK.length),
    dWV: new Float64Array(p.WV.length),
    dW: new Float64Array(p.W.length),
  };
}

import { UsageError } from '../errors.js';
import { Dataset } from '../data/dataset.js';
import { logisticLoss, logisticWeight } from './logistic.js';
import { ParamGrad, Params } from './params.js';

/**
 * Loss and analytic gradient of the paper's model (Eq. 1) with respect to W_Q, W_K, W_V, W.
 *
 * Two facts make this cheap (design.md section 4):
 * - the embeddings are one-hot, so W_Q X is a gather of L columns of W_Q, never a d x L product;
 * - F depends on W and a only through r = W^T a (G(mu) = r^T W_V mu), so dL/dW = a (dL/dr)^T.
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
  private readonly q: Float64Array;
  private readonly k: Float64Array;
  private readonly v: Float64Array;
  private readonly dq: Float64Array;
  private readonly dk: Float64Array;
  private readonly u: Float64Array;
  private readonly P: Float64Array;
  private readonly Fl: Float64Array;
  private readonly dr: Float64Array;
  // Token-major (d x m) copies of W_Q, W_K, W_V and of their gradients: the per-sample gathers
  // and scatters then touch contiguous rows instead of stride-d columns.
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
    this.q = new Float64Array(L * m);
    this.k = new Float64Array(L * m);
    this.v = new Float64Array(L * m);
    this.dq = new Float64Array(L * m);
    this.dk = new Float64Array(L * m);
    this.u = new Float64Array(L);
    this.P = new Float64Array(L * L);
    this.Fl = new Float64Array(L);
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
    const { n, L, m, m1 } = this;
    const d = p.d;
    const { W, a } = p;
    const { q, k, v, dq, dk, u, P, Fl, r, dr, tQ, tK, tV, gQ, gK, gV } = this;
    const F = this.F;
    const sampleLoss = this.sampleLoss;
    const tokens = this.data.tokens;
    const y = this.data.y;
    const invSqrtM = 1 / Math.sqrt(m);

    transpose(p.WQ, m, d, tQ);
    transpose(p.WK, m, d, tK);
    transpose(p.WV, m, d, tV);
    // r = W^T a
    r.fill(0);
    for (let j = 0; j < m1; j++) {
      const aj = a[j];
      const row = j * m;
      for (let c = 0; c < m; c++) r[c] += aj * W[row + c];
    }
    if (out) {
      gQ.fill(0);
      gK.fill(0);
      gV.fill(0);
      dr.fill(0);
    }

    let total = 0;
    for (let i = 0; i < n; i++) {
      const base = i * L;
      // Gather the sample's columns: q_l = W_Q mu_{x_l} is row x_l of the token-major copy.
      for (let l = 0; l < L; l++) {
        const src = tokens[base + l] * m;
        const o = l * m;
        for (let c = 0; c < m; c++) {
          q[o + c] = tQ[src + c];
          k[o + c] = tK[src + c];
          v[o + c] = tV[src + c];
        }
      }
      for (let pp = 0; pp < L; pp++) {
        let s = 0;
        const o = pp * m;
        for (let c = 0; c < m; c++) s += r[c] * v[o + c];
        u[pp] = s;
      }
      // Softmax over keys p for each query l; P[p * L + l].
      let Fi = 0;
      for (let l = 0; l < L; l++) {
        const ol = l * m;
        let zmax = -Infinity;
        for (let pp = 0; pp < L; pp++) {
          const op = pp * m;
          let s = 0;
          for (let c = 0; c < m; c++) s += k[op + c] * q[ol + c];
          const z = s * invSqrtM;
          P[pp * L + l] = z;
          if (z > zmax) zmax = z;
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
          f += pr * u[pp];
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

      // dL/dF_i for the mean loss.
      const gF = (-y[i] * logisticWeight(margin)) / n;
      dq.fill(0);
      dk.fill(0);
      for (let pp = 0; pp < L; pp++) {
        // u_p = r . v_p: dv_p += (dL/du_p) r, dr += (dL/du_p) v_p
        let w = 0;
        for (let l = 0; l < L; l++) w += P[pp * L + l];
        const gu = gF * w;
        const dst = tokens[base + pp] * m;
        const op = pp * m;
        for (let c = 0; c < m; c++) {
          gV[dst + c] += gu * r[c];
          dr[c] += gu * v[op + c];
        }
        const up = u[pp];
        for (let l = 0; l < L; l++) {
          // z_pl = <k_p, q_l>/sqrt(m): dq_l += gz k_p, dk_p += gz q_l
          const gz = gF * P[pp * L + l] * (up - Fl[l]) * invSqrtM;
          const ol = l * m;
          for (let c = 0; c < m; c++) {
            dq[ol + c] += gz * k[op + c];
            dk[op + c] += gz * q[ol + c];
          }
        }
      }
      // Scatter back into the rows of the used tokens (a repeated token accumulates).
      for (let l = 0; l < L; l++) {
        const dst = tokens[base + l] * m;
        const o = l * m;
        for (let c = 0; c < m; c++) {
          gQ[dst + c] += dq[o + c];
          gK[dst + c] += dk[o + c];
        }
      }
    }
    if (out) {
      transpose(gQ, d, m, out.dWQ);
      transpose(gK, d, m, out.dWK);
      transpose(gV, d, m, out.dWV);
      // dL/dW = a (dL/dr)^T since r = W^T a.
      const dW = out.dW;
      for (let j = 0; j < m1; j++) {
        const aj = a[j];
        const row = j * m;
        for (let c = 0; c < m; c++) dW[row + c] = aj * dr[c];
      }
    }
    return total / n;
  }
}

/** out (cols x rows) = X^T for a row-major rows x cols matrix X. */
function transpose(X: Float64Array, rows: number, cols: number, out: Float64Array): void {
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    for (let j = 0; j < cols; j++) out[j * rows + i] = X[o + j];
  }
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

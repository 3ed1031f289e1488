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
  private readonly u: Float64Array;
  private readonly P: Float64Array;
  private readonly Fl: Float64Array;
  private readonly gz: Float64Array;
  private readonly row: Int32Array;
  private readonly dr: Float64Array;
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
    this.u = new Float64Array(L);
    this.P = new Float64Array(L * L);
    this.Fl = new Float64Array(L);
    this.gz = new Float64Array(L * L);
    this.row = new Int32Array(L);
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
    const { u, P, Fl, r, dr, tQ, tK, tV, gQ, gK, gV, gz, row } = this;
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
      // q_l = W_Q mu_{x_l} is row x_l of the token-major copy: no gather needed.
      for (let pp = 0; pp < L; pp++) {
        const o = tokens[base + pp] * m;
        let s = 0;
        for (let c = 0; c < m; c++) s += r[c] * tV[o + c];
        u[pp] = s;
      }
      // Softmax over keys p for each query l; P[p * L + l].
      let Fi = 0;
      for (let l = 0; l < L; l++) {
        const ol = tokens[base + l] * m;
        let zmax = -Infinity;
        for (let pp = 0; pp < L; pp++) {
          const op = tokens[base + pp] * m;
          let s = 0;
          for (let c = 0; c < m; c++) s += tK[op + c] * tQ[ol + c];
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
      for (let pp = 0; pp < L; pp++) {
        // u_p = r . v_p: dv_p += (dL/du_p) r, dr += (dL/du_p) v_p
        let w = 0;
        for (let l = 0; l < L; l++) w += P[pp * L + l];
        const gu = gF * w;
        const op = tokens[base + pp] * m;
        row[pp] = op;
        for (let c = 0; c < m; c++) {
          gV[op + c] += gu * r[c];
          dr[c] += gu * tV[op + c];
        }
        // dL/dz_pl, with z_pl = <k_p, q_l>/sqrt(m) (the 1/sqrt(m) folded in here).
        const up = u[pp];
        for (let l = 0; l < L; l++) gz[pp * L + l] = gF * P[pp * L + l] * (up - Fl[l]) * invSqrtM;
      }
      // dq_l = sum_p gz_pl k_p and dk_p = sum_l gz_pl q_l, summed in a register per component
      // and added once into the token's row (a token repeated in a sample accumulates).
      for (let a = 0; a < L; a++) {
        const oa = row[a];
        for (let c = 0; c < m; c++) {
          let sq = 0;
          let sk = 0;
          for (let b = 0; b < L; b++) {
            const ob = row[b] + c;
            sq += gz[b * L + a] * tK[ob];
            sk += gz[a * L + b] * tQ[ob];
          }
          gQ[oa + c] += sq;
          gK[oa + c] += sk;
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

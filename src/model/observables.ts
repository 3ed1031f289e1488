import { Dataset, MU1 } from '../data/dataset.js';
import { LossGrad } from './gradient.js';
import { Params } from './params.js';

/**
 * What a trajectory records at one time, the same at every level (full, gram, type):
 * - loss and the mean loss of each sample type I1..I4 (paper Fig. 1(b));
 * - G(mu_1), G(mu_2), G(mu_3) (the "linear MLP function", Lemma 4.1, Thm 3.1);
 * - scores[3 * i + j] = mu_{i+1}^T W_K^T W_Q mu_{j+1}, key i, query j, unscaled (Fig. 1(a), Thm 3.2);
 * - minMargin = min_i y_i F_i (> 0 iff every sample is classified correctly, Thm 3.1).
 */
export interface Observation {
  loss: number;
  lossByType: [number, number, number, number];
  G: [number, number, number];
  scores: Float64Array;
  minMargin: number;
}

/** Mean of per-sample losses by type (types without samples give NaN). */
export function lossesByType(sampleLoss: Float64Array, type: Int32Array): [number, number, number, number] {
  const sum = [0, 0, 0, 0];
  const count = [0, 0, 0, 0];
  for (let i = 0; i < sampleLoss.length; i++) {
    sum[type[i] - 1] += sampleLoss[i];
    count[type[i] - 1] += 1;
  }
  return [0, 1, 2, 3].map((t) => sum[t] / count[t]) as [number, number, number, number];
}

export function minMargin(F: Float64Array, y: Float64Array): number {
  let min = Infinity;
  for (let i = 0; i < F.length; i++) min = Math.min(min, y[i] * F[i]);
  return min;
}

/** Observation of Level F parameters (runs one forward pass with `lg`). */
export function observeParams(p: Params, data: Dataset, lg: LossGrad): Observation {
  const loss = lg.loss(p);
  const { m, d } = p;
  const r = lg.r;
  const G: [number, number, number] = [0, 0, 0];
  for (let i = 0; i < 3; i++) {
    let s = 0;
    for (let c = 0; c < m; c++) s += r[c] * p.WV[c * d + MU1 + i];
    G[i] = s;
  }
  const scores = new Float64Array(9);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      let s = 0;
      for (let c = 0; c < m; c++) s += p.WK[c * d + i] * p.WQ[c * d + j];
      scores[3 * i + j] = s;
    }
  }
  return {
    loss,
    lossByType: lossesByType(lg.sampleLoss, data.type),
    G,
    scores,
    minMargin: minMargin(lg.F, data.y),
  };
}

/** X X^T for a row-major rows x cols matrix (rows x rows result). */
function gramRows(X: Float64Array, rows: number, cols: number, out: Float64Array, sign: number): void {
  for (let i = 0; i < rows; i++) {
    for (let j = i; j < rows; j++) {
      let s = 0;
      const oi = i * cols;
      const oj = j * cols;
      for (let c = 0; c < cols; c++) s += X[oi + c] * X[oj + c];
      out[i * rows + j] += sign * s;
      if (j !== i) out[j * rows + i] += sign * s;
    }
  }
}

/** X^T X for a row-major rows x cols matrix (cols x cols result); upper half, then mirrored. */
function gramCols(X: Float64Array, rows: number, cols: number, out: Float64Array, sign: number): void {
  const acc = new Float64Array(cols * cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let i = 0; i < cols; i++) {
      const xi = X[o + i];
      if (xi === 0) continue;
      const oi = i * cols;
      for (let j = i; j < cols; j++) acc[oi + j] += xi * X[o + j];
    }
  }
  for (let i = 0; i < cols; i++) {
    for (let j = i; j < cols; j++) {
      const v = sign * acc[i * cols + j];
      out[i * cols + j] += v;
      if (j !== i) out[j * cols + i] += v;
    }
  }
}

/**
 * The two m x m matrices conserved by ANY gradient flow of this model (balancedness; paper.md
 * "Conserved"): W_Q W_Q^T - W_K W_K^T and W^T W - W_V W_V^T. Why: with M the embeddings of the
 * used tokens and Gam = dL/dS, dW_Q/dt = -W_K M Gam M^T and dW_K/dt = -W_Q M Gam^T M^T, so
 * d(W_Q W_Q^T)/dt and d(W_K W_K^T)/dt both equal -(W_K M Gam M^T W_Q^T + W_Q M Gam^T M^T W_K^T);
 * and with r = W^T a, g_r = W_V M gu: d(W^T W)/dt = d(W_V W_V^T)/dt = -(g_r r^T + r g_r^T).
 * Returned concatenated (2 m^2 entries).
 */
export function conservedMatrices(p: Params): Float64Array {
  const { m, m1, d } = p;
  const out = new Float64Array(2 * m * m);
  const qk = out.subarray(0, m * m);
  const wv = out.subarray(m * m);
  gramRows(p.WQ, m, d, qk, 1);
  gramRows(p.WK, m, d, qk, -1);
  gramCols(p.W, m1, m, wv, 1);
  gramRows(p.WV, m, d, wv, -1);
  return out;
}

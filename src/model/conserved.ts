import { Rng } from '../random/rng.js';

/** Number of random directions on which the conserved matrices are probed (rowStats is written for 2). */
export const CONSERVED_PROBES = 2;

/**
 * The two m x m matrices conserved by ANY gradient flow of this model (balancedness; not in the
 * paper but exact, docs/levels.md#conserved-quantities): D1 = W_Q W_Q^T - W_K W_K^T and
 * D2 = W^T W - W_V W_V^T. Why: with M the embeddings of the used tokens and Gam = dL/dS,
 * dW_Q/dt = -W_K M Gam M^T and
 * dW_K/dt = -W_Q M Gam^T M^T, so d(W_Q W_Q^T)/dt and d(W_K W_K^T)/dt both equal
 * -(W_K M Gam M^T W_Q^T + W_Q M Gam^T M^T W_K^T); and with r = W^T a, g_r = W_V M gu:
 * d(W^T W)/dt = d(W_V W_V^T)/dt = -(g_r r^T + r g_r^T).
 *
 * Forming D1 and D2 costs O(m^2 (d + m1)) (about 10 ms at paper-fig1 size), too much for every
 * recorded row, so they are probed instead: the traces (tr D1 = |W_Q|_F^2 - |W_K|_F^2, likewise
 * D2) and the quadratic forms v^T D v = |W_Q^T v|^2 - |W_K^T v|^2 on CONSERVED_PROBES fixed unit
 * vectors v (seeded, the same for every call). Each is exactly conserved by the flow, and a
 * drift of D shows in them unless it is orthogonal to every probe. Cost O(m (d + m1)) per probe.
 * Returns [trace, probes...] for D1 and for D2, and the scales |W_Q|_F^2 + |W_K|_F^2 and
 * |W|_F^2 + |W_V|_F^2 against which drift is reported.
 */
export function conservedProbes(
  tQ: Float64Array,
  tK: Float64Array,
  tV: Float64Array,
  W: Float64Array,
  m: number,
  m1: number,
): { groups: [Float64Array, Float64Array]; scales: [number, number] } {
  // tQ, tK, tV are token-major (d x m: row t = W_Q mu_t), so |W_Q^T v|^2 = sum_t (row_t . v)^2.
  const probes = probeVectors(m);
  const q = rowStats(tQ, m, probes);
  const k = rowStats(tK, m, probes);
  const w = rowStats(W.subarray(0, m1 * m), m, probes);
  const v = rowStats(tV, m, probes);
  const g1 = new Float64Array(CONSERVED_PROBES + 1);
  const g2 = new Float64Array(CONSERVED_PROBES + 1);
  for (let j = 0; j <= CONSERVED_PROBES; j++) {
    g1[j] = q[j] - k[j];
    g2[j] = w[j] - v[j];
  }
  return { groups: [g1, g2], scales: [q[0] + k[0], w[0] + v[0]] };
}

/**
 * One pass over the rows of X (row-major, `cols` columns): [sum of squares, then for each probe
 * v_j the sum over rows of (row . v_j)^2 = |X v_j|^2]. Two rows per iteration share the probe
 * loads (about 1.8x faster in V8 at paper-fig1 size); each row's sums and their order into `out`
 * are those of the one-row loop, so the results are the same bits.
 */
function rowStats(X: Float64Array, cols: number, probes: Float64Array): Float64Array {
  const out = new Float64Array(CONSERVED_PROBES + 1);
  const n = X.length;
  let o = 0;
  for (; o + 2 * cols <= n; o += 2 * cols) {
    const o2 = o + cols;
    let sq = 0;
    let d0 = 0;
    let d1 = 0;
    let sq2 = 0;
    let d02 = 0;
    let d12 = 0;
    for (let c = 0; c < cols; c++) {
      const x = X[o + c];
      const x2 = X[o2 + c];
      const v0 = probes[c];
      const v1 = probes[cols + c];
      sq += x * x;
      d0 += x * v0;
      d1 += x * v1;
      sq2 += x2 * x2;
      d02 += x2 * v0;
      d12 += x2 * v1;
    }
    out[0] += sq;
    out[1] += d0 * d0;
    out[2] += d1 * d1;
    out[0] += sq2;
    out[1] += d02 * d02;
    out[2] += d12 * d12;
  }
  for (; o < n; o += cols) {
    let sq = 0;
    let d0 = 0;
    let d1 = 0;
    for (let c = 0; c < cols; c++) {
      const x = X[o + c];
      sq += x * x;
      d0 += x * probes[c];
      d1 += x * probes[cols + c];
    }
    out[0] += sq;
    out[1] += d0 * d0;
    out[2] += d1 * d1;
  }
  return out;
}

function sumSquares(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return s;
}

const probeCache = new Map<number, Float64Array>();

/** CONSERVED_PROBES unit vectors in R^m, fixed by a seed. */
export function probeVectors(m: number): Float64Array {
  let v = probeCache.get(m);
  if (!v) {
    const rng = new Rng('conserved-probes');
    v = rng.fillNormal(new Float64Array(CONSERVED_PROBES * m), 1);
    for (let j = 0; j < CONSERVED_PROBES; j++) {
      const probe = v.subarray(j * m, (j + 1) * m);
      const norm = Math.sqrt(sumSquares(probe));
      for (let c = 0; c < m; c++) probe[c] /= norm;
    }
    probeCache.set(m, v);
  }
  return v;
}

/**
 * An initialisation of the full model (Level F) whose Gram matrices are EXACTLY the mean state
 *   A = Q^T Q = s0^2 m I, B = K^T K = s0^2 m I, S = K^T Q = 0, C = V^T V = s0^2 m I,
 *   u = V^T r = 0, s = r^T r = s1^2 m1 m        (r = W^T a),
 * i.e. the expectation of the paper's Gaussian initialisation (Sec. 2). Started there, Level F
 * must follow the type-level system to integrator accuracy (docs/levels.md#the-arrows-between-the-levels, arrow 4).
 *
 * Construction: Q and K columns (the columns of W_Q, W_K at the k tokens of the data set) are
 * s0 sqrt(m) times 2k orthonormal vectors (so Q is orthogonal to K and S = 0), which needs
 * m >= 2k; V columns and r are s0 sqrt(m) and s1 sqrt(m1 m) times k + 1 further orthonormal
 * vectors (V and r only meet each other in u and C). W = a r^T / m1 + Z with Z^T a = 0 gives
 * W^T a = r (a^T a = m1); Z is a Gaussian N(0, s1^2) matrix projected off a. Z never enters F
 * (F depends on W only through W^T a), and gradient flow moves W only along a (dL/dW = a (dL/dr)^T),
 * so Z stays constant: it only makes W look like a generic initialisation.
 *
 * Columns of tokens that do not occur in the data set are drawn N(0, s0^2) as in the paper's
 * initialisation: with one-hot embeddings they receive zero gradient and do not affect the
 * training dynamics, but a held-out sample containing new filler tokens then sees the same kind
 * of random embedding as under the paper's initialisation (zero columns would make G = 0 and all
 * scores 0 for every unseen token).
 *
 * The orthonormal vectors are the Q factor of a seeded Gaussian m x c matrix, computed by
 * modified Gram-Schmidt with one re-orthogonalisation pass ("twice is enough", Giraud et al.,
 * Numer. Math. 2005), which keeps |Q^T Q - I| at round-off.
 */
import { UsageError } from '../errors.js';
import { Dataset } from '../data/dataset.js';
import { Params } from '../model/params.js';
import { Rng } from '../random/rng.js';

export interface OrthogonalInit {
  data: Dataset;
  m: number;
  m1: number;
  s0: number;
  s1: number;
  seed: number;
}

/**
 * Orthonormal columns: returns c vectors of length m (column j at [j*m, (j+1)*m)) spanning the
 * same space as the given Gaussian columns, orthonormal to round-off. Modifies nothing else.
 */
export function orthonormalColumns(columns: Float64Array, m: number, c: number): Float64Array {
  const X = columns.slice();
  for (let j = 0; j < c; j++) {
    const xj = j * m;
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < j; i++) {
        const xi = i * m;
        let dot = 0;
        for (let r = 0; r < m; r++) dot += X[xi + r] * X[xj + r];
        for (let r = 0; r < m; r++) X[xj + r] -= dot * X[xi + r];
      }
    }
    let norm = 0;
    for (let r = 0; r < m; r++) norm += X[xj + r] * X[xj + r];
    norm = Math.sqrt(norm);
    if (!(norm > 1e-8)) throw new Error('orthonormalColumns: columns are numerically dependent');
    for (let r = 0; r < m; r++) X[xj + r] /= norm;
  }
  return X;
}

function distinctTokens(data: Dataset): number[] {
  return Array.from(new Set(Array.from(data.tokens))).sort((p, q) => p - q);
}

export function orthogonalParams(init: OrthogonalInit): Params {
  const { data, m, m1, s0, s1, seed } = init;
  for (const [name, v] of [['m', m], ['m1', m1]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new UsageError(`${name} must be a positive integer (got ${v})`);
  }
  for (const [name, v] of [['s0', s0], ['s1', s1]] as const) {
    if (!Number.isFinite(v) || v < 0) throw new UsageError(`${name} must be a finite number >= 0 (got ${v})`);
  }
  if (!Number.isInteger(seed)) throw new UsageError(`seed must be an integer (got ${seed})`);
  const tokens = distinctTokens(data);
  const k = tokens.length;
  if (m < 2 * k) {
    throw new UsageError(
      `init=orthogonal needs m >= 2k = ${2 * k} (the data set uses k = ${k} distinct tokens; got m = ${m}); raise m or use a smaller data set`,
    );
  }
  const d = data.d;
  const rng = new Rng(`orthogonal:${seed}`);
  // Unused columns first get the paper's Gaussian draw; used ones are overwritten below.
  const WQ = rng.fillNormal(new Float64Array(m * d), s0);
  const WK = rng.fillNormal(new Float64Array(m * d), s0);
  const WV = rng.fillNormal(new Float64Array(m * d), s0);

  const qk = orthonormalColumns(rng.fillNormal(new Float64Array(m * 2 * k), 1), m, 2 * k);
  const vr = orthonormalColumns(rng.fillNormal(new Float64Array(m * (k + 1)), 1), m, k + 1);
  const colScale = s0 * Math.sqrt(m);
  tokens.forEach((x, j) => {
    for (let r = 0; r < m; r++) {
      WQ[r * d + x] = colScale * qk[j * m + r];
      WK[r * d + x] = colScale * qk[(k + j) * m + r];
      WV[r * d + x] = colScale * vr[j * m + r];
    }
  });
  const rScale = s1 * Math.sqrt(m1 * m);
  const rVec = new Float64Array(m);
  for (let c = 0; c < m; c++) rVec[c] = rScale * vr[k * m + c];

  const a = new Float64Array(m1);
  for (let j = 0; j < m1; j++) a[j] = rng.sign();
  // W = a r^T / m1 + Z, with Z = Z0 - a (a^T Z0) / m1 so that Z^T a = 0.
  const W = rng.fillNormal(new Float64Array(m1 * m), s1);
  const aZ = new Float64Array(m);
  for (let j = 0; j < m1; j++) for (let c = 0; c < m; c++) aZ[c] += a[j] * W[j * m + c];
  for (let j = 0; j < m1; j++) {
    for (let c = 0; c < m; c++) W[j * m + c] += (a[j] * (rVec[c] - aZ[c])) / m1;
  }
  return { m, m1, d, WQ, WK, WV, W, a };
}

/**
 * Random matrices for numeric checks of the algebra: weights Q, K, V (m x k), W (m1 x m),
 * a (+-1), free Gam (k x k) and gu (k), and the Gram symbols computed FROM the weights
 * (S = K^T Q, ..., r = W^T a, m1 = a^T a), so a polynomial and its rewritten form must evaluate
 * to the same matrix.
 */
import { DenseMatrix, matmul, transposeMatrix } from '../../src/symbolic/algebra/evaluate.js';
import { Rng } from '../../src/random/rng.js';

export const DIMS = { k: 3, m: 4, m1: 5 } as const;

export function randomMatrix(rng: Rng, rows: number, cols: number): DenseMatrix {
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return { rows, cols, data };
}

export function scalar(v: number): DenseMatrix {
  return { rows: 1, cols: 1, data: Float64Array.of(v) };
}

export function add(a: DenseMatrix, b: DenseMatrix, sb = 1): DenseMatrix {
  return { rows: a.rows, cols: a.cols, data: a.data.map((v, i) => v + sb * b.data[i]) };
}

export function scale(a: DenseMatrix, c: number): DenseMatrix {
  return { rows: a.rows, cols: a.cols, data: a.data.map((v) => c * v) };
}

export const T = transposeMatrix;
export const mul = (...ms: DenseMatrix[]): DenseMatrix => ms.reduce((x, y) => matmul(x, y));

export interface WeightEnv {
  env: Map<string, DenseMatrix>;
  /** weight-level values */
  Q: DenseMatrix;
  K: DenseMatrix;
  V: DenseMatrix;
  W: DenseMatrix;
  a: DenseMatrix;
  r: DenseMatrix;
  Gam: DenseMatrix;
  gu: DenseMatrix;
  eta: number;
}

export function randomEnv(seed: number): WeightEnv {
  const rng = new Rng(`symbolic-env:${seed}`);
  const { k, m, m1 } = DIMS;
  const Q = randomMatrix(rng, m, k);
  const K = randomMatrix(rng, m, k);
  const V = randomMatrix(rng, m, k);
  const W = randomMatrix(rng, m1, m);
  const a: DenseMatrix = { rows: m1, cols: 1, data: Float64Array.from({ length: m1 }, () => rng.sign()) };
  const Gam = randomMatrix(rng, k, k);
  const gu = randomMatrix(rng, k, 1);
  const eta = 0.3 + rng.uniform();
  const r = mul(T(W), a);
  const env = new Map<string, DenseMatrix>([
    ['Q', Q],
    ['K', K],
    ['V', V],
    ['W', W],
    ['a', a],
    ['r', r],
    ['Gam', Gam],
    ['gu', gu],
    ['S', mul(T(K), Q)],
    ['A', mul(T(Q), Q)],
    ['B', mul(T(K), K)],
    ['C', mul(T(V), V)],
    ['u', mul(T(V), r)],
    ['s', mul(T(r), r)],
    ['eta', scalar(eta)],
    ['m1', scalar(m1)],
  ]);
  return { env, Q, K, V, W, a, r, Gam, gu, eta };
}

export function maxAbsDiff(a: DenseMatrix, b: DenseMatrix): number {
  if (a.rows !== b.rows || a.cols !== b.cols) return Infinity;
  let d = 0;
  for (let i = 0; i < a.data.length; i++) d = Math.max(d, Math.abs(a.data[i] - b.data[i]));
  return d;
}

export function maxAbs(a: DenseMatrix): number {
  let d = 0;
  for (const v of a.data) d = Math.max(d, Math.abs(v));
  return d;
}

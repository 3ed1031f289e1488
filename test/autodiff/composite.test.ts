/**
 * Composite graphs checked against gradients derived by hand (closed forms), and two ways of
 * writing the same function checked against each other.
 */
import { describe, expect, it } from 'vitest';
import {
  constant,
  divideBroadcast,
  exp,
  leaf,
  log,
  logisticLoss,
  matmul,
  mul,
  reshape,
  scale,
  softmax,
  sum,
  sumAxis,
  transpose,
} from '../../src/autodiff/index.js';
import { makeRng, uniform } from './fd.js';

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < b.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    maxRef = Math.max(maxRef, Math.abs(b[i]));
  }
  return maxDiff / Math.max(maxRef, 1e-300);
}

describe('composites vs hand-derived gradients', () => {
  it('logistic regression: d/dw (1/n) sum_i l(y_i x_i.w) = -(1/n) sum_i y_i sigma(-y_i x_i.w) x_i', () => {
    const rng = makeRng('logreg');
    const n = 7;
    const dim = 4;
    const X = uniform(rng, n * dim, -1, 1);
    const y = Float64Array.from({ length: n }, () => (rng() < 0.5 ? -1 : 1));
    const w0 = uniform(rng, dim, -2, 2);

    const w = leaf(w0, [dim, 1]);
    const margins = mul(constant(y, [n]), reshape(matmul(constant(X, [n, dim]), w), [n]));
    const J = scale(sum(logisticLoss(margins)), 1 / n);
    J.backward();

    const expected = new Float64Array(dim);
    let expectedLoss = 0;
    for (let i = 0; i < n; i++) {
      let z = 0;
      for (let k = 0; k < dim; k++) z += X[i * dim + k] * w0[k];
      const yz = y[i] * z;
      expectedLoss += Math.log(1 + Math.exp(-yz)) / n;
      const sig = 1 / (1 + Math.exp(yz)); // sigma(-y z)
      for (let k = 0; k < dim; k++) expected[k] -= (y[i] * sig * X[i * dim + k]) / n;
    }
    expect(Math.abs(J.data[0] - expectedLoss) / expectedLoss).toBeLessThan(1e-14);
    expect(relErr(w.grad, expected)).toBeLessThan(1e-14);
  });

  it('squared Frobenius norm: d/dA ||A B||_F^2 = 2 (A B) B^T', () => {
    const rng = makeRng('frob');
    const A0 = uniform(rng, 3 * 4, -1, 1);
    const B0 = uniform(rng, 4 * 2, -1, 1);
    const A = leaf(A0, [3, 4]);
    const B = constant(B0, [4, 2]);
    const C = matmul(A, B);
    sum(mul(C, C)).backward();
    const expected = new Float64Array(12);
    for (let i = 0; i < 3; i++) {
      for (let k = 0; k < 4; k++) {
        for (let j = 0; j < 2; j++) expected[i * 4 + k] += 2 * C.data[i * 2 + j] * B0[k * 2 + j];
      }
    }
    expect(relErr(A.grad, expected)).toBeLessThan(1e-15);
  });

  it('log-sum-exp attention score: d/dq log sum_p exp(k_p.q) = K softmax(K^T q)', () => {
    const rng = makeRng('lse');
    const m = 3;
    const L = 5;
    const K0 = uniform(rng, m * L, -1, 1);
    const q0 = uniform(rng, m, -1, 1);
    const q = leaf(q0, [m, 1]);
    const K = constant(K0, [m, L]);
    const scores = matmul(transpose(K), q); // L x 1
    // log-sum-exp written with the generic ops (no fused softmax involved)
    const J = log(sum(exp(scores)));
    J.backward();
    const p = new Float64Array(L);
    let z = 0;
    for (let l = 0; l < L; l++) {
      let s = 0;
      for (let c = 0; c < m; c++) s += K0[c * L + l] * q0[c];
      p[l] = Math.exp(s);
      z += p[l];
    }
    const expected = new Float64Array(m);
    for (let c = 0; c < m; c++) for (let l = 0; l < L; l++) expected[c] += (K0[c * L + l] * p[l]) / z;
    expect(Math.abs(J.data[0] - Math.log(z))).toBeLessThan(1e-15);
    expect(relErr(q.grad, expected)).toBeLessThan(1e-14);
  });
});

describe('two implementations of softmax agree', () => {
  for (const axis of [0, 1] as const) {
    it(`fused softmax = exp / sumAxis (axis ${axis}), values and gradients`, () => {
      const rng = makeRng(`softmax${axis}`);
      const A0 = uniform(rng, 4 * 3, -2, 2);
      const C0 = uniform(rng, 4 * 3, -1, 1);
      const A1 = leaf(A0, [4, 3]);
      const A2 = leaf(A0, [4, 3]);
      const fused = softmax(A1, axis);
      const e = exp(A2);
      const composed = divideBroadcast(e, sumAxis(e, axis), axis);
      expect(relErr(fused.data, composed.data)).toBeLessThan(1e-15);
      sum(mul(fused, constant(C0, [4, 3]))).backward();
      sum(mul(composed, constant(C0, [4, 3]))).backward();
      expect(relErr(A1.grad, A2.grad)).toBeLessThan(1e-14);
      // negative control: a different cotangent gives a visibly different gradient
      const A3 = leaf(A0, [4, 3]);
      sum(mul(softmax(A3, axis), constant(C0.map((c) => c * c), [4, 3]))).backward();
      expect(relErr(A3.grad, A2.grad)).toBeGreaterThan(1e-3);
    });
  }
});

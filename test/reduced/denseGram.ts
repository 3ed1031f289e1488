/**
 * A plain dense Level G reference for the tests of the type level, written independently of
 * src/reduced (no orbits, no multiplicities): per sample the softmax forward pass and its
 * Jacobian, then the k x k matrix products of docs/levels.md#level-g done with triple loops.
 * Slow and obviously correct; it is the oracle the orbit-form algebra is compared against,
 * alongside the project's own Level G (src/gram) where that exists.
 */
import { Dataset } from '../../src/data/dataset.js';

export interface DenseGram {
  k: number;
  /** local index of each vocabulary id (-1 if unused) */
  local: Int32Array;
  size: number;
  field(y: Float64Array, dydt: Float64Array): void;
  gdStep(eta: number, y: Float64Array, yNext: Float64Array): void;
  /** Gam (k*k, key-major) and gu (k) at y */
  grads(y: Float64Array): { gam: Float64Array; gu: Float64Array; loss: number; F: Float64Array };
}

function matmul(k: number, X: Float64Array, tX: boolean, Y: Float64Array, tY: boolean): Float64Array {
  const Z = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let c = 0; c < k; c++) {
        const x = tX ? X[c * k + i] : X[i * k + c];
        const y = tY ? Y[j * k + c] : Y[c * k + j];
        s += x * y;
      }
      Z[i * k + j] = s;
    }
  }
  return Z;
}

export function denseGram(data: Dataset, m: number, m1: number): DenseGram {
  const ids = Array.from(new Set(Array.from(data.tokens))).sort((p, q) => p - q);
  const k = ids.length;
  const local = new Int32Array(data.d).fill(-1);
  ids.forEach((id, j) => (local[id] = j));
  const kk = k * k;
  const off = { S: 0, A: kk, B: 2 * kk, C: 3 * kk, u: 4 * kk, s: 4 * kk + k };
  const size = 4 * kk + k + 1;
  const { n, L } = data;
  const sc = 1 / Math.sqrt(m);

  function grads(y: Float64Array) {
    const gam = new Float64Array(kk);
    const gu = new Float64Array(k);
    const F = new Float64Array(n);
    let loss = 0;
    for (let i = 0; i < n; i++) {
      const x = Array.from({ length: L }, (_, l) => local[data.tokens[i * L + l]]);
      const P = new Float64Array(L * L);
      const Fl = new Float64Array(L);
      for (let l = 0; l < L; l++) {
        let mx = -Infinity;
        for (let p = 0; p < L; p++) mx = Math.max(mx, y[off.S + x[p] * k + x[l]] * sc);
        let Z = 0;
        for (let p = 0; p < L; p++) Z += Math.exp(y[off.S + x[p] * k + x[l]] * sc - mx);
        for (let p = 0; p < L; p++) {
          P[p * L + l] = Math.exp(y[off.S + x[p] * k + x[l]] * sc - mx) / Z;
          Fl[l] += P[p * L + l] * y[off.u + x[p]];
        }
        F[i] += Fl[l];
      }
      const margin = data.y[i] * F[i];
      loss += Math.log1p(Math.exp(-margin)) / n;
      const w = -data.y[i] / (1 + Math.exp(margin)) / n;
      for (let p = 0; p < L; p++) {
        for (let l = 0; l < L; l++) {
          gu[x[p]] += w * P[p * L + l];
          gam[x[p] * k + x[l]] += w * P[p * L + l] * (y[off.u + x[p]] - Fl[l]) * sc;
        }
      }
    }
    return { gam, gu, loss, F };
  }

  function blocks(y: Float64Array) {
    return {
      S: y.slice(off.S, off.S + kk),
      A: y.slice(off.A, off.A + kk),
      B: y.slice(off.B, off.B + kk),
      C: y.slice(off.C, off.C + kk),
      u: y.slice(off.u, off.u + k),
      s: y[off.s],
    };
  }

  function matvec(X: Float64Array, v: Float64Array): Float64Array {
    const z = new Float64Array(k);
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) z[i] += X[i * k + j] * v[j];
    return z;
  }
  const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, v, i) => s + v * b[i], 0);

  /** First-order (flow) and second-order (eta^2) parts of the GD map, docs/levels.md#level-g. */
  function parts(y: Float64Array): { d1: Float64Array; d2: Float64Array } {
    const { gam, gu } = grads(y);
    const { S, A, B, C, u, s } = blocks(y);
    const d1 = new Float64Array(size);
    const d2 = new Float64Array(size);
    const GA = matmul(k, gam, false, A, false);
    const BG = matmul(k, B, false, gam, false);
    const GtS = matmul(k, gam, true, S, false);
    const StG = matmul(k, S, true, gam, false);
    const GSt = matmul(k, gam, false, S, true);
    const SGt = matmul(k, S, false, gam, true);
    const GtBG = matmul(k, gam, true, BG, false);
    const GAGt = matmul(k, gam, false, matmul(k, A, false, gam, true), false);
    const GStG = matmul(k, gam, false, StG, false);
    const Cgu = matvec(C, gu);
    const ugu = dot(u, gu);
    for (let i = 0; i < kk; i++) {
      const b = Math.floor(i / k);
      const a = i % k;
      d1[off.S + i] = -(GA[i] + BG[i]);
      d2[off.S + i] = GStG[i];
      d1[off.A + i] = -(GtS[i] + StG[i]);
      d2[off.A + i] = GtBG[i];
      d1[off.B + i] = -(GSt[i] + SGt[i]);
      d2[off.B + i] = GAGt[i];
      d1[off.C + i] = -(gu[b] * u[a] + u[b] * gu[a]);
      d2[off.C + i] = s * gu[b] * gu[a];
    }
    for (let b = 0; b < k; b++) {
      d1[off.u + b] = -(s * gu[b] + m1 * Cgu[b]);
      d2[off.u + b] = m1 * ugu * gu[b];
    }
    d1[off.s] = -2 * m1 * ugu;
    d2[off.s] = m1 * m1 * dot(gu, Cgu);
    return { d1, d2 };
  }

  return {
    k,
    local,
    size,
    grads,
    gdStep: (eta, y, yNext) => {
      const { d1, d2 } = parts(y);
      for (let i = 0; i < size; i++) yNext[i] = y[i] + eta * d1[i] + eta * eta * d2[i];
    },
    field: (y, dydt) => dydt.set(parts(y).d1),
  };
}

/** Classic fixed-step RK4 (Kutta 1901), used to integrate both levels identically. */
export function rk4(
  f: (y: Float64Array, dydt: Float64Array) => void,
  y0: Float64Array,
  h: number,
  steps: number,
  onStep?: (step: number, y: Float64Array) => void,
): Float64Array {
  const n = y0.length;
  const y = y0.slice();
  const k1 = new Float64Array(n);
  const k2 = new Float64Array(n);
  const k3 = new Float64Array(n);
  const k4 = new Float64Array(n);
  const tmp = new Float64Array(n);
  for (let s = 0; s < steps; s++) {
    f(y, k1);
    for (let i = 0; i < n; i++) tmp[i] = y[i] + 0.5 * h * k1[i];
    f(tmp, k2);
    for (let i = 0; i < n; i++) tmp[i] = y[i] + 0.5 * h * k2[i];
    f(tmp, k3);
    for (let i = 0; i < n; i++) tmp[i] = y[i] + h * k3[i];
    f(tmp, k4);
    for (let i = 0; i < n; i++) y[i] += (h / 6) * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
    onStep?.(s + 1, y);
  }
  return y;
}

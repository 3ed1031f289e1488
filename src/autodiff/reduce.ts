/**
 * Reductions and axis-wise ops of the tape: sum, sum along an axis, broadcasting divide,
 * softmax along an axis. Each forward rule is followed by its backward rule.
 *
 * Axis convention for a 2-D tensor A (r x c): axis 0 runs down a column (reduces rows, result
 * has c entries, one per column); axis 1 runs along a row (result has r entries).
 */
import { Tensor } from './tensor.js';

function require2dAxis(A: Tensor, axis: number, op: string): void {
  if (A.shape.length !== 2) throw new RangeError(`${op}: expected a 2-D tensor, got shape [${A.shape.join(', ')}]`);
  if (axis !== 0 && axis !== 1) throw new RangeError(`${op}: axis must be 0 or 1, got ${axis}`);
}

/** Sum of all entries, as a scalar [1]. */
export function sum(A: Tensor): Tensor {
  let s = 0;
  for (let i = 0; i < A.size; i++) s += A.data[i];
  const S = new Tensor([1], Float64Array.of(s), [A]);
  S.backwardRule = () => {
    for (let i = 0; i < A.size; i++) A.grad[i] += S.grad[0];
  };
  return S;
}

/** Sum along `axis` (see the convention above); result is 1-D. */
export function sumAxis(A: Tensor, axis: 0 | 1): Tensor {
  require2dAxis(A, axis, 'sumAxis');
  const [r, c] = A.shape;
  const out = new Float64Array(axis === 0 ? c : r);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[axis === 0 ? j : i] += A.data[i * c + j];
  const S = new Tensor([out.length], out, [A]);
  // Every summand receives the adjoint of its sum.
  S.backwardRule = () => {
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) A.grad[i * c + j] += S.grad[axis === 0 ? j : i];
  };
  return S;
}

/**
 * out[i, j] = A[i, j] / v[j] (axis 0) or A[i, j] / v[i] (axis 1): v has the shape of
 * sumAxis(A, axis), so divide(A, sumAxis(A, axis), axis) normalises along that axis.
 */
export function divideBroadcast(A: Tensor, v: Tensor, axis: 0 | 1): Tensor {
  require2dAxis(A, axis, 'divideBroadcast');
  const [r, c] = A.shape;
  const need = axis === 0 ? c : r;
  if (v.shape.length !== 1 || v.size !== need) {
    throw new RangeError(`divideBroadcast: divisor must be 1-D of length ${need}, got shape [${v.shape.join(', ')}]`);
  }
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[i * c + j] = A.data[i * c + j] / v.data[axis === 0 ? j : i];
  const D = new Tensor([r, c], out, [A, v]);
  // d(a/v) = da / v - a dv / v^2; dv collects the second term over its broadcast slice.
  D.backwardRule = () => {
    for (let i = 0; i < r; i++) {
      for (let j = 0; j < c; j++) {
        const k = axis === 0 ? j : i;
        const g = D.grad[i * c + j];
        const vk = v.data[k];
        A.grad[i * c + j] += g / vk;
        v.grad[k] -= (g * A.data[i * c + j]) / (vk * vk);
      }
    }
  };
  return D;
}

/**
 * Softmax along `axis` (axis 0: each column sums to 1). Max-shifted so exp never overflows.
 * Backward (Jacobian diag(p) - p p^T per slice): dA = p * (dP - <dP, p>) slice by slice.
 */
export function softmax(A: Tensor, axis: 0 | 1): Tensor {
  require2dAxis(A, axis, 'softmax');
  const [r, c] = A.shape;
  const slices = axis === 0 ? c : r;
  const len = axis === 0 ? r : c;
  // Flat index of element t of slice s.
  const at = axis === 0 ? (s: number, t: number) => t * c + s : (s: number, t: number) => s * c + t;
  const out = new Float64Array(r * c);
  for (let s = 0; s < slices; s++) {
    let mx = -Infinity;
    for (let t = 0; t < len; t++) mx = Math.max(mx, A.data[at(s, t)]);
    let z = 0;
    for (let t = 0; t < len; t++) {
      const e = Math.exp(A.data[at(s, t)] - mx);
      out[at(s, t)] = e;
      z += e;
    }
    for (let t = 0; t < len; t++) out[at(s, t)] /= z;
  }
  const P = new Tensor([r, c], out, [A]);
  P.backwardRule = () => {
    for (let s = 0; s < slices; s++) {
      let dot = 0;
      for (let t = 0; t < len; t++) dot += P.grad[at(s, t)] * out[at(s, t)];
      for (let t = 0; t < len; t++) A.grad[at(s, t)] += out[at(s, t)] * (P.grad[at(s, t)] - dot);
    }
  };
  return P;
}

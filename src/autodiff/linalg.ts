/**
 * Structural and linear-algebra ops of the tape: matmul, transpose, column gather, reshape,
 * concat. Each forward rule is followed by its backward rule (the local derivative).
 */
import { Tensor } from './tensor.js';

function require2d(t: Tensor, op: string): void {
  if (t.shape.length !== 2) {
    throw new RangeError(`${op}: expected a 2-D tensor, got shape [${t.shape.join(', ')}]`);
  }
}

/** C = A B for A (r x k), B (k x c). */
export function matmul(A: Tensor, B: Tensor): Tensor {
  require2d(A, 'matmul');
  require2d(B, 'matmul');
  const [r, k] = A.shape;
  const [k2, c] = B.shape;
  if (k !== k2) {
    throw new RangeError(`matmul: inner dimensions differ ([${A.shape.join(', ')}] x [${B.shape.join(', ')}])`);
  }
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) {
    for (let t = 0; t < k; t++) {
      const aik = A.data[i * k + t];
      for (let j = 0; j < c; j++) out[i * c + j] += aik * B.data[t * c + j];
    }
  }
  const C = new Tensor([r, c], out, [A, B]);
  // dA = dC B^T,  dB = A^T dC.
  C.backwardRule = () => {
    for (let i = 0; i < r; i++) {
      for (let t = 0; t < k; t++) {
        let sA = 0;
        const aik = A.data[i * k + t];
        for (let j = 0; j < c; j++) {
          const g = C.grad[i * c + j];
          sA += g * B.data[t * c + j];
          B.grad[t * c + j] += aik * g;
        }
        A.grad[i * k + t] += sA;
      }
    }
  };
  return C;
}

/** A^T for a 2-D A. */
export function transpose(A: Tensor): Tensor {
  require2d(A, 'transpose');
  const [r, c] = A.shape;
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = A.data[i * c + j];
  const T = new Tensor([c, r], out, [A]);
  // The adjoint of a transpose is the transpose of the adjoint.
  T.backwardRule = () => {
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) A.grad[i * c + j] += T.grad[j * r + i];
  };
  return T;
}

/**
 * Columns idx[0], idx[1], ... of A (r x c), giving r x idx.length. This is A X for the one-hot
 * matrix X = [e_idx[0], e_idx[1], ...] (orthonormal token embeddings), without forming X.
 */
export function gatherColumns(A: Tensor, idx: ArrayLike<number>): Tensor {
  require2d(A, 'gatherColumns');
  const [r, c] = A.shape;
  const L = idx.length;
  if (L < 1) throw new RangeError('gatherColumns: empty index list');
  for (let l = 0; l < L; l++) {
    if (!Number.isInteger(idx[l]) || idx[l] < 0 || idx[l] >= c) {
      throw new RangeError(`gatherColumns: index ${idx[l]} at position ${l} is outside [0, ${c})`);
    }
  }
  const cols = Array.from(idx);
  const out = new Float64Array(r * L);
  for (let i = 0; i < r; i++) for (let l = 0; l < L; l++) out[i * L + l] = A.data[i * c + cols[l]];
  const G = new Tensor([r, L], out, [A]);
  // d(A X)/dA pushes dG X^T: scatter-add each gathered column back (repeats add up).
  G.backwardRule = () => {
    for (let i = 0; i < r; i++) for (let l = 0; l < L; l++) A.grad[i * c + cols[l]] += G.grad[i * L + l];
  };
  return G;
}

/** Same entries (row-major order), new shape. */
export function reshape(A: Tensor, shape: readonly number[]): Tensor {
  const R = new Tensor(shape, Float64Array.from(A.data), [A]);
  R.backwardRule = () => {
    for (let i = 0; i < A.size; i++) A.grad[i] += R.grad[i];
  };
  return R;
}

/** Concatenation of 1-D tensors (e.g. per-sample scalars into one vector). */
export function concat(parts: readonly Tensor[]): Tensor {
  if (parts.length === 0) throw new RangeError('concat: no tensors given');
  for (const p of parts) {
    if (p.shape.length !== 1) throw new RangeError(`concat: expected 1-D tensors, got shape [${p.shape.join(', ')}]`);
  }
  const total = parts.reduce((acc, p) => acc + p.size, 0);
  const out = new Float64Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p.data, offset);
    offset += p.size;
  }
  const C = new Tensor([total], out, parts);
  // Each part receives its own slice of the adjoint.
  C.backwardRule = () => {
    let o = 0;
    for (const p of parts) {
      for (let i = 0; i < p.size; i++) p.grad[i] += C.grad[o + i];
      o += p.size;
    }
  };
  return C;
}

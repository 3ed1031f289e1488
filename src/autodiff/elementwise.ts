/**
 * Elementwise ops of the tape. Each forward rule is followed by its backward rule.
 */
import { Tensor } from './tensor.js';

function requireSameShape(A: Tensor, B: Tensor, op: string): void {
  if (A.shape.length !== B.shape.length || A.shape.some((s, i) => s !== B.shape[i])) {
    throw new RangeError(`${op}: shapes differ ([${A.shape.join(', ')}] vs [${B.shape.join(', ')}])`);
  }
}

export function add(A: Tensor, B: Tensor): Tensor {
  requireSameShape(A, B, 'add');
  const out = new Float64Array(A.size);
  for (let i = 0; i < A.size; i++) out[i] = A.data[i] + B.data[i];
  const C = new Tensor(A.shape, out, [A, B]);
  C.backwardRule = () => {
    for (let i = 0; i < A.size; i++) {
      A.grad[i] += C.grad[i];
      B.grad[i] += C.grad[i];
    }
  };
  return C;
}

export function sub(A: Tensor, B: Tensor): Tensor {
  requireSameShape(A, B, 'sub');
  const out = new Float64Array(A.size);
  for (let i = 0; i < A.size; i++) out[i] = A.data[i] - B.data[i];
  const C = new Tensor(A.shape, out, [A, B]);
  C.backwardRule = () => {
    for (let i = 0; i < A.size; i++) {
      A.grad[i] += C.grad[i];
      B.grad[i] -= C.grad[i];
    }
  };
  return C;
}

/** Hadamard product. */
export function mul(A: Tensor, B: Tensor): Tensor {
  requireSameShape(A, B, 'mul');
  const out = new Float64Array(A.size);
  for (let i = 0; i < A.size; i++) out[i] = A.data[i] * B.data[i];
  const C = new Tensor(A.shape, out, [A, B]);
  // d(ab) = b da + a db.
  C.backwardRule = () => {
    for (let i = 0; i < A.size; i++) {
      A.grad[i] += C.grad[i] * B.data[i];
      B.grad[i] += C.grad[i] * A.data[i];
    }
  };
  return C;
}

/**
 * f applied to every entry of A. Backward: A.grad[i] += dA(g, x, fx) with g the entry of C's
 * gradient, x = A's entry and fx = f(x) (the chain rule's g f'(x), written per op).
 */
function unary(A: Tensor, f: (x: number) => number, dA: (g: number, x: number, fx: number) => number): Tensor {
  const out = new Float64Array(A.size);
  for (let i = 0; i < A.size; i++) out[i] = f(A.data[i]);
  const C = new Tensor(A.shape, out, [A]);
  C.backwardRule = () => {
    for (let i = 0; i < A.size; i++) A.grad[i] += dA(C.grad[i], A.data[i], out[i]);
  };
  return C;
}

/** c * A for a constant c. */
export function scale(A: Tensor, c: number): Tensor {
  return unary(A, (x) => c * x, (g) => c * g);
}

export function exp(A: Tensor): Tensor {
  // (e^x)' = e^x, reuse the forward value.
  return unary(A, Math.exp, (g, _x, fx) => g * fx);
}

export function log(A: Tensor): Tensor {
  return unary(A, Math.log, (g, x) => g / x);
}

/**
 * The paper's logistic loss l(x) = log(1 + exp(-x)), elementwise, computed without overflow:
 * l(x) = log1p(exp(-x)) for x >= 0 and -x + log1p(exp(x)) for x < 0 (exp never sees a
 * positive argument). l'(x) = -1/(1 + exp(x)) = -g, the paper's per-sample weight g.
 */
export function logisticLoss(A: Tensor): Tensor {
  const out = new Float64Array(A.size);
  for (let i = 0; i < A.size; i++) {
    const x = A.data[i];
    out[i] = x >= 0 ? Math.log1p(Math.exp(-x)) : -x + Math.log1p(Math.exp(x));
  }
  const C = new Tensor(A.shape, out, [A]);
  C.backwardRule = () => {
    for (let i = 0; i < A.size; i++) {
      const x = A.data[i];
      // 1/(1+e^x) written so that exp never overflows: e^-x/(1+e^-x) when x >= 0.
      const g = x >= 0 ? Math.exp(-x) / (1 + Math.exp(-x)) : 1 / (1 + Math.exp(x));
      A.grad[i] -= C.grad[i] * g;
    }
  };
  return C;
}

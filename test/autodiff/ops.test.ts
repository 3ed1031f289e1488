/**
 * Each op's backward rule against central finite differences (the oracle) on random inputs,
 * plus a negative control showing the same check catches a wrong backward rule.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  Tensor,
  add,
  concat,
  divideBroadcast,
  exp,
  gatherColumns,
  log,
  logisticLoss,
  matmul,
  mul,
  reshape,
  scale,
  softmax,
  sub,
  sum,
  sumAxis,
  transpose,
} from '../../src/autodiff/index.js';
import { backwardVsFiniteDifferences, makeRng, uniform, type InputSpec, type Rand, type Reference } from './fd.js';
import { measure } from '../measure.js';

// Central differences with h = 1e-6 on O(1) smooth functions: truncation ~h^2 = 1e-12,
// round-off ~eps/h = 1e-10 relative. 1e-8 leaves two orders of margin and still catches any
// wrong rule (errors of those are O(1), see the negative control).
const TOL = 1e-8;

function spec(rng: Rand, shape: number[], lo = -2, hi = 2): InputSpec {
  return { shape, values: uniform(rng, shape.reduce((a, b) => a * b, 1), lo, hi) };
}

const SEEDS = ['s1', 's2', 's3'];

interface Case {
  name: string;
  build: (xs: Tensor[]) => Tensor;
  /** the op's forward with plain loops and Math: what the finite differences differentiate */
  ref: Reference;
  inputs: (rng: Rand) => InputSpec[];
}

// Plain-JS forwards (row-major), independent of src/autodiff.
const map = (x: Float64Array, f: (v: number) => number) => x.map(f);
const zip = (a: Float64Array, b: Float64Array, f: (u: number, v: number) => number) => a.map((u, i) => f(u, b[i]));
function matmulRef(r: number, k: number, c: number): Reference {
  return ([A, B]) => {
    const out = new Float64Array(r * c);
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) for (let q = 0; q < k; q++) out[i * c + j] += A[i * k + q] * B[q * c + j];
    return out;
  };
}
function transposeRef(r: number, c: number): Reference {
  return ([A]) => {
    const out = new Float64Array(r * c);
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = A[i * c + j];
    return out;
  };
}
function gatherRef(r: number, c: number, idx: number[]): Reference {
  return ([A]) => {
    const out = new Float64Array(r * idx.length);
    for (let i = 0; i < r; i++) idx.forEach((col, j) => (out[i * idx.length + j] = A[i * c + col]));
    return out;
  };
}
/** sum over rows (axis 0, one entry per column) or over columns (axis 1, one per row) */
function sumAxisRef(r: number, c: number, axis: 0 | 1): Reference {
  return ([A]) => {
    const out = new Float64Array(axis === 0 ? c : r);
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[axis === 0 ? j : i] += A[i * c + j];
    return out;
  };
}
function divideRef(r: number, c: number, axis: 0 | 1): Reference {
  return ([A, v]) => A.map((x, p) => x / v[axis === 0 ? p % c : Math.floor(p / c)]);
}
/** exp(A) / sum exp(A) along the axis (inputs are O(1): no shift needed) */
function softmaxRef(r: number, c: number, axis: 0 | 1): Reference {
  return ([A]) => {
    const e = A.map(Math.exp);
    const z = sumAxisRef(r, c, axis)([e]);
    return e.map((x, p) => x / z[axis === 0 ? p % c : Math.floor(p / c)]);
  };
}

const cases: Case[] = [
  { name: 'matmul', build: ([A, B]) => matmul(A, B), ref: matmulRef(3, 4, 2), inputs: (r) => [spec(r, [3, 4]), spec(r, [4, 2])] },
  { name: 'matmul (row vector times matrix)', build: ([A, B]) => matmul(A, B), ref: matmulRef(1, 5, 3), inputs: (r) => [spec(r, [1, 5]), spec(r, [5, 3])] },
  { name: 'transpose', build: ([A]) => transpose(A), ref: transposeRef(3, 5), inputs: (r) => [spec(r, [3, 5])] },
  {
    name: 'gatherColumns (with a repeated column)',
    build: ([A]) => gatherColumns(A, Int32Array.of(4, 0, 2, 4, 1)),
    ref: gatherRef(3, 6, [4, 0, 2, 4, 1]),
    inputs: (r) => [spec(r, [3, 6])],
  },
  { name: 'reshape', build: ([A]) => reshape(A, [2, 3]), ref: ([A]) => Float64Array.from(A), inputs: (r) => [spec(r, [6])] },
  { name: 'concat', build: ([a, b]) => concat([a, b, a]), ref: ([a, b]) => Float64Array.from([...a, ...b, ...a]), inputs: (r) => [spec(r, [2]), spec(r, [3])] },
  { name: 'add', build: ([A, B]) => add(A, B), ref: ([A, B]) => zip(A, B, (u, v) => u + v), inputs: (r) => [spec(r, [2, 3]), spec(r, [2, 3])] },
  { name: 'sub', build: ([A, B]) => sub(A, B), ref: ([A, B]) => zip(A, B, (u, v) => u - v), inputs: (r) => [spec(r, [2, 3]), spec(r, [2, 3])] },
  { name: 'mul', build: ([A, B]) => mul(A, B), ref: ([A, B]) => zip(A, B, (u, v) => u * v), inputs: (r) => [spec(r, [4]), spec(r, [4])] },
  { name: 'mul (same tensor twice: x^2)', build: ([A]) => mul(A, A), ref: ([A]) => map(A, (v) => v * v), inputs: (r) => [spec(r, [5])] },
  { name: 'scale', build: ([A]) => scale(A, -0.37), ref: ([A]) => map(A, (v) => -0.37 * v), inputs: (r) => [spec(r, [2, 2])] },
  { name: 'exp', build: ([A]) => exp(A), ref: ([A]) => map(A, Math.exp), inputs: (r) => [spec(r, [3, 2])] },
  { name: 'log', build: ([A]) => log(A), ref: ([A]) => map(A, Math.log), inputs: (r) => [spec(r, [3, 2], 0.5, 3)] },
  // l(x) = log(1 + e^-x), written literally (|x| <= 6: no overflow)
  { name: 'logisticLoss', build: ([A]) => logisticLoss(A), ref: ([A]) => map(A, (v) => Math.log(1 + Math.exp(-v))), inputs: (r) => [spec(r, [7], -6, 6)] },
  { name: 'sum', build: ([A]) => sum(A), ref: ([A]) => Float64Array.of(A.reduce((acc, v) => acc + v, 0)), inputs: (r) => [spec(r, [3, 4])] },
  { name: 'sumAxis 0', build: ([A]) => sumAxis(A, 0), ref: sumAxisRef(3, 4, 0), inputs: (r) => [spec(r, [3, 4])] },
  { name: 'sumAxis 1', build: ([A]) => sumAxis(A, 1), ref: sumAxisRef(3, 4, 1), inputs: (r) => [spec(r, [3, 4])] },
  {
    name: 'divideBroadcast axis 0',
    build: ([A, v]) => divideBroadcast(A, v, 0),
    ref: divideRef(3, 4, 0),
    inputs: (r) => [spec(r, [3, 4]), spec(r, [4], 0.5, 2)],
  },
  {
    name: 'divideBroadcast axis 1',
    build: ([A, v]) => divideBroadcast(A, v, 1),
    ref: divideRef(3, 4, 1),
    inputs: (r) => [spec(r, [3, 4]), spec(r, [3], -2, -0.5)],
  },
  { name: 'softmax axis 0', build: ([A]) => softmax(A, 0), ref: softmaxRef(4, 3, 0), inputs: (r) => [spec(r, [4, 3], -3, 3)] },
  { name: 'softmax axis 1', build: ([A]) => softmax(A, 1), ref: softmaxRef(4, 3, 1), inputs: (r) => [spec(r, [4, 3], -3, 3)] },
];

/** forward of the tape vs the plain reference: same formula, different evaluation order at most */
const TOL_FORWARD = 1e-14;
const worst = { backward: 0, forward: 0 };

describe('backward rule of each op = central finite differences of a plain-JS forward', () => {
  for (const c of cases) {
    it(c.name, () => {
      let compared = 0;
      for (const seed of SEEDS) {
        const rng = makeRng(`${c.name}:${seed}`);
        const r = backwardVsFiniteDifferences(c.build, c.ref, c.inputs(rng), rng);
        worst.backward = Math.max(worst.backward, r.maxRel);
        worst.forward = Math.max(worst.forward, r.forwardRel);
        expect(r.forwardRel).toBeLessThanOrEqual(TOL_FORWARD);
        expect(r.maxRel).toBeLessThanOrEqual(TOL);
        compared += r.compared;
      }
      expect(compared).toBeGreaterThan(0);
    });
  }
  afterAll(() => measure('autodiff ops: worst backward vs FD, worst forward vs plain JS', [worst.backward, worst.forward]));
});

describe('numerical robustness', () => {
  it('logisticLoss is finite and accurate at |x| = 800 where exp overflows', () => {
    const x = new Tensor([4], Float64Array.of(800, -800, 40, -40));
    const l = logisticLoss(x);
    // l(800) = log1p(e^-800) underflows to 0; l(-800) = 800 + log1p(e^-800) = 800 exactly in
    // float64; l(40) = e^-40 to relative 1e-17; l(-40) = 40 + e^-40.
    expect(Array.from(l.data)).toEqual([0, 800, Math.exp(-40), 40 + Math.exp(-40)]);
    sum(l).backward();
    // l'(x) = -1/(1+e^x): 0 (underflow) at 800, -1 at -800.
    expect(x.grad[0]).toBe(0);
    expect(x.grad[1]).toBe(-1);
    expect(Math.abs(x.grad[2] + Math.exp(-40)) / Math.exp(-40)).toBeLessThan(1e-15);
  });

  it('softmax of huge scores is finite (max shift) and columns sum to 1', () => {
    const A = new Tensor([2, 2], Float64Array.of(1000, -1000, 999, -1001));
    const P = softmax(A, 0);
    const e = 1 / (1 + Math.exp(-1)); // column [1000, 999] -> [e, 1 - e]
    expect(Math.abs(P.data[0] - e)).toBeLessThan(1e-15);
    expect(Math.abs(P.data[0] + P.data[2] - 1)).toBeLessThan(1e-15);
    expect(Math.abs(P.data[1] + P.data[3] - 1)).toBeLessThan(1e-15);
  });
});

describe('negative control', () => {
  it('the finite-difference check rejects a wrong backward rule', () => {
    // A product whose backward forgets the factor B on the A side (a typical slip).
    const wrongMul = (A: Tensor, B: Tensor): Tensor => {
      const out = new Float64Array(A.size);
      for (let i = 0; i < A.size; i++) out[i] = A.data[i] * B.data[i];
      const C = new Tensor(A.shape, out, [A, B]);
      C.backwardRule = () => {
        for (let i = 0; i < A.size; i++) {
          A.grad[i] += C.grad[i];
          B.grad[i] += C.grad[i] * A.data[i];
        }
      };
      return C;
    };
    const rng = makeRng('negative');
    const { maxRel, perInput, forwardRel } = backwardVsFiniteDifferences(([A, B]) => wrongMul(A, B), ([A, B]) => A.map((v, i) => v * B[i]), [spec(rng, [5]), spec(rng, [5])], rng);
    expect(forwardRel).toBe(0); // the forward is right; only the backward rule is wrong
    expect(maxRel).toBeGreaterThan(1e-2);
    expect(perInput[1]).toBeLessThanOrEqual(TOL); // the correct half still passes
  });

  it('a wrong forward rule is caught by the plain reference (FD of the tape itself would miss it)', () => {
    // exp whose forward is 2 e^x and backward consistently 2 e^x: self-consistent, so differences
    // of the tape's own forward would agree with it; the reference exp does not.
    const wrongExp = (A: Tensor): Tensor => {
      const C = new Tensor(A.shape, A.data.map((v) => 2 * Math.exp(v)), [A]);
      C.backwardRule = () => {
        for (let i = 0; i < A.size; i++) A.grad[i] += C.grad[i] * C.data[i];
      };
      return C;
    };
    const rng = makeRng('negative-forward');
    const r = backwardVsFiniteDifferences(([A]) => wrongExp(A), ([A]) => A.map(Math.exp), [spec(rng, [6])], rng);
    expect(r.forwardRel).toBeGreaterThan(0.5);
    expect(r.maxRel).toBeGreaterThan(0.5);
  });
});

describe('shape errors', () => {
  it('are thrown, not silently broadcast', () => {
    const a = new Tensor([2, 3], new Float64Array(6));
    const b = new Tensor([3, 2], new Float64Array(6));
    expect(() => add(a, b)).toThrow(/shapes differ/);
    expect(() => matmul(a, a)).toThrow(/inner dimensions/);
    expect(() => gatherColumns(a, [3])).toThrow(/outside \[0, 3\)/);
    expect(() => sum(a).backward()).not.toThrow();
    expect(() => a.backward()).toThrow(/scalar/);
  });
});

/**
 * Test helper: checks an op's backward rule against central finite differences.
 *
 * For an op f and a random cotangent w (same shape as f's output), the tape's backward() of
 * J = sum(w * f(inputs)) gives the vector-Jacobian product w^T (df/dx) for every input x; the
 * oracle is (J(x + h e_k) - J(x - h e_k)) / (2h) entry by entry. Error per input is
 * max_k |ad_k - fd_k| / max(max_k |fd_k|, 1e-300) (the project's relative definition).
 */
import seedrandom from 'seedrandom';
import { Tensor, constant, leaf, mul, scalarValue, sum } from '../../src/autodiff/index.js';

export type Rand = () => number;

export function makeRng(seed: string): Rand {
  return seedrandom.alea(seed);
}

/** Uniform in [lo, hi). */
export function uniform(rng: Rand, size: number, lo: number, hi: number): Float64Array {
  const out = new Float64Array(size);
  for (let i = 0; i < size; i++) out[i] = lo + (hi - lo) * rng();
  return out;
}

export interface InputSpec {
  shape: number[];
  values: Float64Array;
}

function objective(build: (xs: Tensor[]) => Tensor, inputs: InputSpec[], w: Float64Array | null) {
  const leaves = inputs.map((s) => leaf(s.values, s.shape));
  const out = build(leaves);
  const cot = w ?? new Float64Array(out.size);
  const J = sum(mul(out, constant(cot, out.shape)));
  return { leaves, out, J };
}

/** Max over inputs of the relative error of the tape's gradient vs central differences. */
export function backwardVsFiniteDifferences(
  build: (xs: Tensor[]) => Tensor,
  inputs: InputSpec[],
  rng: Rand,
  h = 1e-6,
): { maxRel: number; perInput: number[] } {
  const probe = objective(build, inputs, null);
  const w = uniform(rng, probe.out.size, -1, 1);
  const { leaves, J } = objective(build, inputs, w);
  J.backward();
  const perInput: number[] = [];
  inputs.forEach((spec, idx) => {
    const fd = new Float64Array(spec.values.length);
    for (let k = 0; k < spec.values.length; k++) {
      const x0 = spec.values[k];
      const step = h * Math.max(1, Math.abs(x0));
      const shifted = (x: number) => {
        const vals = inputs.map((s, j) => (j === idx ? Float64Array.from(s.values) : s.values));
        vals[idx][k] = x;
        return scalarValue(objective(build, inputs.map((s, j) => ({ shape: s.shape, values: vals[j] })), w).J);
      };
      const xp = x0 + step;
      const xm = x0 - step;
      fd[k] = (shifted(xp) - shifted(xm)) / (xp - xm);
    }
    let maxDiff = 0;
    let maxRef = 0;
    const ad = leaves[idx].grad;
    for (let k = 0; k < fd.length; k++) {
      const diff = Math.abs(ad[k] - fd[k]);
      maxDiff = Number.isNaN(diff) ? Infinity : Math.max(maxDiff, diff);
      maxRef = Math.max(maxRef, Math.abs(fd[k]));
    }
    perInput.push(maxDiff / Math.max(maxRef, 1e-300));
  });
  return { maxRel: Math.max(...perInput), perInput };
}

/**
 * Test helper: checks an op's backward rule against central finite differences.
 *
 * For an op f and a random cotangent w (same shape as f's output), the tape's backward() of
 * J = sum(w * f(inputs)) gives the vector-Jacobian product w^T (df/dx) for every input x. The
 * oracle is (J_ref(x + h e_k) - J_ref(x - h e_k)) / (2h) entry by entry, where J_ref = sum(w *
 * ref(inputs)) uses a REFERENCE forward written with plain loops and Math (never the tape), so a
 * wrong forward rule of the op cannot hide on both sides. The tape's forward value is also
 * compared with the reference (forwardRel). Error per input is
 * max_k |ad_k - fd_k| / max(max_k |fd_k|, 1e-300) (the project's relative definition).
 */
import seedrandom from 'seedrandom';
import { Tensor, constant, leaf, mul, sum } from '../../src/autodiff/index.js';

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

/** A plain-JS forward of an op: input values (row-major) -> output values (row-major, flattened). */
export type Reference = (xs: Float64Array[]) => Float64Array;

/**
 * Max over inputs of the relative error of the tape's gradient vs central differences of the
 * reference forward; forwardRel = max |tape(x) - ref(x)| / max |ref(x)| at the inputs.
 */
export function backwardVsFiniteDifferences(
  build: (xs: Tensor[]) => Tensor,
  ref: Reference,
  inputs: InputSpec[],
  rng: Rand,
  h = 1e-6,
): { maxRel: number; perInput: number[]; forwardRel: number; compared: number } {
  const probe = objective(build, inputs, null);
  const w = uniform(rng, probe.out.size, -1, 1);
  const { leaves, out, J } = objective(build, inputs, w);
  J.backward();
  const refOut = ref(inputs.map((s) => s.values));
  let fwdDiff = refOut.length === out.size ? 0 : Infinity;
  let fwdScale = 0;
  for (let i = 0; i < refOut.length; i++) {
    const diff = Math.abs(out.data[i] - refOut[i]);
    fwdDiff = Number.isNaN(diff) ? Infinity : Math.max(fwdDiff, diff);
    fwdScale = Math.max(fwdScale, Math.abs(refOut[i]));
  }
  const Jref = (vals: Float64Array[]): number => {
    const o = ref(vals);
    let acc = 0;
    for (let i = 0; i < o.length; i++) acc += w[i] * o[i];
    return acc;
  };
  const perInput: number[] = [];
  let compared = 0;
  inputs.forEach((spec, idx) => {
    const fd = new Float64Array(spec.values.length);
    for (let k = 0; k < spec.values.length; k++) {
      const x0 = spec.values[k];
      const step = h * Math.max(1, Math.abs(x0));
      const shifted = (x: number) => {
        const vals = inputs.map((s, j) => (j === idx ? Float64Array.from(s.values) : s.values));
        vals[idx][k] = x;
        return Jref(vals);
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
      compared++;
    }
    perInput.push(maxDiff / Math.max(maxRef, 1e-300));
  });
  return { maxRel: Math.max(...perInput), perInput, forwardRel: fwdDiff / Math.max(fwdScale, 1e-300), compared };
}

/**
 * A tableau of more stages than DOPRI5's 7 (and more terms per combination than the 8 of the
 * explicit-argument kernels), run end to end on the SIMD kernels.
 *
 * The Dopri5 driver runs only DOPRI5 (its tableau, vector count and controller exponents are
 * fixed), so the steps here are taken through the driver's own code path, written out: the
 * tableau as data (validateTableau, buildTableau), its nonzero coefficients per row (as
 * Dopri5's constructor), StageKernels.linearCombination for the stages and y_new,
 * StageKernels.errorNormSq for the error estimate, FSAL by swapping K[0] and K[s-1] and their
 * offsets (as Dopri5.step), every step accepted (as its 'fixed' controller).
 *
 * The method: classical RK4 applied three times with step h/3, as one explicit tableau of 12
 * stages, plus an FSAL stage f(t + h, y_new) (13 stages), with the trapezoidal rule
 * (k_1 + k_13) / 2 as the embedded solution (order 2). Its order conditions hold exactly to
 * order 4 (checked below), so on y' = -lambda y one step multiplies by R(-lambda h / 3)^3,
 * R(z) = 1 + z + z^2/2 + z^3/6 + z^4/24, and the global error against e^(-lambda t) is O(h^4).
 */
import { describe, expect, it } from 'vitest';
import { integrateFixedSteps } from '../../src/ode/fixedStep.js';
import { Rational } from '../../src/exact/rational.js';
import type { RationalPair } from '../../src/ode/tableau.js';
import { StageKernels, StageMemory } from '../../src/ode/simd.js';
import { buildTableau, validateTableau, type ButcherTableau, type RationalTableau } from '../../src/ode/tableau.js';
import type { VectorField } from '../../src/ode/types.js';
import { setKernelMemoryCapForTests } from '../../src/wasm/memory.js';
import { measure } from '../measure.js';

const RK4_C: RationalPair[] = [[0, 1], [1, 2], [1, 2], [1, 1]];
const RK4_A: RationalPair[][] = [[], [[1, 2]], [[0, 1], [1, 2]], [[0, 1], [0, 1], [1, 1]]];
const RK4_B: RationalPair[] = [[1, 6], [1, 3], [1, 3], [1, 6]];

/** RK4 m times with step 1/m as one tableau, plus the FSAL stage; bHat = trapezoid (k_1 + k_s) / 2. */
function composedRk4(m: number): RationalTableau {
  const s = 4 * m + 1;
  const zero = (): RationalPair[] => Array.from({ length: s }, (): RationalPair => [0, 1]);
  const c: RationalPair[] = [];
  const a: RationalPair[][] = [];
  const b = zero();
  for (let k = 0; k < m; k++) {
    for (let i = 0; i < 4; i++) {
      const row = zero();
      for (let kk = 0; kk < k; kk++) for (let j = 0; j < 4; j++) row[4 * kk + j] = [RK4_B[j][0], RK4_B[j][1] * m];
      RK4_A[i].forEach(([p, q], j) => (row[4 * k + j] = [p, q * m]));
      a.push(row);
      // c = (k + c_i) / m
      c.push([k * RK4_C[i][1] + RK4_C[i][0], RK4_C[i][1] * m]);
    }
    for (let j = 0; j < 4; j++) b[4 * k + j] = [RK4_B[j][0], RK4_B[j][1] * m];
  }
  a.push(b.slice());
  c.push([1, 1]);
  const bHat = zero();
  bHat[0] = [1, 2];
  bHat[s - 1] = [1, 2];
  return { name: `RK4 x ${m} (FSAL, trapezoid estimate)`, order: 4, embeddedOrder: 2, c, a, b, bHat, denseD: zero() };
}

function nonzeros(row: Float64Array): [Int32Array, Float64Array] {
  const cols: number[] = [];
  for (let j = 0; j < row.length; j++) if (row[j] !== 0) cols.push(j);
  return [Int32Array.from(cols), Float64Array.from(cols, (j) => row[j])];
}

/** Fixed steps of an FSAL tableau on the kernels, as Dopri5.step does them (see the file comment). */
function stepOnKernels(tab: ButcherTableau, f: VectorField, y0: Float64Array, tEnd: number, nSteps: number, onStep: (yOld: Float64Array, yNew: Float64Array, K: Float64Array[], errSq: number, h: number) => void): Float64Array {
  const n = y0.length;
  const s = tab.stages;
  const mem = new StageMemory(n, s + 4);
  const kernels = new StageKernels(mem);
  let y = mem.take();
  let yNew = mem.take();
  const yStage = mem.take();
  const atol = mem.take();
  atol.fill(1e-12);
  mem.pad(atol, 1);
  const K = Array.from({ length: s }, () => mem.take());
  const kPtr = Int32Array.from(K, (k) => mem.address(k));
  const rows = tab.a.map(nonzeros);
  const [bCols, bCoef] = nonzeros(tab.b);
  const [eCols, eCoef] = nonzeros(tab.e);
  y.set(y0);
  f(0, y, K[0]);
  const h = tEnd / nSteps;
  for (let step = 0; step < nSteps; step++) {
    const t = step * h;
    for (let st = 1; st < s - 1; st++) {
      kernels.linearCombination(yStage, y, h, rows[st][0], rows[st][1], kPtr);
      f(t + tab.c[st] * h, yStage, K[st]);
    }
    kernels.linearCombination(yNew, y, h, bCols, bCoef, kPtr);
    f(t + h, yNew, K[s - 1]);
    onStep(y, yNew, K, kernels.errorNormSq(h, eCols, eCoef, kPtr, y, yNew, atol, 1e-9), h);
    [y, yNew] = [yNew, y];
    [K[0], K[s - 1]] = [K[s - 1], K[0]];
    [kPtr[0], kPtr[s - 1]] = [kPtr[s - 1], kPtr[0]];
  }
  return Float64Array.from(y);
}

/** y_i' = -lambda_i y_i; three components, so every vector has a padding entry. */
const LAMBDA = [1, 0.5, 2.5];
const decay: VectorField = (_t, y, d) => {
  for (let i = 0; i < y.length; i++) d[i] = -LAMBDA[i] * y[i];
};
const Y0 = Float64Array.of(1, -2, 0.75);

describe('a 13-stage tableau (RK4 three times, FSAL) on the SIMD kernels', () => {
  const rational = composedRk4(3);
  const tab = buildTableau(rational);

  it('is a valid FSAL pair of order 4 (exact order conditions) whose combinations need up to 13 terms', () => {
    const x = validateTableau(rational);
    expect(tab.stages).toBe(13);
    const dot = (w: Rational[], v: Rational[]) => w.reduce((acc, wi, i) => acc.add(wi.mul(v[i])), Rational.ZERO);
    const times = (u: Rational[], v: Rational[]) => u.map((ui, i) => ui.mul(v[i]));
    const A = (v: Rational[]) => x.a.map((row) => dot(row, v));
    const c = x.c;
    const c2 = times(c, c);
    const one = (p: number, q: number) => new Rational(p, q);
    // the 8 rooted trees to order 4 (HNW I, Table II.2.2)
    const conditions: [Rational[], Rational][] = [
      [c.map(() => Rational.ONE), one(1, 1)],
      [c, one(1, 2)],
      [c2, one(1, 3)],
      [A(c), one(1, 6)],
      [times(c2, c), one(1, 4)],
      [times(c, A(c)), one(1, 8)],
      [A(c2), one(1, 12)],
      [A(A(c)), one(1, 24)],
    ];
    for (const [phi, rhs] of conditions) expect(dot(x.b, phi).equals(rhs)).toBe(true);
    // order exactly 4 (the quadrature condition of order 5 fails); the estimate has order 2
    expect(dot(x.b, times(c2, c2)).equals(one(1, 5))).toBe(false);
    expect(dot(x.bHat, c).equals(one(1, 2))).toBe(true);
    expect(dot(x.bHat, c2).equals(one(1, 3))).toBe(false);
    const terms = (v: Float64Array) => v.filter((z) => z !== 0).length;
    expect(Math.max(...tab.a.map(terms))).toBe(12);
    expect(terms(tab.b)).toBe(12);
    expect(terms(tab.e)).toBe(13);
  });

  it('integrates y = -lambda y: R(-lambda h/3)^(3N) to round-off, order 4 against e^(-lambda t), bit for bit the plain fixed-step integrator', () => {
    const errors: number[] = [];
    let worstAmplification = 0;
    for (const N of [4, 8, 16, 32]) {
      let maxEstimateGap = 0;
      const y = stepOnKernels(tab, decay, Y0, 1, N, (yOld, yNew, K, errSq, h) => {
        // the 13-term error estimate: h sum_j e_j k_j = y_new - trapezoid, in the norm's weights
        let sum = 0;
        for (let i = 0; i < yOld.length; i++) {
          const err = yNew[i] - (yOld[i] + (h / 2) * (K[0][i] + K[12][i]));
          const r = err / (1e-12 + 1e-9 * Math.max(Math.abs(yOld[i]), Math.abs(yNew[i])));
          sum += r * r;
        }
        maxEstimateGap = Math.max(maxEstimateGap, Math.abs(Math.sqrt(errSq) - Math.sqrt(sum)) / Math.sqrt(sum));
      });
      expect(maxEstimateGap).toBeLessThan(1e-9);
      // the plain-JS integrator of src/ode/fixedStep.ts (all stages, zero coefficients included)
      const plain = integrateFixedSteps(tab, 'propagated', decay, 0, Y0, 1, N);
      expect(Array.from(y)).toEqual(Array.from(plain));
      let err = 0;
      for (let i = 0; i < y.length; i++) {
        const z = -LAMBDA[i] / N / 3;
        const R = 1 + z + (z * z) / 2 + (z * z * z) / 6 + (z * z * z * z) / 24;
        const gap = Math.abs(y[i] - Y0[i] * R ** (3 * N)) / (Math.abs(Y0[i]) * N);
        expect(gap).toBeLessThan(1e-14);
        worstAmplification = Math.max(worstAmplification, gap);
        err = Math.max(err, Math.abs(y[i] - Y0[i] * Math.exp(-LAMBDA[i])));
      }
      errors.push(err);
    }
    const orders = errors.slice(1).map((e, k) => Math.log2(errors[k] / e));
    measure('13-stage tableau: |y - y0 R^(3N)| / (|y0| N), worst', worstAmplification);
    measure('13-stage tableau: log2 of successive error ratios (N = 4..32)', orders);
    for (const p of orders) {
      expect(p).toBeGreaterThan(3.8);
      expect(p).toBeLessThan(4.3);
    }
  });
  it('the same steps on plain vectors (a StageMemory above the kernel memory\'s cap) give the same bits, error estimates included', () => {
    const run = () => {
      const estimates: number[] = [];
      const y = stepOnKernels(tab, decay, Y0, 1, 8, (_yOld, _yNew, _K, errSq) => estimates.push(errSq));
      return [...y, ...estimates];
    };
    const simd = run();
    const saved = setKernelMemoryCapForTests(0);
    try {
      expect(new StageMemory(Y0.length, tab.stages + 4).simd).toBe(false);
      const plain = run();
      expect(plain.length).toBe(simd.length);
      plain.forEach((v, i) => expect(Object.is(v, simd[i]), `entry ${i}: ${v} vs ${simd[i]}`).toBe(true));
    } finally {
      setKernelMemoryCapForTests(saved);
    }
  });
});

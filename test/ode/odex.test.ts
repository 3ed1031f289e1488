/**
 * Cross-check against an independent integrator of a different family: odex (Hairer's ODEX,
 * Gragg-Bulirsch-Stoer extrapolation). Both at rtol = atol = 1e-10 must agree to 1e-7; a loose
 * Dormand-Prince solve must not (so the comparison can fail).
 */
import { describe, expect, test } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { drive, linspace, OdexStepper, solve, solveIvp, type VectorField } from '../../src/ode/index.js';
import { lotkaVolterra, lvInvariant } from './problems.js';

/** odex's step limit per output interval (each interval needs well under 20 steps here) */
const ODEX_STEPS = 200;

/** Euler's rigid body (3-dim nonlinear), conserving |y|^2 and the energy. */
const I = [2, 1, 2 / 3];
const rigidBody: VectorField = (_t, y, d) => {
  d[0] = ((I[1] - I[2]) / (I[1] * I[2])) * y[1] * y[2];
  d[1] = ((I[2] - I[0]) / (I[2] * I[0])) * y[2] * y[0];
  d[2] = ((I[0] - I[1]) / (I[0] * I[1])) * y[0] * y[1];
};

function dopriAt(f: VectorField, y0: number[], tOut: Float64Array, tol: number): Float64Array[] {
  const out: Float64Array[] = [];
  // at most 318 trial steps measured (Lotka-Volterra at 1e-10)
  const r = solveIvp({ f, t0: 0, y0: Float64Array.from(y0), tEnd: tOut[tOut.length - 1], rtol: tol, atol: tol, maxSteps: 3000, tEval: tOut, onSample: (_t, y) => out.push(Float64Array.from(y)) });
  expect(r.status).toBe('success');
  expect(out.length).toBe(tOut.length);
  return out;
}

/** odex (through solve, i.e. the OdexStepper and the one driver) at the output times tOut. */
function odexSolve(o: { f: VectorField; t0: number; y0: Float64Array; tOut: Float64Array | number[]; rtol: number; atol: number; maxSteps: number }) {
  const tOut = Array.from(o.tOut);
  const r = solve(o.f, [o.t0, tOut[tOut.length - 1]], o.y0, { method: 'odex', tEval: tOut, rtol: o.rtol, atol: o.atol, maxSteps: o.maxSteps });
  return { status: r.status, samples: r.y, t: r.t };
}

function maxDiff(a: Float64Array[], b: Float64Array[]): number {
  expect(a.length).toBe(b.length);
  expect(a.length).toBeGreaterThan(0);
  let m = 0;
  a.forEach((ya, i) => ya.forEach((v, j) => (m = Math.max(m, Math.abs(v - b[i][j])))));
  return m;
}

describe('odex cross-check', () => {
  test('Lotka-Volterra on [0, 20] at rtol 1e-10: Dormand-Prince and odex agree to 1e-7 at 21 times', () => {
    const tOut = linspace(0, 20, 21);
    const ode = odexSolve({ f: lotkaVolterra, t0: 0, y0: Float64Array.of(1, 1), tOut, rtol: 1e-10, atol: 1e-10, maxSteps: ODEX_STEPS });
    expect(ode.status).toBe('success');
    expect(ode.samples.length).toBe(21);
    const dp = dopriAt(lotkaVolterra, [1, 1], tOut, 1e-10);
    expect(maxDiff(dp, ode.samples)).toBeLessThan(1e-7);
    // Both keep the first integral (an oracle independent of either integrator).
    for (const y of ode.samples) expect(Math.abs(lvInvariant(y[0], y[1]) - lvInvariant(1, 1))).toBeLessThan(1e-8);
  });

  test('rigid body (3-dim) on [0, 10]: agree to 1e-7', () => {
    const tOut = linspace(0, 10, 11);
    const y0 = [Math.cos(1.1), 0, Math.sin(1.1)];
    const ode = odexSolve({ f: rigidBody, t0: 0, y0: Float64Array.from(y0), tOut, rtol: 1e-10, atol: 1e-10, maxSteps: ODEX_STEPS });
    expect(ode.status).toBe('success');
    const dp = dopriAt(rigidBody, y0, tOut, 1e-10);
    expect(maxDiff(dp, ode.samples)).toBeLessThan(1e-7);
    for (const y of dp) expect(Math.abs(y[0] ** 2 + y[1] ** 2 + y[2] ** 2 - 1)).toBeLessThan(1e-9);
  });

  test('negative control: Dormand-Prince at rtol 1e-3 is caught (differs from odex by more than 1e-7)', () => {
    const tOut = linspace(0, 20, 21);
    const ode = odexSolve({ f: lotkaVolterra, t0: 0, y0: Float64Array.of(1, 1), tOut, rtol: 1e-10, atol: 1e-10, maxSteps: ODEX_STEPS });
    const loose = dopriAt(lotkaVolterra, [1, 1], tOut, 1e-3);
    expect(maxDiff(loose, ode.samples)).toBeGreaterThan(1e-7);
  });

  test("NaN: the adapter reports 'non-finite' with the outputs before it (odex itself runs on)", () => {
    const f: VectorField = (t, y, d) => {
      d[0] = t > 0.5 ? Number.NaN : -y[0];
    };
    const r = odexSolve({ f, t0: 0, y0: Float64Array.of(1), tOut: [0, 0.25, 0.5, 1], rtol: 1e-8, atol: 1e-8, maxSteps: 50 });
    expect(r.status).toBe('non-finite');
    expect(r.samples.length).toBe(3);
    expect(Math.abs(r.samples[2][0] - Math.exp(-0.5))).toBeLessThan(1e-10); // measured 8.2e-13 (rtol 1e-8)
  });

  test('bad input is a usage error', () => {
    expect(() => odexSolve({ f: lotkaVolterra, t0: 0, y0: Float64Array.of(1, 1), tOut: [1, 0.5], rtol: 1e-8, atol: 1e-8, maxSteps: 10 })).toThrow(UsageError);
    const stepper = (nodes: number[], atol: number | Float64Array = 1e-8) => new OdexStepper({ f: lotkaVolterra, t0: 0, y0: Float64Array.of(1, 1), nodes, rtol: 1e-8, atol, maxSteps: 10 });
    expect(() => stepper([0.5, 0.5])).toThrow(/strictly monotone/);
    expect(() => stepper([1], Float64Array.of(1e-8))).toThrow(/2 positive values/);
  });

  test('as a Stepper: a snapshot at a node restarts odex exactly (every node is a step end, never interpolated)', () => {
    const nodes = [0.5, 1, 1.5, 2];
    const whole = drive(new OdexStepper({ f: lotkaVolterra, t0: 0, y0: Float64Array.of(1, 1), nodes, rtol: 1e-10, atol: 1e-10, maxSteps: ODEX_STEPS }));
    const first = drive(new OdexStepper({ f: lotkaVolterra, t0: 0, y0: Float64Array.of(1, 1), nodes, rtol: 1e-10, atol: 1e-10, maxSteps: ODEX_STEPS }), { onStep: (s) => s.t < 1 });
    expect(first.status).toBe('user-stop');
    expect(first.t).toBe(1);
    const second = drive(new OdexStepper({ f: lotkaVolterra, resumeFrom: first.resume, nodes, rtol: 1e-10, atol: 1e-10, maxSteps: ODEX_STEPS }), { resumed: true });
    expect(second.status).toBe('success');
    expect(Array.from(second.y)).toEqual(Array.from(whole.y));
    expect(second.stats).toEqual(whole.stats);
    // and the oracle: the Lotka-Volterra first integral is kept
    expect(Math.abs(lvInvariant(whole.y[0], whole.y[1]) - lvInvariant(1, 1))).toBeLessThan(1e-8);
  });
});

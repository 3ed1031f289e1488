/**
 * The starting step size (HNW I, Sect. II.4; Hairer's HINIT, scipy's select_initial_step), seen
 * through the solver: after construction Dopri5.h is the first trial step and nfev = 2 (f(t0, y0)
 * and the one probe). Oracles: a closed form for y' = y^2, and the algorithm written out here
 * from its published description for a nonlinear system. Negative control: the same algorithm
 * with h0 = 0.1 d0/d1 instead of 0.01 d0/d1 gives another step (no other test saw that change).
 */
import { describe, expect, test } from 'vitest';
import { Dopri5, type VectorField } from '../../src/ode/index.js';
import { measure } from '../measure.js';

/** HNW I, II.4, with the RMS norm weighted by atol_i + rtol |y0_i| (q = 4: exponent 1/5). */
function hinit(f: VectorField, y0: number[], rtol: number, atol: number, span: number, h0Factor = 0.01): number {
  const n = y0.length;
  const sc = y0.map((v) => atol + rtol * Math.abs(v));
  const rms = (v: number[]) => Math.sqrt(v.reduce((s, x, i) => s + (x / sc[i]) ** 2, 0) / n);
  const f0 = new Float64Array(n);
  f(0, Float64Array.from(y0), f0);
  const d0 = rms(y0);
  const d1 = rms(Array.from(f0));
  const h0 = Math.min(d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : h0Factor * (d0 / d1), span);
  const f1 = new Float64Array(n);
  f(h0, Float64Array.from(y0, (v, i) => v + h0 * f0[i]), f1);
  const d2 = rms(Array.from(f1, (v, i) => v - f0[i])) / h0;
  const dMax = Math.max(d1, d2);
  const h1 = dMax <= 1e-15 ? Math.max(1e-6, h0 * 1e-3) : (0.01 / dMax) ** (1 / 5);
  return Math.min(100 * h0, h1, span);
}

const square: VectorField = (_t, y, d) => {
  for (let i = 0; i < y.length; i++) d[i] = y[i] * y[i];
};
// A nonlinear 3-component system with t in it (so the probe's t matters too), curved enough that
// the probe's d2 (about 5 d1 here) decides the step.
const mixed: VectorField = (t, y, d) => {
  d[0] = 3 * y[1] * y[2] + t;
  d[1] = -4 * y[0] * y[0] * y[1];
  d[2] = Math.sin(3 * y[0]) - 2 * y[2] * y[2];
};

function firstStep(f: VectorField, y0: number[], rtol: number, atol: number, tEnd: number) {
  const s = new Dopri5({ f, t0: 0, y0: Float64Array.from(y0), tEnd, rtol, atol, maxSteps: 10 });
  return { h: s.h, nfev: s.stats.nfev };
}

describe('initial step size', () => {
  test("y' = y^2, y0 = 1, rtol = atol = 1e-6: h = (0.01 / d2)^(1/5) with d2 = (1.01^2 - 1) / (2e-6 * 0.01) (hand-computed)", () => {
    // sc = 2e-6, d0 = d1 = 5e5, h0 = 0.01, y1 = 1.01, f1 = 1.0201: d2 = 0.0201 / 2e-6 / 0.01 = 1.005e6 > d1
    const want = (0.01 / 1.005e6) ** (1 / 5);
    const { h, nfev } = firstStep(square, [1], 1e-6, 1e-6, 10);
    expect(nfev).toBe(2);
    measure('initial step y^2 vs closed form, relative', Math.abs(h - want) / want);
    expect(Math.abs(h - want) / want).toBeLessThan(1e-14);
    // negative control: with h0 = 0.1 d0/d1 the probe gives d2 = 0.21 / 2e-6 / 0.1 = 1.05e6
    const mutated = (0.01 / 1.05e6) ** (1 / 5);
    expect(Math.abs(mutated - want) / want).toBeGreaterThan(1e-3);
  });

  test('a nonlinear 3-component system at several tolerances: the solver = the algorithm written out here', () => {
    let compared = 0;
    for (const [rtol, atol] of [
      [1e-3, 1e-6],
      [1e-8, 1e-10],
      [1e-10, 1e-12],
    ]) {
      const y0 = [0.3, -1.2, 2.5];
      const { h, nfev } = firstStep(mixed, y0, rtol, atol, 50);
      const want = hinit(mixed, y0, rtol, atol, 50);
      expect(nfev).toBe(2);
      measure(`initial step, nonlinear system, rtol ${rtol}: relative difference`, Math.abs(h - want) / want);
      expect(Math.abs(h - want) / want).toBeLessThan(1e-14);
      // negative control: with h0 = 0.1 d0/d1 the probe lands elsewhere (9e-4 relative here)
      expect(Math.abs(hinit(mixed, y0, rtol, atol, 50, 0.1) - want) / want).toBeGreaterThan(1e-4);
      compared++;
    }
    expect(compared).toBe(3);
  });

  test('the step is clipped to the span and to hMax; an explicit h0 skips the probe', () => {
    expect(firstStep(square, [1], 1e-3, 1e-3, 1e-4).h).toBe(1e-4);
    const capped = new Dopri5({ f: square, t0: 0, y0: Float64Array.of(1), tEnd: 10, rtol: 1e-3, atol: 1e-3, maxSteps: 10, hMax: 1e-5 });
    expect(capped.h).toBe(1e-5);
    const given = new Dopri5({ f: square, t0: 0, y0: Float64Array.of(1), tEnd: 10, rtol: 1e-3, atol: 1e-3, maxSteps: 10, h0: 0.125 });
    expect(given.h).toBe(0.125);
    expect(given.stats.nfev).toBe(1);
  });
});

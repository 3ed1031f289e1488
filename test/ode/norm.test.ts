/**
 * The step-size control uses the RMS error norm (Hairer; scipy's solve_ivp): replicating a
 * system n times must not change the steps. Oracle: the same solve of one copy. A 2-norm (or a
 * sum) grows with sqrt(n) (n), so it would force smaller steps on the replicated system and show
 * here as more evaluations; so would a max-norm mixed with a sum. This is what let a 2-norm pass
 * every other test while the 57,344-component paper-fig1 flow needed 2.5x the evaluations.
 */
import { describe, expect, test } from 'vitest';
import { solveIvp, type VectorField } from '../../src/ode/index.js';

// Lotka-Volterra, one copy per pair of components.
const lv =
  (copies: number): VectorField =>
  (_t, y, dy) => {
    for (let c = 0; c < copies; c++) {
      const x = y[2 * c];
      const z = y[2 * c + 1];
      dy[2 * c] = 1.5 * x - x * z;
      dy[2 * c + 1] = -3 * z + x * z;
    }
  };

function solve(copies: number) {
  const y0 = new Float64Array(2 * copies);
  for (let c = 0; c < copies; c++) {
    y0[2 * c] = 10;
    y0[2 * c + 1] = 5;
  }
  return solveIvp({ f: lv(copies), t0: 0, y0, tEnd: 10, rtol: 1e-8, atol: 1e-10, maxSteps: 100000 });
}

describe('RMS error norm', () => {
  test('n identical copies take exactly as many steps as one copy, with the same state to round-off', () => {
    const one = solve(1);
    for (const copies of [4, 1000]) {
      const many = solve(copies);
      expect(many.stats.nfev).toBe(one.stats.nfev);
      expect(many.stats.naccepted).toBe(one.stats.naccepted);
      // The summed squares round differently from one square, so the step sizes agree to a few
      // ulps and the states to round-off, not bit for bit.
      for (let c = 0; c < copies; c++) {
        expect(Math.abs(many.y[2 * c] - one.y[0])).toBeLessThan(1e-12 * Math.abs(one.y[0]));
        expect(Math.abs(many.y[2 * c + 1] - one.y[1])).toBeLessThan(1e-12 * Math.abs(one.y[1]));
      }
    }
  });

  test('negative control: copies that differ in scale do change the steps (the norm sees every component)', () => {
    const y0 = Float64Array.of(10, 5, 1000, 500);
    const r = solveIvp({ f: lv(2), t0: 0, y0, tEnd: 10, rtol: 1e-8, atol: 1e-10, maxSteps: 100000 });
    expect(r.stats.nfev).not.toBe(solve(1).stats.nfev);
  });
});

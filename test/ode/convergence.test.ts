/**
 * Convergence order with step-size control off: the global error of a p-th order method with
 * constant steps is C h^p + O(h^(p+1)), so the log-log slope over a range of h is p.
 */
import { describe, expect, test } from 'vitest';
import { DOPRI5, Dopri5, integrateFixedSteps } from '../../src/ode/index.js';
import { logLogSlope, smoothNonlinear } from './problems.js';

const T = 2;
const exact = smoothNonlinear.exact(T);
const errorOf = (y: ArrayLike<number>) => Math.hypot(y[0] - exact[0], y[1] - exact[1]);

function dopri5Fixed(nSteps: number): Dopri5 {
  const s = new Dopri5({ f: smoothNonlinear.f, t0: 0, y0: Float64Array.of(1, 1), tEnd: T, rtol: 1e-6, atol: 1e-6, maxSteps: 10 * nSteps, controller: 'fixed', h0: T / nSteps });
  while (s.step() === 'running');
  return s;
}

describe('convergence order, fixed steps', () => {
  test('propagated 5th-order solution (the solver itself, controller off): slope 5 +- 0.3', () => {
    const Ns = [16, 32, 64, 128];
    const errs = Ns.map((N) => {
      const s = dopri5Fixed(N);
      expect(s.status).toBe('success');
      expect(s.stats.naccepted).toBe(N);
      expect(s.stats.nrejected).toBe(0);
      return errorOf(s.y);
    });
    const slope = logLogSlope(Ns.map((N) => T / N), errs);
    expect(slope).toBeGreaterThan(4.7);
    expect(slope).toBeLessThan(5.3);
  });

  test('embedded 4th-order weights propagated: slope 4 +- 0.3', () => {
    const Ns = [32, 64, 128, 256];
    const errs = Ns.map((N) => errorOf(integrateFixedSteps(DOPRI5, 'embedded', smoothNonlinear.f, 0, Float64Array.of(1, 1), T, N)));
    const slope = logLogSlope(Ns.map((N) => T / N), errs);
    expect(slope).toBeGreaterThan(3.7);
    expect(slope).toBeLessThan(4.3);
  });

  test('the simple reference integrator (b weights) matches the solver kernel to round-off', () => {
    for (const N of [16, 64]) {
      const a = dopri5Fixed(N).y;
      const b = integrateFixedSteps(DOPRI5, 'propagated', smoothNonlinear.f, 0, Float64Array.of(1, 1), T, N);
      for (let i = 0; i < 2; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(1e-14 * Math.abs(b[i]));
    }
  });

  test('negative control: a 4th-order method does not pass the 5th-order slope test', () => {
    const Ns = [16, 32, 64, 128];
    const errs = Ns.map((N) => errorOf(integrateFixedSteps(DOPRI5, 'embedded', smoothNonlinear.f, 0, Float64Array.of(1, 1), T, N)));
    const slope = logLogSlope(Ns.map((N) => T / N), errs);
    expect(slope < 4.7 || slope > 5.3).toBe(true);
  });
});

/**
 * Adaptive solves of problems with exact solutions or exact first integrals, measured in
 * tolerance units, with a work bound. nfev bounds are 1.5x the values measured when this test
 * was written (listed per case), so a change that wastes work or ignores tolerances fails.
 */
import { describe, expect, test } from 'vitest';
import { DOPRI5, Dopri5, integrateFixedSteps, solveIvp, type ControllerKind, type VectorField } from '../../src/ode/index.js';
import { decay, jordan, lotkaVolterra, lvInvariant, rotation, toleranceUnits } from './problems.js';

interface Case {
  name: string;
  f: VectorField;
  y0: number[];
  tEnd: number;
  /** Error in tolerance units against the exact solution or invariant. */
  error: (y: Float64Array, tol: number) => number;
  /** Measured nfev per [controller][tol]. */
  measured: Record<ControllerKind, Record<string, number>>;
}

const TR = 20 * Math.PI;
const cases: Case[] = [
  {
    name: "linear decay y' = -y on [0, 10]",
    f: decay,
    y0: [1],
    tEnd: 10,
    error: (y, tol) => toleranceUnits(y, [Math.exp(-10)], tol, tol),
    measured: { PI: { '1e-6': 152, '1e-10': 758 }, I: { '1e-6': 134, '1e-10': 704 }, fixed: {} },
  },
  {
    name: "Jordan block y' = A y (matrix exponential) on [0, 5]",
    f: jordan.f,
    y0: [1, 1, 1],
    tEnd: 5,
    error: (y, tol) => toleranceUnits(y, jordan.exact(5, [1, 1, 1]), tol, tol),
    measured: { PI: { '1e-6': 116, '1e-10': 590 }, I: { '1e-6': 104, '1e-10': 548 }, fixed: {} },
  },
  {
    name: 'harmonic rotation, 10 periods, exact (cos t, sin t)',
    f: rotation,
    y0: [1, 0],
    tEnd: TR,
    error: (y, tol) => toleranceUnits(y, [Math.cos(TR), Math.sin(TR)], tol, tol),
    measured: { PI: { '1e-6': 1472, '1e-10': 9320 }, I: { '1e-6': 1382, '1e-10': 8798 }, fixed: {} },
  },
  {
    name: 'harmonic rotation, 10 periods, invariant x^2 + y^2 = 1',
    f: rotation,
    y0: [1, 0],
    tEnd: TR,
    error: (y, tol) => Math.abs(y[0] * y[0] + y[1] * y[1] - 1) / tol,
    measured: { PI: { '1e-6': 1472, '1e-10': 9320 }, I: { '1e-6': 1382, '1e-10': 8798 }, fixed: {} },
  },
  {
    name: 'Lotka-Volterra on [0, 30], first integral V',
    f: lotkaVolterra,
    y0: [1, 1],
    tEnd: 30,
    error: (y, tol) => Math.abs(lvInvariant(y[0], y[1]) - lvInvariant(1, 1)) / tol,
    measured: { PI: { '1e-6': 518, '1e-10': 2840 }, I: { '1e-6': 578, '1e-10': 2678 }, fixed: {} },
  },
];

const FACTOR = 100;

describe('exact-solution problems in tolerance units (rtol = atol = tol)', () => {
  for (const c of cases) {
    for (const controller of ['PI', 'I'] as const) {
      for (const tol of [1e-6, 1e-10]) {
        const key = tol === 1e-6 ? '1e-6' : '1e-10';
        const bound = Math.ceil(1.5 * c.measured[controller][key]);
        test(`${c.name}, ${controller}, tol ${key}: error < ${FACTOR} tol, nfev <= ${bound}`, () => {
          // maxSteps: 3x the measured trial steps ((nfev - 2) / 6), so a broken controller fails fast
          const r = solveIvp({ f: c.f, t0: 0, y0: Float64Array.from(c.y0), tEnd: c.tEnd, rtol: tol, atol: tol, maxSteps: Math.ceil((3 * c.measured[controller][key]) / 6), controller });
          expect(r.status).toBe('success');
          expect(r.t).toBe(c.tEnd);
          expect(c.error(r.y, tol)).toBeLessThan(FACTOR);
          expect(r.stats.nfev).toBeLessThanOrEqual(bound);
          // Bookkeeping identity: 6 new stages per trial step (FSAL) + f(t0) + initial-step probe.
          expect(r.stats.nfev).toBe(6 * (r.stats.naccepted + r.stats.nrejected) + 2);
        });
      }
    }
  }

  test('tightening the tolerance by 1e4 reduces the error by at least 1e3 (the solver follows the tolerance)', () => {
    // at most 1553 trial steps measured (tol 1e-10)
    const run = (tol: number) => {
      const r = solveIvp({ f: rotation, t0: 0, y0: Float64Array.of(1, 0), tEnd: TR, rtol: tol, atol: tol, maxSteps: 5000 });
      expect(r.status).toBe('success');
      return r;
    };
    const e6 = toleranceUnits(run(1e-6).y, [Math.cos(TR), Math.sin(TR)], 1, 0);
    const e10 = toleranceUnits(run(1e-10).y, [Math.cos(TR), Math.sin(TR)], 1, 0);
    expect(e6 / e10).toBeGreaterThan(1e3);
  });

  test('per-component atol is honoured: a loose atol on a component near 0 lets the solver take fewer steps', () => {
    // Component 1 decays to ~1e-9; with atol 1e-3 on it the solver need not resolve it.
    const f: VectorField = (_t, y, d) => {
      d[0] = -0.1 * y[0];
      d[1] = -2 * y[1];
    };
    // 148 and 16 trial steps measured
    const tight = solveIvp({ f, t0: 0, y0: Float64Array.of(1, 1), tEnd: 10, rtol: 1e-8, atol: Float64Array.of(1e-12, 1e-12), maxSteps: 1000 });
    const loose = solveIvp({ f, t0: 0, y0: Float64Array.of(1, 1), tEnd: 10, rtol: 1e-8, atol: Float64Array.of(1e-12, 1e-3), maxSteps: 1000 });
    expect(tight.status).toBe('success');
    expect(loose.status).toBe('success');
    expect(loose.stats.nfev).toBeLessThan(tight.stats.nfev);
    expect(Math.abs(loose.y[1] - Math.exp(-20))).toBeLessThan(1e-3);
    expect(Math.abs(tight.y[1] - Math.exp(-20))).toBeLessThan(1e-10);
  });
});

describe('local error estimate against the exact one-step error', () => {
  // y' = -y^2 has the exact flow y -> y / (1 + h y), so each step's true local error is known.
  const f: VectorField = (_t, y, d) => {
    d[0] = -y[0] * y[0];
  };
  function ratios(tol: number): { r5: number[]; r4: number[] } {
    // at most 130 trial steps measured (tol 1e-10); a 'max-steps' stop throws below
    const s = new Dopri5({ f, t0: 0, y0: Float64Array.of(1), tEnd: 50, rtol: tol, atol: tol, maxSteps: 1000 });
    const r5: number[] = [];
    const r4: number[] = [];
    for (;;) {
      const st = s.step();
      if (st !== 'running' && st !== 'success') throw new Error(s.message);
      const y0 = s.yOld[0];
      const exactEnd = y0 / (1 + s.hLast * y0);
      // errorNorm is |err| / (atol + rtol max(|y0|, |y1|)) for one component: undo the scaling.
      const est = s.errorNorm * (tol + tol * Math.max(Math.abs(y0), Math.abs(s.y[0])));
      const y4 = integrateFixedSteps(DOPRI5, 'embedded', f, s.tOld, s.yOld, s.t, 1)[0];
      r5.push(Math.abs(s.y[0] - exactEnd) / est);
      r4.push(Math.abs(y4 - exactEnd) / est);
      if (st === 'success') return { r5, r4 };
    }
  }

  test('tol 1e-10: estimate is the embedded solution\'s true error to 10% and bounds the propagated error 10x', () => {
    const { r5, r4 } = ratios(1e-10);
    expect(r4.length).toBeGreaterThan(50);
    for (const r of r4) {
      expect(r).toBeGreaterThan(0.9);
      expect(r).toBeLessThan(1.1);
    }
    for (const r of r5) expect(r).toBeLessThan(0.1);
  });

  test('tol 1e-8: embedded true error / estimate in [0.7, 1.1], propagated error below half the estimate', () => {
    const { r5, r4 } = ratios(1e-8);
    expect(r4.length).toBeGreaterThan(20); // every step compared (the loops below run)
    for (const r of r4) {
      expect(r).toBeGreaterThan(0.7);
      expect(r).toBeLessThan(1.1);
    }
    for (const r of r5) expect(r).toBeLessThan(0.5);
  });

  test('tol 1e-6 (large steps): the estimate still bounds the propagated error on average', () => {
    const { r5 } = ratios(1e-6);
    expect(r5.length).toBeGreaterThan(5);
    const mean = r5.reduce((p, q) => p + q) / r5.length;
    expect(mean).toBeLessThan(1);
  });
});

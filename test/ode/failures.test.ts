/**
 * Failures are reported with a distinct status, a message, and everything computed up to the
 * last good point. Oracles: exact solutions up to the failure (e^-t; 1/(1-t) for the blow-up of
 * y' = y^2) and exact step counts.
 */
import { describe, expect, test } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { Dopri5, linspace, solveIvp, type VectorField } from '../../src/ode/index.js';
import { rotation } from './problems.js';

describe('failure statuses', () => {
  test("NaN after t = 1: status 'non-finite', last good state returned and correct, samples up to it", () => {
    const f: VectorField = (t, y, d) => {
      d[0] = t > 1 ? Number.NaN : -y[0];
    };
    const tEval = linspace(0, 2, 21);
    let samples = 0;
    const r = solveIvp({ f, t0: 0, y0: Float64Array.of(1), tEnd: 2, rtol: 1e-8, atol: 1e-10, maxSteps: 200, tEval, onSample: () => samples++ });
    expect(r.status).toBe('non-finite');
    expect(r.message).toMatch(/non-finite/);
    expect(r.t).toBeLessThanOrEqual(1);
    expect(r.t).toBeGreaterThan(0.5);
    expect(Math.abs(r.y[0] - Math.exp(-r.t))).toBeLessThan(1e-8);
    expect(samples).toBe(tEval.filter((t) => t <= r.t).length);
    expect(r.samplesDelivered).toBe(samples);
    expect(r.stats.naccepted).toBeGreaterThan(0);
    expect(r.resume.t).toBe(r.t);
  });

  test("Inf in the derivative is 'non-finite' too; so is f(t0, y0) = NaN (no step taken)", () => {
    const inf = solveIvp({ f: (t, y, d) => void (d[0] = t > 0.3 ? Infinity : 1), t0: 0, y0: Float64Array.of(0), tEnd: 1, rtol: 1e-6, atol: 1e-6, maxSteps: 100 });
    expect(inf.status).toBe('non-finite');
    expect(inf.t).toBeLessThanOrEqual(0.3);
    expect(Math.abs(inf.y[0] - inf.t)).toBeLessThan(1e-15); // y = t exactly up to round-off (measured 2.8e-17)
    const start = solveIvp({ f: (_t, _y, d) => void (d[0] = Number.NaN), t0: 0, y0: Float64Array.of(1), tEnd: 1, rtol: 1e-6, atol: 1e-6, maxSteps: 100 });
    expect(start.status).toBe('non-finite');
    expect(start.t).toBe(0);
    expect(start.y[0]).toBe(1);
    expect(start.stats.naccepted).toBe(0);
  });

  test("blow-up y' = y^2, y(0) = 1 (y = 1/(1-t)) to t = 2: 'step-too-small' at the pole t = 1", () => {
    const f: VectorField = (_t, y, d) => {
      d[0] = y[0] * y[0];
    };
    let worstBeforeBlowUp = 0;
    let compared = 0;
    const r = solveIvp({
      f,
      t0: 0,
      y0: Float64Array.of(1),
      tEnd: 2,
      rtol: 1e-8,
      atol: 1e-8,
      maxSteps: 5000, // 509 trial steps measured before the floor stops it
      onStep: (t, y) => {
        if (y[0] >= 100) return;
        worstBeforeBlowUp = Math.max(worstBeforeBlowUp, Math.abs(y[0] * (1 - t) - 1));
        compared++;
      },
    });
    expect(compared).toBeGreaterThan(20); // the accuracy check below saw the steps up to y = 100
    expect(r.status).toBe('step-too-small');
    expect(r.message).toMatch(/fell below the floor/);
    // The numerical solution has its own pole within ~tol of t = 1 (measured: 1 + 1.1e-9).
    expect(Math.abs(r.t - 1)).toBeLessThan(1e-7);
    expect(r.y[0]).toBeGreaterThan(1e10);
    expect(worstBeforeBlowUp).toBeLessThan(1e-6);
  });

  test('hMin is a floor: the same blow-up stops earlier, with hMin named in the message', () => {
    const f: VectorField = (_t, y, d) => {
      d[0] = y[0] * y[0];
    };
    const r = solveIvp({ f, t0: 0, y0: Float64Array.of(1), tEnd: 2, rtol: 1e-8, atol: 1e-8, maxSteps: 2000, hMin: 1e-6 }); // 181 measured
    expect(r.status).toBe('step-too-small');
    expect(r.message).toMatch(/hMin = 0\.000001/);
    // Stopped on the way up, well before the floor-limited stop at ~1 + 1e-9 (previous test).
    expect(r.t).toBeLessThan(1 - 1e-6);
    expect(r.t).toBeGreaterThan(0.99);
    // y (1 - t) - 1 grows like (pole-time error ~1e-9) * y; at y ~ 1e4-1e5 that is < 1e-3.
    expect(Math.abs(r.y[0] * (1 - r.t) - 1)).toBeLessThan(1e-3);
  });

  test("maxSteps: 'max-steps' after exactly maxSteps trial steps, state correct at the returned time", () => {
    const r = solveIvp({ f: rotation, t0: 0, y0: Float64Array.of(1, 0), tEnd: 100, rtol: 1e-8, atol: 1e-8, maxSteps: 10 });
    expect(r.status).toBe('max-steps');
    expect(r.stats.naccepted + r.stats.nrejected).toBe(10);
    expect(r.t).toBeLessThan(100);
    expect(Math.abs(r.y[0] - Math.cos(r.t))).toBeLessThan(1e-7);
    expect(Math.abs(r.y[1] - Math.sin(r.t))).toBeLessThan(1e-7);
  });

  test("onStep returning false: 'user-stop' at that accepted step", () => {
    let calls = 0;
    const r = solveIvp({ f: rotation, t0: 0, y0: Float64Array.of(1, 0), tEnd: 100, rtol: 1e-8, atol: 1e-8, maxSteps: 100, onStep: () => ++calls < 5 });
    expect(r.status).toBe('user-stop');
    expect(r.stats.naccepted).toBe(5);
    expect(calls).toBe(5);
    expect(Math.abs(r.y[0] - Math.cos(r.t))).toBeLessThan(1e-7);
  });

  test('onStep receives t, the state, the signed step and the stats', () => {
    const hs: number[] = [];
    let lastT = 0;
    const r = solveIvp({
      f: rotation,
      t0: 0,
      y0: Float64Array.of(1, 0),
      tEnd: -3,
      rtol: 1e-6,
      atol: 1e-6,
      maxSteps: 200, // 14 measured
      onStep: (t, y, h, stats) => {
        expect(t).toBe(lastT + h);
        expect(Math.abs(y[0] - Math.cos(t))).toBeLessThan(1e-5);
        expect(stats.naccepted).toBe(hs.length + 1);
        hs.push(h);
        lastT = t;
      },
    });
    expect(r.status).toBe('success');
    expect(hs.length).toBe(r.stats.naccepted); // the checks inside onStep ran at every step
    expect(hs.length).toBeGreaterThan(5);
    expect(hs.every((h) => h < 0)).toBe(true);
  });

  test('step() after the end is an error', () => {
    const s = new Dopri5({ f: rotation, t0: 0, y0: Float64Array.of(1, 0), tEnd: 0.1, rtol: 1e-6, atol: 1e-6, maxSteps: 20 });
    while (s.step() === 'running');
    expect(s.status).toBe('success');
    expect(() => s.step()).toThrow(/after the solve ended/);
  });
});

describe('backward integration', () => {
  test("y' = -y from 0 to -5 (y = e^5) and rotation backwards, against exact solutions", () => {
    const r = solveIvp({ f: (_t, y, d) => void (d[0] = -y[0]), t0: 0, y0: Float64Array.of(1), tEnd: -5, rtol: 1e-10, atol: 1e-10, maxSteps: 1000 }); // 138 measured
    expect(r.status).toBe('success');
    expect(r.t).toBe(-5);
    expect(Math.abs(r.y[0] - Math.exp(5)) / Math.exp(5)).toBeLessThan(100 * 1e-10);
    const tEval = linspace(0, -10, 11);
    const errs: number[] = [];
    // 250 trial steps measured
    const back = solveIvp({ f: rotation, t0: 0, y0: Float64Array.of(1, 0), tEnd: -10, rtol: 1e-10, atol: 1e-10, maxSteps: 2000, tEval, onSample: (t, y) => errs.push(Math.hypot(y[0] - Math.cos(t), y[1] - Math.sin(t))) });
    expect(back.status).toBe('success');
    expect(errs.length).toBe(11);
    expect(Math.max(...errs)).toBeLessThan(100 * 1e-10);
  });

  test('a backward grid must be decreasing', () => {
    expect(() => solveIvp({ f: rotation, t0: 0, y0: Float64Array.of(1, 0), tEnd: -1, rtol: 1e-6, atol: 1e-6, maxSteps: 100, tEval: [0, 0.5], onSample: () => {} })).toThrow(/strictly decreasing/);
  });
});

describe('input validation (UsageError naming the field)', () => {
  const base = { f: rotation, t0: 0, y0: Float64Array.of(1, 0), tEnd: 1, rtol: 1e-6, atol: 1e-6, maxSteps: 100 };
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['rtol missing', { rtol: undefined }, /rtol/],
    ['atol negative', { atol: -1 }, /atol\[0\]/],
    ['atol wrong length', { atol: Float64Array.of(1e-6) }, /atol must be/],
    ['maxSteps missing', { maxSteps: undefined }, /maxSteps/],
    ['maxSteps fractional', { maxSteps: 2.5 }, /maxSteps/],
    ['y0 with NaN', { y0: Float64Array.of(Number.NaN, 0) }, /y0\[0\]/],
    ['y0 not Float64Array', { y0: [1, 0] }, /y0 must be/],
    ['hMin above hMax', { hMin: 1, hMax: 0.1 }, /hMin/],
    ['unknown controller', { controller: 'PID' }, /controller/],
    ['fixed without h0', { controller: 'fixed' }, /h0/],
    ['h0 zero', { h0: 0 }, /h0/],
  ];
  for (const [name, patch, msg] of cases) {
    test(name, () => {
      const opts = { ...base, ...patch } as unknown as Parameters<typeof solveIvp>[0];
      expect(() => solveIvp(opts)).toThrow(UsageError);
      expect(() => solveIvp(opts)).toThrow(msg);
    });
  }
});

/**
 * Controllers against hand-computed factors and against Hairer's DOPRI5 formulation
 * (fac11 = err^EXPO1, fac = fac11 / facold^BETA, clamp(fac / SAFE, 1/10, 5), h_new = h / fac).
 */
import { describe, expect, test } from 'vitest';
import { IController, MAX_FACTOR, MIN_FACTOR, PIController, PI_ALPHA, PI_BETA, SAFETY } from '../../src/ode/index.js';

describe('I controller', () => {
  test('hand-computed factors: err = 1e-5 -> 0.9 * 10 = 9, err = 32 -> 0.9/2, clamps at 10 and 0.2', () => {
    const c = new IController();
    expect(c.accepted(1e-5, false)).toBeCloseTo(9, 12);
    expect(c.accepted(0, false)).toBe(MAX_FACTOR);
    expect(c.accepted(1e-9, false)).toBe(MAX_FACTOR);
    expect(c.accepted(1, false)).toBeCloseTo(0.9, 15);
    expect(c.rejected(32)).toBeCloseTo(0.45, 15);
    expect(c.rejected(1e6)).toBe(MIN_FACTOR);
    // No growth right after a rejection of the same step.
    expect(c.accepted(1e-5, true)).toBe(1);
    expect(c.accepted(1, true)).toBeCloseTo(0.9, 15);
  });
});

describe('PI controller', () => {
  test('constants: SAFETY 0.9, factors in [0.2, 10], beta 0.04, alpha = 0.2 - 0.75 beta = 0.17', () => {
    expect([SAFETY, MIN_FACTOR, MAX_FACTOR, PI_BETA]).toEqual([0.9, 0.2, 10, 0.04]);
    expect(PI_ALPHA).toBeCloseTo(0.17, 15);
  });

  test("matches Hairer's DOPRI5 formula on a sequence of errors, including the remembered error", () => {
    const c = new PIController();
    let facold = 1e-4; // Hairer's initial FACOLD
    const errs = [0.3, 0.05, 0.9, 2.5, 0.7, 1e-6, 0.0, 0.4];
    let rejected = false;
    let compared = 0;
    for (const err of errs) {
      compared++;
      const fac11 = Math.pow(err, PI_ALPHA);
      if (err <= 1) {
        let fac = fac11 / Math.pow(facold, PI_BETA);
        fac = Math.max(1 / MAX_FACTOR, Math.min(1 / MIN_FACTOR, fac / SAFETY));
        let hairer = 1 / fac;
        if (rejected) hairer = Math.min(hairer, 1);
        facold = Math.max(err, 1e-4);
        expect(c.accepted(err, rejected)).toBeCloseTo(hairer, 13);
        rejected = false;
      } else {
        const hairer = 1 / Math.min(1 / MIN_FACTOR, fac11 / SAFETY);
        expect(c.rejected(err)).toBeCloseTo(hairer, 13);
        rejected = true;
      }
    }
    expect(compared).toBe(errs.length);
    expect(c.snapshot()).toEqual({ kind: 'PI', errPrev: 0.4 });
  });

  test('snapshot/restore carries the memory: a restored controller continues identically', () => {
    const a = new PIController();
    a.accepted(0.3, false);
    a.accepted(0.02, false);
    const b = new PIController();
    b.restore(a.snapshot());
    const fa = a.accepted(0.5, false);
    expect(b.accepted(0.5, false)).toBe(fa);
    // Negative control: without the memory the factor differs, so the memory matters.
    expect(new PIController().accepted(0.5, false)).not.toBe(fa);
  });
});

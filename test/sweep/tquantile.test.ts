import { describe, expect, it } from 'vitest';
import { regularizedBeta, studentTCdf, studentTQuantile } from '../../src/sweep/tquantile.js';

/** Two-sided 95 % critical values t_{0.975, nu} as printed in standard tables (3 decimals). */
const TABLE: [number, number][] = [
  [1, 12.706],
  [2, 4.303],
  [3, 3.182],
  [4, 2.776],
  [5, 2.571],
  [9, 2.262],
  [10, 2.228],
  [20, 2.086],
  [30, 2.042],
  [60, 2.0],
  [120, 1.98],
];

describe('Student t quantile', () => {
  it.each(TABLE)('t_{0.975, %i} matches the published table value %f to its 3 decimals', (nu, table) => {
    expect(Math.abs(studentTQuantile(0.975, nu) - table)).toBeLessThan(5e-4);
  });

  it('negative control: the table check tells neighbouring degrees of freedom apart', () => {
    // A quantile computed with nu - 1 (or nu + 1) degrees of freedom misses the table's value.
    for (const [nu, table] of TABLE.filter(([n]) => n <= 30)) {
      expect(Math.abs(studentTQuantile(0.975, nu + 1) - table)).toBeGreaterThan(5e-4);
      if (nu > 1) expect(Math.abs(studentTQuantile(0.975, nu - 1) - table)).toBeGreaterThan(5e-4);
    }
  });

  it('equals the closed forms at nu = 1 (Cauchy: tan(pi (p - 1/2))) and nu = 2 ((2p - 1) / sqrt(2 p (1 - p)))', () => {
    for (const p of [0.6, 0.9, 0.95, 0.975, 0.995, 0.9995]) {
      const cauchy = Math.tan(Math.PI * (p - 0.5));
      expect(Math.abs(studentTQuantile(p, 1) - cauchy) / cauchy).toBeLessThan(1e-12);
      const two = (2 * p - 1) / Math.sqrt(2 * p * (1 - p));
      expect(Math.abs(studentTQuantile(p, 2) - two) / two).toBeLessThan(1e-12);
    }
  });

  it('approaches the normal quantile 1.959964 as nu grows, is odd in p - 1/2, and inverts the CDF', () => {
    expect(Math.abs(studentTQuantile(0.975, 1e7) - 1.959963984540054)).toBeLessThan(1e-6);
    expect(studentTQuantile(0.025, 7)).toBe(-studentTQuantile(0.975, 7));
    expect(studentTQuantile(0.5, 3)).toBe(0);
    for (const nu of [1, 3, 8, 25]) for (const p of [0.7, 0.975, 0.999]) expect(Math.abs(studentTCdf(studentTQuantile(p, nu), nu) - p)).toBeLessThan(1e-13);
    expect(studentTQuantile(1, 3)).toBeNaN();
    expect(studentTQuantile(0.9, 0)).toBeNaN();
  });

  it('the incomplete beta function meets its exact cases I_x(a, 1) = x^a and I_x(1, b) = 1 - (1 - x)^b', () => {
    for (const x of [0.01, 0.3, 0.5, 0.77, 0.99]) {
      for (const a of [0.5, 1, 2.5, 7]) expect(Math.abs(regularizedBeta(x, a, 1) - x ** a)).toBeLessThan(1e-13);
      for (const b of [0.5, 3]) expect(Math.abs(regularizedBeta(x, 1, b) - (1 - (1 - x) ** b))).toBeLessThan(1e-13);
    }
  });
});

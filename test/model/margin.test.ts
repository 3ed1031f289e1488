/** The one minimum-margin helper every level uses (src/model/logistic.ts). */
import { describe, expect, it } from 'vitest';
import { minMargin } from '../../src/model/logistic.js';

describe('minMargin', () => {
  it('is min_i y_i F_i over the first n samples (hand computation)', () => {
    const F = Float64Array.from([0.5, -2, 3, -10]);
    const y = Float64Array.from([1, -1, -1, 1]);
    expect(minMargin(F, y)).toBe(-10);
    expect(minMargin(F, y, 3)).toBe(-3);
    expect(minMargin(F, y, 2)).toBe(0.5);
  });

  it('is NaN when some margin is NaN (a blow-up is seen at every level), wherever the NaN is', () => {
    for (const at of [0, 1, 2]) {
      const F = Float64Array.from([1, 2, 3]);
      F[at] = NaN;
      expect(minMargin(F, Float64Array.from([1, 1, 1]))).toBeNaN();
    }
    // negative control: without the NaN the minimum is finite
    expect(minMargin(Float64Array.from([1, 2, 3]), Float64Array.from([1, 1, 1]))).toBe(1);
  });

  it('reports a margin of exactly 0 as +0 (F = 0 with a label of -1 gives -0)', () => {
    expect(Object.is(minMargin(Float64Array.from([0, 0]), Float64Array.from([1, -1])), 0)).toBe(true);
  });
});

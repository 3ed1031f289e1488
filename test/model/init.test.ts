import { describe, expect, it } from 'vitest';
import { initParams, initScales } from '../../src/model/init.js';
import { logisticLoss, logisticWeight } from '../../src/model/logistic.js';

function moments(x: Float64Array): { mean: number; std: number } {
  let s = 0;
  for (const v of x) s += v;
  const mean = s / x.length;
  let q = 0;
  for (const v of x) q += (v - mean) ** 2;
  return { mean, std: Math.sqrt(q / x.length) };
}

describe('initParams (paper Sec. 2 initialisation)', () => {
  it('draws N(0, s0^2) and N(0, s1^2) entries and a = +-1 (moments within 5 standard errors)', () => {
    const m = 64;
    const m1 = 128;
    const d = 80;
    const s0 = 0.3;
    const s1 = 1.7;
    const p = initParams({ m, m1, d, s0, s1, seed: 5 });
    for (const [X, std] of [[p.WQ, s0], [p.WK, s0], [p.WV, s0], [p.W, s1]] as const) {
      const { mean, std: est } = moments(X);
      const N = X.length;
      expect(Math.abs(mean)).toBeLessThan((5 * std) / Math.sqrt(N));
      // std error of the sample std of a normal is about std / sqrt(2N)
      expect(Math.abs(est - std)).toBeLessThan((5 * std) / Math.sqrt(2 * N));
    }
    const plus = Array.from(p.a).filter((v) => v === 1).length;
    expect(plus + Array.from(p.a).filter((v) => v === -1).length).toBe(m1);
    expect(Math.abs(plus - m1 / 2)).toBeLessThan(5 * Math.sqrt(m1 / 4));
  });

  it('is deterministic in the seed', () => {
    const a = initParams({ m: 4, m1: 3, d: 5, s0: 1, s1: 1, seed: 9 });
    const b = initParams({ m: 4, m1: 3, d: 5, s0: 1, s1: 1, seed: 9 });
    expect(Array.from(a.W)).toEqual(Array.from(b.W));
    expect(Array.from(a.WQ)).not.toEqual(Array.from(a.WK));
  });

  it('theory and kaiming scales follow their formulas', () => {
    expect(initScales('theory', { m: 128, m1: 64, d: 96, L: 6 })).toEqual({ s0: 1 / Math.sqrt(6 * 128), s1: 1 / 8 });
    expect(initScales('kaiming', { m: 128, m1: 256, d: 64, L: 5 })).toEqual({ s0: Math.sqrt(2 / 64), s1: Math.sqrt(2 / 128) });
    expect(() => initScales('explicit', { m: 1, m1: 1, d: 1, L: 3 })).toThrow(/needs both s0 and s1/);
  });
});

describe('logistic loss', () => {
  it('matches log(1+exp(-x)) where that is accurate, and its asymptotes where it is not', () => {
    expect(logisticLoss(0)).toBe(Math.LN2);
    for (const x of [-5, -1, -0.1, 0.3, 2, 7]) {
      expect(logisticLoss(x)).toBeCloseTo(Math.log(1 + Math.exp(-x)), 14);
      expect(logisticWeight(x)).toBeCloseTo(1 / (1 + Math.exp(x)), 15);
    }
    // l(x) -> -x for x -> -inf, l(x) ~ e^-x for x -> +inf: the naive formula overflows/underflows.
    expect(logisticLoss(-1000)).toBe(1000);
    expect(logisticLoss(800)).toBe(Math.exp(-800));
    expect(logisticWeight(1000)).toBe(0);
    expect(logisticWeight(-1000)).toBe(1);
  });
});

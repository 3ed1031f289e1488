import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { fitPowerLaw, FitPoint, olsLine } from '../../src/sweep/fit.js';
import { studentTQuantile } from '../../src/sweep/tquantile.js';

const M = [128, 256, 512, 1024, 2048, 4096];

/** y = c_seed m^k with multiplicative log-normal noise of standard deviation sigma, seeded. */
function synthetic(k: number, seeds: number, sigma: number, rngSeed: string): FitPoint[] {
  const rng = seedrandom(rngSeed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  const pts: FitPoint[] = [];
  for (let s = 0; s < seeds; s++) {
    const c = 10 * Math.exp(0.5 * normal());
    for (const m of M) pts.push({ seed: s, m, y: c * m ** k * Math.exp(sigma * normal()) });
  }
  return pts;
}

describe('power-law fits', () => {
  it('recovers exact exponents without noise (each seed its own prefactor)', () => {
    for (const k of [-1, -0.5, 0, 0.75]) {
      const f = fitPowerLaw(synthetic(k, 5, 0, `exact${k}`));
      expect(f.method).toBe('per-seed');
      expect(f.n).toBe(5);
      expect(Math.abs(f.exponent! - k)).toBeLessThan(1e-12);
      expect(f.perSeed.every((p) => Math.abs(p.slope - k) < 1e-12)).toBe(true);
    }
  });

  it('with noise over seeds: the 95 % interval holds the true exponent and refuses a wrong one', () => {
    for (const [k, wrong] of [[-1, -0.5], [-0.5, 0], [0, -0.5]] as const) {
      const f = fitPowerLaw(synthetic(k, 5, 0.1, `noisy${k}`));
      const [lo, hi] = f.ci95!;
      expect(lo).toBeLessThan(k);
      expect(hi).toBeGreaterThan(k);
      // negative control: an exponent half a unit away lies outside the interval
      expect(wrong < lo || wrong > hi).toBe(true);
    }
  });

  it('the interval is mean +- t(0.975, n-1) sd / sqrt(n) of the per-seed slopes (computed here by hand)', () => {
    const pts = synthetic(-1, 4, 0.2, 'byhand');
    const f = fitPowerLaw(pts);
    const slopes = [0, 1, 2, 3].map((s) => {
      const mine = pts.filter((p) => p.seed === s);
      const x = mine.map((p) => Math.log(p.m));
      const y = mine.map((p) => Math.log(p.y!));
      const mx = x.reduce((a, b) => a + b) / x.length;
      const my = y.reduce((a, b) => a + b) / y.length;
      return x.reduce((a, xi, i) => a + (xi - mx) * (y[i] - my), 0) / x.reduce((a, xi) => a + (xi - mx) ** 2, 0);
    });
    const mean = slopes.reduce((a, b) => a + b) / 4;
    const sd = Math.sqrt(slopes.reduce((a, s) => a + (s - mean) ** 2, 0) / 3);
    const half = (3.182446305284263 * sd) / 2; // t_{0.975, 3}
    expect(Math.abs(f.exponent! - mean)).toBeLessThan(1e-12);
    expect(Math.abs(f.ci95![0] - (mean - half))).toBeLessThan(1e-9);
    expect(Math.abs(f.ci95![1] - (mean + half))).toBeLessThan(1e-9);
    expect(Math.abs(f.t975! - 3.182446305284263)).toBeLessThan(1e-9);
  });

  it('over many noisy replicates the interval covers the truth about 95 % of the time', () => {
    let covered = 0;
    const trials = 400;
    for (let i = 0; i < trials; i++) {
      const [lo, hi] = fitPowerLaw(synthetic(-1, 5, 0.3, `cover${i}`)).ci95!;
      if (lo < -1 && -1 < hi) covered++;
    }
    // Binomial(400, 0.95): sd 4.4, so [0.91, 0.99] is about +-4.5 sd.
    expect(covered / trials).toBeGreaterThan(0.91);
    expect(covered / trials).toBeLessThan(0.99);
  });

  it('one seed: the pooled OLS slope with slope +- t(0.975, N-2) SE(slope)', () => {
    const pts = synthetic(-1, 1, 0.05, 'single');
    const f = fitPowerLaw(pts);
    expect(f.method).toBe('pooled-ols');
    const line = olsLine(pts.map((p) => Math.log(p.m)), pts.map((p) => Math.log(p.y!)))!;
    const t = studentTQuantile(0.975, pts.length - 2);
    expect(f.exponent).toBe(line.slope);
    expect(f.ci95).toEqual([line.slope - t * line.se!, line.slope + t * line.se!]);
    expect(f.ci95![0]).toBeLessThan(-1);
    expect(f.ci95![1]).toBeGreaterThan(-1);
    expect(f.note).toMatch(/pooled|OLS/);
  });

  it('rows with a missing or non-positive y are left out and counted; a seed with one m has no slope', () => {
    const pts: FitPoint[] = [
      ...M.map((m) => ({ seed: 0, m, y: 2 / m })),
      ...M.map((m) => ({ seed: 1, m, y: 3 / m })),
      { seed: 1, m: 8192, y: null },
      { seed: 1, m: 16384, y: -1 },
      { seed: 1, m: 32768, y: 0 },
      { seed: 2, m: 128, y: 1 },
    ];
    const f = fitPowerLaw(pts);
    expect(f.leftOut).toEqual({ missing: 1, nonPositive: 2 });
    expect(f.seedsWithoutFit).toEqual([2]);
    expect(f.n).toBe(2);
    expect(Math.abs(f.exponent! + 1)).toBeLessThan(1e-12);
    expect(fitPowerLaw([{ seed: 0, m: 128, y: 1 }]).method).toBe('none');
  });
});

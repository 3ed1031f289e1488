import { describe, expect, it } from 'vitest';
import { resolveSettings } from '../../src/config/resolve.js';

describe('resolveSettings', () => {
  it('paper-fig1 is the paper App. A experiment', () => {
    const s = resolveSettings('paper-fig1', {});
    expect([s.n, s.L, s.d, s.m, s.m1, s.lr, s.steps, s.fillers]).toEqual([60, 5, 64, 128, 256, 0.01, 30000, 'repeat']);
    expect(s.s0).toBe(Math.sqrt(2 / 64));
    expect(s.s1).toBe(Math.sqrt(2 / 128));
  });

  it('theory preset: distinct fillers, Condition 1 (m >= max(m1, L^2)), the theory scales, but n < L^2 (coflow presets says so)', () => {
    const s = resolveSettings('theory', {});
    expect(s.n).toBeLessThan(s.L * s.L);
    expect(s.fillers).toBe('distinct');
    expect(s.m).toBeGreaterThanOrEqual(Math.max(s.m1, s.L * s.L));
    expect(s.s0).toBe(1 / Math.sqrt(s.L * s.m));
    expect(s.s1).toBe(1 / Math.sqrt(s.m1));
  });

  it('overrides apply, and explicit s0 switches the scale to explicit', () => {
    const s = resolveSettings('paper-fig1', { m: 32, s0: 0.5 });
    expect(s.m).toBe(32);
    expect(s.s0).toBe(0.5);
    expect(s.s1).toBe(Math.sqrt(2 / 32));
    expect(s.scale).toBe('explicit');
  });

  it('bad values give one-line errors naming the flag', () => {
    expect(() => resolveSettings('nope', {})).toThrow(/unknown preset 'nope'/);
    expect(() => resolveSettings('paper-fig1', { m: 0 })).toThrow(/--m must be a positive integer/);
    expect(() => resolveSettings('paper-fig1', { lr: -1 })).toThrow(/--lr must be/);
    expect(() => resolveSettings('paper-fig1', { rtol: 1e-20 })).toThrow(/--rtol/);
    expect(() => resolveSettings('paper-fig1', { n: 7 })).toThrow(/n must be a multiple of 6/);
  });
});

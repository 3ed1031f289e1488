import { describe, expect, it } from 'vitest';
import { resolveRunSettings, resolveSettings } from '../../src/config/resolve.js';

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
    expect(() => resolveSettings('paper-fig1', { m: 0 })).toThrow(/--m must be an integer >= 1/);
    expect(() => resolveSettings('paper-fig1', { lr: -1 })).toThrow(/--lr must be/);
    expect(() => resolveSettings('paper-fig1', { rtol: 1e-20 })).toThrow(/--rtol/);
    expect(() => resolveSettings('paper-fig1', { n: 7 })).toThrow(/n must be a multiple of 6/);
  });
});

describe('resolveRunSettings (a run config.json\'s settings)', () => {
  const keysInOrder = (s: object) => Object.keys(s).join(',');

  it('returns the settings unchanged, key for key and in the same order, whatever they hold', () => {
    const cases = [
      resolveSettings('theory', {}),
      resolveSettings('paper-fig1', { s0: 0.1 }), // explicit scale, s1 from kaiming
      resolveSettings('paper-fig1', { testN: 60, snapshots: 3, m: 16 }),
      { ...resolveSettings('theory', {}), n: 60, L: 5, d: 64 }, // n, L, d from a data file (distinct fillers could not hold them)
    ];
    for (const s of cases) {
      const again = resolveRunSettings(s, {}, { dataFromFile: true });
      expect(again).toEqual(s);
      expect(keysInOrder(again)).toBe(keysInOrder(resolveSettings('theory', {})));
      expect(JSON.stringify(again)).toBe(JSON.stringify(s));
    }
    // negative control: the generated-data checks still apply when the data are not from a file
    expect(() => resolveRunSettings(cases[3], {})).toThrow(/fillers=distinct needs d >= /);
  });

  it('one key order for resolveSettings whatever the overrides (so equal settings are equal bytes)', () => {
    expect(keysInOrder(resolveSettings('theory', { testN: 60 }))).toBe(keysInOrder(resolveSettings('theory', {})));
    expect(keysInOrder(resolveSettings('theory', { snapshots: 2, s1: 0.5 }))).toBe(keysInOrder(resolveSettings('theory', {})));
  });

  it('overrides: s0, s1 are kept unless what they derive from changes', () => {
    const base = resolveSettings('theory', {});
    expect(resolveRunSettings(base, { tEnd: 5 })).toEqual({ ...base, tEnd: 5 });
    const m = resolveRunSettings(base, { m: 32 });
    expect([m.s0, m.s1, m.scale]).toEqual([1 / Math.sqrt(base.L * 32), 1 / Math.sqrt(base.m1), 'theory']);
    const k = resolveRunSettings(base, { scale: 'kaiming' });
    expect([k.s0, k.s1]).toEqual([Math.sqrt(2 / base.d), Math.sqrt(2 / base.m)]);
    const e = resolveRunSettings(base, { s1: 0.5 });
    expect([e.s0, e.s1, e.scale]).toEqual([base.s0, 0.5, 'explicit']);
    // an explicit scale stays explicit under a change of m
    const explicit = resolveSettings('paper-fig1', { s0: 0.1, s1: 0.2 });
    expect(resolveRunSettings(explicit, { m: 8 })).toMatchObject({ s0: 0.1, s1: 0.2, scale: 'explicit', m: 8 });
  });

  it('checks every value as the flags do, naming the key as given', () => {
    const base = resolveSettings('theory', {});
    const name = (k: string) => `'settings.${k}' in A/config.json`;
    expect(() => resolveRunSettings({ ...base, n: 25 }, {}, { name })).toThrow(/^'settings\.n' in A\/config\.json must be a multiple of 6/);
    expect(() => resolveRunSettings({ ...base, samples: 100001 }, {}, { name })).toThrow(/'settings\.samples' in A\/config\.json must be an integer >= 2 and <= 100000/);
    expect(() => resolveRunSettings({ ...base, seed: 2 ** 53 }, {})).toThrow(/--seed must be an integer >= 0 and <= 9007199254740991/);
    expect(() => resolveRunSettings({ ...base, level: 'type', init: 'gaussian' }, {})).toThrow(/--init gaussian is not available at --level type/);
    expect(() => resolveRunSettings({ ...base, s0: -1 }, {})).toThrow(/--s0 must be a finite number > 0/);
  });

  it("scope 'init' skips the data set's own checks; 'data' and 'run' apply them", () => {
    expect(resolveSettings('theory', { d: 40 }, { scope: 'init' }).d).toBe(40);
    expect(() => resolveSettings('theory', { d: 40 }, { scope: 'data' })).toThrow(/fillers=distinct needs d >= 91/);
  });
});

import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { parseSpec, planSweep } from '../../src/sweep/spec.js';

const plan = (spec: unknown) => planSweep(parseSpec('s.json', JSON.stringify(spec)), '/nonexistent/sweep');
const base = { preset: 'theory', level: 'gram', init: 'wishart', samples: 20 };

async function refused(spec: unknown, pattern: RegExp): Promise<string> {
  let err: unknown;
  try {
    await plan(spec);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(UsageError);
  const msg = (err as Error).message;
  expect(msg).not.toMatch(/\n/);
  expect(msg).toMatch(pattern);
  return msg;
}

describe('sweep spec: grid and expressions', () => {
  it('expands the grid in order (first key slowest) with readable names, and evaluates expressions per point', async () => {
    const p = await plan({ base: { ...base, 't-end': '20000 / m', 'max-steps': 'round(1000 * m / 128)' }, grid: { m: [128, 256], seed: [0, 1, 2] } });
    expect(p.points.map((x) => x.name)).toEqual(['m=128,seed=0', 'm=128,seed=1', 'm=128,seed=2', 'm=256,seed=0', 'm=256,seed=1', 'm=256,seed=2']);
    expect(p.points.map((x) => x.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(p.points.map((x) => x.settings.tEnd)).toEqual([156.25, 156.25, 156.25, 78.125, 78.125, 78.125]);
    expect(p.points[3].settings.maxSteps).toBe(2000);
    expect(p.points[4].settings.seed).toBe(1);
    expect(p.points[0].out).toBe('/nonexistent/sweep/runs/m=128,seed=0');
  });

  it("evaluates in dependency order, with the preset's values (L = 6, n = 24 of theory) and base numbers", async () => {
    // atol depends on rtol (an expression), which depends on the grid's m and the preset's L.
    const p = await plan({ base: { ...base, atol: 'rtol / 100', rtol: '1e-6 * L / m', 'max-steps': 'n * 1000 + steps' }, grid: { m: [300] } });
    expect(p.points[0].settings.rtol).toBe((1e-6 * 6) / 300);
    expect(p.points[0].settings.atol).toBe((1e-6 * 6) / 300 / 100);
    expect(p.points[0].settings.maxSteps).toBe(24 * 1000 + 100000);
  });

  it('refuses cycles, naming them', async () => {
    await refused({ base: { ...base, rtol: 'atol * 10', atol: 'rtol / 10' }, grid: { m: [128] } }, /cycle \((rtol -> atol -> rtol|atol -> rtol -> atol)\)/);
    await refused({ base: { ...base, 't-end': 'tEnd * 2' }, grid: { m: [128] } }, /cycle \(t-end -> t-end\)/);
  });

  it('refuses unknown names (with a hint for a flag name written with its dash), non-finite and non-integer results', async () => {
    await refused({ base: { ...base, 't-end': '20000 / q' }, grid: { m: [128] } }, /'base\.t-end' = "20000 \/ q": unknown name 'q'/);
    await refused({ base: { ...base, 'max-steps': 't-end * 10' }, grid: { m: [128] } }, /unknown name 't';.*camelCase here \(t-end -> tEnd/);
    await refused({ base: { ...base, 't-end': '1 / (m - 128)' }, grid: { m: [128, 256] } }, /'base\.t-end' = "1 \/ \(m - 128\)" at point m=128 gives Infinity, not a finite number/);
    await refused({ base: { ...base, 'max-steps': '1000 / 3' }, grid: { m: [128] } }, /'base\.max-steps' = "1000 \/ 3" at point m=128 gives 333\.33+\d*, not an integer/);
    await refused({ base: { ...base, 't-end': 'sqrt(-m)' }, grid: { m: [128] } }, /not a real number/);
    await refused({ base: { ...base, 't-end': 'level * 2' }, grid: { m: [128] } }, /'level' is a choice setting/);
    await refused({ base: { ...base, 't-end': 'x = 3' }, grid: { m: [128] } }, /assignments are not allowed/);
    await refused({ base: { ...base, 't-end': '1 +' }, grid: { m: [128] } }, /is not a valid expression/);
  });

  it('checks each point with the rules of coflow run, naming the point', async () => {
    await refused({ base: { ...base, 't-end': '1 - m / 128' }, grid: { m: [64, 128] } }, /point m=128: 't-end' must be a finite number > 0 \(got 0\)/);
    await refused({ base: { ...base, lr: 0.1 }, grid: { m: [128] } }, /point m=128: 'lr' does not apply to --method dopri5/);
    await refused({ base: { preset: 'theory', init: 'wishart' }, grid: { level: ['gram', 'type'] } }, /point level=type: --init wishart is not available at --level type/);
    await refused({ base: { preset: 'theory', level: 'gram', init: 'wishart', snapshots: 19 }, grid: { samples: [20, 10] } }, /point samples=10: 'snapshots' must be an integer in \[0, samples - 1 = 9\]/);
    await refused({ base: { ...base, level: 'full', init: 'gaussian' }, grid: { m: [128, 10000000] } }, /point m=10000000: .*above the 2147483647 \(2\^31 - 1\) entries coflow allows in one array/);
  });

  it('refuses a bad file shape: unknown keys (did you mean), wrong types, duplicates, integer literals', () => {
    const shape = (text: string, pattern: RegExp) => {
      expect(() => parseSpec('s.json', text)).toThrow(pattern);
    };
    shape('{"grid": {"m": [1]}, "refrence": {}}', /unknown key 'refrence' \(did you mean 'reference'\?\)/);
    shape('{"base": {"t_end": 1}, "grid": {"m": [1]}}', /unknown key 'base\.t_end' \(did you mean 't-end'\?\)/);
    shape('{"base": {"tEnd": 1}, "grid": {"m": [1]}}', /did you mean 't-end'/);
    shape('{"grid": {"seeds": [1]}}', /unknown key 'grid\.seeds' \(did you mean 'seed'\?\)/);
    shape('{"base": {}}', /key 'grid' is missing/);
    shape('{"grid": {}}', /'grid' must be an object of setting -> array of values/);
    shape('{"grid": {"m": []}}', /'grid\.m' must be a non-empty array of numbers/);
    shape('{"grid": {"m": ["128"]}}', /'grid\.m\.0' must be a number/);
    shape('{"grid": {"level": [1]}}', /'grid\.level\.0' must be a string/);
    shape('{"grid": {"m": [128, 128]}}', /'grid\.m' lists 128 twice/);
    shape('{"base": {"m": 128}, "grid": {"m": [256]}}', /'m' is given in both 'base' and 'grid'/);
    shape('{"grid": {"m": [128.0]}}', /'grid\.m\.0' must be an integer \(got 128\.0\)/);
    shape('{"grid": {"m": [1], "m": [2]}}', /key 'm' appears twice/);
    shape('[1]', /must be a JSON object/);
  });

  it('references: overrides of the point, identical reference configs run once', async () => {
    const p = await plan({ base, grid: { m: [128, 256], seed: [0, 1] }, reference: { level: 'type', init: 'mean', seed: 0 } });
    expect([...p.refs.keys()]).toEqual(['m=128,seed=0', 'm=256,seed=0']);
    expect(p.points.map((x) => x.ref)).toEqual(['m=128,seed=0', 'm=128,seed=0', 'm=256,seed=0', 'm=256,seed=0']);
    const r = p.refs.get('m=256,seed=0')!.settings;
    expect([r.level, r.init, r.m, r.seed]).toEqual(['type', 'mean', 256, 0]);
    // Without the seed override every point has its own reference.
    const q = await plan({ base, grid: { m: [128], seed: [0, 1] }, reference: { level: 'type', init: 'mean' } });
    expect([...q.refs.keys()]).toEqual(['m=128,seed=0', 'm=128,seed=1']);
    await refused({ base, grid: { m: [128] }, reference: { level: 'type' } }, /reference of point m=128: --init wishart is not available at --level type/);
  });

  it('the spec hash ignores whitespace and the order of base keys, not the order of grid values', () => {
    const a = parseSpec('a', '{"base": {"level": "gram", "m1": 64}, "grid": {"m": [1, 2]}}').hash;
    const b = parseSpec('b', '{ "base" : { "m1" : 64, "level" : "gram" },\n "grid": {"m": [1,2]} }').hash;
    const c = parseSpec('c', '{"base": {"level": "gram", "m1": 64}, "grid": {"m": [2, 1]}}').hash;
    expect(a).toBe(b);
    expect(a).not.toBe(c);
  });
});

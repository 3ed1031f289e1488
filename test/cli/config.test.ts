/**
 * `--config FILE.json` through the built CLI: every command reads it, flags override it, a run's
 * own config.json reproduces the run byte for byte, and every bad file is one line, exit code 2,
 * nothing written (docs/options.md, "--config FILE.json").
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interpretConfig } from '../../src/config/configFile.js';
import { UsageError } from '../../src/errors.js';
import { readParamsNpz } from '../../src/io/files.js';
import { CLI, coflow, tmp } from './helpers.js';

function ok(args: string[], cwd?: string) {
  const r = coflow(args, cwd);
  expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r;
}

function json(path: string, value: unknown): string {
  writeFileSync(path, JSON.stringify(value, null, 2));
  return path;
}

/** Refused: exit 2, one line, no stack trace, `out` not created. */
function refused(args: string[], message: RegExp, out: string, cwd?: string) {
  const r = coflow([...args, '--out', out], cwd);
  const label = args.join(' ');
  expect(r.code, `${label}\n${r.stderr}`).toBe(2);
  expect(r.stderr, label).toMatch(message);
  expect(r.stderr.trim().split('\n'), label).toHaveLength(1);
  expect(r.stderr, label).not.toMatch(/\n\s+at /);
  expect(existsSync(join(cwd ?? '', out)), `${label}: nothing written`).toBe(false);
}

const same = (a: string, b: string) => readFileSync(a).equals(readFileSync(b));

/** The files that must be identical between a run and its repetition (timing.json holds wall time). */
const RUN_FILES = ['config.json', 'data.npz', 'trajectory.csv', 'final.npz', 'summary.json', 'initial.npz'];

function expectSameRun(a: string, b: string, extra: string[] = []) {
  for (const f of [...RUN_FILES, ...extra]) expect(same(join(a, f), join(b, f)), f).toBe(true);
}

describe('--config for every command; flags override it', () => {
  it('data, init: a flat config gives the same file as the flags; a flag overrides the file', () => {
    const dir = tmp('coflow-config-');
    const c = json(join(dir, 'c.json'), { preset: 'paper-fig1', seed: 3, n: 12, out: join(dir, 'fromfile.npz') });
    ok(['data', '--config', c]);
    ok(['data', '--preset', 'paper-fig1', '--seed', '3', '--n', '12', '--out', join(dir, 'flags.npz')]);
    expect(same(join(dir, 'fromfile.npz'), join(dir, 'flags.npz'))).toBe(true);
    ok(['data', '--config', c, '--seed', '4', '--out', join(dir, 'over.npz')]);
    ok(['data', '--preset', 'paper-fig1', '--seed', '4', '--n', '12', '--out', join(dir, 'flags4.npz')]);
    expect(same(join(dir, 'over.npz'), join(dir, 'flags4.npz'))).toBe(true);
    expect(same(join(dir, 'over.npz'), join(dir, 'flags.npz'))).toBe(false); // negative control

    const ci = json(join(dir, 'ci.json'), { preset: 'theory', m: 8, m1: 4, s0: 0.25, out: join(dir, 'p1.npz') });
    ok(['init', '--config', ci]);
    ok(['init', '--preset', 'theory', '--m', '8', '--m1', '4', '--s0', '0.25', '--out', join(dir, 'p2.npz')]);
    expect(same(join(dir, 'p1.npz'), join(dir, 'p2.npz'))).toBe(true);
  });

  it('grad, derive, check, presets read their flags from --config', () => {
    const dir = tmp('coflow-config-');
    ok(['data', '--preset', 'paper-fig1', '--n', '12', '--out', join(dir, 'D.npz')]);
    ok(['init', '--preset', 'paper-fig1', '--m', '4', '--m1', '4', '--out', join(dir, 'P.npz')]);
    const g = json(join(dir, 'g.json'), { params: join(dir, 'P.npz'), data: join(dir, 'D.npz'), out: join(dir, 'G.npz'), check: true });
    const r = ok(['grad', '--config', g]);
    expect(r.stdout).toMatch(/autodiff check: .* ok/);
    ok(['grad', '--params', join(dir, 'P.npz'), '--data', join(dir, 'D.npz'), '--out', join(dir, 'G2.npz')]);
    expect(same(join(dir, 'G.npz'), join(dir, 'G2.npz'))).toBe(true);
    // grad's required options may come from the file or the flags; missing from both is refused
    const partial = json(join(dir, 'gp.json'), { params: join(dir, 'P.npz'), data: join(dir, 'D.npz') });
    const missing = coflow(['grad', '--config', partial]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^coflow: --out <file\.npz> is required \(the output file\); give it as a flag or as key 'out' in --config\n$/);
    ok(['grad', '--config', partial, '--out', join(dir, 'G3.npz')]);

    const d = json(join(dir, 'd.json'), { out: join(dir, 'derivations') });
    ok(['derive', '--config', d]);
    expect(readdirSync(join(dir, 'derivations')).sort()).toEqual(readdirSync(join(process.cwd(), 'derivations')).sort());

    const p = json(join(dir, 'p.json'), { json: true });
    expect(JSON.parse(ok(['presets', '--config', p]).stdout).presets.length).toBeGreaterThan(0);
    expect(ok(['presets']).stdout.startsWith('{')).toBe(false); // negative control: without it, text

    const run = join(dir, 'run');
    ok(['run', '--no-plots', '--preset', 'paper-fig1', '--n', '12', '--m', '4', '--m1', '4', '--steps', '5', '--samples', '3', '--quiet', '--out', run]);
    const s = json(join(dir, 's.json'), { strict: true });
    expect(ok(['check', '--config', s, run]).stdout).toMatch(/wrote .*claims\.json/);
    // keys of another command are unknown here
    const wrong = json(join(dir, 'w.json'), { json: true });
    const rr = coflow(['check', '--config', wrong, run]);
    expect(rr.code).toBe(2);
    expect(rr.stderr).toMatch(/w\.json: unknown key 'json'; allowed keys: strict$/m);
  });

  it('run: a flat config equals the same flags; flags override it; its keys obey the "does not apply" rules', () => {
    const dir = tmp('coflow-config-');
    const settings = { preset: 'theory', n: 12, L: 4, d: 40, m: 8, m1: 4, tEnd: 1, samples: 5, maxSteps: 5000, testN: 12, quiet: true, checkpointEvery: 10 };
    const c = json(join(dir, 'c.json'), { ...settings, out: join(dir, 'a') });
    ok(['run', '--no-plots', '--config', c]);
    ok(['run', '--no-plots', '--preset', 'theory', '--n', '12', '--L', '4', '--d', '40', '--m', '8', '--m1', '4', '--t-end', '1', '--samples', '5', '--max-steps', '5000', '--test-n', '12', '--quiet', '--out', join(dir, 'b')]);
    expectSameRun(join(dir, 'a'), join(dir, 'b'));
    expect(JSON.parse(readFileSync(join(dir, 'a', 'config.json'), 'utf8')).settings).toMatchObject({ maxSteps: 5000, testN: 12 });
    // "force": true in the file replaces the earlier run, as --force does; without it the directory is refused
    ok(['run', '--no-plots', '--config', c, '--out', join(dir, 'f')]);
    expect(coflow(['run', '--no-plots', '--config', c, '--t-end', '2', '--out', join(dir, 'f')]).code).toBe(2);
    const forced = json(join(dir, 'forced.json'), { ...settings, tEnd: 2, force: true, out: join(dir, 'f') });
    ok(['run', '--no-plots', '--config', forced]);
    expect(JSON.parse(readFileSync(join(dir, 'f', 'config.json'), 'utf8')).settings.tEnd).toBe(2);
    ok(['run', '--no-plots', '--config', c, '--t-end', '2', '--out', join(dir, 'c')]);
    expect(JSON.parse(readFileSync(join(dir, 'c', 'config.json'), 'utf8')).settings.tEnd).toBe(2);
    expect(same(join(dir, 'a', 'final.npz'), join(dir, 'c', 'final.npz'))).toBe(false);

    const gd = json(join(dir, 'gd.json'), { ...settings, lr: 0.01 });
    refused(['run', '--no-plots', '--config', gd], /^coflow: 'lr' in .*gd\.json does not apply to --method dopri5/, join(dir, 'x'));
    const gdOnly = json(join(dir, 'gd2.json'), { ...settings, tEnd: undefined, maxSteps: undefined, checkpointEvery: undefined, lr: 0.01, method: 'gd', steps: 5 });
    ok(['run', '--no-plots', '--config', gdOnly, '--out', join(dir, 'ok')]); // control: with gd, lr applies
  });
});

it('the example of docs/options.md runs', () => {
  const dir = tmp('coflow-config-');
  const doc = readFileSync(join(process.cwd(), 'docs/options.md'), 'utf8');
  const example = /```json\n(.*)\n```/.exec(doc)![1];
  writeFileSync(join(dir, 'example.json'), example);
  ok(['run', '--no-plots', '--config', 'example.json', '--quiet'], dir);
  const settings = JSON.parse(readFileSync(join(dir, 'runs', 'g', 'config.json'), 'utf8')).settings;
  expect(settings).toMatchObject({ preset: 'theory', level: 'gram', init: 'wishart', tEnd: 50, samples: 100 });
});

describe("a run's config.json as --config", () => {
  it('repeats a Level F flow byte for byte (settings, data, initial state, trajectory, summary, final state)', () => {
    const dir = tmp('coflow-config-');
    const A = join(dir, 'A');
    ok(['run', '--no-plots', '--preset', 'theory', '--n', '12', '--L', '4', '--d', '40', '--m', '16', '--m1', '8', '--t-end', '20', '--samples', '20', '--test-n', '30', '--snapshots', '3', '--quiet', '--out', A]);
    const B = join(dir, 'B');
    ok(['run', '--no-plots', '--config', join(A, 'config.json'), '--out', B, '--quiet']);
    expectSameRun(A, B, ['test.npz', 'snapshots/snapshot_000.npz', 'snapshots/snapshot_002.npz']);
    // negative control: one changed setting changes the run
    const C = join(dir, 'C');
    ok(['run', '--no-plots', '--config', join(A, 'config.json'), '--seed', '1', '--out', C, '--quiet']);
    expect(same(join(A, 'final.npz'), join(C, 'final.npz'))).toBe(false);
  });

  it('keeps resolved settings exactly: an explicit scale, data and weights from files (with a preset whose own checks they break), GD, Level G', () => {
    const dir = tmp('coflow-config-');
    ok(['data', '--preset', 'paper-fig1', '--n', '12', '--out', 'D.npz'], dir);
    ok(['init', '--preset', 'paper-fig1', '--m', '8', '--m1', '8', '--out', 'P.npz'], dir);
    const runs: string[][] = [
      // --s0 alone: scale 'explicit', s1 from the kaiming scheme
      ['--preset', 'paper-fig1', '--n', '12', '--m', '8', '--m1', '8', '--s0', '0.1', '--steps', '30', '--samples', '8'],
      // theory's distinct fillers could not hold paper-fig1's data; n, L, d come from the file
      ['--preset', 'theory', '--data', 'D.npz', '--params', 'P.npz', '--t-end', '2', '--samples', '8'],
      ['--preset', 'theory', '--data', 'D.npz', '--m', '16', '--m1', '8', '--level', 'gram', '--init', 'wishart', '--t-end', '2', '--samples', '8', '--test-n', '12'],
      ['--preset', 'theory', '--n', '12', '--L', '4', '--d', '40', '--m', '64', '--m1', '8', '--level', 'gram', '--init', 'orthogonal', '--method', 'gd', '--lr', '0.05', '--steps', '40', '--samples', '8'],
    ];
    runs.forEach((args, i) => {
      ok(['run', '--no-plots', ...args, '--quiet', '--out', `A${i}`], dir);
      ok(['run', '--no-plots', '--config', `A${i}/config.json`, '--quiet', '--out', `B${i}`], dir);
      expectSameRun(join(dir, `A${i}`), join(dir, `B${i}`));
    });
    const s0 = JSON.parse(readFileSync(join(dir, 'A0', 'config.json'), 'utf8')).settings;
    expect([s0.scale, s0.s0, s0.s1]).toEqual(['explicit', 0.1, Math.sqrt(2 / 8)]);
    const s1 = JSON.parse(readFileSync(join(dir, 'A1', 'config.json'), 'utf8'));
    expect([s1.settings.n, s1.settings.L, s1.settings.d, s1.settings.fillers, s1.data.path, s1.params.path]).toEqual([12, 5, 64, 'distinct', 'D.npz', 'P.npz']);
  });

  it('ignores coflow, rng, files and the sha256 fields; takes the input files from data.path and params.path, as written (relative to the current directory)', () => {
    const dir = tmp('coflow-config-');
    ok(['data', '--preset', 'paper-fig1', '--n', '12', '--out', 'D.npz'], dir);
    ok(['run', '--no-plots', '--preset', 'paper-fig1', '--data', 'D.npz', '--m', '4', '--m1', '4', '--steps', '10', '--samples', '4', '--quiet', '--out', 'A'], dir);
    const config = JSON.parse(readFileSync(join(dir, 'A', 'config.json'), 'utf8'));
    const edited = { ...config, coflow: '0.0.0-other', rng: 'other', files: { 'data.npz': 'x' }, data: { ...config.data, sha256: 'not-a-hash' } };
    json(join(dir, 'edited.json'), edited);
    ok(['run', '--no-plots', '--config', 'edited.json', '--quiet', '--out', 'B'], dir);
    expectSameRun(join(dir, 'A'), join(dir, 'B'));
    // From another directory the relative data.path names a missing file.
    const elsewhere = join(dir, 'sub');
    mkdirSync(elsewhere);
    const r = coflow(['run', '--no-plots', '--config', join(dir, 'A', 'config.json'), '--quiet', '--out', 'C'], elsewhere);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/D\.npz/);
    expect(existsSync(join(elsewhere, 'C'))).toBe(false);
  });

  it('flags override single settings: --t-end kept s0; --m under a named scale derives s0, s1 again; --lr with a flow and --preset are refused', () => {
    const dir = tmp('coflow-config-');
    const A = join(dir, 'A');
    ok(['run', '--no-plots', '--preset', 'theory', '--n', '12', '--L', '4', '--d', '40', '--m', '16', '--m1', '8', '--t-end', '1', '--samples', '4', '--quiet', '--out', A]);
    const a = JSON.parse(readFileSync(join(A, 'config.json'), 'utf8')).settings;
    ok(['run', '--no-plots', '--config', join(A, 'config.json'), '--t-end', '2', '--quiet', '--out', join(dir, 'B')]);
    const b = JSON.parse(readFileSync(join(dir, 'B', 'config.json'), 'utf8')).settings;
    expect(b).toEqual({ ...a, tEnd: 2 });
    ok(['run', '--no-plots', '--config', join(A, 'config.json'), '--m', '32', '--quiet', '--out', join(dir, 'C')]);
    const c = JSON.parse(readFileSync(join(dir, 'C', 'config.json'), 'utf8')).settings;
    expect([c.m, c.scale, c.s0, c.s1]).toEqual([32, 'theory', 1 / Math.sqrt(4 * 32), 1 / Math.sqrt(8)]);
    refused(['run', '--no-plots', '--config', join(A, 'config.json'), '--lr', '0.1'], /^coflow: --lr does not apply to --method dopri5/, join(dir, 'x'));
    refused(['run', '--no-plots', '--config', join(A, 'config.json'), '--preset', 'theory'], /^coflow: --preset does not apply with a run's config\.json/, join(dir, 'y'));
  });

  it('coflow data and init: the run\'s data.npz again, byte for byte, and its Gaussian weights; a run whose data or weights came from a file is refused', () => {
    const dir = tmp('coflow-config-');
    const A = join(dir, 'A');
    ok(['run', '--no-plots', '--preset', 'theory', '--n', '12', '--L', '4', '--d', '40', '--m', '16', '--m1', '8', '--t-end', '1', '--samples', '4', '--quiet', '--out', A]);
    ok(['data', '--config', join(A, 'config.json'), '--out', join(dir, 'D.npz')]);
    expect(same(join(dir, 'D.npz'), join(A, 'data.npz'))).toBe(true);
    ok(['init', '--config', join(A, 'config.json'), '--out', join(dir, 'P.npz')]);
    const p = readParamsNpz(join(dir, 'P.npz'));
    const q = readParamsNpz(join(A, 'initial.npz'));
    for (const k of ['WQ', 'WK', 'WV', 'W'] as const) expect(Array.from(p[k]), k).toEqual(Array.from(q[k]));

    const F = join(dir, 'F');
    ok(['run', '--no-plots', '--preset', 'theory', '--data', join(dir, 'D.npz'), '--params', join(dir, 'P.npz'), '--t-end', '1', '--samples', '4', '--quiet', '--out', F]);
    refused(['data', '--config', join(F, 'config.json')], /the run's data came from the file .*D\.npz, which coflow data cannot regenerate/, join(dir, 'D2.npz'));
    refused(['init', '--config', join(F, 'config.json')], /the run's weights came from the file .*P\.npz, which coflow init cannot regenerate/, join(dir, 'P2.npz'));
  });
});

describe('bad config files: one line naming the file and the key, exit code 2, nothing written', () => {
  const cases: [string, string, RegExp][] = [
    ['type', '{"tEnd": "ten"}', /^coflow: c\.json: key 'tEnd' must be a finite number > 0 \(got "ten"\)$/m],
    ['unknown key', '{"t_end": 10}', /^coflow: c\.json: unknown key 't_end' \(did you mean 'tEnd'\?\); allowed keys: preset, seed, /],
    ['JSON integer', '{"samples": 5.0}', /key 'samples' must be an integer >= 2 and <= 100000 .*\(got 5\.0\); write it as a JSON integer/],
    ['exponent', '{"steps": 1e3}', /key 'steps' .*\(got 1e3\)/],
    ['seed beyond 2^53', '{"seed": 9007199254740993}', /key 'seed' must be an integer >= 0 and <= 9007199254740991 \(2\^53 - 1\) \(got 9007199254740993\)/],
    ['negative seed', '{"seed": -1}', /key 'seed' must be an integer >= 0/],
    ['overflow', '{"tEnd": 1e400}', /key 'tEnd' must be a finite number > 0 \(got 1e400\)/],
    ['NaN-like string', '{"lr": "NaN"}', /key 'lr' must be a finite number > 0 \(got "NaN"\)/],
    ['choice', '{"method": "rk4"}', /key 'method' must be one of dopri5\|gd\|odex \(got "rk4"\)/],
    ['nested junk', '{"level": {"a": [1, {"b": null}]}}', /key 'level' must be one of full\|gram\|type\|paper \(got \{"a":\[1,\{"b":null\}\]\}\)/],
    ['duplicate key', '{"tEnd": 1, "tEnd": 2}', /c\.json: not valid JSON: key 'tEnd' appears twice at line 1, column 13/],
    ['not JSON', '{"tEnd": 1,\n "m": }', /c\.json: not valid JSON: unexpected "}" at line 2, column 7/],
    ['not an object', '[1, 2]', /c\.json: must be a JSON object of settings/],
    ['too deep', `{"files": ${'['.repeat(40)}${']'.repeat(40)}}`, /nested more than 32 deep/],
    ['incomplete run config', '{"settings": {"n": 6}}', /key 'settings\.L' is missing \(a run's config\.json lists every setting\)/],
    ['mixed shapes', '{"settings": {}, "tEnd": 1}', /key 'settings\.n' is missing|given both at the top level/],
    ['range', '{"snapshots": 2000}', /key 'snapshots' must be an integer >= 0 and <= 1000/],
  ];
  it.each(cases)('%s', (_name, text, message) => {
    const dir = tmp('coflow-config-');
    writeFileSync(join(dir, 'c.json'), text);
    refused(['run', '--no-plots', '--config', 'c.json'], message, 'out', dir);
    expect(readdirSync(dir)).toEqual(['c.json']);
  });

  it('a missing file, a file above 1 MiB; negative control: the same keys in a valid file run', () => {
    const dir = tmp('coflow-config-');
    refused(['run', '--no-plots', '--config', join(dir, 'missing.json')], /--config .*missing\.json: cannot read it: ENOENT/, join(dir, 'a'));
    writeFileSync(join(dir, 'big.json'), `{"out": "${'x'.repeat(1 << 20)}"}`);
    refused(['run', '--no-plots', '--config', join(dir, 'big.json')], /big\.json: \d+ bytes is not a config file \(at most 1048576 bytes\)/, join(dir, 'b'));
    writeFileSync(join(dir, 'good.json'), '{"preset": "paper-fig1", "n": 12, "m": 4, "m1": 4, "steps": 5, "samples": 3, "quiet": true}');
    ok(['run', '--no-plots', '--config', join(dir, 'good.json'), '--out', join(dir, 'c')]);
  });

  it('fuzz-sampled bad files (fixed seed) through the CLI: exit 2, one line, no stack trace, nothing written', () => {
    const value = fc.oneof(fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)), fc.constantFrom('5.0', '1e400', '9007199254740993', '"NaN"', '-0', '1e3'));
    const key = fc.constantFrom('tEnd', 'seed', 'samples', 'method', 'level', 'm', 'tend', 'out', 'quiet', 'settings', 'data');
    const texts = fc.sample(
      fc.array(fc.tuple(key, value), { minLength: 1, maxLength: 3 }).map((pairs) => `{${pairs.map(([k, v]) => `"${k}": ${v}`).join(', ')}}`),
      { seed: 4242, numRuns: 400 },
    );
    const bad = texts.filter((t) => {
      try {
        interpretConfig('c.json', 'run', t);
        return false;
      } catch (e) {
        if (!(e instanceof UsageError)) throw e;
        return true;
      }
    });
    expect(bad.length).toBeGreaterThan(8);
    for (const text of bad.slice(0, 8)) {
      const dir = tmp('coflow-config-');
      writeFileSync(join(dir, 'c.json'), text);
      refused(['run', '--no-plots', '--config', 'c.json'], /^coflow: c\.json: /, 'out', dir);
      expect(readdirSync(dir), text).toEqual(['c.json']);
    }
  });
});

/**
 * Strict flags, "does not apply" rules, --force, checkpoints and size limits, through the built CLI
 * (dist/, rebuilt by test/globalSetup.ts). Every refusal: exit code 2, one line on stderr naming
 * the flag, no stack trace, nothing written, and (the limits) an answer in under 2 s; every
 * refusal has a negative control, a nearby input that is accepted. docs/options.md states these rules.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keyParser } from '../../src/cli/parse.js';
import { DEFAULT_CHECKPOINT_SECONDS } from '../../src/config/limits.js';
import { readDatasetNpz } from '../../src/io/files.js';
import { CLI, coflow, tmp } from './helpers.js';

/** Refused: exit 2, one line naming the problem, no stack trace, `out` not created, fast. */
function refused(args: string[], message: RegExp, out: string, maxMs = 2000) {
  const r = coflow([...args, '--out', out]);
  const label = args.join(' ');
  expect(r.code, `${label}\n${r.stderr}`).toBe(2);
  expect(r.stderr, label).toMatch(message);
  expect(r.stderr.startsWith('coflow: '), label).toBe(true);
  expect(r.stderr.trim().split('\n'), label).toHaveLength(1);
  expect(r.stderr, label).not.toMatch(/\n\s+at /);
  expect(r.stdout, label).toBe('');
  expect(existsSync(out), `${label}: nothing written`).toBe(false);
  expect(r.ms, `${label}: ${r.ms.toFixed(0)} ms`).toBeLessThan(maxMs);
  return r;
}

function accepted(args: string[], out: string) {
  const r = coflow([...args, '--out', out]);
  expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(0);
  expect(existsSync(out)).toBe(true);
  return r;
}

/** Small, fast settings: a Level F flow (0.4 s), a Level F GD run, and the same as data/init. */
const F_FLOW = ['run', '--no-plots', '--preset', 'theory', '--n', '12', '--L', '4', '--d', '40', '--m', '8', '--m1', '4', '--t-end', '1', '--samples', '3', '--quiet'];
const F_GD = ['run', '--no-plots', '--preset', 'paper-fig1', '--n', '12', '--m', '4', '--m1', '4', '--steps', '5', '--samples', '3', '--quiet'];

describe('strict values', () => {
  it('integers are plain decimal: 0x3C, 0b101, " 5 ", 1e3, 5.0, +5, 007, "" are refused; 60 is accepted', () => {
    const dir = tmp('coflow-flags-');
    ['0x3C', '0b101', ' 5 ', '1e3', '5.0', '+5', '007', ''].forEach((bad, i) => {
      refused(['init', '--preset', 'theory', '--m', bad], new RegExp(`--m must be an integer >= 1 and <= 2147483647 .*\\(got '${bad.replace(/[+.]/g, '\\$&')}'\\)`), join(dir, `m${i}.npz`));
    });
    accepted(['init', '--preset', 'theory', '--m', '60'], join(dir, 'ok.npz'));
    // every integer flag of run refuses one of them
    for (const flag of ['--seed', '--n', '--L', '--d', '--m', '--m1', '--max-steps', '--steps', '--samples', '--test-n', '--snapshots']) {
      refused([...F_FLOW, flag, '1e3'], new RegExp(`^coflow: ${flag} must be an integer`), join(dir, `r${flag}`));
    }
  });

  it('--seed is an exact integer in [0, 2^53 - 1]: 9007199254740993 and -1 are refused; 2^53 - 1 and 2^53 - 2 are accepted and differ', () => {
    const dir = tmp('coflow-flags-');
    refused(['data', '--seed', '9007199254740993'], /--seed must be an integer >= 0 and <= 9007199254740991 \(2\^53 - 1\) \(got '9007199254740993'\)/, join(dir, 'a.npz'));
    refused(['data', '--seed', '9007199254740992'], /--seed must be/, join(dir, 'b.npz'));
    refused(['data', '--seed', '-1'], /--seed must be an integer >= 0/, join(dir, 'c.npz'));
    const hi = accepted(['data', '--seed', '9007199254740991'], join(dir, 'hi.npz'));
    expect(hi.stdout).toMatch(/seed=9007199254740991/);
    accepted(['data', '--seed', '9007199254740990'], join(dir, 'hi2.npz'));
    const a = readDatasetNpz(join(dir, 'hi.npz'));
    const b = readDatasetNpz(join(dir, 'hi2.npz'));
    expect(Array.from(a.tokens)).not.toEqual(Array.from(b.tokens));
  });

  it('numbers are finite decimals: 0x10, 0b1, 0o7, Infinity, 1e400, 1e-400, " 5", 1_000, ten are refused; 1e-1, .5, 5., +2E0 are accepted', () => {
    const dir = tmp('coflow-flags-');
    const cases: [string, RegExp][] = [
      ['0x10', /--t-end must be a finite number > 0 \(got '0x10'\)/],
      ['0b1', /\(got '0b1'\)/],
      ['0o7', /\(got '0o7'\)/],
      ['Infinity', /\(got 'Infinity'\)/],
      ['1e400', /\(got '1e400', which overflows float64\)/],
      ['1e-400', /\(got '1e-400', which underflows to 0 in float64\)/],
      [' 5', /\(got ' 5'\)/],
      ['1_000', /\(got '1_000'\)/],
      ['ten', /\(got 'ten'\)/],
    ];
    cases.forEach(([bad, message], i) => refused([...F_FLOW, '--t-end', bad], message, join(dir, `t${i}`)));
    ['1e-1', '.5', '5.', '+2E0'].forEach((ok, i) => accepted([...F_FLOW, '--t-end', ok], join(dir, `ok${i}`)));
    // --rtol >= 1e-14
    refused([...F_FLOW, '--rtol', '1e-15'], /--rtol must be a finite number >= 1e-14/, join(dir, 'rtol'));
    accepted([...F_FLOW, '--rtol', '1e-14', '--t-end', '0.01'], join(dir, 'rtol-ok'));
  });

  it('ranges: --L >= 3, --m >= 1, and --atol, --lr, --s0, --s1, --checkpoint-every > 0; the bounds themselves are accepted', () => {
    const dir = tmp('coflow-flags-');
    refused(['data', '--L', '2'], /--L must be an integer >= 3 and <= 2147483647/, join(dir, 'a.npz'));
    accepted(['data', '--L', '3'], join(dir, 'ok-L.npz'));
    refused(['init', '--m', '0'], /--m must be an integer >= 1/, join(dir, 'b.npz'));
    accepted(['init', '--m', '1', '--m1', '1'], join(dir, 'ok-m.npz'));
    refused([...F_FLOW, '--atol', '0'], /--atol must be a finite number > 0 \(got '0'\)/, join(dir, 'c'));
    refused([...F_GD, '--lr', '-0.01'], /--lr must be a finite number > 0/, join(dir, 'd'));
    refused(['init', '--s0', '0'], /--s0 must be a finite number > 0/, join(dir, 'e.npz'));
    refused(['init', '--s1', '0'], /--s1 must be a finite number > 0/, join(dir, 'f.npz'));
    refused([...F_FLOW, '--checkpoint-every', '0'], /--checkpoint-every must be a finite number > 0/, join(dir, 'g'));
    accepted(['init', '--s0', '1e-300', '--s1', '1e-300'], join(dir, 'ok-s.npz'));
    accepted([...F_FLOW, '--atol', '1e-300', '--checkpoint-every', '1e-3'], join(dir, 'ok-flow'));
  });

  it('choices are exact words: " gd" and GD are refused, gd is accepted', () => {
    const dir = tmp('coflow-flags-');
    refused([...F_GD, '--method', ' gd'], /--method must be one of dopri5\|gd\|odex \(got ' gd'\)/, join(dir, 'a'));
    refused([...F_GD, '--method', 'GD'], /--method must be one of/, join(dir, 'b'));
    accepted([...F_GD, '--method', 'gd'], join(dir, 'ok'));
  });

  it('a value with a newline is shown escaped, so the message stays one line', () => {
    refused([...F_FLOW, '--level', 'a\nb'], /--level must be one of full\|gram\|type\|paper \(got 'a\\nb'\)/, join(tmp('coflow-flags-'), 'x'));
  });
});

describe('flags that do not apply are errors', () => {
  it('--lr, --steps with a flow; --t-end, --rtol, --atol, --controller, --max-steps with gd; --controller with odex', () => {
    const dir = tmp('coflow-flags-');
    refused([...F_FLOW, '--lr', '0.1'], /^coflow: --lr does not apply to --method dopri5 \(a gradient flow/, join(dir, 'a'));
    refused([...F_FLOW, '--method', 'odex', '--steps', '10'], /--steps does not apply to --method odex/, join(dir, 'b'));
    refused([...F_FLOW, '--lr', '0.1', '--steps', '10'], /--lr, --steps do not apply to --method dopri5/, join(dir, 'b2'));
    for (const [flag, value] of [['--t-end', '1'], ['--rtol', '1e-6'], ['--atol', '1e-6'], ['--controller', 'PI'], ['--max-steps', '100']]) {
      refused([...F_GD, flag, value], new RegExp(`^coflow: ${flag} does not apply to --method gd`), join(dir, `gd${flag}`));
    }
    refused([...F_FLOW, '--method', 'odex', '--controller', 'I'], /--controller does not apply to --method odex/, join(dir, 'c'));
    // negative controls: the same flags with the method they belong to
    accepted([...F_GD, '--lr', '0.02', '--steps', '6'], join(dir, 'ok-gd'));
    accepted([...F_FLOW, '--rtol', '1e-6', '--atol', '1e-8', '--controller', 'PI', '--max-steps', '1000'], join(dir, 'ok-flow'));
    accepted([...F_FLOW, '--method', 'odex', '--rtol', '1e-6', '--max-steps', '1000'], join(dir, 'ok-odex'));
  });

  it('--params: --m, --m1, --d, --scale, --s0, --s1, --init are refused, and --params at --level type; --params alone is accepted', () => {
    const dir = tmp('coflow-flags-');
    const P = join(dir, 'P.npz');
    accepted(['init', '--preset', 'paper-fig1', '--m', '4', '--m1', '4'], P);
    const base = ['run', '--no-plots', '--preset', 'paper-fig1', '--steps', '5', '--samples', '3', '--quiet', '--params', P];
    for (const [flag, value] of [['--m', '4'], ['--m1', '4'], ['--d', '64'], ['--scale', 'theory'], ['--s0', '0.1'], ['--s1', '0.1'], ['--init', 'gaussian']]) {
      refused([...base, flag, value], new RegExp(`^coflow: ${flag} does not apply with --params .*P\\.npz \\(the run starts from the file's weights`), join(dir, `p${flag}`));
    }
    refused(['run', '--no-plots', '--preset', 'theory', '--level', 'type', '--init', 'mean', '--params', P, '--quiet'], /--params .*P\.npz does not apply at --level type/, join(dir, 't'));
    accepted(base, join(dir, 'ok'));
    accepted([...base, '--level', 'gram'], join(dir, 'ok-gram'));
  });

  it('--data: --n, --L, --d, --fillers are refused; --data alone is accepted', () => {
    const dir = tmp('coflow-flags-');
    const D = join(dir, 'D.npz');
    accepted(['data', '--preset', 'paper-fig1', '--n', '12'], D);
    for (const [flag, value] of [['--n', '12'], ['--L', '5'], ['--d', '64'], ['--fillers', 'repeat']]) {
      refused(['run', '--no-plots', '--preset', 'paper-fig1', '--m', '4', '--m1', '4', '--steps', '5', '--samples', '3', '--quiet', '--data', D, flag, value], new RegExp(`^coflow: ${flag} does not apply with --data .*D\\.npz \\(n, L and d come from the file\\)`), join(dir, `d${flag}`));
    }
    accepted(['run', '--no-plots', '--preset', 'paper-fig1', '--m', '4', '--m1', '4', '--steps', '5', '--samples', '3', '--quiet', '--data', D], join(dir, 'ok'));
  });

  it('--seed is refused when nothing is drawn at random; accepted with a test set or a random start', () => {
    const dir = tmp('coflow-flags-');
    const D = join(dir, 'D.npz');
    const P = join(dir, 'P.npz');
    accepted(['data', '--preset', 'paper-fig1', '--n', '12'], D);
    accepted(['init', '--preset', 'paper-fig1', '--m', '4', '--m1', '4'], P);
    const gd = ['run', '--no-plots', '--preset', 'paper-fig1', '--steps', '5', '--samples', '3', '--quiet', '--data', D];
    refused([...gd, '--params', P, '--seed', '3'], /--seed does not apply here: nothing is drawn at random \(the data come from --data .*D\.npz, the weights come from --params .*P\.npz, and there is no --test-n\)/, join(dir, 'a'));
    refused([...gd, '--m', '4', '--m1', '4', '--level', 'gram', '--init', 'mean', '--seed', '3'], /--seed does not apply here: .*the start \(--init mean\) is not random/, join(dir, 'b'));
    accepted([...gd, '--params', P, '--seed', '3', '--test-n', '6'], join(dir, 'ok-test'));
    accepted([...gd, '--m', '4', '--m1', '4', '--level', 'gram', '--init', 'wishart', '--seed', '3'], join(dir, 'ok-wishart'));
  });

  it('--scale with both --s0 and --s1 is refused; with one of them it is accepted', () => {
    const dir = tmp('coflow-flags-');
    refused(['init', '--scale', 'theory', '--s0', '0.1', '--s1', '0.2'], /^coflow: --scale does not apply together with both --s0 and --s1/, join(dir, 'a.npz'));
    refused([...F_FLOW, '--scale', 'theory', '--s0', '0.1', '--s1', '0.2'], /--scale does not apply together with both --s0 and --s1/, join(dir, 'b'));
    accepted(['init', '--scale', 'theory', '--s0', '0.1'], join(dir, 'ok.npz'));
    accepted(['init', '--s0', '0.1', '--s1', '0.2'], join(dir, 'ok2.npz'));
  });

  it('coflow init: --L is refused unless it sets the theory scales; data and init take only their own flags', () => {
    const dir = tmp('coflow-flags-');
    refused(['init', '--preset', 'paper-fig1', '--L', '6'], /--L does not apply to coflow init here .*the scale is kaiming/, join(dir, 'a.npz'));
    refused(['init', '--preset', 'theory', '--s0', '0.1', '--L', '6'], /--L does not apply to coflow init here .*--s0 is given/, join(dir, 'b.npz'));
    accepted(['init', '--preset', 'theory', '--L', '6'], join(dir, 'ok.npz'));
    accepted(['init', '--preset', 'theory', '--L', '6', '--s1', '0.3'], join(dir, 'ok2.npz'));
    refused(['data', '--m', '4'], /unknown option '--m'/, join(dir, 'c.npz'));
    refused(['init', '--n', '12'], /unknown option '--n'/, join(dir, 'd.npz'));
    refused(['init', '--fillers', 'repeat'], /unknown option '--fillers'/, join(dir, 'e.npz'));
    // the theory preset's data checks do not concern init (no data set is built)
    accepted(['init', '--preset', 'theory', '--d', '40'], join(dir, 'ok3.npz'));
  });

  it('--init must be available at the level: refused at once; the level\'s own starts are accepted', () => {
    const dir = tmp('coflow-flags-');
    refused([...F_FLOW, '--level', 'full', '--init', 'mean'], /--init mean is not available at --level full; use --init gaussian\|orthogonal/, join(dir, 'a'));
    refused(['run', '--no-plots', '--preset', 'theory', '--level', 'type', '--init', 'wishart', '--quiet'], /--init wishart is not available at --level type; use --init mean/, join(dir, 'b'));
    accepted([...F_FLOW, '--level', 'gram', '--init', 'mean'], join(dir, 'ok'));
  });

  it('--resume takes only --quiet, --checkpoint-every and --no-plots; with them it resumes, and --no-plots draws no figures', async () => {
    const dir = tmp('coflow-flags-');
    for (const extra of [['--m', '4'], ['--force'], ['--config', 'c.json'], ['--out', 'x']]) {
      const r = coflow(['run', '--resume', dir, ...extra]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^coflow: --resume continues a run with its own config.json, so ${extra[0]} cannot be given with it \\(only --quiet, --checkpoint-every and --no-plots can\\)`));
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    // negative control: a killed run resumes with --quiet --checkpoint-every
    const args = ['run', '--no-plots', '--preset', 'paper-fig1', '--m', '16', '--m1', '16', '--steps', '20000', '--samples', '20', '--quiet'];
    const out = join(dir, 'k');
    await killAfter([...args, '--out', out, '--checkpoint-every', '0.05'], () => existsSync(join(out, 'checkpoint.json')));
    const r = coflow(['run', '--resume', out, '--quiet', '--checkpoint-every', '5', '--no-plots']);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(out, 'summary.json'))).toBe(true);
    expect(existsSync(join(out, 'figures'))).toBe(false);
  });
});

/** Starts `coflow args`, SIGKILLs it once `ready()` holds, and waits for it to exit. */
function killAfter(args: string[], ready: () => boolean, timeoutMs = 60_000): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: 'ignore' });
    const started = Date.now();
    const timer = setInterval(() => {
      if (ready() || Date.now() - started > timeoutMs) {
        clearInterval(timer);
        child.kill('SIGKILL');
      }
    }, 5);
    child.on('exit', () => {
      clearInterval(timer);
      if (child.signalCode === 'SIGKILL') resolve();
      else reject(new Error('the run ended before it was killed; make it longer'));
    });
  });
}

describe('checkpoints and odex', () => {
  it('--checkpoint-every is refused with --method odex (odex runs write no checkpoints); a killed odex run leaves none, a dopri5 run does', async () => {
    const dir = tmp('coflow-flags-');
    refused([...F_FLOW, '--method', 'odex', '--checkpoint-every', '5'], /^coflow: --checkpoint-every does not apply to --method odex: odex runs write no checkpoints and cannot be resumed/, join(dir, 'a'));
    accepted([...F_FLOW, '--checkpoint-every', '5'], join(dir, 'ok'));
    // A long flow, killed after 1.5 s: odex has written no checkpoint; dopri5 with --checkpoint-every 0.05 has.
    const long = ['run', '--no-plots', '--preset', 'theory', '--n', '12', '--L', '4', '--d', '40', '--m', '64', '--m1', '16', '--t-end', '100000', '--samples', '400', '--quiet'];
    const odex = join(dir, 'odex');
    let t0 = Date.now();
    await killAfter([...long, '--method', 'odex', '--out', odex], () => Date.now() - t0 > 1500);
    expect(existsSync(join(odex, 'config.json'))).toBe(true);
    expect(readdirSync(odex).filter((f) => f.startsWith('checkpoint'))).toEqual([]);
    const dopri5 = join(dir, 'dopri5');
    t0 = Date.now();
    await killAfter([...long, '--out', dopri5, '--checkpoint-every', '0.05'], () => existsSync(join(dopri5, 'checkpoint.json')));
    expect(existsSync(join(dopri5, 'checkpoint.json'))).toBe(true);
  });

  it('without --checkpoint-every the default is 30 s: no checkpoint within the first seconds (with 0.05 there is one)', async () => {
    expect(DEFAULT_CHECKPOINT_SECONDS).toBe(30);
    const help = coflow(['run', '--no-plots', '--help']).stdout;
    expect(help).toMatch(/--checkpoint-every <seconds>\s+wall seconds between checkpoints, > 0 \(default:\s+30;/);
    const dir = join(tmp('coflow-flags-'), 'r');
    const t0 = Date.now();
    await killAfter(['run', '--no-plots', '--preset', 'paper-fig1', '--m', '16', '--m1', '16', '--steps', '200000', '--samples', '20', '--quiet', '--out', dir], () => Date.now() - t0 > 2000);
    expect(existsSync(join(dir, 'config.json'))).toBe(true);
    expect(existsSync(join(dir, 'checkpoint.json'))).toBe(false);
  });

  it('--force replaces an earlier run in --out; without it the directory is refused', () => {
    const dir = join(tmp('coflow-flags-'), 'r');
    accepted(F_GD, dir);
    const first = readFileSync(join(dir, 'final.npz'));
    const r = coflow([...F_GD, '--seed', '1', '--out', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/holds another run's files .*--force/);
    expect(readFileSync(join(dir, 'final.npz')).equals(first)).toBe(true);
    accepted([...F_GD, '--seed', '1', '--force'], dir);
    expect(readFileSync(join(dir, 'final.npz')).equals(first)).toBe(false);
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).settings.seed).toBe(1);
  });
});

describe('limits: refused at once (< 2 s), nothing written; a nearby size is accepted', () => {
  it('coflow data: --n and n*L beyond one array, the .npz beyond 2 GiB, --d beyond 2^24', () => {
    const dir = tmp('coflow-flags-');
    refused(['data', '--n', '6000000000'], /--n must be an integer >= 6 and <= 2147483647 \(2\^31 - 1\) and a multiple of 6 \(got '6000000000'\)/, join(dir, 'a.npz'));
    refused(['data', '--n', '600000000', '--L', '5'], /^coflow: data: the tokens array \(n\*L = 600000000\*5\) would be 3000000000 entries, above the 2147483647 \(2\^31 - 1\) entries coflow allows in one array; lower --n or --L$/m, join(dir, 'b.npz'));
    refused(['data', '--n', '300000000', '--L', '5'], /data: the \.npz file \(4 n L \+ 12 n bytes\) would be 8\.9 GiB, above the 2 GiB coflow can write or read as one \.npz file; lower --n or --L/, join(dir, 'c.npz'));
    refused(['data', '--d', '1000000000'], /--d must be an integer >= 4 and <= 16777216 \(2\^24\) \(got '1000000000'\)/, join(dir, 'd.npz'));
    refused(['data', '--d', '16777217'], /--d must be an integer >= 4 and <= 16777216/, join(dir, 'e.npz'));
    accepted(['data', '--d', '16777216'], join(dir, 'ok-d.npz'));
    accepted(['data', '--n', '600000', '--L', '5'], join(dir, 'ok-n.npz'));
  });

  it('coflow init: m1*m beyond one array, the .npz beyond 2 GiB', () => {
    const dir = tmp('coflow-flags-');
    refused(['init', '--m', '100000', '--m1', '100000'], /^coflow: init: W \(m1\*m = 100000\*100000\) would be 10000000000 entries, above the 2147483647 \(2\^31 - 1\) entries coflow allows in one array; lower --m1 or --m$/m, join(dir, 'a.npz'));
    refused(['init', '--m', '10000', '--m1', '10000', '--d', '10000'], /init: the \.npz file \(8 \(3 m d \+ m1 m \+ m1\) bytes\) would be 3\.0 GiB, above the 2 GiB/, join(dir, 'b.npz'));
    accepted(['init', '--m', '1000', '--m1', '1000', '--d', '1000'], join(dir, 'ok.npz'));
  });

  it('coflow run: weights formed, the state, the pair table, odex, the memory estimate', () => {
    const dir = tmp('coflow-flags-');
    const theory = ['run', '--no-plots', '--preset', 'theory', '--quiet'];
    refused([...theory, '--m', '10000000'], /--m 10000000 --m1 64 means 3520000000 weights, above the 2147483647 \(2\^31 - 1\) entries coflow allows in one array; lower --m, --m1 or --d, or use --level gram --init wishart \(or mean\), which never forms them/, join(dir, 'a'));
    refused([...theory, '--level', 'gram', '--m', '10000000'], /weights, above the 2147483647 \(2\^31 - 1\) entries coflow allows in one array; use --level gram --init wishart/, join(dir, 'b'));
    accepted([...theory, '--level', 'gram', '--init', 'wishart', '--m', '100000', '--t-end', '0.1', '--samples', '3'], join(dir, 'ok-wishart'));
    const gram = ['run', '--no-plots', '--preset', 'theory', '--level', 'gram', '--init', 'mean', '--fillers', 'repeat', '--L', '3', '--quiet'];
    refused([...gram, '--method', 'gd', '--n', '60000', '--d', '60000'], /run: the state \(14400060001 values\) would be 14400060001 entries, above the 2147483647 .*lower the number of tokens Level G tracks \(at most 60000: lower --n, --L or --d\), or use --level type/, join(dir, 'c'));
    refused([...gram, '--method', 'gd', '--n', '6000', '--d', '7000'], /run: these settings need about [\d.]+ GiB of memory \(mostly 10 vectors of the 196007001-value state \(gd at Level G\): [\d.]+ GiB\), above coflow's limit of 8\.0 GiB; lower the number of tokens/, join(dir, 'f'));
    accepted([...gram, '--method', 'gd', '--lr', '0.01', '--steps', '1', '--samples', '2', '--n', '600', '--d', '1000'], join(dir, 'ok-gram'));
    refused(['run', '--no-plots', '--preset', 'theory', '--fillers', 'repeat', '--n', '6000000', '--L', '30', '--d', '1000', '--m', '4', '--m1', '4', '--quiet'], /run: the pair table \(n\*L\*L = 6000000\*30\*30\) would be 5400000000 entries/, join(dir, 'g'));
    refused([...theory, '--method', 'odex', '--samples', '100000', '--m', '1000'], /run: these settings need about [\d.]+ GiB of memory \(mostly the states odex keeps, one per recorded row: [\d.]+ GiB\), above coflow's limit of 8\.0 GiB; lower --samples, or use --method dopri5/, join(dir, 'h'));
    accepted([...F_FLOW, '--method', 'odex', '--samples', '20'], join(dir, 'ok-odex'));
  });

  it('coflow run: --samples, --snapshots, --test-n, --steps, --max-steps beyond their stated caps', () => {
    const dir = tmp('coflow-flags-');
    refused([...F_FLOW, '--samples', '100001'], /--samples must be an integer >= 2 and <= 100000 \(t = 0 and the end at least\) \(got '100001'\)/, join(dir, 'a'));
    refused([...F_FLOW, '--samples', '1001', '--snapshots', '1001'], /--snapshots must be an integer >= 0 and <= 1000 and <= samples - 1 \(got '1001'\)/, join(dir, 'b'));
    refused([...F_FLOW, '--samples', '10', '--snapshots', '10'], /--snapshots must be an integer in \[0, samples - 1 = 9\]/, join(dir, 'b2'));
    refused([...F_FLOW, '--test-n', '1000001'], /--test-n must be an integer >= 0 and <= 1000000 \(0: no test set\) \(got '1000001'\)/, join(dir, 'c'));
    refused([...F_GD, '--steps', '1000000001'], /--steps must be an integer >= 1 and <= 1000000000 \(got '1000000001'\)/, join(dir, 'd'));
    refused([...F_FLOW, '--max-steps', '1000000001'], /--max-steps must be an integer >= 1 and <= 1000000000/, join(dir, 'e'));
    // negative controls: the caps themselves are accepted
    accepted([...F_GD, '--steps', '10', '--samples', '100000'], join(dir, 'ok-samples'));
    accepted([...F_FLOW, '--samples', '1001', '--snapshots', '1000'], join(dir, 'ok-snapshots'));
    expect(readdirSync(join(dir, 'ok-snapshots', 'snapshots'))).toHaveLength(1000);
    accepted([...F_FLOW, '--max-steps', '1000000000'], join(dir, 'ok-max-steps'));
    accepted([...F_FLOW, '--test-n', '60'], join(dir, 'ok-test'));
    expect(keyParser('testN')('1000000')).toBe(1000000);
    expect(keyParser('steps')('1000000000')).toBe(1000000000);
  });

  it('Level F pair tables beyond the memory estimate (the pair kernels\' own memory limits nothing: above its cap they run on plain arrays)', () => {
    const dir = tmp('coflow-flags-');
    const big = ['run', '--no-plots', '--preset', 'theory', '--fillers', 'repeat', '--L', '12', '--d', '10000', '--m', '1', '--m1', '1', '--quiet'];
    refused([...big, '--n', '600000'], /run: these settings need about [\d.]+ GiB of memory \(mostly the pair tables \(about 100 bytes per sample x L\^2, twice\): [\d.]+ GiB\), above coflow's limit of 8\.0 GiB; lower --n or --L/, join(dir, 'a'));
    accepted([...big, '--n', '60', '--t-end', '0.01', '--samples', '2'], join(dir, 'ok'));
  });

  it('a --params file is measured from its header: too many rows for odex at its size are refused, fewer accepted', () => {
    const dir = tmp('coflow-flags-');
    const P = join(dir, 'P.npz');
    accepted(['init', '--m', '1024', '--m1', '64', '--d', '40'], P);
    // 3 m d + m1 m = 188416 values from the file (the preset's own m, m1, d would give a quarter of that)
    const odex = ['run', '--no-plots', '--preset', 'paper-fig1', '--params', P, '--method', 'odex', '--quiet'];
    refused([...odex, '--samples', '6000'], /run: these settings need about 8\.\d GiB of memory \(mostly the states odex keeps, one per recorded row/, join(dir, 'a'));
    accepted([...odex, '--samples', '3', '--t-end', '0.001'], join(dir, 'ok'));
  });

  it('a --data file too large for Level G is refused from its header, before it is loaded', () => {
    const dir = tmp('coflow-flags-');
    const D = join(dir, 'D.npz');
    accepted(['data', '--preset', 'theory', '--fillers', 'repeat', '--n', '6000', '--L', '3', '--d', '7000'], D);
    refused(['run', '--no-plots', '--preset', 'theory', '--level', 'gram', '--init', 'mean', '--method', 'gd', '--data', D, '--quiet'], /run: these settings need about [\d.]+ GiB of memory .*use a smaller --data file|lower the number of tokens Level G tracks/, join(dir, 'a'));
    accepted(['run', '--no-plots', '--preset', 'theory', '--level', 'full', '--m', '4', '--m1', '4', '--t-end', '0.01', '--samples', '2', '--data', D, '--quiet'], join(dir, 'ok'));
  });
});

describe('--help states these rules', () => {
  it('run --help: odex checkpoints, --force, the flags that do not apply, the limits', () => {
    const help = coflow(['run', '--no-plots', '--help']).stdout.replace(/\s+/g, ' ');
    expect(help).toContain('--force replace the files of an earlier run in --out');
    expect(help).toContain('odex runs write no checkpoints and cannot be resumed');
    expect(help).toContain('A flag that the chosen method, level or inputs would ignore is an error');
    expect(help).toContain('--samples <= 100000; --snapshots <= 1000 (and <= samples - 1)');
    expect(help).toContain('the estimated memory <= 8 GiB');
    expect(coflow(['data', '--help']).stdout).toMatch(/--d <= 2\^24 = 16777216; n\*L <= 2\^31 - 1 tokens; the \.npz file \(4 n L \+ 12 n bytes\) <= 2 GiB/);
    expect(coflow(['init', '--help']).stdout).toMatch(/m\*d and m1\*m <= 2\^31 - 1 entries/);
  });
});

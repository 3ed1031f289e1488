/**
 * The run directory under abuse, through the real CLI: one run per directory (run.lock), an
 * earlier run's files refused without --force, damaged or edited checkpoints, changed inputs,
 * temp files left by a kill. Every refusal is exit 2 with one line, and leaves the directory as
 * it was; each has a negative control that resumes.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { coflow, coflowChild, differingOutputs, leftovers, sleep, tmp, waitFor } from '../cli/helpers.js';

const GD = ['--preset', 'paper-fig1', '--method', 'gd', '--steps', '1500', '--quiet'];
const root = tmp('coflow-dir-');
const reference = join(root, 'reference');
/** An interrupted run (SIGTERM): config.json, inputs, partial outputs and a checkpoint. */
const interrupted = join(root, 'interrupted');

function snapshot(dir: string): Map<string, string> {
  return new Map(readdirSync(dir).map((f) => [f, createHash('sha256').update(readFileSync(join(dir, f))).digest('hex')]));
}

function expectRefused(r: ReturnType<typeof coflow>, pattern: RegExp): void {
  expect(r.code, r.stdout + r.stderr).toBe(2);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

function copyOf(name: string): string {
  const dir = join(root, name);
  cpSync(interrupted, dir, { recursive: true });
  return dir;
}

type Json = Record<string, unknown>;
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Json;

/** Edits checkpoint.json; with `rehash`, also recomputes its sha256 as coflow does (an adversary who knows the scheme). */
function editCheckpoint(dir: string, edit: (meta: Json) => void, rehash: boolean): void {
  const path = join(dir, 'checkpoint.json');
  const meta = readJson(path);
  edit(meta);
  if (rehash) {
    const { sha256, ...rest } = meta;
    void sha256;
    meta.sha256 = createHash('sha256').update(JSON.stringify(rest)).digest('hex');
  }
  writeFileSync(path, JSON.stringify(meta, null, 2) + '\n');
}

/**
 * `coflow run ARGS --out dir`, stopped by SIGTERM 0.3 s after it has started; it must exit 143.
 * Short legs (a checkpoint every 50 ms), so the signal is noticed at once (else within a second).
 */
async function interruptedRun(args: string[], dir: string): Promise<void> {
  const { child, done } = coflowChild(['run', '--no-plots', ...args, '--checkpoint-every', '0.05', '--out', dir]);
  await waitFor(join(dir, 'config.json'));
  await sleep(300);
  child.kill('SIGTERM');
  expect((await done).code).toBe(143);
}

beforeAll(async () => {
  expect(coflow(['run', '--no-plots', ...GD, '--out', reference]).code).toBe(0);
  await interruptedRun(GD, interrupted);
});

describe('checkpoint.json: every field that determines the continuation is hashed and checked', () => {
  it('negative control: an untouched copy resumes to the uninterrupted outputs', () => {
    const dir = copyOf('untouched');
    const r = coflow(['run', '--resume', dir, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(differingOutputs(reference, dir)).toEqual([]);
  });

  const edits: [string, (m: Json) => void][] = [
    ['step', (m) => (m.step = (m.step as number) + 1)],
    ['columns', (m) => (m.columns = (m.columns as number) - 1)],
    ['scales', (m) => ((m.scales as number[])[0] *= 1.001)],
    ['events', (m) => (m.events = [...(m.events as Json[]), { name: 'misclassified', t: 0.01, step: 1 }])],
    ['marginPrev', (m) => (m.marginPrev = 0.5)],
    ['wallSeconds', (m) => (m.wallSeconds = 1e6)],
  ];
  for (const [field, edit] of edits) {
    it(`an edit of '${field}' is refused (hash differs), exit 2, the directory unchanged`, () => {
      const dir = copyOf(`edit-${field}`);
      editCheckpoint(dir, edit, false);
      const before = snapshot(dir);
      expectRefused(coflow(['run', '--resume', dir, '--quiet']), /checkpoint\.json: field 'sha256' does not match the other fields/);
      expect(snapshot(dir)).toEqual(before);
    });
  }

  // With the hash recomputed, values outside their range or not of this run are still refused.
  const invalid: [string, (m: Json) => void, RegExp][] = [
    ['step beyond the run', (m) => (m.step = 1501), /field 'step' is 1501, beyond the run's 1500 steps/],
    ['negative step', (m) => (m.step = -1), /field 'step' must be an integer >= 0/],
    ['fractional step', (m) => (m.step = 2.5), /field 'step' must be an integer >= 0/],
    ['columns of another run', (m) => (m.columns = (m.columns as number) + 1), /field 'columns'/],
    ['scale <= 0', (m) => ((m.scales as number[])[1] = -1), /field 'scales' must be two finite numbers > 0/],
    ['unknown event', (m) => (m.events = [{ name: 'nope', t: 0, step: 0 }]), /field 'events\[0\]\.name' must be one of all-correct/],
    ['event after the checkpoint', (m) => (m.events = [{ name: 'misclassified', t: 1e9, step: 1e9 }]), /lies after the checkpoint/],
    ['marginPrev not a number', (m) => (m.marginPrev = 'x'), /field 'marginPrev' must be a finite number or null/],
    ['method', (m) => (m.method = 'dopri5'), /field 'step' must be absent|field 'resume' must be an object/],
    ['unknown field', (m) => (m.extra = 1), /unknown fields extra/],
    ['another config.json', (m) => (m.configSha256 = '0'.repeat(64)), /written for a different config\.json/],
    ['npz of another name', (m) => (m.npzFile = 'checkpoint.0000000000000000.npz'), /checkpoint\.0000000000000000\.npz, which is missing/],
  ];
  for (const [name, edit, pattern] of invalid) {
    it(`hash recomputed but ${name}: refused naming the field`, () => {
      const dir = copyOf(`invalid-${name.replace(/\W+/g, '-')}`);
      editCheckpoint(dir, edit, true);
      const before = snapshot(dir);
      expectRefused(coflow(['run', '--resume', dir, '--quiet']), pattern);
      expect(snapshot(dir)).toEqual(before);
    });
  }

  it('negative control of the rehash: rehashing without an edit resumes normally', () => {
    const dir = copyOf('rehash-only');
    editCheckpoint(dir, () => undefined, true);
    const r = coflow(['run', '--resume', dir, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(differingOutputs(reference, dir)).toEqual([]);
  });

  for (const [name, content] of [['empty', ''], ['truncated', '{"method": "gd", "st']] as const) {
    it(`${name} checkpoint.json: exit 2, one line`, () => {
      const dir = copyOf(`ckpt-${name}`);
      writeFileSync(join(dir, 'checkpoint.json'), content);
      expectRefused(coflow(['run', '--resume', dir, '--quiet']), /checkpoint\.json: not valid JSON/);
    });
  }

  it('an edited config.json is refused (the checkpoint is bound to its SHA-256)', () => {
    const dir = copyOf('config-edited');
    const config = readJson(join(dir, 'config.json'));
    (config.settings as Json).lr = 0.02;
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
    expectRefused(coflow(['run', '--resume', dir, '--quiet']), /written for a different config\.json/);
  });
});

describe('resume re-verifies the inputs recorded in config.json', () => {
  it('a replaced data.npz is refused; the original resumes', () => {
    const dir = copyOf('data-replaced');
    const original = readFileSync(join(dir, 'data.npz'));
    expect(coflow(['data', '--preset', 'paper-fig1', '--seed', '5', '--out', join(dir, 'data.npz')]).code).toBe(0);
    expectRefused(coflow(['run', '--resume', dir, '--quiet']), /data\.npz has changed since the run started/);
    writeFileSync(join(dir, 'data.npz'), original);
    expect(coflow(['run', '--resume', dir, '--quiet']).code).toBe(0);
    expect(differingOutputs(reference, dir)).toEqual([]);
  });

  it('a replaced --params file is refused; the original resumes', async () => {
    const params = join(root, 'params.npz');
    expect(coflow(['init', '--preset', 'paper-fig1', '--out', params]).code).toBe(0);
    const dir = join(root, 'with-params');
    await interruptedRun([...GD, '--params', params], dir);
    const original = readFileSync(params);
    expect(coflow(['init', '--preset', 'paper-fig1', '--seed', '3', '--out', params]).code).toBe(0);
    expectRefused(coflow(['run', '--resume', dir, '--quiet']), /params\.npz has changed since the run started .*restore the original --params file/);
    writeFileSync(params, original);
    expect(coflow(['run', '--resume', dir, '--quiet']).code).toBe(0);
  });
});

describe('resume of a run on a --data file', () => {
  it("takes n, L, d from the file as the run did (the preset's own data rules do not apply)", async () => {
    const data = join(root, 'D60.npz');
    expect(coflow(['data', '--preset', 'paper-fig1', '--out', data]).code).toBe(0);
    const dir = join(root, 'on-data');
    // theory's distinct fillers would need d >= 163 for n = 60; the file has d = 64 and repeats fillers.
    await interruptedRun(['--preset', 'theory', '--method', 'gd', '--steps', '3000', '--quiet', '--data', data], dir);
    const r = coflow(['run', '--resume', dir, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const whole = join(root, 'on-data-whole');
    expect(coflow(['run', '--no-plots', '--preset', 'theory', '--method', 'gd', '--steps', '3000', '--quiet', '--data', data, '--out', whole]).code).toBe(0);
    expect(differingOutputs(whole, dir)).toEqual([]);
  });
});

describe('temp files left by a kill', () => {
  it('are removed by --resume and by a finished run', () => {
    const dir = copyOf('temps');
    writeFileSync(join(dir, 'final.npz.tmp-99999'), 'half');
    writeFileSync(join(dir, 'checkpoint.json.tmp-4242'), '{');
    const r = coflow(['run', '--resume', dir, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(leftovers(dir)).toEqual([]);
    expect(differingOutputs(reference, dir)).toEqual([]);
  });
});

describe('one run per directory', () => {
  it('a second run on a directory in use is refused (exit 2, names the pid); a stale lock is taken over', async () => {
    const dir = join(root, 'busy');
    const { child, done } = coflowChild(['run', '--no-plots', ...GD, '--out', dir]);
    await waitFor(join(dir, 'config.json'));
    // The run takes well under a second, less than the two refused commands below: paused, it
    // stays alive and holds its lock however long they take (it once finished first, and the
    // resume was then refused for "the run has ended" instead).
    child.kill('SIGSTOP');
    const second = coflow(['run', '--no-plots', ...GD, '--force', '--out', dir]);
    expectRefused(second, new RegExp(`is in use by another coflow run \\(pid ${child.pid} on host `));
    const resumeWhileRunning = coflow(['run', '--resume', dir, '--quiet']);
    expectRefused(resumeWhileRunning, /is in use by another coflow run/);
    child.kill('SIGKILL');
    await done;
    // The killed run's lock names a pid that no longer exists: stale, taken over.
    expect(existsSync(join(dir, 'run.lock'))).toBe(true);
    const r = coflow(['run', '--resume', dir, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(differingOutputs(reference, dir)).toEqual([]);
    expect(leftovers(dir)).toEqual([]);
  });

  it("a lock held on another host is refused with that host named (liveness can't be checked)", () => {
    const dir = copyOf('foreign-lock');
    writeFileSync(join(dir, 'run.lock'), JSON.stringify({ pid: 1, host: `${hostname()}-elsewhere`, started: '2026-01-01T00:00:00.000Z' }));
    expectRefused(coflow(['run', '--resume', dir, '--quiet']), /in use by another coflow run \(pid 1 on host .*-elsewhere/);
  });

  it("a new run refuses a directory with another run's files; --force replaces them and keeps other files", () => {
    const dir = join(root, 'reused');
    expect(coflow(['run', '--no-plots', ...GD, '--out', dir]).code).toBe(0);
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    writeFileSync(join(dir, 'claims.md'), 'old claims');
    const before = snapshot(dir);
    expectRefused(coflow(['run', '--no-plots', ...GD, '--steps', '200', '--out', dir]), /holds another run's files .*--resume .*--force/);
    expect(snapshot(dir)).toEqual(before);
    const forced = coflow(['run', '--no-plots', ...GD, '--steps', '200', '--force', '--out', dir]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('mine');
    expect(existsSync(join(dir, 'claims.md'))).toBe(false);
    expect(readJson(join(dir, 'summary.json')).step).toBe(200);
    expect((readJson(join(dir, 'config.json')).settings as Json).steps).toBe(200);
  });

  it('a run killed before its first checkpoint is run again from t = 0 by --resume, to the same outputs', async () => {
    const dir = join(root, 'early-kill');
    const { child, done } = coflowChild(['run', '--no-plots', ...GD, '--checkpoint-every', '30', '--out', dir]);
    await waitFor(join(dir, 'config.json'));
    child.kill('SIGKILL');
    expect((await done).signal).toBe('SIGKILL');
    expect(existsSync(join(dir, 'checkpoint.json'))).toBe(false);
    const r = coflow(['run', '--resume', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/has no checkpoint yet; running it from t = 0/);
    expect(differingOutputs(reference, dir)).toEqual([]);
    expect(leftovers(dir)).toEqual([]);
  });

  it('odex writes no checkpoint, and a signal ends it at once (the default action)', async () => {
    const dir = join(root, 'odex');
    const { child, done } = coflowChild(['run', '--no-plots', '--preset', 'paper-fig1', '--method', 'odex', '--t-end', '30000', '--quiet', '--out', dir]);
    await waitFor(join(dir, 'config.json'));
    await sleep(200);
    child.kill('SIGTERM');
    const r = await done;
    expect(r.signal).toBe('SIGTERM');
    expect(existsSync(join(dir, 'checkpoint.json'))).toBe(false);
  });

  it('a run that has ended has nothing to resume (exit 2)', () => {
    expectRefused(coflow(['run', '--resume', reference, '--quiet']), /the run has ended .*nothing to resume/);
  });
});

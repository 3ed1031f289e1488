/**
 * Exit codes as documented (0 success, 1 a failed --check or a bug, 2 usage errors, 3 early stop,
 * 130/143 signals: see test/run/kills.test.ts), and file-system errors as usage errors with a
 * fix, through the real CLI.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { writeFileAtomic } from '../../src/io/atomic.js';
import { coflow, tmp } from '../cli/helpers.js';

function expectUsage(r: ReturnType<typeof coflow>, pattern: RegExp): void {
  expect(r.code, r.stdout + r.stderr).toBe(2);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
}

describe('grad --check', () => {
  const dir = tmp('coflow-exit-');
  const data = join(dir, 'data.npz');
  coflow(['data', '--preset', 'paper-fig1', '--out', data]);

  it('exit 1 when the analytic gradient and the autodiff oracle disagree (s0 = 100: ill-conditioned, measured 5e-4 > 1e-10)', () => {
    const params = join(dir, 'big.npz');
    expect(coflow(['init', '--preset', 'paper-fig1', '--s0', '100', '--s1', '1', '--out', params]).code).toBe(0);
    const r = coflow(['grad', '--params', params, '--data', data, '--out', join(dir, 'g1.npz'), '--check']);
    expect(r.stdout).toMatch(/FAILED \(tolerance 1e-10\)/);
    expect(r.code).toBe(1);
  });

  it('negative control: exit 0 and "ok" at the preset scale', () => {
    const params = join(dir, 'small.npz');
    expect(coflow(['init', '--preset', 'paper-fig1', '--out', params]).code).toBe(0);
    const r = coflow(['grad', '--params', params, '--data', data, '--out', join(dir, 'g2.npz'), '--check']);
    expect(r.stdout).toMatch(/: ok \(tolerance 1e-10\)/);
    expect(r.code).toBe(0);
  });
});

describe('file-system errors are usage errors (exit 2, one line, the fix), never "internal error"', () => {
  const dir = tmp('coflow-fs-');
  const file = join(dir, 'a-file');
  writeFileSync(file, 'x');
  const T = ['--preset', 'theory', '--level', 'type', '--init', 'mean', '--quiet'];

  it('run --out under a file', () => expectUsage(coflow(['run', '--no-plots', ...T, '--out', join(file, 'x')]), /--out .*a-file is a file, not a directory/));
  it('run --out naming a file', () => expectUsage(coflow(['run', '--no-plots', ...T, '--out', file]), /--out .*exists and is not a directory/));
  it('run --out where directories cannot be made (EPERM/ENOENT under /proc, /sys)', () => {
    expectUsage(coflow(['run', '--no-plots', ...T, '--out', '/proc/coflow-nope/x']), /cannot create .*(ENOENT|EPERM|EACCES)/);
    expectUsage(coflow(['run', '--no-plots', ...T, '--out', '/sys/coflow-nope']), /cannot create .*(EPERM|EACCES|EROFS)/);
  });
  it('data --out in a missing directory', () => expectUsage(coflow(['data', '--out', join(dir, 'no', 'such', 'd.npz')]), /ENOENT, a directory on the path does not exist/));
  it('data --out in an unwritable directory', () => expectUsage(coflow(['data', '--out', '/sys/d.npz']), /cannot write \/sys\/d\.npz: (EACCES|EPERM|EROFS)/));
  it('derive --out naming an existing file', () => expectUsage(coflow(['derive', '--out', file]), /--out .*a-file is a file, not a directory/));
  it('grad --params missing', () => expectUsage(coflow(['grad', '--params', join(dir, 'none.npz'), '--data', join(dir, 'none.npz'), '--out', join(dir, 'g.npz')]), /none\.npz/));
  it('nothing half-written by the refusals above', () => {
    expect(readdirSync(dir).sort()).toEqual(['a-file']);
  });
  it('negative control: the same command into a writable directory succeeds', () => {
    const r = coflow(['data', '--out', join(dir, 'ok.npz')]);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(dir, 'ok.npz'))).toBe(true);
  });
});

describe('writeFileAtomic: a full disk (ENOSPC) mid-write', () => {
  it('is a UsageError saying how to continue, and leaves neither the file nor its temp file', () => {
    const dir = tmp('coflow-enospc-');
    const path = join(dir, 'out.npz');
    let thrown: unknown;
    try {
      writeFileAtomic(path, () => {
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(UsageError);
    expect((thrown as Error).message).toMatch(/cannot write .*out\.npz: ENOSPC, no space left on the device; free some space .*--resume/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('negative control: an error that is not a file-system error stays what it is (a bug, exit 1)', () => {
    const dir = tmp('coflow-enospc-');
    let thrown: unknown;
    try {
      writeFileAtomic(join(dir, 'x'), () => {
        throw new TypeError('a bug');
      });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    expect(readdirSync(dir)).toEqual([]);
  });
});

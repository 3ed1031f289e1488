import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { tempPathFor, writeAll, writeBytesAtomic, writeFileAtomic } from '../../src/io/atomic.js';
import { writeNpz } from '../../src/io/npz.js';
import { f8Array } from '../../src/io/npy.js';
import { errorOf, scratchDir } from './helpers.js';

const dir = scratchDir('atomic');

describe('atomic writes', () => {
  it('publishes the complete file and leaves no temp file', () => {
    const path = join(dir, 'ok.bin');
    writeBytesAtomic(path, Uint8Array.of(1, 2, 3));
    expect(Array.from(readFileSync(path))).toEqual([1, 2, 3]);
    expect(existsSync(tempPathFor(path))).toBe(false);
  });

  it('a writer that throws half-way leaves no file under the final name and no temp file', () => {
    const path = join(dir, 'fail.bin');
    const e = errorOf(() =>
      writeFileAtomic(path, (fd) => {
        writeAll(fd, new Uint8Array(1000).fill(7));
        // the temp file exists and holds partial output at this point
        expect(existsSync(tempPathFor(path))).toBe(true);
        throw new Error('boom');
      }),
    );
    expect(e.message).toBe('boom');
    expect(existsSync(path)).toBe(false);
    expect(existsSync(tempPathFor(path))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.startsWith('fail.bin'))).toEqual([]);
  });

  it('a failed rewrite keeps the previous file intact', () => {
    const path = join(dir, 'keep.bin');
    writeFileSync(path, 'old content');
    expect(() =>
      writeFileAtomic(path, (fd) => {
        writeAll(fd, Uint8Array.of(9, 9));
        throw new Error('disk full (simulated)');
      }),
    ).toThrow('disk full');
    expect(readFileSync(path, 'utf8')).toBe('old content');
    expect(existsSync(tempPathFor(path))).toBe(false);
  });

  it('a failing rename (target is a directory) is a UsageError and removes the temp file', () => {
    const path = join(dir, 'adir');
    mkdirSync(path);
    const e = errorOf(() => writeBytesAtomic(path, Uint8Array.of(1)));
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toContain(path);
    expect(existsSync(tempPathFor(path))).toBe(false);
  });

  it('a missing directory is a UsageError naming the path', () => {
    const path = join(dir, 'no', 'such', 'dir', 'x.npz');
    const e = errorOf(() => writeNpz(path, { x: f8Array(Float64Array.of(1)) }));
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toMatch(/cannot write .*x\.npz: ENOENT, a directory on the path does not exist; create it/);
  });

  it('an invalid array key fails before anything is written', () => {
    const path = join(dir, 'badkey.npz');
    expect(() => writeNpz(path, { 'a/b': f8Array(Float64Array.of(1)) })).toThrow(/key 'a\/b'/);
    expect(existsSync(path)).toBe(false);
    expect(existsSync(tempPathFor(path))).toBe(false);
  });
});

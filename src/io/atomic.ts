/**
 * Atomic file output: write `<path>.tmp-<pid>` in the same directory, fsync it, rename it over
 * `path`. rename(2) within one file system replaces the name atomically, so a reader sees
 * either the old file or the complete new one, never a half-written file (including after a
 * crash, thanks to the fsync before the rename). On any error the temp file is removed.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../errors.js';

/** Names of temp files (`<name>.tmp-<pid>`): a killed writer leaves one behind. */
export const TEMP_PATTERN = /\.tmp-\d+$/;

export function tempPathFor(path: string): string {
  return `${path}.tmp-${process.pid}`;
}

/** Writes every byte of `bytes` at the current position of `fd` (writeSync may write less). */
export function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
}

/**
 * Runs `write(fd)` on a fresh temp file, then publishes it as `path`. If `write` (or any step)
 * throws, the temp file is deleted, `path` is untouched, and the error propagates.
 */
export function writeFileAtomic(path: string, write: (fd: number) => void): void {
  const tmp = tempPathFor(path);
  let fd: number;
  try {
    fd = openSync(tmp, 'w', 0o644);
  } catch (e) {
    throw fsUsageError(e, `cannot write ${path}`);
  }
  let open = true;
  try {
    write(fd);
    fsyncSync(fd);
    closeSync(fd);
    open = false;
    try {
      renameSync(tmp, path);
    } catch (e) {
      throw fsUsageError(e, `cannot write ${path} (rename failed)`);
    }
  } catch (e) {
    if (open) {
      try {
        closeSync(fd);
      } catch {
        // already failing; the original error is the one to report
      }
    }
    try {
      unlinkSync(tmp);
    } catch {
      // the temp file may not exist any more
    }
    throw fsUsageError(e, `cannot write ${path}`);
  }
  syncDirectory(dirname(path));
}

/** How to fix each file-system error a user can cause (full disk, permissions, missing parent). */
const FS_FIXES: Record<string, string> = {
  ENOSPC: 'no space left on the device; free some space (an interrupted run continues with coflow run --resume DIR)',
  EDQUOT: 'disk quota exceeded; free some space',
  EACCES: 'permission denied; choose a directory you can write to',
  EPERM: 'operation not permitted; choose a directory you can write to',
  EROFS: 'the file system is read-only; choose a writable location',
  ENOENT: 'a directory on the path does not exist; create it or fix the path',
  ENOTDIR: 'a part of the path is a file, not a directory; fix the path',
  EISDIR: 'the path is a directory; give a file name',
  EEXIST: 'the path already exists; remove it or choose another',
  EMFILE: 'too many open files; raise the limit (ulimit -n)',
};

/**
 * A file-system error as a one-line UsageError with its fix (or unchanged: a UsageError, or an
 * error that is not a file-system error, which would be a bug).
 */
export function fsUsageError(e: unknown, what: string): unknown {
  if (e instanceof UsageError) return e;
  const code = (e as NodeJS.ErrnoException)?.code;
  if (typeof code === 'string' && code in FS_FIXES) return new UsageError(`${what}: ${code}, ${FS_FIXES[code]}`);
  return e;
}

export function writeBytesAtomic(path: string, bytes: Uint8Array): void {
  writeFileAtomic(path, (fd) => writeAll(fd, bytes));
}

/** Makes the rename itself durable. Best effort: some file systems refuse fsync on a directory. */
function syncDirectory(dir: string): void {
  let fd: number | null = null;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // not supported here; the file content is already durable
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/**
 * mkdir -p without Node's `recursive: true`, which can loop for ever where mkdir fails with
 * ENOENT for a reason other than a missing parent (seen under /proc). Creates the missing
 * ancestors one by one, at most once each; errors become one-line usage errors.
 */
export function makeDirectory(path: string, flag: string): void {
  const missing: string[] = [];
  let p = resolve(path);
  while (!existsSync(p)) {
    missing.push(p);
    const parent = dirname(p);
    if (parent === p) break;
    p = parent;
  }
  if (existsSync(p) && !statSync(p).isDirectory()) throw new UsageError(`${flag} ${path}: ${p} is a file, not a directory; fix the path`);
  for (const dir of missing.reverse()) {
    try {
      mkdirSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && statSync(dir).isDirectory()) continue;
      throw fsUsageError(e, `${flag} ${path}: cannot create ${dir}`);
    }
  }
}

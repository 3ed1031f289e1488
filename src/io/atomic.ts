/**
 * Atomic file output: write `<path>.tmp-<pid>` in the same directory, fsync it, rename it over
 * `path`. rename(2) within one file system replaces the name atomically, so a reader sees
 * either the old file or the complete new one, never a half-written file (including after a
 * crash, thanks to the fsync before the rename). On any error the temp file is removed.
 */
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from '../errors.js';

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
    const err = e as NodeJS.ErrnoException;
    throw new UsageError(`cannot write ${path}: ${err.code ?? err.message}; check that the directory exists and is writable`);
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
      const err = e as NodeJS.ErrnoException;
      throw new UsageError(`cannot write ${path}: rename failed (${err.code ?? err.message}); check that the path is not a directory`);
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
    throw e;
  }
  syncDirectory(dirname(path));
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

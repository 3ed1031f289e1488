import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors.js';

/**
 * One run per directory: `run.lock` in the run directory names the process that owns it (pid,
 * host, start time). It is created complete and atomically: written under a temporary name, then
 * hard-linked to `run.lock`, which fails if the name exists (link(2) never replaces), so two runs
 * racing for a directory cannot both win, and no reader ever sees a half-written lock.
 *
 * A lock whose process is gone (a run killed with SIGKILL, a crashed machine) is stale: on the
 * same host a pid that no longer exists is detected and the lock is taken over. On another host
 * liveness cannot be checked, so the lock is refused with the host named; the user removes it.
 */
export const LOCK_FILE = 'run.lock';

interface LockInfo {
  pid: number;
  host: string;
  started: string;
}

export interface RunLock {
  /** Removes the lock if this process still owns it. Idempotent. */
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(path: string): LockInfo | null {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
    return Number.isSafeInteger(v.pid) && typeof v.host === 'string' ? v : null;
  } catch {
    return null;
  }
}

/** Takes the lock of `dir` (which must exist) or throws a UsageError naming its owner. */
export function acquireRunLock(dir: string): RunLock {
  const path = join(dir, LOCK_FILE);
  const me: LockInfo = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(me) + '\n');
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(tmp, path);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        if (attempt > 0) throw new UsageError(`${dir} was just taken by another coflow run; use another --out`);
      }
      const owner = readLock(path);
      if (owner && owner.host === me.host && owner.pid === process.pid) break; // already ours
      if (owner && owner.host === me.host && !alive(owner.pid)) {
        unlinkSync(path); // stale: its process is gone
        continue;
      }
      if (owner) {
        throw new UsageError(
          `${dir} is in use by another coflow run (pid ${owner.pid} on host ${owner.host}, since ${owner.started}); wait for it to finish, use another --out, or delete ${path} if that run is gone`,
        );
      }
      throw new UsageError(`${path} exists but cannot be read as a coflow lock; if no run uses ${dir}, delete it`);
    }
  } finally {
    unlinkSync(tmp);
  }
  let held = true;
  const release = () => {
    if (!held) return;
    held = false;
    const owner = readLock(path);
    if (owner && owner.pid === me.pid && owner.host === me.host) {
      try {
        unlinkSync(path);
      } catch {
        // already gone
      }
    }
  };
  // Also on process.exit (a second Ctrl-C, an uncaught error): a lock left behind is only stale.
  process.once('exit', release);
  return {
    release() {
      process.removeListener('exit', release);
      release();
    },
  };
}

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The CLI tests run the built `coflow` (dist/), as a user would after `npm ci` (whose `prepare`
 * builds it). Rebuild once before the tests so they never run a stale build.
 *
 * Every temporary directory of the run goes under one root, removed when the run ends: TMPDIR
 * is set to it here, before the test processes start, so `os.tmpdir()` in the tests and in the
 * `coflow` processes they start points there. (Before, the tests' directories stayed behind:
 * 17,000 of them in /tmp on the development machine, which made every file opened in /tmp
 * about 25 times slower.)
 */
export default function setup(): () => void {
  try {
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'pipe' });
  } catch (e) {
    const err = e as { stdout?: Buffer };
    throw new Error(`TypeScript build failed:\n${err.stdout?.toString() ?? String(e)}`);
  }
  const previous = process.env.TMPDIR;
  const root = mkdtempSync(join(tmpdir(), 'coflow-vitest-'));
  process.env.TMPDIR = root;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(root, { recursive: true, force: true });
  };
}

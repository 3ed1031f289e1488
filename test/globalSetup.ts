import { execFileSync } from 'node:child_process';

/**
 * The CLI tests run the built `coflow` (dist/), as a user would after `npm ci` (whose `prepare`
 * builds it). Rebuild once before the tests so they never run a stale build.
 */
export default function setup(): void {
  try {
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'pipe' });
  } catch (e) {
    const err = e as { stdout?: Buffer };
    throw new Error(`TypeScript build failed:\n${err.stdout?.toString() ?? String(e)}`);
  }
}

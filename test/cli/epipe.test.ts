/**
 * `coflow ... --help | head`: a reader that closes the pipe before coflow writes. coflow stops
 * quietly with exit 0 (src/cli/main.ts), as Unix tools do, not with an unhandled EPIPE.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { join } from 'node:path';
import { CLI, tmp } from './helpers.js';

function intoClosedPipe(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.destroy(); // the read end closes before the child has written anything
    let stderr = '';
    child.stderr!.on('data', (b) => (stderr += b));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('closed stdout pipe', () => {
  for (const args of [['--help'], ['run', '--help'], ['sweep', '--help']]) {
    test(`coflow ${args.join(' ')}`, async () => {
      const r = await intoClosedPipe(args);
      expect(r.stderr).not.toMatch(/EPIPE|Error/);
      expect(r.code).toBe(0);
    });
  }

  test('a run that stops early keeps its exit code 3, and its files', async () => {
    const out = join(tmp(), 'run');
    const r = await intoClosedPipe(['run', '--preset', 'theory', '--level', 'type', '--init', 'mean', '--max-steps', '2', '--no-plots', '--quiet', '--out', out]);
    expect(r.stderr).not.toMatch(/EPIPE/);
    expect(r.code).toBe(3);
    expect(existsSync(join(out, 'summary.json'))).toBe(true);
  });
});

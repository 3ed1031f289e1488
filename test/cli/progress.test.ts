/**
 * Progress bars, as README and --help state them: shown on a terminal, not with --quiet, and not
 * when stderr is not a terminal. A terminal is given by util-linux `script` (a pseudo-terminal),
 * which Debian installs with its essential packages.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, coflow, tmp } from './helpers.js';

const SCRIPT = '/usr/bin/script';

/** `coflow args` on a pseudo-terminal: everything it wrote to the terminal, carriage returns as newlines. */
function onTerminal(args: string[]): { code: number | null; text: string } {
  const command = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync(SCRIPT, ['-qec', command, '/dev/null'], { encoding: 'utf8' });
  return { code: r.status, text: r.stdout.replace(/\r/g, '\n') };
}

describe.skipIf(!existsSync(SCRIPT))('progress bars on a terminal', () => {
  // four tiny Level T runs (a few ms each): the bar, not the runs, is under test
  const spec = join(tmp('coflow-progress-'), 'spec.json');
  writeFileSync(spec, JSON.stringify({ base: { preset: 'theory', level: 'type', init: 'mean', 't-end': 10 }, grid: { seed: [0, 1, 2, 3] } }));

  it('coflow run: a bar with the level, method and ETA; none with --quiet; none when stderr is not a terminal', () => {
    const dir = tmp('coflow-progress-');
    const args = ['run', '--preset', 'theory', '--level', 'type', '--init', 'mean', '--t-end', '10', '--no-plots'];
    const shown = onTerminal([...args, '--out', join(dir, 'a')]);
    expect(shown.code).toBe(0);
    expect(shown.text).toMatch(/type\/dopri5 \[[█░]+\] \d+% \| ETA/);
    const quiet = onTerminal([...args, '--quiet', '--out', join(dir, 'b')]);
    expect(quiet.code).toBe(0);
    expect(quiet.text).not.toMatch(/ETA/);
    // negative control for the pattern: stderr that is a pipe gets no bar either
    const piped = coflow([...args, '--out', join(dir, 'c')]);
    expect(piped.code).toBe(0);
    expect(piped.stderr).not.toMatch(/ETA/);
  });

  it('coflow sweep: one bar over the runs, ending at done = total; none with --quiet', () => {
    const dir = tmp('coflow-progress-');
    const shown = onTerminal(['sweep', '--spec', spec, '--workers', '2', '--no-plots', '--out', join(dir, 'a')]);
    expect(shown.code).toBe(0);
    const counts = [...shown.text.matchAll(/sweep \[[█░]+\] (\d+)\/(\d+) runs \| (\d+) failed/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(counts.length).toBeGreaterThan(1);
    const total = counts[0][1];
    expect(counts.every(([, t]) => t === total)).toBe(true);
    expect(counts[counts.length - 1][0]).toBe(total);
    // one bar: the count never goes back
    for (let i = 1; i < counts.length; i++) expect(counts[i][0]).toBeGreaterThanOrEqual(counts[i - 1][0]);
    const quiet = onTerminal(['sweep', '--spec', spec, '--workers', '2', '--no-plots', '--quiet', '--out', join(dir, 'b')]);
    expect(quiet.code).toBe(0);
    expect(quiet.text).not.toMatch(/runs \|/);
  }, 60_000);
});

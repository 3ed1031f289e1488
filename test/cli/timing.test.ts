/**
 * timing.json as a user reads it after `coflow run`: wallSeconds (the integration), startupSeconds
 * (process launch to the first step) and peakRssBytes (the process's peak resident set). Oracles:
 * the wall time and the peak RSS of the same process measured from outside by GNU time
 * (/usr/bin/time -f '%e %M', whose %M is getrusage's ru_maxrss of the child in KiB).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { CLI, tmp } from './helpers.js';

const GNU_TIME = '/usr/bin/time';

describe('timing.json', () => {
  test.runIf(existsSync(GNU_TIME) || process.env.CI === 'true')('startupSeconds and peakRssBytes agree with GNU time of the same process', () => {
    const dir = join(tmp(), 'run');
    // Level G from a Wishart start: the start-up (data, Wishart draw, initial.npz) is a visible
    // part of the process, and the state (4k^2 + k + 1 = 33k values at k = 91) a visible part of the RSS.
    const args = [CLI, 'run', '--preset', 'theory', '--level', 'gram', '--init', 'wishart', '--t-end', '0.5', '--samples', '20', '--no-plots', '--quiet', '--out', dir];
    const r = spawnSync(GNU_TIME, ['-f', 'TIME %e %M', process.execPath, ...args], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const m = /TIME ([0-9.]+) ([0-9]+)/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    const elapsed = Number(m![1]);
    const maxKiB = Number(m![2]);
    const timing = JSON.parse(readFileSync(join(dir, 'timing.json'), 'utf8')) as Record<string, number>;
    expect(Object.keys(timing).sort()).toEqual(['peakRssBytes', 'startupSeconds', 'wallSeconds']);
    // Node alone takes tens of ms to start; the run starts after that and both fit in the
    // process's elapsed time (GNU time rounds to 10 ms).
    expect(timing.startupSeconds).toBeGreaterThan(0.02);
    expect(timing.wallSeconds).toBeGreaterThan(0);
    expect(timing.startupSeconds + timing.wallSeconds).toBeLessThanOrEqual(elapsed + 0.01);
    // Read before exit, so at most the final peak; the last writes add little.
    const kib = timing.peakRssBytes / 1024;
    expect(Number.isInteger(kib)).toBe(true);
    expect(kib).toBeLessThanOrEqual(maxKiB);
    expect(kib).toBeGreaterThan(0.8 * maxKiB);
  });
});

/**
 * `coflow check` through the built CLI (dist/, rebuilt by test/globalSetup.ts), on synthetic run
 * directories (./synth.ts): exit codes, the files written, and nothing written on bad input.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { synthRun } from './synth.js';
import { CLI, coflow } from '../cli/helpers.js';

describe('coflow check', () => {
  it('exit 0, both reports written, the table on stdout', () => {
    const s = synthRun();
    const r = coflow(['check', s.dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/thm3\.1\s+PASS\s+yes/);
    expect(r.stdout).toMatch(/16 PASS, 0 FAIL/);
    const json = JSON.parse(readFileSync(join(s.dir, 'claims.json'), 'utf8'));
    expect(json.claims).toHaveLength(16);
    expect(readFileSync(join(s.dir, 'claims.md'), 'utf8')).toMatch(/^# Claims check/);
  });

  it('exit 2, one line on stderr, nothing written: missing dir, no trajectory.csv, corrupt summary.json', () => {
    const noTraj = synthRun();
    rmSync(join(noTraj.dir, 'trajectory.csv'));
    const badSummary = synthRun();
    writeFileSync(join(badSummary.dir, 'summary.json'), '{"status": "success", "events": [');
    const cases: [string, RegExp][] = [
      [join(noTraj.dir, 'missing'), /no such directory/],
      [noTraj.dir, /trajectory\.csv is missing/],
      [badSummary.dir, /summary\.json is not valid JSON/],
    ];
    for (const [dir, message] of cases) {
      const r = coflow(['check', dir]);
      expect(r.code, dir).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stdout).toBe('');
      expect(existsSync(join(dir, 'claims.json'))).toBe(false);
      expect(existsSync(join(dir, 'claims.md'))).toBe(false);
    }
  });

  it('--strict: exit 1 on a FAIL within the hypotheses, 0 when nothing fails or only outside them', () => {
    const fail = synthRun({ override: { balance44: () => 0.8 } });
    const r1 = coflow(['check', '--strict', fail.dir]);
    expect(r1.code).toBe(1);
    expect(r1.stderr).toMatch(/1 claim failed within the hypotheses: lemma4\.4/);
    expect(existsSync(join(fail.dir, 'claims.json'))).toBe(true);
    // without --strict the same run exits 0
    expect(coflow(['check', fail.dir]).code).toBe(0);
    expect(coflow(['check', '--strict', synthRun().dir]).code).toBe(0);
    // gradient descent: the same breakage is OUTSIDE-HYPOTHESES, not a FAIL
    const gd = synthRun({ method: 'gd', override: { balance44: () => 0.8 } });
    const r2 = coflow(['check', '--strict', gd.dir]);
    expect(r2.code).toBe(0);
    expect(r2.stdout).toMatch(/lemma4\.4\s+OUTSIDE-HYPOTHESES\s+no/);
  });
});

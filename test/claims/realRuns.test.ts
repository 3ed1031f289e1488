/**
 * `coflow run` then `coflow check`, through the built CLI, on real runs (small and fast): the
 * acceptance cases that need real dynamics rather than synthetic trajectories.
 * - Level T from the mean start on theory-conforming data with n >= L^2 and every other
 *   hypothesis met: no hypothesis fails and every claim gets PASS or FAIL (none unevaluated);
 * - the `theory` preset: n-ge-L2 does not hold (24 < 36), so the claims that need it are
 *   OUTSIDE-HYPOTHESES with `holds` filled in;
 * - a run stopped before T1: thm3.1 is NOT-EVALUABLE;
 * - a GD run: gradient-flow does not hold, every claim is OUTSIDE-HYPOTHESES.
 * Oracle for the verdicts: the run's own trajectory (T1 present or not) and the settings.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const CLI = join(process.cwd(), 'dist/src/cli/main.js');
const coflow = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

interface Report {
  hypotheses: { id: string; holds: boolean }[];
  claims: { id: string; verdict: string; holds: boolean | null; needs: string[] }[];
}

function runAndCheck(args: string[]): { report: Report; summary: { events: { name: string }[] } } {
  const dir = join(mkdtempSync(join(tmpdir(), 'coflow-check-')), 'run');
  const run = coflow(['run', '--no-plots', ...args, '--quiet', '--out', dir]);
  expect(run.status, run.stderr).toBe(0);
  const check = coflow(['check', dir]);
  expect(check.status, check.stderr).toBe(0);
  return {
    report: JSON.parse(readFileSync(join(dir, 'claims.json'), 'utf8')) as Report,
    summary: JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')),
  };
}

// theory-conforming, n = 36 = L^2, m = 128 >= max(m1, L^2), theory-small scales (|F(0)| = 0 at the mean start).
// --max-steps 1000: 77 trial steps measured (99 for the theory preset); a run stopped by the
// budget exits 3, which fails runAndCheck.
const STRICT_T = ['--preset', 'theory-strict', '--n', '36', '--d', '136', '--m', '128', '--m1', '64', '--level', 'type', '--init', 'mean'];
/** the flows' step budget (coflow refuses --max-steps with --method gd) */
const FLOW_CAP = ['--max-steps', '1000'];

describe('coflow check on real runs', () => {
  it('Level T, every hypothesis met: each claim PASS or FAIL, none unevaluated', () => {
    const { report } = runAndCheck([...STRICT_T, ...FLOW_CAP]);
    expect(report.hypotheses.filter((h) => !h.holds).map((h) => h.id)).toEqual([]);
    expect(report.claims).toHaveLength(16);
    for (const c of report.claims) {
      expect(['PASS', 'FAIL'], c.id).toContain(c.verdict);
      expect(c.holds, c.id).toBe(c.verdict === 'PASS');
    }
  });

  it('the theory preset: n-ge-L2 does not hold, and the claims that need it are OUTSIDE-HYPOTHESES with holds filled in', () => {
    const { report } = runAndCheck(['--preset', 'theory', '--level', 'type', '--init', 'mean', ...FLOW_CAP]);
    const h = report.hypotheses.find((x) => x.id === 'n-ge-L2')!;
    expect(h.holds).toBe(false);
    const needing = report.claims.filter((c) => c.needs.includes('n-ge-L2'));
    expect(needing.length).toBeGreaterThan(0);
    for (const c of needing) {
      expect(c.verdict, c.id).toBe('OUTSIDE-HYPOTHESES');
      expect(typeof c.holds, c.id).toBe('boolean');
    }
  });

  it('a run stopped before T1 (no all-correct event): thm3.1 is NOT-EVALUABLE', () => {
    const { report, summary } = runAndCheck([...STRICT_T, '--t-end', '0.001', ...FLOW_CAP]);
    expect(summary.events.map((e) => e.name)).not.toContain('all-correct');
    const t31 = report.claims.find((c) => c.id === 'thm3.1')!;
    expect(t31.verdict).toBe('NOT-EVALUABLE');
    expect(t31.holds).toBeNull();
  });

  it('a GD run: gradient-flow does not hold, and every claim that needs it is OUTSIDE-HYPOTHESES', () => {
    const { report } = runAndCheck([...STRICT_T, '--method', 'gd', '--lr', '0.01', '--steps', '2000']);
    expect(report.hypotheses.find((x) => x.id === 'gradient-flow')!.holds).toBe(false);
    const needing = report.claims.filter((c) => c.needs.includes('gradient-flow'));
    // lemma4.1 is about the field at t = 0 (dG/dt is the flow's rate on any run), so it does not need it.
    expect(report.claims.filter((c) => !c.needs.includes('gradient-flow')).map((c) => c.id)).toEqual(['lemma4.1']);
    expect(needing).toHaveLength(report.claims.length - 1); // so the loop checks every other claim
    for (const c of needing) expect(c.verdict, c.id).toBe('OUTSIDE-HYPOTHESES');
  });
});

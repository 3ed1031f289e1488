/**
 * examples/: each program type-checks (tsconfig.examples.json: strict, importing 'coflow' as a
 * user's program does, through the package's own exports) and runs, and what it prints is checked
 * against an independent source: the Lotka-Volterra invariant and the event condition, the loss
 * `coflow grad` computes from the same files, the verdicts `coflow check` writes for the same run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { readGradNpz } from '../../src/io/files.js';
import { coflow, tmp } from '../cli/helpers.js';

const ROOT = process.cwd();
const OUT = join(ROOT, 'dist-examples');

function runExample(name: string, args: string[], cwd: string): Record<string, unknown> {
  const r = spawnSync(process.execPath, [join(OUT, `${name}.js`), ...args], { cwd, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
}

beforeAll(() => {
  // The examples import 'coflow', resolved through package.json's exports to dist/src (built by the global setup).
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.examples.json'], { cwd: ROOT, stdio: 'pipe' });
}, 120_000);

describe('examples/', () => {
  test('lotka-volterra.ts: solve keeps the invariant, and the events are where the prey count is 5', () => {
    const r = runExample('lotka-volterra', [], tmp('coflow-ex-'));
    expect(r.status).toBe('success');
    expect(r.outputs).toBe(151);
    // V = delta x - gamma ln x + beta y - alpha ln y is exactly conserved; rtol 1e-10 keeps it to ~1e-9.
    expect(r.drift as number).toBeLessThan(1e-8);
    const events = r.events as { t: number; x: number }[];
    // One downward crossing of x = 5 per period (about 4.3 time units over 15).
    expect(events.length).toBe(4);
    for (const e of events) expect(Math.abs(e.x - 5)).toBeLessThan(1e-8);
    for (let i = 1; i < events.length; i++) expect(events[i].t - events[i - 1].t).toBeGreaterThan(4);
  });

  test('gradient-from-npz.ts: the loss of coflow grad on the same files', () => {
    const cwd = tmp('coflow-ex-');
    const r = runExample('gradient-from-npz', [], cwd);
    const g = coflow(['grad', '--params', 'initial.npz', '--data', 'data.npz', '--out', 'g.npz'], cwd);
    expect(g.code, g.stderr).toBe(0);
    const ref = readGradNpz(join(cwd, 'g.npz'));
    expect(r.loss).toBe(ref.loss);
    expect(r.n).toBe(60);
    const norm = (x: Float64Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0));
    const norms = r.norms as Record<string, number>;
    expect(norms.dWQ).toBe(norm(ref.grad.dWQ));
    expect(norms.dW).toBe(norm(ref.grad.dW));
  });

  test('level-t-run-and-check.ts: the verdicts coflow check gives the same run', () => {
    const cwd = tmp('coflow-ex-');
    const r = runExample('level-t-run-and-check', ['runT'], cwd);
    expect(r.status).toBe('success');
    expect(r.t).toBe(200);
    const c = coflow(['check', 'runT'], cwd);
    expect(c.code, c.stderr).toBe(0);
    const claims = (JSON.parse(readFileSync(join(cwd, 'runT', 'claims.json'), 'utf8')) as { claims: { id: string; verdict: string }[] }).claims;
    expect(r.verdicts).toEqual(Object.fromEntries(claims.map((x) => [x.id, x.verdict])));
    const summary = JSON.parse(readFileSync(join(cwd, 'runT', 'summary.json'), 'utf8')) as { stats: { naccepted: number } };
    expect(r.naccepted).toBe(summary.stats.naccepted);
  });
});

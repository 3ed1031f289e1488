/**
 * Runs killed or signalled at random moments, through the real CLI. Oracle: the same run done
 * without interruption; every deterministic output must be byte-identical after `--resume`, and
 * no temp file, checkpoint or lock may be left. The moments come from a fixed-seed generator.
 */
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { coflow, coflowChild, differingOutputs, leftovers, sleep, stderrOf, tmp, waitFor } from '../cli/helpers.js';

// Two runs of about 1.5-2 s each on this machine: a GD run and a dopri5 flow, both checkpointing
// every 50 ms (so kills land between, during and just after checkpoint writes).
const GD = ['--preset', 'paper-fig1', '--method', 'gd', '--steps', '1500', '--quiet', '--checkpoint-every', '0.05'];
const FLOW = ['--preset', 'paper-fig1', '--method', 'dopri5', '--t-end', '30000', '--quiet', '--checkpoint-every', '0.05'];

/** mulberry32: a fixed sequence of kill moments, as fractions in [0, 1) of a run's duration. */
function moments(seed: number, count: number): number[] {
  let a = seed >>> 0;
  return Array.from({ length: count }, () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  });
}

describe('kill -9 at random moments, then --resume: byte-identical to an uninterrupted run', () => {
  const root = tmp('coflow-kill-');
  const reference = { gd: join(root, 'ref-gd'), flow: join(root, 'ref-flow') };
  /** ms from config.json's appearance to the end of the uninterrupted run: the window kills fall in */
  const window = { gd: 0, flow: 0 };

  beforeAll(async () => {
    for (const [name, args] of [['gd', GD], ['flow', FLOW]] as const) {
      const { done } = coflowChild(['run', '--no-plots', ...args, '--out', reference[name]]);
      await waitFor(join(reference[name], 'config.json'));
      const t0 = Date.now();
      const r = await done;
      window[name] = Date.now() - t0;
      expect(r.code, r.stderr).toBe(0);
    }
  });

  for (const [name, args, seed] of [['gd', GD, 11], ['flow', FLOW, 12]] as const) {
    it(`${name}: 10 kills, each resumed to the end`, async () => {
      let interrupted = 0;
      // Spread over 95% of the reference run's duration on this machine, so that (almost) every
      // kill lands while the run is still going, however fast the machine is.
      const ms = moments(seed, 10).map((f) => Math.round(f * 0.95 * window[name]));
      for (const [i, delay] of ms.entries()) {
        const dir = join(root, `${name}-${i}`);
        const { child, done } = coflowChild(['run', '--no-plots', ...args, '--out', dir]);
        await waitFor(join(dir, 'config.json'));
        await sleep(delay);
        child.kill('SIGKILL');
        const killed = await done;
        if (killed.signal === 'SIGKILL') {
          interrupted++;
          const r = coflow(['run', '--resume', dir, '--quiet']);
          expect(r.code, `kill after ${delay} ms: ${r.stderr}`).toBe(0);
        }
        expect(differingOutputs(reference[name], dir), `kill after ${delay} ms`).toEqual([]);
        expect(leftovers(dir), `kill after ${delay} ms`).toEqual([]);
      }
      // The moments span the run, so most kills land while it runs.
      expect(interrupted).toBeGreaterThanOrEqual(7);
    });
  }

  it('negative control: the comparison sees a one-byte difference in trajectory.csv', () => {
    const copy = join(root, 'copy');
    cpSync(reference.gd, copy, { recursive: true });
    const csv = readFileSync(join(copy, 'trajectory.csv'), 'utf8');
    const i = csv.lastIndexOf('1');
    const bumped = csv.slice(0, i) + '2' + csv.slice(i + 1);
    writeFileSync(join(copy, 'trajectory.csv'), bumped);
    expect(differingOutputs(reference.gd, copy)).toEqual(['trajectory.csv']);
  });
});

describe('signals: finish the step, write a checkpoint, exit 130 / 143', () => {
  // Long enough (about 3 s) that the signal, noticed within a second, lands before the end.
  // Long enough that a signal 0.3 s in is handled at the first return to the event loop (after
  // 1 s of steps), well before the end, also on a machine twice as fast as this one.
  const LONG = ['--preset', 'paper-fig1', '--method', 'gd', '--steps', '12000', '--quiet'];
  const root = tmp('coflow-sig-');
  const reference = join(root, 'ref');
  beforeAll(() => {
    expect(coflow(['run', '--no-plots', ...LONG, '--out', reference]).code).toBe(0);
  });

  for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
    it(`${signal}: exit ${code}, summary says interrupted, --resume gives the uninterrupted outputs`, async () => {
      const dir = join(root, signal);
      const { child, done } = coflowChild(['run', '--no-plots', ...LONG, '--checkpoint-every', '30', '--out', dir]);
      await waitFor(join(dir, 'config.json'));
      await sleep(300);
      child.kill(signal);
      const r = await done;
      expect(r.code, r.stderr).toBe(code);
      expect(r.stdout).toContain(`stopped by ${signal}`);
      expect(r.stdout).toContain(`coflow run --resume ${dir}`);
      const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
      expect(summary.status).toBe('interrupted');
      expect(summary.step).toBeGreaterThan(0);
      expect(summary.step).toBeLessThan(12000);
      // handled at the first return to the event loop (after 1 s of steps), not a leg later
      expect(JSON.parse(readFileSync(join(dir, 'timing.json'), 'utf8')).wallSeconds).toBeLessThan(1.6);
      // the checkpoint was written at the stop, not by the (30 s) timer
      expect(existsSync(join(dir, 'checkpoint.json'))).toBe(true);
      expect(existsSync(join(dir, 'run.lock'))).toBe(false);
      const resumed = coflow(['run', '--resume', dir, '--quiet']);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(differingOutputs(reference, dir)).toEqual([]);
      expect(leftovers(dir)).toEqual([]);
    });
  }

  it('a second SIGINT stops at once (exit 130, no stop message); the last periodic checkpoint still resumes', async () => {
    // Slow steps (m = 8192: about 0.35 s each), so the second signal lands while the first is pending.
    const dir = join(root, 'twice');
    const { child, done } = coflowChild(['run', '--no-plots', '--preset', 'paper-fig1', '--method', 'gd', '--steps', '8', '--m', '8192', '--quiet', '--checkpoint-every', '0.01', '--out', dir]);
    await waitFor(join(dir, 'checkpoint.json'));
    child.kill('SIGINT');
    const t0 = Date.now();
    while (!/SIGINT received/.test(stderrOf(child)) && Date.now() - t0 < 5000) await sleep(2);
    child.kill('SIGINT');
    const r = await done;
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/second SIGINT: stopping at once/);
    expect(r.stdout).not.toMatch(/stopped by SIGINT/);
    const resumed = coflow(['run', '--resume', dir, '--quiet']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')).step).toBe(8);
    expect(leftovers(dir)).toEqual([]);
  });
});

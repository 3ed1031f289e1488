/**
 * Checkpoint files survive a kill at any moment: the arrays go to a .npz of their own name first,
 * then checkpoint.json names them, then the previous .npz goes. Simulated here by leaving the
 * files a kill would leave at each point; the oracle is the checkpoint written before the kill.
 */
import { copyFileSync, existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateDataset } from '../../src/data/generate.js';
import { initParams } from '../../src/model/init.js';
import { hasCheckpoint, readCheckpoint, removeCheckpoint, writeCheckpoint } from '../../src/run/checkpoint.js';
import { FullDynamics } from '../../src/run/fullDynamics.js';
import { RunCheckpoint, runDynamics } from '../../src/run/run.js';

function checkpoints(): RunCheckpoint[] {
  const data = generateDataset({ n: 12, L: 4, d: 40, seed: 1, fillers: 'distinct' });
  const p = initParams({ m: 8, m1: 4, d: 40, s0: 0.3, s1: 0.4, seed: 2 });
  const dyn = new FullDynamics(data, p);
  const out: RunCheckpoint[] = [];
  runDynamics(dyn, dyn.pack(p), { method: 'gd', tEnd: 1, rtol: 1, atol: 1, maxSteps: 1, controller: 'I', lr: 0.05, steps: 40, samples: 10 }, { checkpointSeconds: 0, onCheckpoint: (c) => out.push(c) });
  return out;
}

const npzFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.npz'));

describe('checkpoint files', () => {
  const [a, b] = checkpoints().slice(3, 5);

  it('a kill after the next checkpoint\'s arrays but before its checkpoint.json leaves the previous checkpoint readable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'coflow-ckpt-'));
    const other = mkdtempSync(join(tmpdir(), 'coflow-ckpt-'));
    writeCheckpoint(dir, a);
    writeCheckpoint(other, b);
    // The state a kill leaves between b's .npz and b's checkpoint.json: a's json, a's npz, b's npz.
    const bNpz = npzFiles(other)[0];
    copyFileSync(join(other, bNpz), join(dir, bNpz));
    expect(npzFiles(dir)).toHaveLength(2);
    const r = readCheckpoint(dir);
    expect(r.step).toBe(a.step);
    expect(Array.from(r.y)).toEqual(Array.from(a.y));
    // ... and the next write cleans the stray file up.
    writeCheckpoint(dir, b);
    expect(npzFiles(dir)).toEqual([bNpz]);
    expect(readCheckpoint(dir).step).toBe(b.step);
  });

  it('negative control: a checkpoint.json whose .npz is gone or altered is refused as damaged, one line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'coflow-ckpt-'));
    writeCheckpoint(dir, a);
    const f = npzFiles(dir)[0];
    writeFileSync(join(dir, f), 'x');
    expect(() => readCheckpoint(dir)).toThrow(/hash differs|damaged/);
    removeCheckpoint(dir);
    expect(hasCheckpoint(dir)).toBe(false);
    expect(npzFiles(dir)).toEqual([]);
    expect(existsSync(join(dir, 'checkpoint.json'))).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { resolveSettings } from '../../src/config/resolve.js';
import { fillerSlots, generateDataset } from '../../src/data/generate.js';
import { liftParams } from '../../src/gram/lift.js';
import { initParams } from '../../src/model/init.js';
import { orthogonalParams } from '../../src/reduced/orthogonal.js';
import { FullDynamics } from '../../src/run/fullDynamics.js';
import { GramModel } from '../../src/gram/flow.js';
import { GramDynamics } from '../../src/run/gramDynamics.js';
import { buildStart } from '../../src/run/levels.js';
import { RunPlan, runDynamics } from '../../src/run/run.js';
import { Trajectory } from '../../src/analysis/trajectory.js';
import { stateArrays } from '../../src/app/stateFiles.js';

const BLOCKS = ['S', 'A', 'B', 'C', 'u', 's'] as const;

/** Max over blocks of max|a - b| / max|b| (each Gram block against its own scale). */
function blockRelDiff(model: GramModel, a: Float64Array, b: Float64Array): number {
  const dyn = new GramDynamics(model);
  const fa = stateArrays(dyn, a);
  const fb = stateArrays(dyn, b);
  let worst = 0;
  for (const name of BLOCKS) {
    const x = fa[name].data;
    const y = fb[name].data;
    let scale = 0;
    let diff = 0;
    for (let i = 0; i < y.length; i++) {
      scale = Math.max(scale, Math.abs(y[i]));
      diff = Math.max(diff, Math.abs(x[i] - y[i]));
    }
    worst = Math.max(worst, diff / scale);
  }
  return worst;
}

function columnsRelDiff(a: Trajectory, b: Trajectory, cols: string[]): number {
  let worst = 0;
  for (const c of cols) {
    const x = a.column(c);
    const y = b.column(c);
    expect(x.length).toBe(y.length);
    const scale = Math.max(...y.map(Math.abs));
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]) / scale);
  }
  return worst;
}

const OBSERVED = ['loss', 'loss_I1', 'loss_I2', 'loss_I3', 'loss_I4', 'G1', 'G2', 'G3', 'score_k1_q2', 'score_k2_q1', 'score_k3_q1', 'score_k3_q2', 'minMargin'];

describe('levels side by side (docs/levels.md#the-arrows-between-the-levels, arrows 3 and 4)', () => {
  it('paper-fig1: Level F GD and the exact Level G GD map agree to 1e-9 in every Gram quantity over 3,000 steps', () => {
    const s = resolveSettings('paper-fig1', {});
    const data = generateDataset({ n: s.n, L: s.L, d: s.d, seed: s.seed, fillers: s.fillers });
    const p = initParams({ m: s.m, m1: s.m1, d: s.d, s0: s.s0, s1: s.s1, seed: s.seed });
    const plan: RunPlan = { method: 'gd', tEnd: 1, rtol: 1, atol: 1, maxSteps: 1, controller: 'I', lr: s.lr, steps: 3000, samples: 30 };
    const full = new FullDynamics(data, p);
    const gram = new GramModel(data, s.m, s.m1);
    const rf = runDynamics(full, full.pack(p), plan);
    const rg = runDynamics(new GramDynamics(gram), liftParams(p, data), plan);
    expect(rf.status).toBe('success');
    expect(rg.status).toBe('success');
    expect(blockRelDiff(gram, liftParams(full.toParams(rf.y), data), rg.y)).toBeLessThan(1e-9);
    expect(columnsRelDiff(rf.trajectory, rg.trajectory, OBSERVED)).toBeLessThan(1e-9);
    // The comparison is not vacuous: the run moved the state far from its start.
    expect(blockRelDiff(gram, liftParams(p, data), rg.y)).toBeGreaterThan(0.1);
  });

  it('Level F and Level G gradient flows from the same weights agree within the integrator tolerance', () => {
    const data = generateDataset({ n: 12, L: 5, d: 40, seed: 1, fillers: 'distinct' });
    const p = initParams({ m: 16, m1: 12, d: 40, s0: 0.4, s1: 0.4, seed: 2 });
    const plan: RunPlan = { method: 'dopri5', tEnd: 50, rtol: 1e-10, atol: 1e-12, maxSteps: 1000, controller: 'I', lr: 1, steps: 1, samples: 30 };
    const full = new FullDynamics(data, p);
    const gram = new GramModel(data, 16, 12);
    const rf = runDynamics(full, full.pack(p), plan);
    const rg = runDynamics(new GramDynamics(gram), liftParams(p, data), plan);
    const diff = columnsRelDiff(rf.trajectory, rg.trajectory, OBSERVED);
    expect(diff).toBeLessThan(1e-7);
    expect(blockRelDiff(gram, liftParams(full.toParams(rf.y), data), rg.y)).toBeLessThan(1e-7);
    // Negative control: a different start is seen.
    const q = initParams({ m: 16, m1: 12, d: 40, s0: 0.4, s1: 0.4, seed: 3 });
    const rq = runDynamics(new GramDynamics(gram), liftParams(q, data), plan);
    expect(columnsRelDiff(rq.trajectory, rg.trajectory, OBSERVED)).toBeGreaterThan(1e-3);
  });

  it('Level F from the orthogonal start follows Level T (and Level G from the mean state) within the integrator tolerance', async () => {
    const n = 12;
    const L = 4;
    const d = 3 + fillerSlots(n, L);
    const base = { n, L, d, fillers: 'distinct' as const, m: 48, m1: 8, scale: 'theory' as const, tEnd: 100, rtol: 1e-10, atol: 1e-12, samples: 30 };
    const data = generateDataset({ n, L, d, seed: 0, fillers: 'distinct' });
    const runAt = async (level: 'full' | 'gram' | 'type', init: 'orthogonal' | 'mean') => {
      const s = resolveSettings('theory', { ...base, level, init, method: 'dopri5' });
      const start = await buildStart(s, data);
      return runDynamics(start.dynamics, start.y0, { method: 'dopri5', tEnd: s.tEnd, rtol: s.rtol, atol: s.atol, maxSteps: 1000, controller: s.controller, lr: s.lr, steps: s.steps, samples: s.samples });
    };
    const f = await runAt('full', 'orthogonal');
    const g = await runAt('gram', 'mean');
    const t = await runAt('type', 'mean');
    for (const r of [f, g, t]) expect(r.status).toBe('success');
    expect(columnsRelDiff(f.trajectory, t.trajectory, OBSERVED)).toBeLessThan(1e-7);
    expect(columnsRelDiff(g.trajectory, t.trajectory, OBSERVED)).toBeLessThan(1e-7);
    // The symmetry consequences (Thm 3.2's structure) hold along Level T to round-off.
    const last = (name: string) => t.trajectory.column(name).at(-1)!;
    expect(Math.abs(last('G1') - last('G2'))).toBeLessThanOrEqual(1e-13 * Math.abs(last('G1')));
    expect(Math.abs(last('score_k1_q2') - last('score_k2_q1'))).toBeLessThanOrEqual(1e-13 * Math.abs(last('score_k1_q2')));
    expect(Math.abs(last('score_k3_q1') - last('score_k3_q2'))).toBeLessThanOrEqual(1e-13 * Math.abs(last('score_k3_q1')));
    // ...and the dynamics moved them (not a trivial agreement at zero).
    expect(Math.abs(last('score_k1_q2'))).toBeGreaterThan(1e-5);
    // Conserved quantities drift by less than 100 x rtol at every level.
    for (const r of [f, g, t]) {
      const drift = [...r.trajectory.column('drift_QK'), ...r.trajectory.column('drift_VW')];
      expect(Math.max(...drift)).toBeLessThan(100 * 1e-10);
    }
  });

  it('Level T refuses data it does not describe (repeated fillers), naming the problem', async () => {
    const s = resolveSettings('paper-fig1', { level: 'type', init: 'mean' });
    const data = generateDataset({ n: s.n, L: s.L, d: s.d, seed: 0, fillers: 'repeat' });
    await expect(buildStart(s, data)).rejects.toThrow(/filler/);
  });
});

describe('a Level G flow works in the kernels\' memory', () => {
  it('buildStart reserves the integrator\'s vectors in the kernels\' memory for a Dormand-Prince run only, and such a run gives the bits of one without', async () => {
    const s = resolveSettings('theory', { level: 'gram', init: 'wishart', m: 64, tEnd: 3, samples: 12 });
    const data = generateDataset({ n: s.n, L: s.L, d: s.d, seed: s.seed, fillers: s.fillers });
    const flow = await buildStart(s, data);
    expect(flow.dynamics.stageMemory?.(13)).toBeDefined();
    expect((await buildStart({ ...s, method: 'gd' }, data)).dynamics.stageMemory?.(13)).toBeUndefined();
    expect((await buildStart({ ...s, method: 'odex' }, data)).dynamics.stageMemory?.(13)).toBeUndefined();
    // Level P borrows the Level G start only: nothing reserved there
    const paper = await buildStart({ ...s, level: 'paper' }, data);
    expect(paper.dynamics.stageMemory).toBeUndefined();

    // the same run, once in place and once with a model that reserved nothing (copies in and out)
    const plan: RunPlan = { method: 'dopri5', tEnd: s.tEnd, rtol: s.rtol, atol: s.atol, maxSteps: s.maxSteps, controller: s.controller, lr: s.lr, steps: s.steps, samples: s.samples };
    const inPlace = runDynamics(flow.dynamics, flow.y0, plan, {}, undefined, flow.probe);
    const model = new GramModel(data, s.m, s.m1);
    const copies = new GramDynamics(model);
    const viaCopies = runDynamics(copies, flow.y0, plan, {}, undefined, copies.probe());
    expect(inPlace.stats).toEqual(viaCopies.stats);
    expect(Array.from(inPlace.y)).toEqual(Array.from(viaCopies.y));
    expect(inPlace.trajectory.toCsv()).toBe(viaCopies.trajectory.toCsv());
  });

  it('a run in place stopped after 40 steps and resumed in a new start (a new model, its own memory) ends with the bits of the run not stopped', async () => {
    const s = resolveSettings('theory', { level: 'gram', init: 'wishart', m: 64, tEnd: 3, samples: 12 });
    const data = generateDataset({ n: s.n, L: s.L, d: s.d, seed: s.seed, fillers: s.fillers });
    const plan: RunPlan = { method: 'dopri5', tEnd: s.tEnd, rtol: s.rtol, atol: s.atol, maxSteps: s.maxSteps, controller: s.controller, lr: s.lr, steps: s.steps, samples: s.samples };
    const whole = await buildStart(s, data);
    const once = runDynamics(whole.dynamics, whole.y0, plan, {}, undefined, whole.probe);
    expect(once.status).toBe('success');
    const first = await buildStart(s, data);
    let steps = 0;
    const stopped = runDynamics(first.dynamics, first.y0, plan, { shouldStop: () => ++steps >= 40 }, undefined, first.probe);
    expect(stopped.status).toBe('interrupted');
    first.dynamics.release?.();
    const second = await buildStart(s, data);
    expect(second.dynamics.stageMemory?.(13)).toBeDefined();
    const resumed = runDynamics(second.dynamics, second.y0, plan, {}, stopped.checkpoint, second.probe);
    expect(resumed.status).toBe('success');
    expect(resumed.stats).toEqual(once.stats);
    expect(Array.from(resumed.y)).toEqual(Array.from(once.y));
    expect(resumed.trajectory.toCsv()).toBe(once.trajectory.toCsv());
  });
});

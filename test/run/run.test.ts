import { describe, expect, it } from 'vitest';
import { generateDataset } from '../../src/data/generate.js';
import { allocGrad, LossGrad } from '../../src/model/gradient.js';
import { cloneParams, initParams } from '../../src/model/init.js';
import { FullDynamics } from '../../src/run/fullDynamics.js';
import { RunCheckpoint, RunPlan, runDynamics } from '../../src/run/run.js';

const data = generateDataset({ n: 12, L: 4, d: 40, seed: 2, fillers: 'distinct' });
const p0 = initParams({ m: 8, m1: 6, d: 40, s0: 0.5, s1: 0.5, seed: 4 });

function plan(over: Partial<RunPlan>): RunPlan {
  return { method: 'dopri5', tEnd: 20, rtol: 1e-8, atol: 1e-10, maxSteps: 1000, controller: 'I', lr: 0.05, steps: 400, samples: 40, ...over };
}

describe('runDynamics at Level F', () => {
  it('GD equals a hand-written loop p <- p - lr grad, bit for bit', () => {
    const dyn = new FullDynamics(data, p0);
    const out = runDynamics(dyn, dyn.pack(p0), plan({ method: 'gd' }));
    expect(out.status).toBe('success');
    const p = cloneParams(p0);
    const lg = new LossGrad(data, p.m, p.m1);
    const g = allocGrad(p);
    let firstCorrect = -1;
    for (let k = 0; k < 400; k++) {
      lg.lossAndGrad(p, g);
      const margin = Math.min(...Array.from(lg.F, (f, i) => f * data.y[i]));
      if (firstCorrect < 0 && margin > 0) firstCorrect = k;
      for (const [w, dw] of [[p.WQ, g.dWQ], [p.WK, g.dWK], [p.WV, g.dWV], [p.W, g.dW]] as const) {
        for (let i = 0; i < w.length; i++) w[i] -= 0.05 * dw[i];
      }
    }
    expect(Array.from(out.y)).toEqual(Array.from(dyn.pack(p)));
    // The last row is step 400 at t = lr * 400.
    const last = out.trajectory.rows.at(-1)!;
    expect(last[0]).toBeCloseTo(20, 12);
    expect(last[1]).toBe(400);
    // The row's loss is computed by the observation probe (src/observe), independently of LossGrad.
    expect(Math.abs(last[2] - lg.loss(p))).toBeLessThan(1e-15);
    // The all-correct event is at the first iterate whose min margin is positive.
    expect(firstCorrect).toBeGreaterThan(0);
    expect(out.events.filter((e) => e.name === 'all-correct').map((e) => e.step)).toEqual([firstCorrect]);
  });

  it('gradient flow: the loss never increases and the conserved matrices drift by < 100 rtol', () => {
    const dyn = new FullDynamics(data, p0);
    const rtol = 1e-8;
    const out = runDynamics(dyn, dyn.pack(p0), plan({ rtol }));
    expect(out.status).toBe('success');
    const loss = out.trajectory.column('loss');
    for (let i = 1; i < loss.length; i++) expect(loss[i]).toBeLessThanOrEqual(loss[i - 1] * (1 + 1e-12));
    expect(loss.at(-1)!).toBeLessThan(loss[0] / 2); // it did train
    const drift = [...out.trajectory.column('drift_QK'), ...out.trajectory.column('drift_VW')];
    expect(Math.max(...drift)).toBeLessThan(0.1 * rtol); // measured 3.4e-11 at rtol 1e-8
    expect(Math.max(...drift)).toBeGreaterThan(0); // the check is live: it measures integration error
  });

  it('checkpointing after every step and resuming gives the same bytes as one leg (flow and GD)', () => {
    for (const method of ['dopri5', 'gd'] as const) {
      const dyn = new FullDynamics(data, p0);
      const pl = plan({ method, tEnd: 5, steps: 120 });
      const whole = runDynamics(dyn, dyn.pack(p0), pl);
      const checkpoints: RunCheckpoint[] = [];
      const legs = runDynamics(dyn, dyn.pack(p0), pl, { checkpointSeconds: 0, onCheckpoint: (c) => checkpoints.push(c) });
      expect(checkpoints.length).toBeGreaterThan(5);
      expect(legs.trajectory.toCsv()).toBe(whole.trajectory.toCsv());
      expect(Array.from(legs.y)).toEqual(Array.from(whole.y));
      // Resume from a checkpoint in the middle, as `coflow run --resume` does.
      const mid = checkpoints[Math.floor(checkpoints.length / 2)];
      const resumed = runDynamics(dyn, dyn.pack(p0), pl, {}, mid);
      expect(resumed.trajectory.toCsv()).toBe(whole.trajectory.toCsv());
      expect(Array.from(resumed.y)).toEqual(Array.from(whole.y));
    }
  });

  it('a diverging GD run stops with status non-finite and keeps what it computed', () => {
    const big = initParams({ m: 8, m1: 6, d: 40, s0: 3, s1: 3, seed: 4 });
    const dyn = new FullDynamics(data, big);
    const out = runDynamics(dyn, dyn.pack(big), plan({ method: 'gd', lr: 1e4, steps: 1000 }));
    expect(out.status).toBe('non-finite');
    expect(out.trajectory.rows.length).toBeGreaterThan(0);
    for (const v of out.y) expect(Number.isFinite(v)).toBe(true);
  });

  it('records the all-correct event where min margin crosses zero (Thm 3.1)', () => {
    const dyn = new FullDynamics(data, p0);
    const out = runDynamics(dyn, dyn.pack(p0), plan({}));
    const margin0 = out.trajectory.column('minMargin')[0];
    const ev = out.events.find((e) => e.name === 'all-correct');
    if (margin0 < 0) {
      expect(ev).toBeDefined();
      // Oracle: the margin at the event time, integrated separately, is zero to event tolerance.
      const check = runDynamics(dyn, dyn.pack(p0), plan({ tEnd: ev!.t, samples: 2, rtol: 1e-11, atol: 1e-14 }));
      expect(Math.abs(check.trajectory.column('minMargin').at(-1)!)).toBeLessThan(1e-6);
    } else {
      expect(ev).toBeUndefined();
    }
  });

  it('Dormand-Prince and odex (extrapolation, an independent integrator) agree to 1e-7 at rtol 1e-10', () => {
    const dyn = new FullDynamics(data, p0);
    const pl = plan({ tEnd: 20, rtol: 1e-10, atol: 1e-12, samples: 25 });
    const dp = runDynamics(dyn, dyn.pack(p0), pl);
    // odex runs through the same driver: it reports progress at each recorded row, with that row's loss
    const progress: [number, number][] = [];
    const ox = runDynamics(dyn, dyn.pack(p0), { ...pl, method: 'odex' }, { onProgress: (f, loss) => progress.push([f, loss]) });
    expect(dp.status).toBe('success');
    expect(ox.status).toBe('success');
    expect(progress.length).toBe(ox.trajectory.rows.length);
    expect(progress.map(([, loss]) => loss)).toEqual(ox.trajectory.column('loss'));
    expect(progress[progress.length - 1][0]).toBe(1);
    for (let i = 1; i < progress.length; i++) expect(progress[i][0]).toBeGreaterThanOrEqual(progress[i - 1][0]);
    expect(ox.trajectory.rows.length).toBe(dp.trajectory.rows.length);
    let worst = 0;
    for (const col of ['loss', 'G1', 'G2', 'G3', 'score_k1_q2', 'score_k3_q1', 'minMargin']) {
      const a = dp.trajectory.column(col);
      const b = ox.trajectory.column(col);
      const scale = Math.max(...a.map(Math.abs));
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / scale);
    }
    let state = 0;
    for (let i = 0; i < dp.y.length; i++) state = Math.max(state, Math.abs(dp.y[i] - ox.y[i]));
    expect(worst).toBeLessThan(1e-7);
    expect(state).toBeLessThan(1e-7);
    // Negative control: a loose Dormand-Prince run is seen to differ.
    const loose = runDynamics(dyn, dyn.pack(p0), { ...pl, rtol: 1e-3, atol: 1e-3 });
    let looseDiff = 0;
    for (let i = 0; i < dp.y.length; i++) looseDiff = Math.max(looseDiff, Math.abs(loose.y[i] - ox.y[i]));
    expect(looseDiff).toBeGreaterThan(1e-7);
  });

  it('the full m x m matrices W_Q W_Q^T - W_K W_K^T and W^T W - W_V W_V^T drift by < rtol over a flow', () => {
    // Formed in full here (the trajectory columns probe them): max |D(T) - D(0)| / max |terms(0)|.
    const { m, m1, d } = p0;
    const gram = (X: Float64Array, rows: number, cols: number, byRows: boolean) => {
      const n = byRows ? rows : cols;
      const G = new Float64Array(n * n);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          if (byRows) for (let c = 0; c < cols; c++) s += X[i * cols + c] * X[j * cols + c];
          else for (let r = 0; r < rows; r++) s += X[r * cols + i] * X[r * cols + j];
          G[i * n + j] = s;
        }
      }
      return G;
    };
    const D = (q: ReturnType<typeof initParams>) => {
      const qq = gram(q.WQ, m, d, true);
      const kk = gram(q.WK, m, d, true);
      const ww = gram(q.W, m1, m, false);
      const vv = gram(q.WV, m, d, true);
      return { d1: qq.map((v, i) => v - kk[i]), d2: ww.map((v, i) => v - vv[i]), scale1: Math.max(...qq.map(Math.abs), ...kk.map(Math.abs)), scale2: Math.max(...ww.map(Math.abs), ...vv.map(Math.abs)) };
    };
    const rtol = 1e-9;
    const dyn = new FullDynamics(data, p0);
    const out = runDynamics(dyn, dyn.pack(p0), plan({ rtol, atol: 1e-11 }));
    const a = D(p0);
    const b = D(dyn.toParams(out.y));
    const drift1 = Math.max(...a.d1.map((v, i) => Math.abs(v - b.d1[i]))) / a.scale1;
    const drift2 = Math.max(...a.d2.map((v, i) => Math.abs(v - b.d2[i]))) / a.scale2;
    // measured 1.7e-13 and 2.2e-11 at rtol 1e-9
    expect(drift1).toBeLessThan(rtol);
    expect(drift2).toBeLessThan(rtol);
    // Negative control: the weights themselves moved by far more than that.
    const moved = Math.max(...Array.from(dyn.toParams(out.y).WQ, (v, i) => Math.abs(v - p0.WQ[i])));
    expect(moved).toBeGreaterThan(1e4 * 100 * rtol);
  });
});

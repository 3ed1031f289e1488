/**
 * The drift columns (drift_QK, drift_VW) against an independent computation. Level F: the m x m
 * matrices D1 = W_Q W_Q^T - W_K W_K^T and D2 = W^T W - W_V W_V^T are FORMED from the weights
 * (paper layout, plain loops) at t = 0 and at the last row; the drift is, as documented
 * (src/analysis/trajectory.ts, src/model/conserved.ts), max over the trace and the quadratic
 * forms v^T D v on the two seeded unit probes of |I(t) - I(0)|, over the t = 0 scale
 * |W_Q|_F^2 + |W_K|_F^2 (resp. |W|_F^2 + |W_V|_F^2). Level G: tr A - tr B and tr C - s/m1 from
 * the state's blocks. Level T: the same Level G formulas on the Level T state expanded to its
 * k x k Gram blocks (src/reduced/gramBridge.ts), not the class-size sums of TypeSystem.invariants
 * that the run's column uses. GD runs, so the drifts are far from zero (O(lr^2) per step) and a column
 * off by a factor cannot hide in round-off.
 */
import { describe, expect, it } from 'vitest';
import { generateDataset } from '../../src/data/generate.js';
import { GramModel } from '../../src/gram/flow.js';
import { GramDynamics } from '../../src/run/gramDynamics.js';
import { liftParams } from '../../src/gram/lift.js';
import { initParams } from '../../src/model/init.js';
import { Params } from '../../src/model/params.js';
import { Rng } from '../../src/random/rng.js';
import { FullDynamics } from '../../src/run/fullDynamics.js';
import { runDynamics } from '../../src/run/run.js';
import { TypeDynamics } from '../../src/run/typeDynamics.js';
import { fillerSlots } from '../../src/data/generate.js';
import { gramLayout } from '../../src/gram/layout.js';
import { TypeSystem } from '../../src/reduced/typeSystem.js';
import { measure } from '../measure.js';

const data = generateDataset({ n: 12, L: 4, d: 30, seed: 5, fillers: 'distinct' });
const p0 = initParams({ m: 12, m1: 6, d: 30, s0: 0.4, s1: 0.4, seed: 9 });
/**
 * Relative tolerances. Level F forms the m x m products in another order than the code
 * (measured 5.9e-12 on drift_QK, 2.7e-14 on drift_VW; COFLOW_MEASURE=1 prints them); Levels G and
 * T sum the same diagonals (measured 0 at Level G, 1.2e-15 at Level T).
 */
const TOL_F = 1e-10;
const TOL_GT = 1e-13;

const plan = { method: 'gd' as const, tEnd: 1, rtol: 1, atol: 1, maxSteps: 1, controller: 'I' as const, lr: 0.2, steps: 300, samples: 12 };

/** X X^T for X (rows x cols, row-major), as a rows x rows matrix. */
function gram(X: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * rows);
  for (let i = 0; i < rows; i++) for (let j = 0; j < rows; j++) for (let c = 0; c < cols; c++) out[i * rows + j] += X[i * cols + c] * X[j * cols + c];
  return out;
}

/** X^T X for X (rows x cols), as a cols x cols matrix. */
function gramT(X: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(cols * cols);
  for (let i = 0; i < cols; i++) for (let j = 0; j < cols; j++) for (let r = 0; r < rows; r++) out[i * cols + j] += X[r * cols + i] * X[r * cols + j];
  return out;
}

const sub = (a: Float64Array, b: Float64Array) => a.map((x, i) => x - b[i]);
const trace = (D: Float64Array, m: number) => Array.from({ length: m }, (_, i) => D[i * m + i]).reduce((s, x) => s + x, 0);
function form(D: Float64Array, v: Float64Array, m: number): number {
  let s = 0;
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) s += v[i] * D[i * m + j] * v[j];
  return s;
}

/** The two documented probe directions: seeded normal vectors, normalised. */
function probes(m: number): Float64Array[] {
  const v = new Rng('conserved-probes').fillNormal(new Float64Array(2 * m), 1);
  return [0, 1].map((j) => {
    const x = v.slice(j * m, (j + 1) * m);
    const n = Math.sqrt(x.reduce((s, t) => s + t * t, 0));
    return x.map((t) => t / n);
  });
}

function driftsF(a: Params, b: Params): [number, number] {
  const { m, m1, d } = a;
  const D1 = (p: Params) => sub(gram(p.WQ, m, d), gram(p.WK, m, d));
  const D2 = (p: Params) => sub(gramT(p.W, m1, m), gram(p.WV, m, d));
  const sq = (x: Float64Array) => x.reduce((s, t) => s + t * t, 0);
  const vs = probes(m);
  const drift = (A: Float64Array, B: Float64Array, scale: number) => {
    const dD = sub(B, A);
    return Math.max(Math.abs(trace(dD, m)), ...vs.map((v) => Math.abs(form(dD, v, m)))) / scale;
  };
  return [drift(D1(a), D1(b), sq(a.WQ) + sq(a.WK)), drift(D2(a), D2(b), sq(a.W) + sq(a.WV))];
}

/**
 * The drift columns equal the independently computed drifts qk, vw to `tol` (relative), and the
 * comparison is live: both drifts are far from 0 (the run moved them), and either column divided
 * by 1000 is far outside the tolerance (negative control).
 */
/**
 * The relative drifts of tr A - tr B and tr C - s/m1 between two Gram states (Level G's
 * conserved quantities, docs/levels.md#conserved-quantities), over their t = 0 scales
 * |tr A| + |tr B| and |tr C| + |s|/m1, from the blocks' diagonals.
 */
function gramDrifts(y0: Float64Array, y1: Float64Array, lay: { A: number; B: number; C: number; s: number }, k: number, m1: number): { qk: number; v: number } {
  const inv = (y: Float64Array) => {
    let trA = 0;
    let trB = 0;
    let trC = 0;
    for (let i = 0; i < k; i++) {
      trA += y[lay.A + i * k + i];
      trB += y[lay.B + i * k + i];
      trC += y[lay.C + i * k + i];
    }
    return { qk: trA - trB, v: trC - y[lay.s] / m1, scaleQK: Math.abs(trA) + Math.abs(trB), scaleV: Math.abs(trC) + Math.abs(y[lay.s]) / m1 };
  };
  const a = inv(y0);
  const b = inv(y1);
  return { qk: Math.abs(b.qk - a.qk) / a.scaleQK, v: Math.abs(b.v - a.v) / a.scaleV };
}

function expectDrifts(col: (name: string) => number, qk: number, vw: number, tol: number): void {
  expect(qk).toBeGreaterThan(1e-6);
  expect(vw).toBeGreaterThan(1e-6);
  expect(Math.abs(col('drift_QK') - qk)).toBeLessThan(tol * qk);
  expect(Math.abs(col('drift_VW') - vw)).toBeLessThan(tol * vw);
  expect(Math.abs(col('drift_QK') / 1000 - qk)).toBeGreaterThan(tol * qk);
  expect(Math.abs(col('drift_VW') / 1000 - vw)).toBeGreaterThan(tol * vw);
}

describe('drift columns = an independent computation from the formed conserved matrices', () => {
  it('Level F: drift_QK, drift_VW at the last row, from the m x m matrices (negative control: a column / 1000)', () => {
    const dyn = new FullDynamics(data, p0);
    const out = runDynamics(dyn, dyn.pack(p0), plan);
    const last = out.trajectory.rows.at(-1)!;
    const col = (name: string) => last[out.trajectory.columns.indexOf(name)];
    const [qk, vw] = driftsF(p0, dyn.toParams(out.y));
    measure('Level F drift_QK, drift_VW and their relative errors', [qk, vw, Math.abs(col('drift_QK') - qk) / qk, Math.abs(col('drift_VW') - vw) / vw]);
    expectDrifts(col, qk, vw, TOL_F);
  });

  it('Level G: |d(tr A - tr B)| and |d(tr C - s/m1)| over their t = 0 scales, from the blocks', () => {
    const model = new GramModel(data, p0.m, p0.m1);
    const y0 = liftParams(p0, data);
    const out = runDynamics(new GramDynamics(model), y0, plan);
    const { k, layout: lay } = model;
    const { qk, v } = gramDrifts(y0, out.y, lay, k, p0.m1);
    const last = out.trajectory.rows.at(-1)!;
    const col = (name: string) => last[out.trajectory.columns.indexOf(name)];
    measure('Level G drift_QK, drift_VW and their relative errors', [qk, v, Math.abs(col('drift_QK') - qk) / qk, Math.abs(col('drift_VW') - v) / v]);
    expectDrifts(col, qk, v, TOL_GT);
  });

  it('Level T: the Level G trace formulas on the expanded k x k blocks (negative control: a column / 1000)', () => {
    const n = 12;
    const L = 4;
    const d = 3 + fillerSlots(n, L);
    const tdata = generateDataset({ n, L, d, seed: 3, fillers: 'distinct' });
    const m = 10;
    const m1 = 6;
    const system = new TypeSystem({ n, L, m, m1 });
    const dyn = new TypeDynamics(system);
    const y0 = system.meanState({ s0: 0.5, s1: 0.5 });
    // lr 1: drift_QK 0.37, drift_VW 3.0 (at lr 0.5 drift_QK is 1e-6, too close to round-off for 1e-10)
    const out = runDynamics(dyn, y0, { ...plan, lr: 1 });
    expect(out.status).toBe('success');
    /** tr A - tr B, tr C - s/m1 and their scales, from the diagonal of the expanded blocks */
    const expand = (yT: Float64Array) => system.expandToGram(yT, tdata);
    const y = expand(y0);
    const k = Math.round((Math.sqrt(16 * (y.length - 1) + 1) - 1) / 8); // 4k^2 + k + 1 entries
    const lay = gramLayout(k);
    expect(lay.size).toBe(y.length);
    const { qk, v } = gramDrifts(y, expand(out.y), lay, k, m1);
    const last = out.trajectory.rows.at(-1)!;
    const col = (name: string) => last[out.trajectory.columns.indexOf(name)];
    measure('Level T drift_QK, drift_VW (GD) and their relative errors', [qk, v, Math.abs(col('drift_QK') - qk) / qk, Math.abs(col('drift_VW') - v) / v]);
    expectDrifts(col, qk, v, TOL_GT);
  });
});

/**
 * orthogonalParams realises the mean state exactly. Oracles: the Gram matrices computed from the
 * returned weights (independently, here) equal A = B = C = s0^2 m I, S = 0, u = 0,
 * s = s1^2 m1 m to round-off; the Level F gradient (the lead's LossGrad) pushed through the chain
 * rule equals Level T's field; and Level F gradient descent from this start follows Level T's
 * exact GD map step for step.
 */
import { describe, expect, it } from 'vitest';
import { Dataset } from '../../src/data/dataset.js';
import { UsageError } from '../../src/errors.js';
import { LossGrad, allocGrad } from '../../src/model/gradient.js';
import { initParams } from '../../src/model/init.js';
import { ParamGrad, Params } from '../../src/model/params.js';
import { TypeSystem, orthogonalParams, orthonormalColumns } from '../../src/reduced/index.js';
import { blockRelErr, conformingData, relErr, theoryScales } from './helpers.js';

/**
 * The Level G entries are bilinear forms <x(p), z(p)> of vectors linear in the weights
 * (Q = W_Q M, K, V likewise, r = W^T a). gramCross(p1, p2) evaluates <x(p1), z(p2)>, so the
 * Gram state of p is gramCross(p, p) and its derivative along a weight velocity v is
 * gramCross(v, p) + gramCross(p, v) (computed here independently of src/gram and src/reduced).
 */
function gramCross(p1: Params, p2: Params, data: Dataset): Float64Array {
  const ids = Array.from(new Set(Array.from(data.tokens))).sort((a, b) => a - b);
  const k = ids.length;
  const { m, m1, d } = p1;
  const cols = (W: Float64Array) => ids.map((id) => Float64Array.from({ length: m }, (_, r) => W[r * d + id]));
  const rOf = (p: Params) => {
    const r = new Float64Array(m);
    for (let j = 0; j < m1; j++) for (let c = 0; c < m; c++) r[c] += p.a[j] * p.W[j * m + c];
    return r;
  };
  const [Q1, K1, V1, Q2, K2, V2] = [p1.WQ, p1.WK, p1.WV, p2.WQ, p2.WK, p2.WV].map(cols);
  const r1 = rOf(p1);
  const r2 = rOf(p2);
  const dot = (x: Float64Array, z: Float64Array) => x.reduce((s, v, i) => s + v * z[i], 0);
  const y = new Float64Array(4 * k * k + k + 1);
  for (let b = 0; b < k; b++) {
    for (let a = 0; a < k; a++) {
      y[b * k + a] = dot(K1[b], Q2[a]);
      y[k * k + b * k + a] = dot(Q1[b], Q2[a]);
      y[2 * k * k + b * k + a] = dot(K1[b], K2[a]);
      y[3 * k * k + b * k + a] = dot(V1[b], V2[a]);
    }
    y[4 * k * k + b] = dot(V1[b], r2);
  }
  y[4 * k * k + k] = dot(r1, r2);
  return y;
}

function gramOfParams(p: Params, data: Dataset): { k: number; y: Float64Array } {
  return { k: new Set(Array.from(data.tokens)).size, y: gramCross(p, p, data) };
}

/** d/dt of the Gram state under gradient flow, dp/dt = -grad (u = V^T r: left V, right r). */
function gramVelocity(p: Params, g: ParamGrad, data: Dataset): Float64Array {
  const v: Params = { ...p, WQ: g.dWQ.map((x) => -x), WK: g.dWK.map((x) => -x), WV: g.dWV.map((x) => -x), W: g.dW.map((x) => -x) };
  const left = gramCross(v, p, data);
  const right = gramCross(p, v, data);
  return left.map((x, i) => x + right[i]);
}

describe('orthogonalParams', () => {
  const n = 12, L = 5, m = 72, m1 = 16;
  const { s0, s1 } = theoryScales(L, m, m1);
  const data = conformingData(n, L, 5);

  it('realises the mean state to round-off', () => {
    const p = orthogonalParams({ data, m, m1, s0, s1, seed: 3 });
    const ts = new TypeSystem({ n, L, m, m1 });
    const { k, y } = gramOfParams(p, data);
    expect(k).toBe(35);
    const mean = ts.expandToGram(ts.meanState({ s0, s1 }), data);
    let worst = 0;
    for (let i = 0; i < y.length; i++) worst = Math.max(worst, Math.abs(y[i] - mean[i]) / Math.max(1, Math.abs(mean[i])));
    expect(worst).toBeLessThanOrEqual(1e-14);
    // W^T a = r with |r|^2 = s1^2 m1 m, W not simply rank one, a = +-1.
    expect(p.a.every((v) => v === 1 || v === -1)).toBe(true);
    expect(new Set(p.a).size).toBe(2);
  });

  it('negative control: the Gaussian initialisation does not realise the mean state', () => {
    const p = initParams({ m, m1, d: data.d, s0, s1, seed: 3 });
    const ts = new TypeSystem({ n, L, m, m1 });
    const mean = ts.expandToGram(ts.meanState({ s0, s1 }), data);
    // Off-diagonal entries of a Wishart matrix fluctuate like s0^2 sqrt(m) ~ 1/(L sqrt(m)).
    expect(blockRelErr(35, gramOfParams(p, data).y, mean)).toBeGreaterThan(1e-2);
  });

  it('is deterministic in the seed and differs across seeds', () => {
    const a = orthogonalParams({ data, m, m1, s0, s1, seed: 3 });
    const b = orthogonalParams({ data, m, m1, s0, s1, seed: 3 });
    const c = orthogonalParams({ data, m, m1, s0, s1, seed: 4 });
    expect(Array.from(a.WQ)).toEqual(Array.from(b.WQ));
    expect(Array.from(a.W)).toEqual(Array.from(b.W));
    expect(relErr(a.WQ, c.WQ)).toBeGreaterThan(0.1);
  });

  it('Level F gradient at the start, pushed through, equals Level T field', () => {
    const p = orthogonalParams({ data, m, m1, s0, s1, seed: 3 });
    const lg = new LossGrad(data, m, m1);
    const g = allocGrad(p);
    const lossF = lg.lossAndGrad(p, g);
    const ts = new TypeSystem({ n, L, m, m1 });
    const y0 = ts.meanState({ s0, s1 });
    const dT = new Float64Array(ts.size);
    ts.field(0, y0, dT);
    const velocity = gramVelocity(p, g, data);
    expect(blockRelErr(35, velocity, ts.expandToGram(dT, data))).toBeLessThanOrEqual(1e-12);
    expect(Math.abs(lossF - ts.outputs(y0).loss)).toBeLessThanOrEqual(1e-15);
    // Non-vacuous: u moves at the start (Lemma 4.1: dG(mu_1)/dt = Theta((s0^2 + s1^2) m m1)).
    expect(Math.abs(dT[ts.layout.u])).toBeGreaterThan(0.1);
  });

  it('Level F gradient descent follows Level T exact GD for 60 steps', () => {
    const p = orthogonalParams({ data, m, m1, s0, s1, seed: 9 });
    const lg = new LossGrad(data, m, m1);
    const g = allocGrad(p);
    const ts = new TypeSystem({ n, L, m, m1 });
    let yT = ts.meanState({ s0, s1 });
    const next = new Float64Array(ts.size);
    const eta = 0.02;
    let worst = 0;
    for (let step = 1; step <= 60; step++) {
      lg.lossAndGrad(p, g);
      for (const [w, dw] of [[p.WQ, g.dWQ], [p.WK, g.dWK], [p.WV, g.dWV], [p.W, g.dW]] as const) {
        for (let i = 0; i < w.length; i++) w[i] -= eta * dw[i];
      }
      ts.gdStep(eta, yT, next);
      yT = next.slice();
      if (step % 10 === 0) worst = Math.max(worst, blockRelErr(35, gramOfParams(p, data).y, ts.expandToGram(yT, data)));
    }
    expect(worst).toBeLessThanOrEqual(1e-11);
    // After 60 steps scores have moved away from 0.
    expect(Math.abs(ts.outputs(yT).scores[1][0])).toBeGreaterThan(1e-6);
  });

  it('needs m >= 2k and says so', () => {
    expect(() => orthogonalParams({ data, m: 69, m1, s0, s1, seed: 1 })).toThrow(UsageError);
    expect(() => orthogonalParams({ data, m: 69, m1, s0, s1, seed: 1 })).toThrow(/m >= 2k = 70/);
  });

  it('orthonormalColumns gives Q^T Q = I to round-off', () => {
    const m = 40, c = 30;
    const X = Float64Array.from({ length: m * c }, (_, i) => Math.sin(i * 1.7) + Math.cos(i * i * 0.3));
    const Qm = orthonormalColumns(X, m, c);
    let worst = 0;
    for (let i = 0; i < c; i++) {
      for (let j = 0; j < c; j++) {
        let s = 0;
        for (let r = 0; r < m; r++) s += Qm[i * m + r] * Qm[j * m + r];
        worst = Math.max(worst, Math.abs(s - (i === j ? 1 : 0)));
      }
    }
    expect(worst).toBeLessThanOrEqual(1e-14);
  });
});

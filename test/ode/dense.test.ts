/**
 * Dense output: the 4th-order continuous extension is exact (to round-off) whenever the solution
 * is a polynomial of degree <= 4 (its order conditions hold for every theta, test/ode/
 * tableau.test.ts), and it returns the step nodes bit-for-bit.
 */
import { describe, expect, test } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { Dopri5, linspace, logGridFromZero, logStepIndices, logspace, solveIvp, type VectorField } from '../../src/ode/index.js';
import { rotation, toleranceUnits } from './problems.js';

function sampleAll(f: VectorField, y0: number[], tEnd: number, tEval: Float64Array, opts: { rtol: number; atol: number; h0?: number; hMax?: number }) {
  const got: { t: number; y: Float64Array; index: number }[] = [];
  // at most 101 trial steps measured by any caller; a 'max-steps' stop fails the status checks
  const r = solveIvp({ f, t0: 0, y0: Float64Array.from(y0), tEnd, maxSteps: 1000, tEval, onSample: (t, y, index) => got.push({ t, y: Float64Array.from(y), index }), ...opts });
  return { r, got };
}

describe('dense output exact on polynomial solutions of degree <= 4', () => {
  test("quadrature y' = 4t^3 - 3t^2 + 2t - 1 (y = t^4 - t^3 + t^2 - t + 1), 200 interior samples", () => {
    const f: VectorField = (t, _y, d) => {
      d[0] = 4 * t ** 3 - 3 * t ** 2 + 2 * t - 1;
    };
    const exact = (t: number) => t ** 4 - t ** 3 + t ** 2 - t + 1;
    const tEval = linspace(0, 3, 201);
    // hMax forces several steps so most samples are interior to a step.
    const { r, got } = sampleAll(f, [1], 3, tEval, { rtol: 1e-3, atol: 1e-3, hMax: 0.37 });
    expect(r.status).toBe('success');
    expect(r.stats.naccepted).toBeGreaterThan(7);
    expect(got.length).toBe(201);
    for (const s of got) expect(Math.abs(s.y[0] - exact(s.t))).toBeLessThan(1e-13 * Math.max(1, Math.abs(exact(s.t))));
  });

  test('nilpotent linear chain y1\' = y2, ..., y4\' = y5, y5\' = 0 (y1 quartic) is interpolated exactly', () => {
    const f: VectorField = (_t, y, d) => {
      d[0] = y[1];
      d[1] = y[2];
      d[2] = y[3];
      d[3] = y[4];
      d[4] = 0;
    };
    // y5 = 24, y4 = 24 t + 6, ... so y1 = t^4 + t^3 + t^2 + t + 1.
    const y0 = [1, 1, 2, 6, 24];
    const exact = (t: number) => [t ** 4 + t ** 3 + t ** 2 + t + 1, 4 * t ** 3 + 3 * t ** 2 + 2 * t + 1, 12 * t ** 2 + 6 * t + 2, 24 * t + 6, 24];
    const { r, got } = sampleAll(f, y0, 2, linspace(0, 2, 101), { rtol: 1e-3, atol: 1e-3, hMax: 0.3 });
    expect(r.status).toBe('success');
    expect(got.length).toBe(101);
    for (const s of got) {
      const ex = exact(s.t);
      for (let i = 0; i < 5; i++) expect(Math.abs(s.y[i] - ex[i])).toBeLessThan(1e-13 * Math.max(1, Math.abs(ex[i])));
    }
  });

  test('negative control: degree 5 (y = t^5) is exact at the nodes but not between them', () => {
    const f: VectorField = (t, _y, d) => {
      d[0] = 5 * t ** 4;
    };
    const s = new Dopri5({ f, t0: 0, y0: Float64Array.of(0), tEnd: 2, rtol: 1e-3, atol: 1e-3, maxSteps: 100, controller: 'fixed', h0: 0.5 });
    const out = new Float64Array(1);
    let worstInterior = 0;
    let steps = 0;
    while (s.step() === 'running' || s.status === 'success') {
      steps++;
      // 5th-order quadrature is exact for degree 4 integrands: nodes are exact to round-off.
      expect(Math.abs(s.y[0] - s.t ** 5)).toBeLessThan(1e-13 * s.t ** 5);
      const mid = 0.5 * (s.tOld + s.t);
      s.denseAt(mid, out);
      worstInterior = Math.max(worstInterior, Math.abs(out[0] - mid ** 5));
      if (s.status === 'success') break;
    }
    expect(s.status).toBe('success');
    expect(steps).toBe(4); // h0 = 0.5 on [0, 2]: every node compared
    expect(worstInterior).toBeGreaterThan(1e-6);
  });
});

describe('dense output reproduces nodes bit-for-bit', () => {
  test('denseAt(t) and denseAt(tOld) return the stored states exactly', () => {
    // 90 trial steps measured
    const s = new Dopri5({ f: rotation, t0: 0, y0: Float64Array.of(1, 0), tEnd: 10, rtol: 1e-7, atol: 1e-9, maxSteps: 1000 });
    const out = new Float64Array(2);
    let prev = Float64Array.of(1, 0);
    let steps = 0;
    while (s.step() === 'running' || s.status === 'success') {
      steps++;
      s.denseAt(s.t, out);
      expect(Object.is(out[0], s.y[0]) && Object.is(out[1], s.y[1])).toBe(true);
      s.denseAt(s.tOld, out);
      expect(Object.is(out[0], prev[0]) && Object.is(out[1], prev[1])).toBe(true);
      prev = Float64Array.from(s.y);
      if (s.status === 'success') break;
    }
    expect(s.status).toBe('success');
    expect(steps).toBe(s.stats.naccepted);
    expect(steps).toBeGreaterThan(50);
  });

  test('a tEval grid made of the step nodes samples exactly the node states (same run repeated)', () => {
    const nodes: number[] = [0];
    const states: Float64Array[] = [Float64Array.of(1, 0)];
    const opts = { f: rotation, t0: 0, y0: Float64Array.of(1, 0), tEnd: 10, rtol: 1e-7, atol: 1e-9, maxSteps: 1000 };
    const first = solveIvp({
      ...opts,
      onStep: (t, y) => {
        nodes.push(t);
        states.push(Float64Array.from(y));
      },
    });
    expect(first.status).toBe('success');
    expect(nodes.length).toBe(first.stats.naccepted + 1);
    expect(nodes.length).toBeGreaterThan(50);
    const got: Float64Array[] = [];
    const second = solveIvp({ ...opts, tEval: nodes, onSample: (_t, y) => got.push(Float64Array.from(y)) });
    expect(second.status).toBe('success');
    expect(got.length).toBe(nodes.length);
    got.forEach((y, i) => expect(Array.from(y)).toEqual(Array.from(states[i])));
    got.forEach((y, i) => expect(y.every((v, j) => Object.is(v, states[i][j]))).toBe(true));
  });

  test('interior samples of a smooth solution are within the tolerance scale (rotation, 500 samples)', () => {
    const tEval = linspace(0, 10, 500);
    const { r, got } = sampleAll(rotation, [1, 0], 10, tEval, { rtol: 1e-8, atol: 1e-8 });
    expect(r.status).toBe('success');
    expect(got.length).toBe(500);
    let worst = 0;
    for (const s of got) worst = Math.max(worst, toleranceUnits(s.y, [Math.cos(s.t), Math.sin(s.t)], 1e-8, 1e-8));
    expect(worst).toBeLessThan(100);
  });

  test('denseAt outside the last step throws', () => {
    const s = new Dopri5({ f: rotation, t0: 0, y0: Float64Array.of(1, 0), tEnd: 10, rtol: 1e-7, atol: 1e-9, maxSteps: 1000 });
    expect(s.step()).toBe('running');
    expect(() => s.denseAt(s.t + 1, new Float64Array(2))).toThrow(RangeError);
  });
});

describe('sampling semantics', () => {
  test('samples arrive in order with their grid index; the buffer is a copy (mutating it does not disturb the solve)', () => {
    const tEval = linspace(0, 10, 11);
    const seen: number[] = [];
    // 101 trial steps measured
    const clean = solveIvp({ f: rotation, t0: 0, y0: Float64Array.of(1, 0), tEnd: 10, rtol: 1e-8, atol: 1e-8, maxSteps: 1000 });
    expect(clean.status).toBe('success');
    const r = solveIvp({
      f: rotation,
      t0: 0,
      y0: Float64Array.of(1, 0),
      tEnd: 10,
      rtol: 1e-8,
      atol: 1e-8,
      maxSteps: 1000,
      tEval,
      onSample: (t, y, index) => {
        expect(t).toBe(tEval[index]);
        seen.push(index);
        y.fill(Number.NaN);
      },
    });
    expect(r.status).toBe('success');
    expect(seen).toEqual(Array.from({ length: 11 }, (_, i) => i));
    expect(r.samplesDelivered).toBe(11);
    expect(Array.from(r.y)).toEqual(Array.from(clean.y));
  });

  test('without tEval, onSample sees the start and every accepted step', () => {
    const ts: number[] = [];
    // 22 trial steps measured
    const r = solveIvp({ f: rotation, t0: 0, y0: Float64Array.of(1, 0), tEnd: 5, rtol: 1e-6, atol: 1e-6, maxSteps: 200, onSample: (t) => ts.push(t) });
    expect(r.status).toBe('success');
    expect(ts.length).toBe(r.stats.naccepted + 1);
    expect(ts[0]).toBe(0);
    expect(ts[ts.length - 1]).toBe(5);
  });

  test('bad grids are usage errors', () => {
    const base = { f: rotation, t0: 0, y0: Float64Array.of(1, 0), tEnd: 5, rtol: 1e-6, atol: 1e-6, maxSteps: 200, onSample: () => {} };
    expect(() => solveIvp({ ...base, tEval: [0, 2, 1] })).toThrow(/strictly increasing/);
    expect(() => solveIvp({ ...base, tEval: [0, 6] })).toThrow(/beyond tEnd/);
    expect(() => solveIvp({ ...base, tEval: [-1, 1] })).toThrow(/before t0/);
    expect(() => solveIvp({ ...base, onSample: undefined, tEval: [1] })).toThrow(UsageError);
  });
});

describe('grid helpers', () => {
  test('linspace: exact endpoints, equal spacing, decreasing allowed', () => {
    const g = linspace(0, 1, 11);
    expect(g[0]).toBe(0);
    expect(g[10]).toBe(1);
    for (let i = 0; i < 11; i++) expect(Math.abs(g[i] - i / 10)).toBeLessThan(1e-16);
    const d = linspace(5, -5, 3);
    expect(Array.from(d)).toEqual([5, 0, -5]);
  });

  test('logspace: geometric ratio constant, exact endpoints', () => {
    const g = logspace(1e-3, 1e4, 8);
    expect(g[0]).toBe(1e-3);
    expect(g[7]).toBe(1e4);
    for (let i = 1; i < 8; i++) expect(g[i] / g[i - 1]).toBeCloseTo(10, 10);
    expect(() => logspace(0, 1, 3)).toThrow(UsageError);
  });

  test('logGridFromZero starts at 0 and is usable as tEval for a flow from t = 0', () => {
    const g = logGridFromZero(1e-3, 1e4, 29);
    expect(g.length).toBe(30);
    expect(g[0]).toBe(0);
    expect(g[1]).toBe(1e-3);
    expect(g[29]).toBe(1e4);
    const got: number[] = [];
    const r = solveIvp({ f: (_t, y, d) => void (d[0] = -1e-3 * y[0]), t0: 0, y0: Float64Array.of(1), tEnd: 1e4, rtol: 1e-9, atol: 1e-12, maxSteps: 1000, tEval: g, onSample: (t, y) => got.push(Math.abs(y[0] - Math.exp(-1e-3 * t))) });
    expect(r.status).toBe('success');
    expect(got.length).toBe(30);
    expect(Math.max(...got)).toBeLessThan(1e-8);
  });

  test('logStepIndices: distinct increasing integers from 0 to kMax', () => {
    const k = logStepIndices(30000, 50);
    expect(k[0]).toBe(0);
    expect(k[k.length - 1]).toBe(30000);
    for (let i = 1; i < k.length; i++) expect(k[i]).toBeGreaterThan(k[i - 1]);
    expect(k.length).toBeLessThanOrEqual(50);
    expect(k.length).toBeGreaterThan(40);
    expect(logStepIndices(1, 5)).toEqual([0, 1]);
  });

  test('logStepIndices without merging: exactly count indices, 0 then 10^(6 i / 3) (hand-computed)', () => {
    // count = 5 asks for 0 and 4 log-spaced indices from 1 to 10^6: 1, 100, 10^4, 10^6.
    expect(logStepIndices(1_000_000, 5)).toEqual([0, 1, 100, 10_000, 1_000_000]);
    // 0 and 7 indices 2^(10 i / 6) rounded: 1, 3, 10, 32, 102, 323, 1024
    expect(logStepIndices(1024, 8)).toEqual([0, 1, 3, 10, 32, 102, 323, 1024]);
    // never more than count (a GD run records at most `samples` rows)
    for (const [kMax, count] of [[1e6, 5], [30000, 200], [1024, 8], [7, 50]] as const) expect(logStepIndices(kMax, count).length).toBeLessThanOrEqual(count);
  });
});

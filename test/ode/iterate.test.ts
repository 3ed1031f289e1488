/**
 * Fixed-map iteration and gradient descent. Oracles: hand-computed iterates of linear maps whose
 * entries are dyadic rationals (so float64 is exact), and GD's first-order convergence to the
 * gradient flow (error ~ lr).
 */
import { describe, expect, test } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { gradientDescentMap, iterateMap, type VectorField } from '../../src/ode/index.js';

/** -grad of L(y) = (1/2) y^T diag(1, 2) y. */
const diagField: VectorField = (_t, y, d) => {
  d[0] = -y[0];
  d[1] = -2 * y[1];
};

describe('gradient descent on quadratics, exact', () => {
  test('diag(1, 2), lr = 1/4: y_k = (0.75^k, 0.5^k) bit-for-bit for 30 steps', () => {
    const seen: Float64Array[] = [];
    const r = iterateMap({ map: gradientDescentMap(diagField, 0.25), y0: Float64Array.of(1, 1), steps: 30, onSample: (_k, y) => seen.push(Float64Array.from(y)) });
    expect(r.status).toBe('success');
    expect(r.t).toBe(30);
    expect(seen.length).toBe(31);
    seen.forEach((y, k) => {
      // 3^k / 4^k: both integers are exact doubles for k <= 30, so the quotient is exact.
      expect(y[0]).toBe(3 ** k / 4 ** k);
      expect(y[1]).toBe(1 / 2 ** k);
    });
  });

  test('A = [[2,1],[1,2]], lr = 1/2: hand-computed iterates (1,2) -> (-1,-1/2) -> (1/4,1/2) -> (-1/4,-1/8)', () => {
    const field: VectorField = (_t, y, d) => {
      d[0] = -(2 * y[0] + y[1]);
      d[1] = -(y[0] + 2 * y[1]);
    };
    const seen: number[][] = [];
    iterateMap({ map: gradientDescentMap(field, 0.5), y0: Float64Array.of(1, 2), steps: 3, onSample: (_k, y) => seen.push(Array.from(y)) });
    expect(seen).toEqual([
      [1, 2],
      [-1, -0.5],
      [0.25, 0.5],
      [-0.25, -0.125],
    ]);
  });

  test('the vector field is called at t = lr * k', () => {
    const ts: number[] = [];
    const field: VectorField = (t, y, d) => {
      ts.push(t);
      d[0] = -y[0];
    };
    iterateMap({ map: gradientDescentMap(field, 0.125), y0: Float64Array.of(1), steps: 4 });
    expect(ts).toEqual([0, 0.125, 0.25, 0.375]);
  });

  test('GD at step k approaches the flow at t = lr k with error proportional to lr', () => {
    const errAt1 = (lr: number) => {
      const r = iterateMap({ map: gradientDescentMap(diagField, lr), y0: Float64Array.of(1, 1), steps: Math.round(1 / lr) });
      return Math.hypot(r.y[0] - Math.exp(-1), r.y[1] - Math.exp(-2));
    };
    const e1 = errAt1(1 / 64);
    const e2 = errAt1(1 / 128);
    const e3 = errAt1(1 / 256);
    expect(e1 / e2).toBeGreaterThan(1.9);
    expect(e1 / e2).toBeLessThan(2.1);
    expect(e2 / e3).toBeGreaterThan(1.9);
    expect(e2 / e3).toBeLessThan(2.1);
  });
});

describe('iterateMap recording, events, failures, resume', () => {
  const map = gradientDescentMap(diagField, 0.25);

  test('sampleEvery and sampleAt choose the recorded iterates and indices', () => {
    const every: [number, number][] = [];
    iterateMap({ map, y0: Float64Array.of(1, 1), steps: 30, sampleEvery: 10, onSample: (k, _y, i) => every.push([k, i]) });
    expect(every).toEqual([
      [0, 0],
      [10, 1],
      [20, 2],
      [30, 3],
    ]);
    const at: [number, number][] = [];
    iterateMap({ map, y0: Float64Array.of(1, 1), steps: 30, sampleAt: [0, 3, 7, 30], onSample: (k, _y, i) => at.push([k, i]) });
    expect(at).toEqual([
      [0, 0],
      [3, 1],
      [7, 2],
      [30, 3],
    ]);
  });

  test('event between iterates is reported at the first iterate after the sign change (0.75^9 < 0.1 < 0.75^8)', () => {
    const r = iterateMap({ map, y0: Float64Array.of(1, 1), steps: 30, events: [{ name: 'below 0.1', fn: (_k, y) => y[0] - 0.1, direction: -1 }] });
    expect(r.status).toBe('success');
    expect(r.events.length).toBe(1);
    expect(r.events[0].t).toBe(9);
    expect(r.events[0].y[0]).toBe(3 ** 9 / 4 ** 9);
    expect(r.events[0].direction).toBe(-1);
    const up = iterateMap({ map, y0: Float64Array.of(1, 1), steps: 30, events: [{ fn: (_k, y) => y[0] - 0.1, direction: 1 }] });
    expect(up.events.length).toBe(0);
  });

  test('terminal event stops at that iterate', () => {
    const r = iterateMap({ map, y0: Float64Array.of(1, 1), steps: 30, events: [{ fn: (_k, y) => y[0] - 0.1, terminal: true }] });
    expect(r.status).toBe('terminal-event');
    expect(r.t).toBe(9);
    expect(r.y[0]).toBe(3 ** 9 / 4 ** 9);
  });

  test("a NaN iterate gives 'non-finite' and returns the last good iterate", () => {
    const bad = (k: number, y: Float64Array, out: Float64Array) => {
      out[0] = k === 5 ? Number.NaN : y[0] / 2;
    };
    const r = iterateMap({ map: bad, y0: Float64Array.of(1), steps: 10 });
    expect(r.status).toBe('non-finite');
    expect(r.t).toBe(5);
    expect(r.y[0]).toBe(1 / 32);
    const inf = iterateMap({ map: (_k, y, out) => void (out[0] = y[0] * 1e300), y0: Float64Array.of(1e10), steps: 10 });
    expect(inf.status).toBe('non-finite');
    expect(inf.t).toBe(0);
  });

  test('onStep stop and resume give the same iterates and samples as one run', () => {
    const whole: number[][] = [];
    const one = iterateMap({ map, y0: Float64Array.of(1, 1), steps: 20, sampleEvery: 2, onSample: (k, y) => whole.push([k, ...y]) });
    const split: number[][] = [];
    const first = iterateMap({ map, y0: Float64Array.of(1, 1), steps: 20, sampleEvery: 2, onSample: (k, y) => split.push([k, ...y]), onStep: (k) => k < 8 });
    expect(first.status).toBe('user-stop');
    expect(first.t).toBe(8);
    const second = iterateMap({ map, resumeFrom: first.resume, steps: 20, sampleEvery: 2, onSample: (k, y) => split.push([k, ...y]) });
    expect(second.status).toBe('success');
    expect(Array.from(second.y)).toEqual(Array.from(one.y));
    expect(split).toEqual(whole);
  });

  test('bad options are usage errors', () => {
    expect(() => iterateMap({ map, y0: Float64Array.of(1, 1), steps: -1 })).toThrow(UsageError);
    expect(() => iterateMap({ map, y0: Float64Array.of(1, 1), steps: 5, sampleAt: [3, 2], onSample: () => {} })).toThrow(/strictly increasing/);
    expect(() => iterateMap({ map, y0: Float64Array.of(1, 1), steps: 5, sampleEvery: 2 })).toThrow(/onSample/);
    expect(() => gradientDescentMap(diagField, 0)).toThrow(/lr/);
  });
});

describe('iterateMap with the caller\'s buffers and a map that probes its own output', () => {
  // y_{k+1} = A y_k for a fixed 3 x 3 A: the iterates are exact products, computed again below
  const A = [0.5, 0.25, 0, -0.125, 0.75, 0.5, 0, 0.25, -0.5];
  const apply = (y: Float64Array, out: Float64Array) => {
    for (let i = 0; i < 3; i++) out[i] = A[3 * i] * y[0] + A[3 * i + 1] * y[1] + A[3 * i + 2] * y[2];
  };
  const y0 = Float64Array.from([1, -2, 3]);

  test('given buffers give the same iterates as allocated ones; y0 may be one of them', () => {
    const plain = iterateMap({ map: (_k, y, out) => apply(y, out), y0, steps: 7 });
    const buffers = { y: new Float64Array(3), out: new Float64Array(3) };
    const given = iterateMap({ map: (_k, y, out) => apply(y, out), y0, steps: 7, buffers });
    expect(Array.from(given.y)).toEqual(Array.from(plain.y));
    // a second leg starting from a value held in one of the buffers
    buffers.out.set(given.y);
    const leg = iterateMap({ map: (_k, y, out) => apply(y, out), resumeFrom: { t: 7, y: buffers.out, stats: { nfev: 7, naccepted: 7, nrejected: 0 } }, steps: 9, buffers });
    expect(Array.from(leg.y)).toEqual(Array.from(iterateMap({ map: (_k, y, out) => apply(y, out), y0, steps: 9 }).y));
  });

  test('a returned probe replaces the scan: NaN stops the iteration as non-finite, 0 goes on', () => {
    let calls = 0;
    const r = iterateMap({
      map: (_k, y, out) => {
        apply(y, out);
        return ++calls === 4 ? NaN : 0;
      },
      y0,
      steps: 10,
    });
    expect(r.status).toBe('non-finite');
    expect(r.t).toBe(3);
    // without a returned probe the scan finds a real NaN
    const scan = iterateMap({ map: (k, y, out) => { apply(y, out); if (k === 5) out[1] = NaN; }, y0, steps: 10 });
    expect(scan.status).toBe('non-finite');
    expect(scan.t).toBe(5);
  });

  test('buffers of the wrong length, or the same buffer twice, are refused', () => {
    const b = new Float64Array(3);
    expect(() => iterateMap({ map: (_k, y, out) => apply(y, out), y0, steps: 2, buffers: { y: b, out: b } })).toThrow(UsageError);
    expect(() => iterateMap({ map: (_k, y, out) => apply(y, out), y0, steps: 2, buffers: { y: b, out: new Float64Array(4) } })).toThrow(/state's length 3/);
  });
});

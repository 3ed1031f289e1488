/**
 * Event location on the dense output. Oracles: the zeros of cos t (pi/2 + k pi) for the harmonic
 * oscillator y'' = -y, and events whose function depends on t only (root known exactly, so only
 * the root finder's accuracy is measured).
 */
import { describe, expect, test } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { brentRoot, linspace, solveIvp, type EventSpec, type VectorField } from '../../src/ode/index.js';

// y0 = cos t, y1 = -sin t.
const oscillator: VectorField = (_t, y, d) => {
  d[0] = y[1];
  d[1] = -y[0];
};
/** at most 624 trial steps measured (the zeros on [0, 10]) */
const tight = { rtol: 1e-12, atol: 1e-12, maxSteps: 5000 };
const cosZero: EventSpec = { name: 'cos=0', fn: (_t, y) => y[0] };

describe('event location', () => {
  test('all zeros of cos t on [0, 10] found to 1e-10, with crossing directions and states', () => {
    const r = solveIvp({ f: oscillator, t0: 0, y0: Float64Array.of(1, 0), tEnd: 10, ...tight, events: [cosZero] });
    expect(r.status).toBe('success');
    const expected = [Math.PI / 2, (3 * Math.PI) / 2, (5 * Math.PI) / 2];
    expect(r.events.length).toBe(3); // so the checks below run three times
    r.events.forEach((e, i) => {
      expect(Math.abs(e.t - expected[i])).toBeLessThan(1e-10);
      expect(e.direction).toBe(i % 2 === 0 ? -1 : 1);
      expect(Math.abs(e.y[0])).toBeLessThan(1e-14); // g = y[0] is the event function: 0 to round-off (measured 3.3e-16)
      expect(Math.abs(e.y[1] + Math.sin(expected[i]))).toBeLessThan(1e-10);
      expect(e.index).toBe(0);
      expect(e.name).toBe('cos=0');
    });
  });

  test('direction filter: +1 keeps only upward crossings, -1 only downward', () => {
    const up = solveIvp({ f: oscillator, t0: 0, y0: Float64Array.of(1, 0), tEnd: 10, ...tight, events: [{ ...cosZero, direction: 1 }] });
    expect(up.status).toBe('success');
    expect(up.events.map((e) => e.direction)).toEqual([1]);
    expect(Math.abs(up.events[0].t - (3 * Math.PI) / 2)).toBeLessThan(1e-10);
    const down = solveIvp({ f: oscillator, t0: 0, y0: Float64Array.of(1, 0), tEnd: 10, ...tight, events: [{ ...cosZero, direction: -1 }] });
    expect(down.status).toBe('success');
    expect(down.events.map((e) => e.direction)).toEqual([-1, -1]);
    expect(Math.abs(down.events[0].t - Math.PI / 2)).toBeLessThan(1e-10);
    expect(Math.abs(down.events[1].t - (5 * Math.PI) / 2)).toBeLessThan(1e-10);
  });

  test('terminal event stops the solve at the event with the state there; samples stop there too', () => {
    const tEval = linspace(0, 10, 101);
    const sampled: number[] = [];
    const r = solveIvp({
      f: oscillator,
      t0: 0,
      y0: Float64Array.of(1, 0),
      tEnd: 10,
      ...tight,
      tEval,
      onSample: (t) => sampled.push(t),
      events: [{ ...cosZero, terminal: true, direction: 1 }],
    });
    expect(r.status).toBe('terminal-event');
    expect(r.message).toMatch(/terminal event 0 \('cos=0'\)/);
    expect(Math.abs(r.t - (3 * Math.PI) / 2)).toBeLessThan(1e-10);
    expect(Math.abs(r.y[0])).toBeLessThan(1e-14); // measured 3.3e-16
    expect(Math.abs(r.y[1] - 1)).toBeLessThan(1e-10);
    // Events before the terminal one are reported too (the downward zero at pi/2 is filtered out by direction).
    expect(r.events.length).toBe(1);
    expect(sampled.length).toBe(r.samplesDelivered);
    expect(sampled[sampled.length - 1]).toBeLessThanOrEqual(r.t);
    expect(sampled.length).toBe(tEval.filter((t) => t <= r.t).length);
  });

  test('several events in one step are reported in time order, none after the terminal one', () => {
    const f: VectorField = (_t, _y, d) => {
      d[0] = 1;
    };
    const r = solveIvp({
      f,
      t0: 0,
      y0: Float64Array.of(0),
      tEnd: 3,
      rtol: 1e-6,
      atol: 1e-6,
      maxSteps: 3, // one step covers everything (1 measured)
      h0: 3,
      events: [
        { name: 'late', fn: (t) => t - 1.5 },
        { name: 'stop', fn: (t) => t - 1.25, terminal: true },
        { name: 'early', fn: (t) => t - 0.5 },
      ],
    });
    expect(r.status).toBe('terminal-event');
    expect(r.events.map((e) => e.name)).toEqual(['early', 'stop']);
    // g depends on t only: the root finder alone sets the accuracy (a few ulps).
    expect(Math.abs(r.events[0].t - 0.5)).toBeLessThan(4 * Number.EPSILON);
    expect(Math.abs(r.t - 1.25)).toBeLessThan(4 * Number.EPSILON * 1.25);
    expect(Math.abs(r.y[0] - 1.25)).toBeLessThan(1e-14);
  });

  test('backward integration finds the zero of cos t at -pi/2', () => {
    const r = solveIvp({ f: oscillator, t0: 0, y0: Float64Array.of(1, 0), tEnd: -3, ...tight, events: [cosZero] });
    expect(r.status).toBe('success');
    expect(r.events.length).toBe(1);
    expect(Math.abs(r.events[0].t + Math.PI / 2)).toBeLessThan(1e-10);
  });

  test('an event function returning NaN is a usage error', () => {
    expect(() => solveIvp({ f: oscillator, t0: 0, y0: Float64Array.of(1, 0), tEnd: 1, ...tight, events: [{ fn: () => Number.NaN }] })).toThrow(UsageError);
  });
});

describe('brentRoot', () => {
  test('finds roots of known functions to machine precision, with few evaluations', () => {
    let calls = 0;
    const f = (x: number) => {
      calls++;
      return x * x * x - 2;
    };
    const r = brentRoot(f, 0, 2, -2, 6, 0);
    expect(Math.abs(r - Math.cbrt(2))).toBeLessThanOrEqual(2 * Number.EPSILON * Math.cbrt(2));
    expect(calls).toBeLessThan(20);
    const c = brentRoot(Math.cos, 1, 2, Math.cos(1), Math.cos(2), 0);
    expect(Math.abs(c - Math.PI / 2)).toBeLessThanOrEqual(2 * Number.EPSILON * 2);
  });

  test('no sign change is an error; an endpoint root is returned as is', () => {
    expect(() => brentRoot((x) => x * x + 1, -1, 1, 2, 2, 0)).toThrow(RangeError);
    expect(brentRoot((x) => x, 0, 1, 0, 1, 0)).toBe(0);
  });
});

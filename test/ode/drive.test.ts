/**
 * The one driver (src/ode/drive.ts) over the three steppers (Dopri5, MapStepper, OdexStepper):
 * the same loop, statuses, events and resumption for each, checked against exact solutions.
 */
import { describe, expect, test } from 'vitest';
import { Dopri5, drive, MapStepper, OdexStepper, type ResumeState, type Stepper, type StepperState, type VectorField } from '../../src/ode/index.js';

const decay: VectorField = (_t, y, d) => {
  d[0] = -y[0];
};
/** Nonlinear (so that the controller's memory matters): y' = -y + sin(t) y^2. */
const bernoulli: VectorField = (t, y, d) => {
  d[0] = -y[0] + Math.sin(t) * y[0] * y[0];
};
const half = [{ name: 'y=1/2', fn: (_t: number, y: Float64Array) => y[0] - 0.5, direction: -1 as const }];
const H = 1 / 8;
/** Explicit Euler on y' = -y with h = 1/8: y_k = (7/8)^k exactly in binary floating point. */
const eulerDecay = (_k: number, y: Float64Array, out: Float64Array) => {
  out[0] = y[0] * (1 - H);
};
const nodes = Array.from({ length: 8 }, (_, i) => (i + 1) / 4);

const makers: Record<string, () => Stepper<StepperState>> = {
  dopri5: () => new Dopri5({ f: decay, t0: 0, y0: Float64Array.of(1), tEnd: 2, rtol: 1e-12, atol: 1e-12, maxSteps: 10_000 }),
  map: () => new MapStepper({ map: eulerDecay, y0: Float64Array.of(1), steps: 16 }),
  odex: () => new OdexStepper({ f: decay, t0: 0, y0: Float64Array.of(1), nodes, rtol: 1e-12, atol: 1e-12, maxSteps: 500 }),
};

describe('one driver, three steppers', () => {
  test('events: root-found on dense output (dopri5), else at the first node past the sign change', () => {
    const d = drive(makers.dopri5(), { events: half });
    expect(d.status).toBe('success');
    expect(d.events).toHaveLength(1);
    expect(d.events[0].located).toBe(true);
    expect(Math.abs(d.events[0].t - Math.LN2)).toBeLessThan(1e-10);

    // (7/8)^5 = 0.513 > 1/2 >= (7/8)^6 = 0.449: reported at k = 6 with the exact iterate
    const m = drive(makers.map(), { events: half });
    expect(m.events.map((e) => [e.t, e.y[0], e.located])).toEqual([[6, 7 ** 6 / 8 ** 6, false]]);
    expect(m.y[0]).toBe(7 ** 16 / 8 ** 16);

    // ln 2 = 0.693 lies in (0.5, 0.75]: reported at node 0.75 with the state there
    const o = drive(makers.odex(), { events: half });
    expect(o.events).toHaveLength(1);
    expect(o.events[0].t).toBe(0.75);
    expect(o.events[0].located).toBe(false);
    expect(Math.abs(o.events[0].y[0] - Math.exp(-0.75))).toBeLessThan(1e-10);
    expect(Math.abs(o.y[0] - Math.exp(-2))).toBeLessThan(1e-11);
  });

  test.each(Object.keys(makers))('%s: a terminal event and a stop hook end with the same statuses', (name) => {
    const term = drive(makers[name](), { events: [{ ...half[0], terminal: true }] });
    expect(term.status).toBe('terminal-event');
    expect(term.t).toBe(term.events[0].t);
    expect(term.y[0]).toBe(term.events[0].y[0]);
    let calls = 0;
    const stopper = makers[name]();
    const stop = drive(stopper, { onStep: () => ++calls < 3 });
    expect(stop.status).toBe('user-stop');
    expect(calls).toBe(3);
    expect(stop.t).toBe(stopper.t);
  });

  test.each(Object.keys(makers))('%s: stop, then drive on (same object) or restore a snapshot (new object): the same bits as one drive', (name) => {
    const whole = drive(makers[name]());
    const samples: number[][] = [];
    const first = makers[name]();
    let calls = 0;
    const a = drive(first, { onStep: () => ++calls < 4, onSample: (t, y) => samples.push([t, y[0]]) });
    expect(a.status).toBe('user-stop');
    // the same object, driven on
    const b = drive(first, { resumed: true, onSample: (t, y) => samples.push([t, y[0]]) });
    expect(b.status).toBe('success');
    expect(b.y[0]).toBe(whole.y[0]);
    expect(b.stats).toEqual(whole.stats);
    // one sample per node, none twice
    const all: number[][] = [];
    drive(makers[name](), { onSample: (t, y) => all.push([t, y[0]]) });
    expect(samples).toEqual(all);
    // a new object restored from the snapshot
    const fresh = makers[name]();
    fresh.restore(a.resume);
    const c = drive(fresh, { resumed: true });
    expect(c.y[0]).toBe(whole.y[0]);
    expect(c.stats).toEqual(whole.stats);
  });

  test.each(Object.keys(makers))('%s: on an output grid through the nodes, a resumed drive delivers each grid time once', (name) => {
    const grid = name === 'map' ? Array.from({ length: 17 }, (_, k) => k) : [0, ...nodes];
    const all: number[][] = [];
    drive(makers[name](), { tEval: grid, onSample: (t, y, i) => all.push([t, y[0], i]) });
    expect(all.map((r) => r[0])).toEqual(grid);
    const split: number[][] = [];
    const stepper = makers[name]();
    let calls = 0;
    drive(stepper, { tEval: grid, onSample: (t, y, i) => split.push([t, y[0], i]), onStep: () => ++calls < 3 });
    drive(stepper, { tEval: grid, onSample: (t, y, i) => split.push([t, y[0], i]), resumed: true });
    expect(split).toEqual(all);
  });

  test('Dopri5 snapshot carries the controller memory: dropping it changes the bits (negative control)', () => {
    const make = () => new Dopri5({ f: bernoulli, t0: 0, y0: Float64Array.of(0.5), tEnd: 6, rtol: 1e-6, atol: 1e-9, maxSteps: 10_000 });
    const whole = drive(make());
    const a = drive(make(), { onStep: (s) => s.stats.naccepted < 5 });
    const snap = a.resume as ResumeState;
    const good = make();
    good.restore(snap);
    expect(drive(good, { resumed: true }).y[0]).toBe(whole.y[0]);
    const bad = make();
    bad.restore({ ...snap, controller: { kind: 'PI', errPrev: 1e-4 } });
    expect(drive(bad, { resumed: true }).y[0]).not.toBe(whole.y[0]);
    // oracle for the solution itself: 1/y = e^t (c - integral of e^-s sin s), c = 2
    const exact = 1 / (Math.exp(6) * (2 - (1 - Math.exp(-6) * (Math.sin(6) + Math.cos(6))) / 2));
    expect(Math.abs(whole.y[0] - exact)).toBeLessThan(1e-6 * Math.abs(exact) + 1e-8);
  });

  test('an output time between the nodes of a stepper without dense output is refused', () => {
    expect(() => drive(makers.map(), { tEval: [0, 2.5], onSample: () => {} })).toThrow(/without dense output/);
    // the same time with dense output is interpolated (exact solution e^-t)
    const got: number[] = [];
    drive(makers.dopri5(), { tEval: [0, 0.3], onSample: (_t, y) => got.push(y[0]) });
    expect(Math.abs(got[1] - Math.exp(-0.3))).toBeLessThan(1e-10);
  });
});

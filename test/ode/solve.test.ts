/**
 * solve(), the solve_ivp-like entry point. Oracles: exact solutions (e^-t, cos/sin), exact
 * invariants (oscillator energy, the Lotka-Volterra first integral), an exact event time (ln 2),
 * agreement between the two independent methods (Dormand-Prince and odex's extrapolation), the
 * exact evaluation count of FSAL Dormand-Prince, and an external count of f calls.
 */
import { describe, expect, test } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { linspace, solve, type SolveEvent, type SolveMethod, type SolveOptions, type VectorField } from '../../src/ode/index.js';
import { decay, toleranceUnits } from './problems.js';

const METHODS: SolveMethod[] = ['dopri5', 'odex'];

/** y0 = x, y1 = x' for x'' = -x: (cos t, -sin t) from (1, 0). */
const oscillator: VectorField = (_t, y, d) => {
  d[0] = y[1];
  d[1] = -y[0];
};

/** Lotka-Volterra of the issue: x' = alpha x - beta x y, y' = delta x y - gamma y. */
const [ALPHA, BETA, GAMMA, DELTA] = [1.5, 1, 3, 1];
const lv: VectorField = (_t, y, dy) => {
  dy[0] = ALPHA * y[0] - BETA * y[0] * y[1];
  dy[1] = DELTA * y[0] * y[1] - GAMMA * y[1];
};
/** Its first integral V(x, y) = delta x - gamma ln x + beta y - alpha ln y. */
const lvV = (x: number, y: number): number => DELTA * x - GAMMA * Math.log(x) + BETA * y - ALPHA * Math.log(y);

/** f wrapped with a call counter (the oracle for stats.nfev). */
function counted(f: VectorField): { f: VectorField; calls: () => number } {
  let n = 0;
  return {
    f: (t, y, d) => {
      n++;
      f(t, y, d);
    },
    calls: () => n,
  };
}

/** Largest |V(y_i) - V(y_0)| over the outputs. */
function lvDrift(ys: Float64Array[]): number {
  const v0 = lvV(10, 5);
  return Math.max(...ys.map((y) => Math.abs(lvV(y[0], y[1]) - v0)));
}

const half: SolveEvent = { name: 'half', fn: (_t, y) => y[0] - 0.5 };

describe('solve: accuracy against exact solutions', () => {
  test("y' = -y on [0, 10] at rtol 1e-6, atol 1e-9: within tolerance at tEval; dopri5 costs a few dozen steps", () => {
    const tEval = linspace(0, 10, 11);
    for (const method of METHODS) {
      const c = counted(decay);
      const r = solve(c.f, [0, 10], [1], { method, rtol: 1e-6, atol: 1e-9, tEval });
      expect(r.status).toBe('success');
      expect(r.method).toBe(method);
      expect(Array.from(r.t)).toEqual(Array.from(tEval));
      expect(r.y[0][0]).toBe(1); // the sample at t0 is y0 itself
      // global error in tolerance units: measured 0.75 (dopri5), 0.19 (odex)
      let worst = 0;
      r.t.forEach((t, i) => (worst = Math.max(worst, toleranceUnits(r.y[i], [Math.exp(-t)], 1e-6, 1e-9))));
      expect(worst).toBeLessThan(2);
      // stats.nfev is every call of f (measured 266 dopri5, 734 odex)
      expect(r.stats.nfev).toBe(c.calls());
    }
    const r = solve(decay, [0, 10], [1], { rtol: 1e-6, atol: 1e-9, tEval });
    // SciPy's RK45 takes a few dozen steps here; measured 44 accepted, 0 rejected, 266 evaluations.
    // A controller that fails to grow the step, or rejects a lot, breaks this bound.
    expect(r.stats.naccepted).toBeLessThanOrEqual(60);
    expect(r.stats.nrejected).toBeLessThanOrEqual(3);
    // FSAL Dormand-Prince: f(t0), the starting-step probe, then 6 evaluations per trial step.
    expect(r.stats.nfev).toBe(2 + 6 * (r.stats.naccepted + r.stats.nrejected));
  });

  test("harmonic oscillator y'' = -y on [0, 20]: cos/sin to 1e-7 and energy conserved to 1e-7 (rtol 1e-8)", () => {
    const tEval = linspace(0, 20, 41);
    for (const method of METHODS) {
      const r = solve(oscillator, [0, 20], Float64Array.of(1, 0), { method, rtol: 1e-8, atol: 1e-10, tEval });
      expect(r.status).toBe('success');
      expect(r.y.length).toBe(41);
      let err = 0;
      let energy = 0;
      r.t.forEach((t, i) => {
        const [x, v] = r.y[i];
        err = Math.max(err, Math.abs(x - Math.cos(t)), Math.abs(v + Math.sin(t)));
        energy = Math.max(energy, Math.abs(x * x + v * v - 1));
      });
      // measured (dopri5): error 1.8e-8, energy 3.7e-8
      expect(err).toBeLessThan(1e-7);
      expect(energy).toBeLessThan(1e-7);
    }
  });

  test('Lotka-Volterra (alpha 1.5, beta 1, gamma 3, delta 1) from (10, 5) on [0, 15]: the first integral is kept, and dopri5 and odex agree', () => {
    const tEval = linspace(0, 15, 31);
    const rtol = 1e-8;
    const opts: SolveOptions = { rtol, atol: 1e-10, tEval };
    const dp = solve(lv, [0, 15], [10, 5], opts);
    const ox = solve(lv, [0, 15], [10, 5], { ...opts, method: 'odex' });
    expect(dp.status).toBe('success');
    expect(ox.status).toBe('success');
    const v0 = Math.abs(lvV(10, 5)); // 5.68
    // |V - V(0)| in units of rtol |V(0)|: measured 1.6 (dopri5), 4.2 (odex)
    expect(lvDrift(dp.y)).toBeLessThan(10 * rtol * v0);
    expect(lvDrift(ox.y)).toBeLessThan(10 * rtol * v0);
    // Agreement at the 31 times (x up to 12.1, down to 0.019): measured 1.4e-6.
    let diff = 0;
    dp.y.forEach((y, i) => y.forEach((v, j) => (diff = Math.max(diff, Math.abs(v - ox.y[i][j])))));
    expect(diff).toBeLessThan(1e-5);
    // Negative controls: a loose dopri5 solve breaks both checks (so they can fail).
    const loose = solve(lv, [0, 15], [10, 5], { rtol: 1e-4, atol: 1e-6, tEval });
    expect(lvDrift(loose.y)).toBeGreaterThan(10 * rtol * v0); // measured 20 * 1e-4 * |V(0)|
    let looseDiff = 0;
    loose.y.forEach((y, i) => y.forEach((v, j) => (looseDiff = Math.max(looseDiff, Math.abs(v - ox.y[i][j])))));
    expect(looseDiff).toBeGreaterThan(1e-5);
  });

  test('backward integration (t1 < t0) matches e^-t for both methods', () => {
    const tEval = linspace(2, -1, 7);
    for (const method of METHODS) {
      const r = solve(decay, [2, -1], [Math.exp(-2)], { method, rtol: 1e-8, atol: 1e-12, tEval });
      expect(r.status).toBe('success');
      expect(Array.from(r.t)).toEqual(Array.from(tEval));
      // measured relative error 4.1e-9 (dopri5), 2.9e-11 (odex)
      r.t.forEach((t, i) => expect(Math.abs(r.y[i][0] / Math.exp(-t) - 1)).toBeLessThan(1e-7));
    }
    const steps = solve(decay, [2, -1], [Math.exp(-2)], { rtol: 1e-8, atol: 1e-12 });
    expect(steps.status).toBe('success');
    expect(steps.t.length).toBe(steps.stats.naccepted + 1);
    for (let i = 1; i < steps.t.length; i++) expect(steps.t[i]).toBeLessThan(steps.t[i - 1]);
    expect(steps.t[steps.t.length - 1]).toBe(-1);
  });
});

describe('solve: outputs', () => {
  test('without tEval: t0 and every accepted step (length naccepted + 1), strictly increasing, ending at t1', () => {
    const r = solve(smooth, [0, 3], [1, 1], { rtol: 1e-7, atol: 1e-9 });
    expect(r.status).toBe('success');
    expect(r.stats.naccepted).toBeGreaterThan(5); // so the checks below are about several steps
    expect(r.t.length).toBe(r.stats.naccepted + 1);
    expect(r.y.length).toBe(r.t.length);
    expect(r.t[0]).toBe(0);
    expect(Array.from(r.y[0])).toEqual([1, 1]);
    for (let i = 1; i < r.t.length; i++) expect(r.t[i]).toBeGreaterThan(r.t[i - 1]);
    expect(r.t[r.t.length - 1]).toBe(3);
    // every node is a solution point: y1 = exp(sin t), y2 = 1/(1 + t^2/2)
    r.t.forEach((t, i) => expect(toleranceUnits(r.y[i], [Math.exp(Math.sin(t)), 1 / (1 + (t * t) / 2)], 1e-7, 1e-9)).toBeLessThan(5));
  });

  test('y0 is not modified; every output array is an independent copy that later solves do not touch', () => {
    const y0 = Float64Array.of(1, 0);
    const y0Array = [1, 0];
    const r = solve(oscillator, [0, 2], y0, { rtol: 1e-6, atol: 1e-9, events: [{ fn: (_t, y) => y[0] }] });
    solve(oscillator, [0, 2], y0Array, { method: 'odex', rtol: 1e-6, atol: 1e-9, tEval: [1, 2] });
    expect(Array.from(y0)).toEqual([1, 0]);
    expect(y0Array).toEqual([1, 0]);
    expect(r.y[0]).not.toBe(y0);
    expect(new Set(r.y).size).toBe(r.y.length);
    expect(new Set(r.y.map((y) => y.buffer)).size).toBe(r.y.length);
    expect(r.events.length).toBe(1); // cos t = 0 at pi/2
    expect(r.y.some((y) => y.buffer === r.events[0].y.buffer)).toBe(false);
    const before = r.y.map((y) => Array.from(y));
    const eventBefore = Array.from(r.events[0].y);
    // Another solve of the same size reuses the solver memory: the results must not change.
    solve(oscillator, [0, 5], [3, 4], { rtol: 1e-6, atol: 1e-9, events: [{ fn: (_t, y) => y[0] }] });
    expect(r.y.map((y) => Array.from(y))).toEqual(before);
    expect(Array.from(r.events[0].y)).toEqual(eventBefore);
    r.y[0][0] = 99;
    expect(r.y[1][0]).not.toBe(99);
    expect(Array.from(y0)).toEqual([1, 0]);
  });

  test('per-component atol is accepted as number[] and Float64Array and gives the same solve', () => {
    const a = solve(oscillator, [0, 5], [1, 0], { rtol: 1e-8, atol: [1e-10, 1e-10], tEval: [5] });
    const b = solve(oscillator, [0, 5], [1, 0], { rtol: 1e-8, atol: Float64Array.of(1e-10, 1e-10), tEval: [5] });
    const c = solve(oscillator, [0, 5], [1, 0], { rtol: 1e-8, atol: 1e-10, tEval: [5] });
    expect(Array.from(a.y[0])).toEqual(Array.from(c.y[0]));
    expect(Array.from(b.y[0])).toEqual(Array.from(c.y[0]));
    expect(a.t.length).toBe(1); // tEval without t0: no output at t0
  });
});

/** y1' = y1 cos t, y2' = -t y2^2 from (1, 1): y1 = exp(sin t), y2 = 1 / (1 + t^2/2). */
const smooth: VectorField = (t, y, d) => {
  d[0] = y[0] * Math.cos(t);
  d[1] = -t * y[1] * y[1];
};

describe('solve: events', () => {
  test("dopri5 locates y = 0.5 on y' = -y at ln 2 to 1e-10 (located), and keeps going", () => {
    const r = solve(decay, [0, 2], [1], { rtol: 1e-10, atol: 1e-12, events: [half] });
    expect(r.status).toBe('success');
    expect(r.events.length).toBe(1);
    const e = r.events[0];
    expect(Math.abs(e.t - Math.LN2)).toBeLessThan(1e-10); // measured 4.5e-12
    expect(Math.abs(e.y[0] - 0.5)).toBeLessThan(1e-12); // measured 0
    expect(e).toMatchObject({ index: 0, name: 'half', direction: -1, terminal: false, located: true });
    expect(r.t[r.t.length - 1]).toBe(2);
  });

  test("terminal: dopri5 stops at ln 2 with 'terminal-event'; the event state is the last output", () => {
    const tEval = linspace(0, 2, 21);
    const r = solve(decay, [0, 2], [1], { rtol: 1e-10, atol: 1e-12, tEval, events: [{ ...half, terminal: true }] });
    expect(r.status).toBe('terminal-event');
    expect(r.message).toMatch(/terminal event 0 \('half'\)/);
    // tEval points 0, 0.1, ..., 0.6, then the event point
    expect(r.t.length).toBe(8);
    expect(Array.from(r.t.subarray(0, 7))).toEqual(Array.from(tEval.subarray(0, 7)));
    expect(Math.abs(r.t[7] - Math.LN2)).toBeLessThan(1e-10);
    expect(Math.abs(r.y[7][0] - 0.5)).toBeLessThan(1e-12);
    expect(r.events.map((e) => e.terminal)).toEqual([true]);
    // without tEval the event point replaces the end of the last step: still naccepted + 1 outputs
    const s = solve(decay, [0, 2], [1], { rtol: 1e-10, atol: 1e-12, events: [{ ...half, terminal: true }] });
    expect(s.status).toBe('terminal-event');
    expect(s.t.length).toBe(s.stats.naccepted + 1);
    expect(Math.abs(s.t[s.t.length - 1] - Math.LN2)).toBeLessThan(1e-10);
    expect(s.t[s.t.length - 2]).toBeLessThan(Math.LN2);
  });

  test('direction filters crossings: y - 0.5 only crosses downward', () => {
    for (const method of METHODS) {
      const opts: SolveOptions = { method, rtol: 1e-10, atol: 1e-12, tEval: linspace(0, 2, 21) };
      const up = solve(decay, [0, 2], [1], { ...opts, events: [{ ...half, direction: 1 }] });
      expect(up.status).toBe('success');
      expect(up.events).toEqual([]);
      const down = solve(decay, [0, 2], [1], { ...opts, events: [{ ...half, direction: -1 }] });
      expect(down.events.map((e) => e.direction)).toEqual([-1]);
    }
    // both directions on the oscillator: cos t crosses 0 down at pi/2, up at 3 pi/2
    const r = solve(oscillator, [0, 6], [1, 0], { rtol: 1e-10, atol: 1e-12, events: [{ fn: (_t, y) => y[0], direction: 1 }] });
    expect(r.events.length).toBe(1);
    expect(Math.abs(r.events[0].t - (3 * Math.PI) / 2)).toBeLessThan(1e-10); // measured 3.6e-12
    expect(r.events[0].name).toBe('event 0');
  });

  test('odex reports the event at the first tEval point past ln 2, not located; terminal stops there', () => {
    const tEval = linspace(0, 2, 21);
    const r = solve(decay, [0, 2], [1], { method: 'odex', rtol: 1e-10, atol: 1e-12, tEval, events: [half] });
    expect(r.status).toBe('success');
    expect(r.events.length).toBe(1);
    const e = r.events[0];
    expect(e).toMatchObject({ index: 0, name: 'half', direction: -1, terminal: false, located: false });
    expect(e.t).toBe(0.7); // first output after ln 2 = 0.693
    expect(Math.abs(e.y[0] - Math.exp(-0.7))).toBeLessThan(1e-10);
    expect(r.t.length).toBe(21);
    const term = solve(decay, [0, 2], [1], { method: 'odex', rtol: 1e-10, atol: 1e-12, tEval, events: [{ ...half, terminal: true }] });
    expect(term.status).toBe('terminal-event');
    expect(term.message).toMatch(/not root-found/);
    expect(Array.from(term.t)).toEqual(Array.from(tEval.subarray(0, 8))); // 0 .. 0.7
    expect(term.y[7][0]).toBe(term.events[0].y[0]);
    // A crossing after the last tEval point is reported at t1 (still checked there).
    const late = solve(decay, [0, 1], [1], { method: 'odex', rtol: 1e-10, atol: 1e-12, tEval: [0, 0.5], events: [{ ...half, terminal: true }] });
    expect(late.status).toBe('terminal-event');
    expect(late.events[0].t).toBe(1);
    expect(Array.from(late.t)).toEqual([0, 0.5, 1]); // the terminal state is the last output
  });
});

describe('solve: failure statuses keep the outputs before the failure', () => {
  const nanAfterHalf: VectorField = (t, y, d) => {
    d[0] = t > 0.5 ? Number.NaN : -y[0];
  };

  test("a field that is NaN after t = 0.5 gives 'non-finite'", () => {
    const tEval = linspace(0, 1, 11);
    const dp = solve(nanAfterHalf, [0, 1], [1], { rtol: 1e-8, atol: 1e-10, tEval });
    expect(dp.status).toBe('non-finite');
    expect(dp.t.length).toBeGreaterThan(0);
    expect(dp.t[dp.t.length - 1]).toBeLessThanOrEqual(0.5); // measured: outputs to 0.4 (last step ended at 0.434)
    dp.t.forEach((t, i) => expect(Math.abs(dp.y[i][0] - Math.exp(-t))).toBeLessThan(1e-8));
    const steps = solve(nanAfterHalf, [0, 1], [1], { rtol: 1e-8, atol: 1e-10 });
    expect(steps.status).toBe('non-finite');
    expect(steps.t.length).toBe(steps.stats.naccepted + 1);
    expect(steps.y.every((y) => Number.isFinite(y[0]))).toBe(true);
    // odex runs on through NaN to its step limit: keep maxSteps low
    const ox = solve(nanAfterHalf, [0, 1], [1], { method: 'odex', rtol: 1e-8, atol: 1e-10, tEval, maxSteps: 100 });
    expect(ox.status).toBe('non-finite');
    expect(Array.from(ox.t)).toEqual(Array.from(tEval.subarray(0, 6))); // 0 .. 0.5
    ox.t.forEach((t, i) => expect(Math.abs(ox.y[i][0] - Math.exp(-t))).toBeLessThan(1e-8));
  });

  test("a small maxSteps gives 'max-steps' (and a large enough one succeeds)", () => {
    const r = solve(decay, [0, 10], [1], { rtol: 1e-8, atol: 1e-10, maxSteps: 5 });
    expect(r.status).toBe('max-steps');
    expect(r.message).toMatch(/maxSteps = 5/);
    expect(r.stats.naccepted + r.stats.nrejected).toBe(5);
    expect(r.t.length).toBe(r.stats.naccepted + 1);
    r.t.forEach((t, i) => expect(Math.abs(r.y[i][0] - Math.exp(-t))).toBeLessThan(1e-9));
    expect(solve(decay, [0, 10], [1], { rtol: 1e-8, atol: 1e-10, maxSteps: 200 }).status).toBe('success');
    const ox = solve(decay, [0, 10], [1], { method: 'odex', rtol: 1e-8, atol: 1e-10, maxSteps: 3, tEval: [0, 5, 10] });
    expect(ox.status).toBe('max-steps');
    expect(Array.from(ox.t)).toEqual([0]);
  });
});

describe('solve: bad input throws UsageError naming the argument', () => {
  const ok: SolveOptions = { rtol: 1e-6, atol: 1e-9 };
  type Call = () => unknown;
  const bad = (x: unknown) => x as never;
  /** [what, bad call, message pattern, nearby valid call] */
  const cases: [string, Call, RegExp, Call][] = [
    ['f not a function', () => solve(bad(42), [0, 1], [1], ok), /^f must be a function/, () => solve(decay, [0, 1], [1], ok)],
    ['t1 === t0', () => solve(decay, [1, 1], [1], ok), /tSpan is empty: t1 = t0 = 1/, () => solve(decay, [1, 1.5], [1], ok)],
    ['t1 not finite', () => solve(decay, [0, Infinity], [1], ok), /tSpan\[1\] \(t1\) must be a finite number/, () => solve(decay, [0, 1e3], [1], ok)],
    ['tSpan not a pair', () => solve(decay, bad([1]), [1], ok), /tSpan must be \[t0, t1\]/, () => solve(decay, [0, 1], [1], ok)],
    ['y0 with NaN', () => solve(oscillator, [0, 1], [1, Number.NaN], ok), /y0\[1\] is NaN/, () => solve(oscillator, [0, 1], [1, 2], ok)],
    ['y0 Float64Array with Inf', () => solve(decay, [0, 1], Float64Array.of(Infinity), ok), /y0\[0\] is Infinity/, () => solve(decay, [0, 1], Float64Array.of(1), ok)],
    ['y0 empty', () => solve(decay, [0, 1], [], ok), /y0 is empty/, () => solve(decay, [0, 1], [0], ok)],
    ['y0 not an array', () => solve(decay, [0, 1], bad('1'), ok), /y0 must be a Float64Array or an array of numbers/, () => solve(decay, [0, 1], [1], ok)],
    ['rtol 0', () => solve(decay, [0, 1], [1], { ...ok, rtol: 0 }), /rtol must be > 0/, () => solve(decay, [0, 1], [1], { ...ok, rtol: 1e-12 })],
    ['rtol missing', () => solve(decay, [0, 1], [1], bad({ atol: 1e-9 })), /rtol must be a finite number, got undefined; rtol is required/, () => solve(decay, [0, 1], [1], ok)],
    ['atol negative', () => solve(decay, [0, 1], [1], { ...ok, atol: -1e-9 }), /atol must be > 0/, () => solve(decay, [0, 1], [1], { ...ok, atol: 1e-300 })],
    ['atol wrong length', () => solve(decay, [0, 1], [1], { ...ok, atol: [1e-9, 1e-9] }), /atol has 2 values but y0 has 1 components/, () => solve(decay, [0, 1], [1], { ...ok, atol: [1e-9] })],
    ['atol component 0', () => solve(oscillator, [0, 1], [1, 0], { ...ok, atol: [1e-9, 0] }), /atol\[1\] = 0 must be > 0/, () => solve(oscillator, [0, 1], [1, 0], { ...ok, atol: [1e-9, 1e-12] })],
    ['tEval not monotone', () => solve(decay, [0, 1], [1], { ...ok, tEval: [0, 0.5, 0.5] }), /tEval must be strictly increasing/, () => solve(decay, [0, 1], [1], { ...ok, tEval: [0, 0.5, 0.6] })],
    ['tEval increasing on a backward span', () => solve(decay, [1, 0], [1], { ...ok, tEval: [0.5, 0.6] }), /tEval must be strictly decreasing/, () => solve(decay, [1, 0], [1], { ...ok, tEval: [0.6, 0.5] })],
    ['tEval beyond t1', () => solve(decay, [0, 1], [1], { ...ok, tEval: [0.5, 1.0000001] }), /tEval\[1\] = 1.0000001 is outside \[t0, t1\]/, () => solve(decay, [0, 1], [1], { ...ok, tEval: [0.5, 1] })],
    ['tEval before t0', () => solve(decay, [0, 1], [1], { ...ok, tEval: [-0.1, 1] }), /tEval\[0\] = -0.1 is outside/, () => solve(decay, [0, 1], [1], { ...ok, tEval: [0, 1] })],
    ['tEval empty', () => solve(decay, [0, 1], [1], { ...ok, tEval: [] }), /tEval is empty/, () => solve(decay, [0, 1], [1], { ...ok, tEval: [1] })],
    ['unknown method', () => solve(decay, [0, 1], [1], { ...ok, method: bad('rk45') }), /method must be 'dopri5' or 'odex', got 'rk45'/, () => solve(decay, [0, 1], [1], { ...ok, method: 'dopri5' })],
    ['odex without tEval', () => solve(decay, [0, 1], [1], { ...ok, method: 'odex' }), /method 'odex' needs tEval/, () => solve(decay, [0, 1], [1], { ...ok, method: 'odex', tEval: [1] })],
    ['odex with h0', () => solve(decay, [0, 1], [1], { ...ok, method: 'odex', tEval: [1], h0: 0.1 }), /h0 is a dopri5 option/, () => solve(decay, [0, 1], [1], { ...ok, tEval: [1], h0: 0.1 })],
    ['maxSteps 0', () => solve(decay, [0, 1], [1], { ...ok, maxSteps: 0 }), /maxSteps must be an integer >= 1 or Infinity, got 0/, () => solve(decay, [0, 1], [1], { ...ok, maxSteps: Infinity })],
    ['maxSteps Infinity with odex', () => solve(decay, [0, 1], [1], { ...ok, method: 'odex', tEval: [1], maxSteps: Infinity }), /maxSteps must be an integer >= 1 for odex/, () => solve(decay, [0, 1], [1], { ...ok, method: 'odex', tEval: [1], maxSteps: 1000 })],
    ['controller fixed', () => solve(decay, [0, 1], [1], { ...ok, controller: bad('fixed') }), /controller must be 'I' or 'PI'/, () => solve(decay, [0, 1], [1], { ...ok, controller: 'I' })],
    ['event without fn', () => solve(decay, [0, 1], [1], { ...ok, events: [bad({ g: () => 0 })] }), /events\[0\]\.fn must be a function/, () => solve(decay, [0, 1], [1], { ...ok, events: [half] })],
    ['event direction 2', () => solve(decay, [0, 1], [1], { ...ok, events: [{ ...half, direction: bad(2) }] }), /events\[0\]\.direction must be -1, 0 or \+1/, () => solve(decay, [0, 1], [1], { ...ok, events: [{ ...half, direction: -1 }] })],
    ['event fn NaN (dopri5)', () => solve(decay, [0, 1], [1], { ...ok, events: [{ name: 'nan', fn: () => Number.NaN }] }), /'nan' returned NaN/, () => solve(decay, [0, 1], [1], { ...ok, events: [{ name: 'nan', fn: () => 1 }] })],
    ['event fn NaN (odex)', () => solve(decay, [0, 1], [1], { ...ok, method: 'odex', tEval: [1], events: [{ name: 'nan', fn: () => Number.NaN }] }), /'nan' returned NaN/, () => solve(decay, [0, 1], [1], { ...ok, method: 'odex', tEval: [1], events: [{ name: 'nan', fn: () => 1 }] })],
  ];

  test.each(cases)('%s', (_what, call, pattern, valid) => {
    let err: unknown = null;
    try {
      call();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    const message = (err as Error).message;
    expect(message).toMatch(pattern);
    expect(message).not.toMatch(/\n/);
    // negative control: the nearby valid input runs
    const r = valid() as { status: string };
    expect(r.status).toBe('success');
  });
});

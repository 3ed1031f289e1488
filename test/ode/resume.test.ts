/**
 * Resumability: a solve stopped at an accepted step boundary and resumed from result.resume
 * must be bit-identical to the uninterrupted solve (final state, stats, samples, events), since
 * the resume state carries t, y, f(t, y), the proposed h, the controller memory and whether a
 * trial of the pending step was already rejected. Stops at tEnd clip the last step and so change
 * the step sequence; that is why legs end through onStep or maxSteps, never through tEnd.
 */
import { describe, expect, test } from 'vitest';
import { Dopri5, PI_ERR_FLOOR, linspace, solveIvp, type EventSpec, type SolveIvpOptions } from '../../src/ode/index.js';
import { StageMemory } from '../../src/ode/simd.js';
import { lotkaVolterra } from './problems.js';

const T = 30;
const tEval = linspace(0, T, 61);
const events: EventSpec[] = [{ name: 'x=1', fn: (_t, y) => y[0] - 1 }];

interface Recorded {
  samples: { t: number; y: number[]; index: number }[];
}

function base(rec: Recorded, controller: 'PI' | 'I'): SolveIvpOptions {
  return {
    f: lotkaVolterra,
    tEnd: T,
    rtol: 1e-6,
    atol: 1e-6,
    maxSteps: 1000, // at most 96 trial steps measured
    controller,
    tEval,
    events,
    onSample: (t, y, index) => rec.samples.push({ t, y: Array.from(y), index }),
  };
}

function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

describe('resume is bit-identical', () => {
  for (const controller of ['PI', 'I'] as const) {
    test(`${controller}: stop by onStep at t >= T/2, resume to T == one go (state, stats, samples, events)`, () => {
      const whole: Recorded = { samples: [] };
      const one = solveIvp({ ...base(whole, controller), t0: 0, y0: Float64Array.of(1, 1) });
      expect(one.status).toBe('success');
      expect(one.stats.nrejected).toBeGreaterThan(0); // rejections happen, so controller memory matters
      expect(whole.samples.length).toBe(tEval.length);

      const split: Recorded = { samples: [] };
      const first = solveIvp({ ...base(split, controller), t0: 0, y0: Float64Array.of(1, 1), onStep: (t) => t < T / 2 });
      expect(first.status).toBe('user-stop');
      expect(first.t).toBeGreaterThanOrEqual(T / 2);
      const second = solveIvp({ ...base(split, controller), resumeFrom: first.resume });
      expect(second.status).toBe('success');

      expect(sameBits(second.y, one.y)).toBe(true);
      expect(second.t).toBe(one.t);
      expect(second.stats).toEqual(one.stats);
      expect(split.samples.length).toBe(whole.samples.length);
      split.samples.forEach((s, i) => {
        expect(s.index).toBe(whole.samples[i].index);
        expect(s.t).toBe(whole.samples[i].t);
        expect(sameBits(s.y, whole.samples[i].y)).toBe(true);
      });
      const ev = [...first.events, ...second.events];
      expect(ev.map((e) => e.t)).toEqual(one.events.map((e) => e.t));
      expect(one.events.length).toBeGreaterThan(2);
    });
  }

  test('stopping through maxSteps at every possible step count, then resuming, is bit-identical too', () => {
    const noRec = { f: lotkaVolterra, tEnd: T, rtol: 1e-6, atol: 1e-6, controller: 'PI' as const };
    const one = solveIvp({ ...noRec, t0: 0, y0: Float64Array.of(1, 1), maxSteps: 1000 });
    expect(one.status).toBe('success');
    const attempts = one.stats.naccepted + one.stats.nrejected;
    expect(attempts).toBeGreaterThan(50); // 86 measured: every k below is a real stop
    let stoppedAfterRejection = 0;
    for (let k = 1; k < attempts; k++) {
      const first = solveIvp({ ...noRec, t0: 0, y0: Float64Array.of(1, 1), maxSteps: k });
      expect(first.status).toBe('max-steps');
      if (first.resume.pendingRejection) stoppedAfterRejection++;
      const second = solveIvp({ ...noRec, maxSteps: 1000, resumeFrom: first.resume });
      expect(second.status).toBe('success');
      expect(sameBits(second.y, one.y)).toBe(true);
      expect(second.stats).toEqual(one.stats);
    }
    // Some stops fall between a rejected trial and its retry: the pendingRejection flag is exercised.
    expect(stoppedAfterRejection).toBeGreaterThan(0);
  });

  test('negative control: resuming with the PI memory reset is NOT bit-identical (the test can fail)', () => {
    const noRec = { f: lotkaVolterra, tEnd: T, rtol: 1e-6, atol: 1e-6, controller: 'PI' as const, maxSteps: 1000 };
    const one = solveIvp({ ...noRec, t0: 0, y0: Float64Array.of(1, 1) });
    expect(one.status).toBe('success');
    const first = solveIvp({ ...noRec, t0: 0, y0: Float64Array.of(1, 1), onStep: (t) => t < T / 2 });
    expect(first.status).toBe('user-stop');
    const broken = { ...first.resume, controller: { kind: 'PI' as const, errPrev: PI_ERR_FLOOR } };
    expect(first.resume.controller.errPrev).not.toBe(PI_ERR_FLOOR);
    const second = solveIvp({ ...noRec, resumeFrom: broken });
    expect(second.status).toBe('success');
    expect(sameBits(second.y, one.y)).toBe(false);
  });

  test('resume validation: a mismatched y0 or a different controller kind is a usage error', () => {
    const noRec = { f: lotkaVolterra, tEnd: T, rtol: 1e-6, atol: 1e-6, maxSteps: 1000 };
    const first = solveIvp({ ...noRec, t0: 0, y0: Float64Array.of(1, 1), onStep: (t) => t < 1 });
    expect(first.status).toBe('user-stop');
    expect(() => solveIvp({ ...noRec, resumeFrom: first.resume, y0: Float64Array.of(1, 1) })).toThrow(/y0 differs/);
    expect(() => solveIvp({ ...noRec, resumeFrom: first.resume, controller: 'I' })).toThrow(/controller.kind/);
    expect(() => solveIvp({ ...noRec, resumeFrom: first.resume, h0: 0.1 })).toThrow(/h0/);
  });

  test('resume after a terminal event continues from the event state (valid, not bit-identical)', () => {
    const noRec = { f: lotkaVolterra, tEnd: T, rtol: 1e-10, atol: 1e-10, maxSteps: 5000 }; // 473 measured
    const one = solveIvp({ ...noRec, t0: 0, y0: Float64Array.of(1, 1) });
    expect(one.status).toBe('success');
    const first = solveIvp({ ...noRec, t0: 0, y0: Float64Array.of(1, 1), events: [{ ...events[0], terminal: true }] });
    expect(first.status).toBe('terminal-event');
    expect(first.resume.dydt).toBeUndefined();
    const second = solveIvp({ ...noRec, resumeFrom: first.resume });
    expect(second.status).toBe('success');
    expect(Math.abs(second.y[0] - one.y[0])).toBeLessThan(1e-7);
    expect(Math.abs(second.y[1] - one.y[1])).toBeLessThan(1e-7);
  });
});

describe('legs in one solver memory (Dopri5Options.memory)', () => {
  // Three components, so every vector has a padding entry (odd length, see StageMemory).
  const f3 = (t: number, y: Float64Array, dy: Float64Array) => {
    lotkaVolterra(t, y.subarray(0, 2), dy.subarray(0, 2));
    dy[2] = -0.3 * y[2];
  };
  const opts = (rec: Recorded): SolveIvpOptions => ({ f: f3, tEnd: T, rtol: 1e-6, atol: 1e-6, maxSteps: 1000, tEval, onSample: (t, y, index) => rec.samples.push({ t, y: Array.from(y), index }) });

  test('three legs reusing one memory, its padding dirtied between legs, == one go with fresh memory', () => {
    const whole: Recorded = { samples: [] };
    const one = solveIvp({ ...opts(whole), t0: 0, y0: Float64Array.of(1, 1, 2) });
    expect(one.status).toBe('success');
    const memory = Dopri5.memory(3);
    const dirty = () => {
      // what a previous owner might leave in the padding: reset() must clear it
      const all = new Float64Array(memory.memory.buffer, 0, memory.count * memory.nPad);
      for (let j = 0; j < memory.count; j++) all[j * memory.nPad + 3] = NaN;
    };
    const split: Recorded = { samples: [] };
    const first = solveIvp({ ...opts(split), t0: 0, y0: Float64Array.of(1, 1, 2), memory, onStep: (t) => t < T / 3 });
    dirty();
    const second = solveIvp({ ...opts(split), resumeFrom: first.resume, memory, onStep: (t) => t < (2 * T) / 3 });
    dirty();
    const third = solveIvp({ ...opts(split), resumeFrom: second.resume, memory });
    expect([first.status, second.status, third.status]).toEqual(['user-stop', 'user-stop', 'success']);
    expect(sameBits(third.y, one.y)).toBe(true);
    expect(third.stats).toEqual(one.stats);
    expect(split.samples.map((s) => s.y)).toEqual(whole.samples.map((s) => s.y));
  });

  test('a memory of another state length or too few vectors is refused', () => {
    const rec: Recorded = { samples: [] };
    expect(() => solveIvp({ ...opts(rec), t0: 0, y0: Float64Array.of(1, 1, 2), memory: Dopri5.memory(4) })).toThrow(/memory must be a StageMemory of 13 vectors of length 3/);
    expect(() => solveIvp({ ...opts(rec), t0: 0, y0: Float64Array.of(1, 1, 2), memory: new StageMemory(3, 5) })).toThrow(/memory must be a StageMemory/);
  });
});

describe('Dopri5.memory / Dopri5.release (one memory per thread for runs of one size)', () => {
  test('a released memory is handed out again for the same length only, and a solve in it equals one in fresh memory', () => {
    const fresh = Dopri5.memory(5);
    Dopri5.release(fresh);
    expect(Dopri5.memory(7)).not.toBe(fresh);
    const again = Dopri5.memory(5);
    expect(again).toBe(fresh);
    // dirty every vector, padding included, as a finished run leaves it
    new Float64Array(again.memory.buffer, 0, again.count * again.nPad).fill(NaN);
    Dopri5.release(again);
    const f5 = (_t: number, y: Float64Array, dy: Float64Array) => {
      for (let i = 0; i < 5; i++) dy[i] = -(i + 1) * y[i] + Math.sin(y[(i + 1) % 5]);
    };
    const o = { f: f5, t0: 0, y0: Float64Array.of(1, -1, 0.5, 2, 0), tEnd: 3, rtol: 1e-8, atol: 1e-10, maxSteps: 1000 };
    const pooled = solveIvp(o); // takes `again` from the pool (no memory option)
    const own = solveIvp({ ...o, memory: new StageMemory(5, Dopri5.VECTORS) });
    expect(sameBits(pooled.y, own.y)).toBe(true);
    expect(pooled.stats).toEqual(own.stats);
    // exact solution check of the same solver: dy = -y has y(t) = e^-t
    const decay = solveIvp({ f: (_t, y, dy) => void (dy[0] = -y[0]), t0: 0, y0: Float64Array.of(1), tEnd: 2, rtol: 1e-10, atol: 1e-12, maxSteps: 1000 });
    expect(Math.abs(decay.y[0] - Math.exp(-2))).toBeLessThan(1e-9);
  });

  test('memories above 64 MiB are not kept', () => {
    const big = Dopri5.memory(700_000); // 13 x 700,000 x 8 bytes = 73 MB
    Dopri5.release(big);
    // (=== rather than not.toBe: on a mismatch vitest deep-compares the two memories' 9.1 million
    // entries for its hint, which took two minutes)
    expect(Dopri5.memory(700_000) === big).toBe(false);
  });
});

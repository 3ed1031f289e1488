/**
 * Run events (src/run/run.ts: all-correct, misclassified, SIGN_EVENTS, PEAK_EVENTS) against
 * independent searches:
 * - GD: a hand-written loop W <- W - lr grad (LossGrad) and the rule of GdEventTracker applied to
 *   its iterates (first iterate with the new sign; a peak at the iterate whose mean I2 / I3 loss
 *   strictly exceeds both neighbours), with G and the losses from plain loops; the all-correct
 *   row equals the Observer's row at that iterate and the plain-loop columns;
 * - flow: a brute-force search over a dense grid of recorded states, each bracket refined by
 *   bisection with separate tight integrations;
 * - checkpoint / resume: legs and a resumed run give the same events bit for bit.
 */
import { describe, expect, it } from 'vitest';
import { invariantDrift } from '../../src/analysis/trajectory.js';
import { Dataset } from '../../src/data/dataset.js';
import { generateDataset } from '../../src/data/generate.js';
import { cloneParams, initParams } from '../../src/model/init.js';
import { Params } from '../../src/model/params.js';
import { Observer, typeLossRates } from '../../src/observe/derive.js';
import { solveIvp } from '../../src/ode/solveIvp.js';
import { FullDynamics } from '../../src/run/fullDynamics.js';
import { probeFor } from '../../src/run/probes.js';
import { RunCheckpoint, RunEvent, RunPlan, runDynamics } from '../../src/run/run.js';
import { axpy, compareRows, dGByDifference, fullTolerances, gdIterates, maxAbs, measure, norm, plainG, plainRow, plainSample, rowObject } from './helpers.js';

interface Config {
  s0: number;
  seed: number;
  /** the events this configuration shows (found by the project's run; checked against the oracle below) */
  covers: string[];
}

/**
 * Three small problems (n = 12, L = 4, d = 40, m = 16, m1 = 8, s1 = 0.35) whose runs together show
 * every event name: the peaks of loss_I2 and loss_I3 and G3 < 0 (A), G3 < 0 then G1 + G3 < 0 (B),
 * G2 + G3 < 0 (C), and all-correct in each.
 */
const CONFIGS: Config[] = [
  { s0: 0.05, seed: 4, covers: ['peak-loss_I2', 'peak-loss_I3', 'G3-negative', 'all-correct'] },
  { s0: 0.1, seed: 6, covers: ['G3-negative', 'G1+G3-negative', 'all-correct'] },
  { s0: 0.1, seed: 2, covers: ['G2+G3-negative', 'all-correct'] },
];

function problem(c: Config) {
  const data = generateDataset({ n: 12, L: 4, d: 40, seed: c.seed, fillers: 'distinct' });
  const p0 = initParams({ m: 16, m1: 8, d: 40, s0: c.s0, s1: 0.35, seed: c.seed });
  return { data, p0, dyn: new FullDynamics(data, p0) };
}

const LR = 0.01;
const STEPS = 300;

function gdPlan(over: Partial<RunPlan> = {}): RunPlan {
  return { method: 'gd', tEnd: 1, rtol: 1, atol: 1, maxSteps: 1, controller: 'I', lr: LR, steps: STEPS, samples: 25, ...over };
}

/** Plain-loop signals of a state: min margin, G(mu_1..3), mean loss of I2 and of I3. */
function signals(p: Params, data: Dataset) {
  const u = plainG(p);
  let margin = Infinity;
  const lossSum = [0, 0, 0, 0];
  const count = [0, 0, 0, 0];
  for (let i = 0; i < data.n; i++) {
    const mg = data.y[i] * plainSample(p, u, data.tokens, i, data.L).F;
    margin = Math.min(margin, mg);
    lossSum[data.type[i] - 1] += Math.log(1 + Math.exp(-mg));
    count[data.type[i] - 1]++;
  }
  return { margin, G: [u[0], u[1], u[2]], lossI2: lossSum[1] / count[1], lossI3: lossSum[2] / count[2] };
}

/**
 * The hand-written GD loop: iterates p_0 .. p_steps by p <- p - lr dL/dp (LossGrad), each
 * iterate's plain-loop signals, and the events by the rule as written in src/run/run.ts
 * (runDynamics' detect and GdEventTracker): at iterate k >= 1, all-correct if margin_{k-1} <= 0 <
 * margin_k, misclassified if margin_{k-1} > 0 >= margin_k, each SIGN_EVENT if v_{k-1} >= 0 > v_k;
 * at k >= 2 a peak at k - 1 if l_{k-1} > l_{k-2} and l_{k-1} > l_k, once per loss and only while
 * no iterate up to k - 1 has every sample correct (Phase 1). Order: by step (stable).
 */
function handGd(data: Dataset, p0: Params, lr: number, steps: number) {
  const iterates = gdIterates(data, p0, lr, steps);
  const sig = iterates.map((p) => signals(p, data));
  const events: { name: string; step: number }[] = [];
  const signs: [string, (s: (typeof sig)[number]) => number][] = [
    ['G3-negative', (s) => s.G[2]],
    ['G1+G3-negative', (s) => s.G[0] + s.G[2]],
    ['G2+G3-negative', (s) => s.G[1] + s.G[2]],
  ];
  const peaks: [string, (s: (typeof sig)[number]) => number][] = [
    ['peak-loss_I2', (s) => s.lossI2],
    ['peak-loss_I3', (s) => s.lossI3],
  ];
  const found = new Set<string>();
  const phase1 = (j: number) => sig.slice(0, j + 1).every((x) => x.margin <= 0);
  for (let k = 1; k <= steps; k++) {
    if (sig[k - 1].margin <= 0 && sig[k].margin > 0) events.push({ name: 'all-correct', step: k });
    if (sig[k - 1].margin > 0 && sig[k].margin <= 0) events.push({ name: 'misclassified', step: k });
    for (const [name, v] of signs) if (v(sig[k - 1]) >= 0 && v(sig[k]) < 0) events.push({ name, step: k });
    if (k >= 2 && phase1(k - 1)) {
      for (const [name, v] of peaks) {
        if (!found.has(name) && v(sig[k - 1]) > v(sig[k - 2]) && v(sig[k - 1]) > v(sig[k])) {
          events.push({ name, step: k - 1 });
          found.add(name);
        }
      }
    }
  }
  events.sort((a, b) => a.step - b.step);
  return { iterates, sig, events };
}

const brief = (events: RunEvent[]) => events.map((e) => ({ name: e.name, step: e.step, t: e.t }));

describe('GD events at the iterates a hand-written loop finds', () => {
  for (const c of CONFIGS) {
    it(`s0 = ${c.s0}, seed ${c.seed}: ${c.covers.join(', ')}`, () => {
      const { data, p0, dyn } = problem(c);
      const run = runDynamics(dyn, dyn.pack(p0), gdPlan());
      expect(run.status).toBe('success');
      const hand = handGd(data, p0, LR, STEPS);
      // The loop's last iterate is the run's state bit for bit (so the iterates are the run's).
      expect(Array.from(run.y)).toEqual(Array.from(dyn.pack(hand.iterates[STEPS])));
      const expected = hand.events.map((e) => ({ name: e.name, step: e.step, t: e.step * LR }));
      expect(brief(run.events)).toEqual(expected);
      expect(run.events.map((e) => e.name)).toEqual(expect.arrayContaining(c.covers));
      // Negative control: the same events one iterate late (off by one) are told apart.
      expect(brief(run.events)).not.toEqual(expected.map((e) => ({ ...e, step: e.step + 1, t: (e.step + 1) * LR })));

      // The all-correct row: the Observer's row at that iterate (bit for bit), and the plain-loop
      // columns at that iterate (within the tolerances of test/observe/full.test.ts).
      const ev = run.events.find((e) => e.name === 'all-correct')!;
      const k = ev.step!;
      const yk = dyn.pack(hand.iterates[k]);
      const y0 = dyn.pack(p0);
      const drift = invariantDrift(dyn.invariants(y0), dyn.invariants(yk));
      const observer = new Observer(probeFor(dyn), y0, true);
      expect(ev.row).toEqual(observer.row(k * LR, k, yk, drift));
      const got = rowObject(observer.columns, ev.row!);
      const dG = dGByDifference(dyn, yk);
      const { row: ref, scale } = plainRow({ p: hand.iterates[k], p0, data, t: k * LR, step: k, drift, dG });
      expect(compareRows(got, ref, fullTolerances(scale))).toEqual([]);
      // ... and it is the first iterate with every sample correct.
      expect(hand.sig[k].margin).toBeGreaterThan(0);
      expect(hand.sig[k - 1].margin).toBeLessThanOrEqual(0);
    });
  }

  it('large steps (lr 0.3): repeated events, misclassified, and no peak after all-correct: the rule as written, iterate by iterate', () => {
    // As for flows, GD reports each peak once and only in Phase 1 (before any iterate has every
    // sample correct); the oscillating losses after that are not peaks of Thm 3.1's rise and fall.
    const c = { s0: 0.1, seed: 3, covers: [] };
    const { data, p0, dyn } = problem(c);
    const run = runDynamics(dyn, dyn.pack(p0), gdPlan({ lr: 0.3, steps: 100 }));
    expect(run.status).toBe('success');
    const hand = handGd(data, p0, 0.3, 100);
    expect(brief(run.events)).toEqual(hand.events.map((e) => ({ name: e.name, step: e.step, t: e.step * 0.3 })));
    const names = run.events.map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining(['misclassified', 'G1+G3-negative', 'G2+G3-negative']));
    expect(names.filter((n) => n === 'all-correct').length).toBeGreaterThan(1);
    const firstCorrect = run.events.find((e) => e.name === 'all-correct')!.step!;
    expect(run.events.some((e) => e.name.startsWith('peak-') && e.step! >= firstCorrect)).toBe(false);
    // negative control: the losses do have strict local maxima after all-correct, which the rule skips
    const l2 = hand.sig.map((x) => x.lossI2);
    expect(l2.some((v, k) => k > firstCorrect && k + 1 < l2.length && v > l2[k - 1] && v > l2[k + 1])).toBe(true);
    // events come in time order
    const steps = run.events.map((e) => e.step!);
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
  });

  it('negative control: a perturbed start gives other events', () => {
    const { data, p0, dyn } = problem(CONFIGS[0]);
    const q = cloneParams(p0);
    for (let i = 0; i < q.WV.length; i++) q.WV[i] *= 1.5;
    const a = runDynamics(dyn, dyn.pack(p0), gdPlan());
    const b = runDynamics(dyn, dyn.pack(q), gdPlan());
    expect([a.status, b.status]).toEqual(['success', 'success']);
    expect(a.events.length).toBeGreaterThan(0);
    expect(brief(b.events)).not.toEqual(brief(a.events));
    expect(brief(b.events)).toEqual(handGd(data, q, LR, STEPS).events.map((e) => ({ ...e, t: e.step * LR })));
  });
});

// ---------------------------------------------------------------------------------------------
// Gradient flow: brute-force search
// ---------------------------------------------------------------------------------------------

const T_END = 1.5;
const RTOL = 1e-10;
/** step budgets: 3-10x the trial steps measured (77 for the runs at RTOL, 188 for the dense grid, 5 for a bisection leg) */
const MAX_STEPS = 500;
const MAX_STEPS_DENSE = 1000;
const MAX_STEPS_ADVANCE = 100;

/** The state at time tau after y (the field is autonomous), by a tight separate integration. */
function advance(dyn: FullDynamics, y: Float64Array, tau: number): Float64Array {
  if (tau === 0) return y.slice();
  const r = solveIvp({ f: (t, z, dz) => dyn.field(t, z, dz), t0: 0, y0: y, tEnd: tau, rtol: 1e-13, atol: 1e-15, maxSteps: MAX_STEPS_ADVANCE });
  if (r.status !== 'success') throw new Error(r.message);
  return r.y;
}

/**
 * Event functions on a state, by plain loops: the margin, the G sign functions, and the rates of
 * the I2 / I3 mean losses as central differences of the plain loss along the field (h |f| = 1e-6
 * |y|; accurate to about 1e-10 of the rate, see rates.test.ts).
 */
function eventFunctions(dyn: FullDynamics, data: Dataset): Record<string, (y: Float64Array) => number> {
  const s = (y: Float64Array) => signals(dyn.toParams(y), data);
  const rate = (which: 'lossI2' | 'lossI3') => (y: Float64Array) => {
    const f = new Float64Array(dyn.size);
    dyn.field(0, y, f);
    const h = (1e-6 * norm(y)) / norm(f);
    return (s(axpy(y, h, f))[which] - s(axpy(y, -h, f))[which]) / (2 * h);
  };
  return {
    margin: (y) => s(y).margin,
    'G3-negative': (y) => s(y).G[2],
    'G1+G3-negative': (y) => s(y).G[0] + s(y).G[2],
    'G2+G3-negative': (y) => s(y).G[1] + s(y).G[2],
    'peak-loss_I2': rate('lossI2'),
    'peak-loss_I3': rate('lossI3'),
  };
}

/** Bisection for the crossing of g between recorded states (ta, ya) and tb: 45 halvings. */
function bisect(dyn: FullDynamics, g: (y: Float64Array) => number, ta: number, ya: Float64Array, tb: number): number {
  let lo = 0;
  let hi = tb - ta;
  const sLo = Math.sign(g(ya));
  for (let it = 0; it < 45; it++) {
    const mid = 0.5 * (lo + hi);
    if (Math.sign(g(advance(dyn, ya, mid))) === sLo) lo = mid;
    else hi = mid;
  }
  return ta + 0.5 * (lo + hi);
}

/**
 * Event times by brute force: every crossing (in the event's direction) between consecutive
 * states of a dense grid (400 recorded rows at rtol 1e-12), refined by bisection. Peaks: only the
 * first, and only before all-correct (FlowSignals switches a peak off once found or once a node
 * has every sample correct; these runs have no peak near that boundary).
 */
function bruteForce(dyn: FullDynamics, data: Dataset, y0: Float64Array) {
  const ts: number[] = [];
  const ys: Float64Array[] = [];
  const dense = runDynamics(dyn, y0, { method: 'dopri5', tEnd: T_END, rtol: 1e-12, atol: 1e-14, maxSteps: MAX_STEPS_DENSE, controller: 'I', lr: 1, steps: 1, samples: 400 }, {
    onRow: (_i, t, _s, y) => {
      ts.push(t);
      ys.push(y.slice());
    },
  });
  expect(dense.status).toBe('success');
  expect(ys.length).toBe(400); // onRow saw every recorded row
  const fns = eventFunctions(dyn, data);
  const found: { name: string; t: number }[] = [];
  const values = Object.fromEntries(Object.entries(fns).map(([k, g]) => [k, ys.map(g)]));
  const crossings = (name: string, dir: 1 | -1) => {
    const v = values[name];
    const out: number[] = [];
    for (let i = 1; i < v.length; i++) if (dir * v[i - 1] <= 0 && dir * v[i] > 0 && !(v[i - 1] === 0 && dir < 0)) out.push(i);
    return out;
  };
  for (const i of crossings('margin', 1)) found.push({ name: 'all-correct', t: bisect(dyn, fns.margin, ts[i - 1], ys[i - 1], ts[i]) });
  for (const i of crossings('margin', -1)) found.push({ name: 'misclassified', t: bisect(dyn, fns.margin, ts[i - 1], ys[i - 1], ts[i]) });
  for (const name of ['G3-negative', 'G1+G3-negative', 'G2+G3-negative']) {
    for (const i of crossings(name, -1)) found.push({ name, t: bisect(dyn, fns[name], ts[i - 1], ys[i - 1], ts[i]) });
  }
  const allCorrect = found.find((e) => e.name === 'all-correct')?.t ?? Infinity;
  for (const name of ['peak-loss_I2', 'peak-loss_I3']) {
    const first = crossings(name, -1)[0];
    if (first !== undefined && values.margin[0] <= 0) {
      const t = bisect(dyn, fns[name], ts[first - 1], ys[first - 1], ts[first]);
      if (t < allCorrect) found.push({ name, t });
    }
  }
  return { found, ts, ys, values };
}

/**
 * Agreement in t: the run locates each root on its dense output (Brent's method on the degree-4
 * interpolant of a solve at rtol 1e-10), so its error is that of the interpolated state, about
 * rtol relative, divided by the function's slope: ~1e-10 t. The brute force is tighter (rtol 1e-13
 * integrations, 45 halvings of a bracket of < 0.04 t). 1e-6 relative is a margin of > 500 over the
 * measured worst (1.6e-9).
 */
const T_TOL = 1e-6;

describe('flow events agree with a brute-force search on a dense grid', () => {
  for (const c of CONFIGS) {
    it(`s0 = ${c.s0}, seed ${c.seed}`, () => {
      const { data, p0, dyn } = problem(c);
      const y0 = dyn.pack(p0);
      const run = runDynamics(dyn, y0, { method: 'dopri5', tEnd: T_END, rtol: RTOL, atol: 1e-12, maxSteps: MAX_STEPS, controller: 'I', lr: 1, steps: 1, samples: 20 });
      expect(run.status).toBe('success');
      const bf = bruteForce(dyn, data, y0);
      const sortByT = (x: { name: string; t: number }[]) => [...x].sort((a, b) => a.t - b.t);
      const got = sortByT(run.events.map((e) => ({ name: e.name, t: e.t })));
      const want = sortByT(bf.found);
      expect(got.map((e) => e.name)).toEqual(want.map((e) => e.name));
      expect(got.map((e) => e.name)).toEqual(expect.arrayContaining(c.covers));
      expect(got.length).toBeGreaterThanOrEqual(c.covers.length); // the comparisons below run
      let worst = 0;
      got.forEach((e, i) => {
        const rel = Math.abs(e.t - want[i].t) / want[i].t;
        worst = Math.max(worst, rel);
        expect(rel, e.name).toBeLessThan(T_TOL);
      });
      measure(`flow events s0=${c.s0} seed=${c.seed}: worst relative t error`, worst);
      // Negative control: the run from a start 1e-5 away (W scaled by 1 + 1e-5) is told apart
      // from this brute force by at least one event time.
      const q = cloneParams(p0);
      for (let i = 0; i < q.W.length; i++) q.W[i] *= 1 + 1e-5;
      const nearRun = runDynamics(dyn, dyn.pack(q), { method: 'dopri5', tEnd: T_END, rtol: RTOL, atol: 1e-12, maxSteps: MAX_STEPS, controller: 'I', lr: 1, steps: 1, samples: 20 });
      expect(nearRun.status).toBe('success');
      const near = sortByT(nearRun.events.map((e) => ({ name: e.name, t: e.t })));
      expect(near.map((e) => e.name)).toEqual(want.map((e) => e.name));
      expect(Math.max(...near.map((e, i) => Math.abs(e.t - want[i].t) / want[i].t))).toBeGreaterThan(T_TOL);

      // Peaks: d loss_It / dt vanishes at the event time (project's typeLossRates and the plain
      // difference quotient), and loss_It there is at least its value 0.1% of t earlier and later.
      const probe = probeFor(dyn);
      const fns = eventFunctions(dyn, data);
      const peaks = run.events.filter((x) => x.name.startsWith('peak-'));
      // the peak checks below run for every peak this configuration covers
      expect(peaks.length).toBe(c.covers.filter((n) => n.startsWith('peak-')).length);
      for (const e of peaks) {
        const type = e.name === 'peak-loss_I2' ? 2 : 3;
        const i = bf.ts.findIndex((t) => t > e.t) - 1;
        const at = (t: number) => advance(dyn, bf.ys[i], t - bf.ts[i]);
        const ye = at(e.t);
        const f = new Float64Array(dyn.size);
        dyn.field(0, ye, f);
        const p = probe.probe(ye);
        const rates = typeLossRates(p, probe.outputRates(ye, f), new Float64Array(4));
        const rateScale = maxAbs(bf.values[e.name]);
        measure(`${e.name} rate at event / max rate`, [rates[type - 1] / rateScale, fns[e.name](ye) / rateScale]);
        expect(Math.abs(rates[type - 1])).toBeLessThan(1e-6 * rateScale);
        expect(Math.abs(fns[e.name](ye))).toBeLessThan(1e-6 * rateScale);
        const loss = (y: Float64Array) => signals(dyn.toParams(y), data)[type === 2 ? 'lossI2' : 'lossI3'];
        const le = loss(ye);
        expect(le).toBeGreaterThan(loss(at(e.t * 0.999)));
        expect(le).toBeGreaterThan(loss(at(e.t * 1.001)));
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Checkpoint / resume
// ---------------------------------------------------------------------------------------------

describe('events survive checkpoints and resume bit for bit', () => {
  for (const method of ['gd', 'dopri5'] as const) {
    it(`${method}: legs at every step, and a resume from a checkpoint between events, give the same events`, () => {
      const { p0, dyn } = problem(CONFIGS[0]);
      const plan: RunPlan = method === 'gd' ? gdPlan({ steps: 120 }) : { method, tEnd: T_END, rtol: RTOL, atol: 1e-12, maxSteps: MAX_STEPS, controller: 'I', lr: 1, steps: 1, samples: 20 };
      const whole = runDynamics(dyn, dyn.pack(p0), plan);
      expect(whole.status).toBe('success');
      expect(whole.events.map((e) => e.name)).toEqual(expect.arrayContaining(CONFIGS[0].covers));
      const checkpoints: RunCheckpoint[] = [];
      const legs = runDynamics(dyn, dyn.pack(p0), plan, { checkpointSeconds: 0, onCheckpoint: (c) => checkpoints.push(c) });
      expect(legs.status).toBe('success');
      expect(checkpoints.length).toBeGreaterThan(10);
      expect(legs.events).toEqual(whole.events);
      // Resume from checkpoints with some but not all events behind them, and from the middle one.
      const splitting = checkpoints.filter((c) => c.events.length > 0 && c.events.length < whole.events.length);
      expect(splitting.length).toBeGreaterThan(0);
      for (const from of [splitting[0], splitting.at(-1)!, checkpoints[Math.floor(checkpoints.length / 2)]]) {
        const resumed = runDynamics(dyn, dyn.pack(p0), plan, {}, from);
        expect(resumed.status).toBe('success');
        expect(resumed.events).toEqual(whole.events);
        expect(resumed.trajectory.toCsv()).toBe(whole.trajectory.toCsv());
      }
      // The all-correct row is carried too (exact numbers).
      expect(whole.events.find((e) => e.name === 'all-correct')?.row?.length).toBe(whole.trajectory.columns.length);
      // Negative control: a resume from another run's checkpoint (perturbed start) differs.
      const q = cloneParams(p0);
      for (let i = 0; i < q.W.length; i++) q.W[i] *= 1.2;
      const other: RunCheckpoint[] = [];
      runDynamics(dyn, dyn.pack(q), plan, { checkpointSeconds: 0, onCheckpoint: (c) => other.push(c) });
      const wrong = runDynamics(dyn, dyn.pack(p0), plan, {}, other[Math.floor(other.length / 2)]);
      expect(wrong.status).toBe('success');
      expect(wrong.events).not.toEqual(whole.events);
    });
  }
});

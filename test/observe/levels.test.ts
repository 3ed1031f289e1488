/**
 * The three levels' columns against each other at matching states (docs/observables.md: a column
 * means the same at every level):
 * - Level G at liftParams(p) vs Level F at p, every column including the test set's, to round-off;
 * - Level T from the mean state vs Level G from the mean state, and Level F from the orthogonal
 *   start vs Level T, along dopri5 trajectories at rtol 1e-10, every column within the integrator
 *   tolerance (Level T's maxima over key kinds equal Level G's maxima over samples by symmetry).
 * Negative controls: a column scaled by 1.001, and Level T at another m.
 */
import { describe, expect, it } from 'vitest';
import { resolveSettings } from '../../src/config/resolve.js';
import { Dataset } from '../../src/data/dataset.js';
import { fillerSlots, FillerMode, generateDataset, generateTestSet } from '../../src/data/generate.js';
import { GramModel } from '../../src/gram/flow.js';
import { GramDynamics } from '../../src/run/gramDynamics.js';
import { liftParams } from '../../src/gram/lift.js';
import { GramTestSet } from '../../src/gram/testSet.js';
import { initParams } from '../../src/model/init.js';
import { Observer } from '../../src/observe/derive.js';
import { FullDynamics } from '../../src/run/fullDynamics.js';
import { buildStart } from '../../src/run/levels.js';
import { probeFor } from '../../src/run/probes.js';
import { RunOutcome, runDynamics } from '../../src/run/run.js';
import { Trajectory } from '../../src/analysis/trajectory.js';
import { TypeDynamics } from '../../src/run/typeDynamics.js';
import { compareRows, dGByDifference, fullTolerances, measure, plainRow, rowObject, scaled, shifted, trajectoryColumnErrors, worstScaled } from './helpers.js';

describe('Level G at the lifted weights vs Level F at the weights', () => {
  for (const fillers of ['distinct', 'repeat'] as FillerMode[]) {
    it(`${fillers} fillers, with a test set: every column equal to round-off at t = 0 and at a second state`, () => {
      const d = fillers === 'distinct' ? 40 : 10;
      const L = fillers === 'distinct' ? 4 : 5;
      const data = generateDataset({ n: 12, L, d, seed: 5, fillers });
      const test = generateTestSet({ n: 60, L, d, seed: 5 });
      const p0 = initParams({ m: 8, m1: 6, d, s0: 0.5, s1: 0.5, seed: 21 });
      const p1 = shifted(p0, initParams({ m: 8, m1: 6, d, s0: 0.5, s1: 0.5, seed: 22 }), 0.4);
      const full = new FullDynamics(data, p0);
      const fObs = new Observer(probeFor(full, { data: test }), full.pack(p0), false);
      const gram = new GramModel(data, 8, 6, { extraTokens: test.tokens });
      const gObs = new Observer(probeFor(new GramDynamics(gram), { data: test, gram: new GramTestSet(gram, test) }), liftParams(p0, data, test.tokens), false);
      const drift: [number, number] = [1e-9, 2e-9];
      let controls = 0;
      for (const [label, p] of [['t = 0', p0], ['moved', p1]] as const) {
        const f = rowObject(fObs.columns, fObs.row(2, null, full.pack(p), drift));
        const g = rowObject(gObs.columns, gObs.row(2, null, liftParams(p, data, test.tokens), drift));
        // Same tolerances as Level F vs plain loops (full.test.ts; helpers.ts fullTolerances): both
        // levels evaluate the same expressions from different intermediate quantities, so they
        // agree to a few ulps of each column's terms (the plain oracle's condition scale).
        const y = full.pack(p);
        const { scale } = plainRow({ p, p0, data, t: 2, drift, dG: dGByDifference(full, y), test });
        const tol = fullTolerances(scale);
        expect(compareRows(g, f, tol), label).toEqual([]);
        measure(`G vs F ${fillers} ${label} worst |diff|/scale`, worstScaled(g, f, scale));
        if (label === 'moved') {
          for (const col of Object.keys(g)) {
            if (f[col] === 0) continue;
            expect(compareRows(scaled(g, col, 1.001), f, tol).map((b) => b.column), col).toEqual([col]);
            controls++;
          }
          // Every column is live at the moved state (none is 0, so the control above covered all).
          expect(Object.entries(f).filter(([, v]) => v === 0)).toEqual([]);
        }
      }
      // the negative control ran for every column but t (which is 2 here, so it ran for all)
      expect(controls).toBe(fObs.columns.length);
    });
  }
});

/** A theory-conforming set: n = 12, L = 4, every filler distinct (d = 3 + slots + 2). */
const N = 12;
const L = 4;
const D = 3 + fillerSlots(N, L) + 2;
const DATA: Dataset = generateDataset({ n: N, L, d: D, seed: 0, fillers: 'distinct' });
const RTOL = 1e-10;

describe('dG columns against each level\'s own field', () => {
  it('Level G: dG1..3 equal the u-part of the generated Level G field at mu_1..3 (and Level F\'s dG at the weights); x1.001 is caught', () => {
    for (const fillers of ['distinct', 'repeat'] as FillerMode[]) {
      const d = fillers === 'distinct' ? 40 : 10;
      const data = generateDataset({ n: 12, L: 4, d, seed: 9, fillers });
      const p = initParams({ m: 8, m1: 6, d, s0: 0.5, s1: 0.5, seed: 31 });
      const gram = new GramModel(data, 8, 6);
      const y = liftParams(p, data);
      const obs = new Observer(probeFor(new GramDynamics(gram)), y, false);
      const row = rowObject(obs.columns, obs.row(0, null, y, [0, 0]));
      const dydt = new Float64Array(gram.size);
      gram.field(0, y, dydt);
      const field = [0, 1, 2].map((t) => dydt[gram.layout.u + gram.index.localOf[t]]);
      const scale = Math.max(...field.map(Math.abs));
      // Same quantity from the generated field and from the probe's own gu: round-off apart.
      const err = (v: number[]) => Math.max(...[0, 1, 2].map((i) => Math.abs(v[i] - field[i]))) / scale;
      const got = [row.dG1, row.dG2, row.dG3];
      measure(`Level G dG vs field (${fillers})`, err(got));
      expect(err(got)).toBeLessThan(1e-14); // measured 7e-17
      const full = new FullDynamics(data, p);
      const fObs = new Observer(probeFor(full), full.pack(p), false);
      const f = rowObject(fObs.columns, fObs.row(0, null, full.pack(p), [0, 0]));
      expect(err([f.dG1, f.dG2, f.dG3])).toBeLessThan(1e-12);
      for (let i = 0; i < 3; i++) expect(err(got.map((v, j) => (j === i ? v * 1.001 : v)))).toBeGreaterThan(1e-14);
    }
  });

  it('Level T: dG1..3 equal the u-part of the Level T field at mu_1..3 at a moved state', async () => {
    const s = resolveSettings('theory', { n: N, L, d: D, fillers: 'distinct', m: 16, m1: 8, level: 'type', init: 'mean', s0: 0.5, s1: 0.5 });
    const start = await buildStart(s, DATA);
    const moved = runDynamics(start.dynamics, start.y0, { method: 'dopri5', tEnd: 3, rtol: 1e-10, atol: 1e-12, maxSteps: 1000, controller: 'I', lr: 1, steps: 1, samples: 2 }); // 135 steps measured
    expect(moved.status).toBe('success');
    const obs = new Observer(start.probe, start.y0, false);
    const row = rowObject(obs.columns, obs.row(0, null, moved.y, [0, 0]));
    const dydt = new Float64Array(start.dynamics.size);
    start.dynamics.field(0, moved.y, dydt);
    const lay = (start.dynamics as TypeDynamics).system.layout;
    const field = [0, 1, 2].map((i) => dydt[lay.u + i]);
    const scale = Math.max(...field.map(Math.abs));
    const got = [row.dG1, row.dG2, row.dG3];
    const errT = Math.max(...got.map((v, i) => Math.abs(v - field[i]))) / scale;
    measure('Level T dG vs field', errT);
    expect(errT).toBeLessThan(1e-14); // measured exactly 0 (the same u-part)
    expect(Math.abs(got[0] * 1.001 - field[0]) / scale).toBeGreaterThan(1e-14);
  });
});


async function runAt(level: 'full' | 'gram' | 'type', init: 'orthogonal' | 'mean', m = 48): Promise<RunOutcome> {
  const s = resolveSettings('theory', { n: N, L, d: D, fillers: 'distinct', m, m1: 8, level, init, method: 'dopri5', tEnd: 30, rtol: RTOL, atol: 1e-12, samples: 16 });
  const start = await buildStart(s, DATA);
  // maxSteps: the preset's 1,000,000 capped at 1000 (at most 171 trial steps measured)
  return runDynamics(start.dynamics, start.y0, { method: 'dopri5', tEnd: s.tEnd, rtol: s.rtol, atol: s.atol, maxSteps: 1000, controller: s.controller, lr: s.lr, steps: s.steps, samples: s.samples });
}

/**
 * Columns compared along trajectories: all but the two drift columns, which measure each level's
 * OWN integration error (each is checked against 100 rtol instead) and balance44, which is 0 by
 * the I2 <-> I3 symmetry of these starts (checked absolutely instead: a relative comparison of
 * round-off values means nothing, and scaling 0 by 1.001 could not fail).
 */
function comparable(t: Trajectory): string[] {
  return t.columns.filter((c) => !['drift_QK', 'drift_VW', 'balance44'].includes(c));
}

/**
 * Integrator tolerance: each run keeps its local error below rtol = 1e-10 per step; the global
 * error over these short runs stays within a few hundred times that. 1e-7 of each column's own
 * scale (max over the run) leaves a margin of 16 over the measured worst, R45 (6e-9 F vs T, 4e-9
 * T vs G: its denominator sumg_I1 - sumg_I2 amplifies the outputs' errors).
 */
const TRAJ_TOL = 1e-7;

function expectAgreement(a: RunOutcome, b: RunOutcome, label: string): Record<string, number> {
  expect(a.status).toBe('success');
  expect(b.status).toBe('success');
  expect(a.trajectory.columns).toEqual(b.trajectory.columns);
  expect(a.trajectory.column('t')).toEqual(b.trajectory.column('t'));
  const errs = trajectoryColumnErrors(a.trajectory, b.trajectory, comparable(b.trajectory));
  const bad = Object.entries(errs).filter(([, e]) => !(e <= TRAJ_TOL));
  expect(bad, label).toEqual([]);
  const worst = Object.entries(errs).sort((x, y) => y[1] - x[1])[0];
  measure(`${label} worst column error`, worst);
  for (const r of [a, b]) {
    for (const c of ['drift_QK', 'drift_VW']) expect(Math.max(...r.trajectory.column(c))).toBeLessThan(100 * RTOL);
  }
  return errs;
}

/** b's trajectory with one column multiplied by `factor` at every row. */
function scaledTrajectory(t: Trajectory, name: string, factor: number): Trajectory {
  const out = new Trajectory(t.columns);
  const j = t.columns.indexOf(name);
  for (const r of t.rows) out.add(r.map((v, i) => (i === j ? v * factor : v)));
  return out;
}

describe('Level T vs Level G vs Level F along the flow (theory-conforming data, mean / orthogonal starts)', () => {
  it('every column of Level T equals Level G from the mean state, and Level F from the orthogonal start, within 1e-7; negative controls fail', async () => {
    const t = await runAt('type', 'mean');
    const g = await runAt('gram', 'mean');
    const f = await runAt('full', 'orthogonal');
    expectAgreement(t, g, 'T vs G');
    expectAgreement(f, t, 'F vs T');
    // The comparison is not between constants: the run moved every compared column.
    for (const c of comparable(t.trajectory)) {
      if (c === 't') continue;
      const col = t.trajectory.column(c);
      expect(Math.max(...col) - Math.min(...col), c).toBeGreaterThan(0);
    }
    // Negative control 1: any single column of Level T off by 0.1% (at every row) fails.
    for (const c of comparable(t.trajectory)) {
      const errs = trajectoryColumnErrors(scaledTrajectory(t.trajectory, c, 1.001), g.trajectory, [c]);
      expect(errs[c], c).toBeGreaterThan(TRAJ_TOL);
    }
    // Negative control 2: Level T at m = 50 instead of 48 is told apart from Level G at m = 48.
    const t50 = await runAt('type', 'mean', 50);
    expect(t50.status).toBe('success');
    const errs = trajectoryColumnErrors(t50.trajectory, g.trajectory, comparable(g.trajectory));
    const failing = Object.entries(errs).filter(([, e]) => e > TRAJ_TOL).map(([c]) => c);
    expect(failing.sort()).toEqual(comparable(g.trajectory).filter((c) => c !== 't').sort());
    // balance44: exactly 0 at Level T (I2 and I3 are one orbit apart by symmetry), round-off elsewhere.
    expect(Math.max(...t.trajectory.column('balance44'))).toBe(0);
    for (const r of [g, f]) expect(Math.max(...r.trajectory.column('balance44'))).toBeLessThan(1e-12);
    measure('balance44 max T, G, F', [t, g, f].map((r) => Math.max(...r.trajectory.column('balance44'))));
    measure('drift max T, G, F', [t, g, f].map((r) => Math.max(...r.trajectory.column('drift_QK'), ...r.trajectory.column('drift_VW'))));
  });
});

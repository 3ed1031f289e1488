/**
 * Probe.outputRates (dF/dt per sample group, the chain rule through Eq. 1's softmax) and
 * typeLossRates (d loss_It / dt) against central differences along each level's own flow field:
 * (F(y + h f) - F(y - h f)) / 2h and likewise for the per-type losses loss_I*, at Levels F, G and
 * T. The differenced F is NOT the probe's: Level F uses the autodiff oracle's forward pass
 * (src/model/oracle.ts, literal Eq. 1), Levels G and T the plain dense Level G forward of
 * test/reduced/denseGram.ts (Level T on its state expanded to the k x k Gram blocks), and the
 * per-type losses are means of log(1 + e^(-y F)) written here. Negative controls: the rates from a field scaled by 1.01, or with its score part
 * (dS/dt) dropped, disagree with the differences.
 */
import { describe, expect, it } from 'vitest';
import { resolveSettings } from '../../src/config/resolve.js';
import { fillerSlots, generateDataset } from '../../src/data/generate.js';
import { GramModel } from '../../src/gram/flow.js';
import { GramDynamics } from '../../src/run/gramDynamics.js';
import { liftParams } from '../../src/gram/lift.js';
import { initParams } from '../../src/model/init.js';
import { Observer, typeLossRates } from '../../src/observe/derive.js';
import { Probe } from '../../src/observe/primitives.js';
import { Dynamics } from '../../src/run/dynamics.js';
import { FullDynamics } from '../../src/run/fullDynamics.js';
import { buildStart } from '../../src/run/levels.js';
import { probeFor } from '../../src/run/probes.js';
import { runDynamics } from '../../src/run/run.js';
import { TypeDynamics } from '../../src/run/typeDynamics.js';
import { axpy, maxAbs, measure, norm } from './helpers.js';
import { Dataset } from '../../src/data/dataset.js';
import { oracleLossAndGrad } from '../../src/model/oracle.js';
import { denseGram } from '../reduced/denseGram.js';

/**
 * Step of the central differences: h |f| = 1e-6 |y|. The truncation error is O(h^2): the
 * logistic loss of Level F's large outputs is the most curved, its error measured at h |f| / |y|
 * = 1e-3, 1e-4, 1e-5 falls 100-fold per step (2.5e-4, 2.5e-6, 2.5e-8 of the largest rate), so
 * about 2.5e-10 here; the rounding error eps |F| / (h |f|) is about 1e-11. Tolerance 1e-7 of the
 * largest rate: a margin of > 100 over both, and far below the 1% a scaled field changes them by.
 */
const REL_STEP = 1e-6;
const TOL = 1e-7;

interface Level {
  name: string;
  dyn: Dynamics;
  probe: Probe;
  y: Float64Array;
  /** the index range of the score block (W_Q, W_K at Level F; S at Levels G, T) in the state */
  scoreBlock: [number, number];
  /** independent forward: F of each sample group (the probe's group order) and loss_I1..I4 */
  reference: (z: Float64Array) => { F: Float64Array; losses: number[] };
}

/** mean over the samples of type t of l(y F) = log(1 + e^(-y F)), t = 1..4 */
function lossesByType(data: Dataset, F: Float64Array): number[] {
  return [1, 2, 3, 4].map((t) => {
    let sum = 0;
    let count = 0;
    for (let i = 0; i < data.n; i++) {
      if (data.type[i] !== t) continue;
      sum += Math.log(1 + Math.exp(-data.y[i] * F[i]));
      count++;
    }
    return sum / count;
  });
}

function differences(L: Level) {
  const { dyn, probe, y } = L;
  const f = new Float64Array(dyn.size);
  dyn.field(0, y, f);
  const h = (REL_STEP * norm(y)) / norm(f);
  // The differenced functions are the independent forward passes (L.reference), not the probe.
  const plus = L.reference(axpy(y, h, f));
  const minus = L.reference(axpy(y, -h, f));
  // ... which agree with the probe and the Observer's loss_I* columns at y itself
  const observer = new Observer(probe, y, false);
  const here = L.reference(y);
  const row = observer.row(0, null, y, [0, 0]);
  const probeF = probe.probe(y).F;
  const probeLosses = [1, 2, 3, 4].map((t) => row[observer.columns.indexOf(`loss_I${t}`)]);
  const forwardAgreement = Math.max(relErr(probeF, here.F), relErr(probeLosses, here.losses));
  const Fdiff = plus.F.map((v, i) => (v - minus.F[i]) / (2 * h));
  const lossDiff = plus.losses.map((v, i) => (v - minus.losses[i]) / (2 * h));
  /** the probe's rates with the given field (probe(y) is called first, as the contract asks) */
  const rates = (dydt: Float64Array) => {
    const p = probe.probe(y);
    const Fdot = probe.outputRates(y, dydt).slice();
    const lossRates = Array.from(typeLossRates(p, Fdot, new Float64Array(4)));
    return { Fdot, lossRates };
  };
  return { f, Fdiff, lossDiff, rates, forwardAgreement };
}

/** max |a - b| / max |b| */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let e = 0;
  for (let i = 0; i < b.length; i++) e = Math.max(e, Math.abs(a[i] - b[i]));
  return e / maxAbs(b);
}

async function levels(): Promise<Level[]> {
  // Level F and G: generic Gaussian weights with O(1) scores (attention far from uniform).
  const data = generateDataset({ n: 12, L: 4, d: 40, seed: 7, fillers: 'repeat' });
  const p = initParams({ m: 8, m1: 6, d: 40, s0: 0.5, s1: 0.5, seed: 8 });
  const full = new FullDynamics(data, p);
  const md = p.m * p.d;
  const gram = new GramModel(data, 8, 6);
  const kk = gram.k * gram.k;
  // Level T: the mean state has u = 0 and S = 0 (every output 0, so the score part of dF/dt
  // vanishes); integrate it first to a state where both matter.
  const n = 12;
  const L = 4;
  const tdata = generateDataset({ n, L, d: 3 + fillerSlots(n, L), seed: 0, fillers: 'distinct' });
  const s = resolveSettings('theory', { n, L, d: 3 + fillerSlots(n, L), m: 16, m1: 8, level: 'type', init: 'mean', s0: 0.5, s1: 0.5 });
  const start = await buildStart(s, tdata);
  const moved = runDynamics(start.dynamics, start.y0, { method: 'dopri5', tEnd: 5, rtol: 1e-10, atol: 1e-12, maxSteps: 1000, controller: 'I', lr: 1, steps: 1, samples: 2 }); // 145 steps measured
  if (moved.status !== 'success') throw new Error(`Level T run to t = 5: ${moved.message}`);
  const lay = (start.dynamics as TypeDynamics).system.layout;
  const dg = denseGram(data, 8, 6);
  expect(dg.size).toBe(gram.size);
  const system = (start.dynamics as TypeDynamics).system;
  const dt = denseGram(tdata, 16, 8);
  // Level T groups are the types I1..I4; every sample of a type has the same output
  const firstOfType = [1, 2, 3, 4].map((t) => tdata.type.indexOf(t));
  return [
    {
      name: 'F',
      dyn: full,
      probe: probeFor(full),
      y: full.pack(p),
      scoreBlock: [0, 2 * md],
      reference: (z) => {
        const F = oracleLossAndGrad(full.toParams(z), data).F;
        return { F, losses: lossesByType(data, F) };
      },
    },
    {
      name: 'G',
      dyn: new GramDynamics(gram),
      probe: probeFor(new GramDynamics(gram)),
      y: liftParams(p, data),
      scoreBlock: [gram.layout.S, gram.layout.S + kk],
      reference: (z) => {
        const F = dg.grads(z).F;
        return { F, losses: lossesByType(data, F) };
      },
    },
    {
      name: 'T',
      dyn: start.dynamics,
      probe: start.probe,
      y: moved.y,
      scoreBlock: [lay.S, lay.A],
      reference: (z) => {
        const F = dt.grads(system.expandToGram(z, tdata)).F;
        return { F: Float64Array.from(firstOfType, (i) => F[i]), losses: lossesByType(tdata, F) };
      },
    },
  ];
}

describe('output rates and per-type loss rates vs central differences along the flow', async () => {
  const all = await levels();
  for (const L of all) {
    it(`Level ${L.name}: dF/dt and d loss_I*/dt agree with the differences; a scaled or score-less field does not`, () => {
      const { f, Fdiff, lossDiff, rates, forwardAgreement } = differences(L);
      measure(`rates ${L.name}: probe F and loss_I* vs the independent forward`, forwardAgreement);
      expect(forwardAgreement).toBeLessThan(1e-12);
      const good = rates(f);
      const eF = relErr(good.Fdot, Fdiff);
      const eLoss = relErr(good.lossRates, lossDiff);
      measure(`rates ${L.name}: dF/dt, dloss/dt relative error`, [eF, eLoss]);
      expect(eF).toBeLessThan(TOL);
      expect(eLoss).toBeLessThan(TOL);
      // The state is generic: every group's rate and every type's loss rate is non-zero.
      for (const v of [...Fdiff, ...lossDiff]) expect(Math.abs(v)).toBeGreaterThan(0);
      // Negative control 1: the field scaled by 1.01 (a wrong time scale) is 1% off.
      const big = rates(f.map((v) => 1.01 * v));
      expect(relErr(big.Fdot, Fdiff)).toBeGreaterThan(1e-3);
      expect(relErr(big.lossRates, lossDiff)).toBeGreaterThan(1e-3);
      // Negative control 2: the score part of the field dropped (dS/dt = 0: the softmax Jacobian
      // term of the chain rule goes missing).
      const noS = f.slice();
      noS.fill(0, L.scoreBlock[0], L.scoreBlock[1]);
      const partial = rates(noS);
      measure(`rates ${L.name}: error without dS/dt`, [relErr(partial.Fdot, Fdiff), relErr(partial.lossRates, lossDiff)]);
      expect(relErr(partial.Fdot, Fdiff)).toBeGreaterThan(100 * TOL);
      expect(relErr(partial.lossRates, lossDiff)).toBeGreaterThan(100 * TOL);
    });
  }
});

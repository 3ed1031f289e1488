/**
 * Above the kernel memory's cap every kernel family falls back to plain arrays and plain loops
 * (src/wasm/memory.ts); those must give the SIMD path's results bit for bit, so that a model's
 * size changes only the speed, never a number. The cap is lowered to 0 bytes here
 * (setKernelMemoryCapForTests), so the fallbacks run on small problems, and each computation is
 * done twice, once per path, and compared byte for byte: the oracle is the SIMD path, itself
 * checked against scalar references elsewhere (test/ode/simd.test.ts, test/model/simdPairs.test.ts,
 * test/gram/kernels.test.ts, test/gram/wishartKernel.test.ts). Each test also checks that the
 * path it means really ran, and that its comparison notices a change of one ulp in a setting
 * (the runs are chaotic or long enough for every rounding to show).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Dataset } from '../../src/data/dataset.js';
import { generateDataset } from '../../src/data/generate.js';
import { GramModel } from '../../src/gram/flow.js';
import { liftParams } from '../../src/gram/lift.js';
import { sampleGramState } from '../../src/gram/wishart.js';
import { LossGrad } from '../../src/model/gradient.js';
import { initParams } from '../../src/model/init.js';
import { ParamGrad, Params } from '../../src/model/params.js';
import { PairKernels } from '../../src/model/simdPairs.js';
import { Dopri5 } from '../../src/ode/dopri5.js';
import { StageMemory } from '../../src/ode/simd.js';
import { solveIvp } from '../../src/ode/solveIvp.js';
import { FullDynamics } from '../../src/run/fullDynamics.js';
import { GramDynamics } from '../../src/run/gramDynamics.js';
import { runDynamics, RunOutcome, RunPlan } from '../../src/run/run.js';
import { setKernelMemoryCapForTests } from '../../src/wasm/memory.js';

afterEach(() => {
  setKernelMemoryCapForTests(Infinity);
});

/** f() with the SIMD path (default cap) and with the plain path (cap 0). */
function bothPaths<T>(f: (path: 'SIMD' | 'plain') => T): { simd: T; plain: T } {
  setKernelMemoryCapForTests(Infinity);
  const simd = f('SIMD');
  setKernelMemoryCapForTests(0);
  try {
    return { simd, plain: f('plain') };
  } finally {
    setKernelMemoryCapForTests(Infinity);
  }
}

/** Every number of `values` as its 8 bytes, concatenated. */
function bytesOf(values: ArrayLike<number>[]): Uint8Array {
  const all = new Float64Array(values.reduce((s, v) => s + v.length, 0));
  let at = 0;
  for (const v of values) {
    all.set(v instanceof Float64Array ? v : Array.from(v), at);
    at += v.length;
  }
  return new Uint8Array(all.buffer);
}

/** The index of the first byte where a and b differ, or -1 (the lengths must agree). */
function firstByteDiff(a: Uint8Array, b: Uint8Array): number {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

/** Lorenz-96 with forcing 8 on 7 components (odd: every SIMD vector has a padding entry): chaotic. */
const N = 7;
function lorenz96(_t: number, y: Float64Array, dy: Float64Array): void {
  for (let i = 0; i < N; i++) dy[i] = (y[(i + 1) % N] - y[(i + N - 2) % N]) * y[(i + N - 1) % N] - y[i] + 8;
}
const Y0 = Float64Array.from({ length: N }, (_, i) => 8 + (i === 0 ? 0.01 : 0) + 0.1 * Math.sin(i));
const ATOL = Float64Array.from({ length: N }, (_, i) => 1e-10 * (1 + i / 3));

/**
 * Dopri5 stepped to t = 8 in a memory of the path's kind: per step t, h, the error norm, the
 * state, dense output at two inner points (into a caller's array and into the solver's own
 * denseOut), and the statistics.
 */
function dopriLog(path: 'SIMD' | 'plain', rtol = 1e-9): Uint8Array {
  const memory = new StageMemory(N, Dopri5.VECTORS);
  expect(memory.simd).toBe(path === 'SIMD');
  const s = new Dopri5({ f: lorenz96, t0: 0, y0: Y0, tEnd: 8, rtol, atol: ATOL, maxSteps: 100000, memory });
  const log: number[][] = [];
  const outside = new Float64Array(N);
  for (let status = s.step(); status === 'running' || status === 'success'; status = s.step()) {
    log.push([s.t, s.hLast, s.errorNorm], Array.from(s.y));
    for (const theta of [0.3, 0.77]) {
      const tq = s.tOld + theta * (s.t - s.tOld);
      s.denseAt(tq, outside);
      s.denseAt(tq, s.denseOut);
      log.push(Array.from(outside), Array.from(s.denseOut));
    }
    if (status === 'success') break;
  }
  expect(s.status).toBe('success');
  log.push([s.stats.nfev, s.stats.naccepted, s.stats.nrejected]);
  return bytesOf(log);
}

describe('the integrator (src/ode/simd.ts StageMemory, StageKernels) above the cap', () => {
  it('Dopri5 on Lorenz-96: every step, error norm and dense output bit for bit the SIMD run', () => {
    const { simd, plain } = bothPaths((path) => dopriLog(path));
    expect(simd.length / 8).toBeGreaterThan(50 * 5 * N); // hundreds of steps, some rejected
    expect(firstByteDiff(plain, simd)).toBe(-1);
    // the comparison sees a change of one ulp in rtol (the run is chaotic)
    expect(firstByteDiff(dopriLog('SIMD', 1e-9 * (1 + Number.EPSILON)), simd)).toBeGreaterThanOrEqual(0);
  });

  it('solveIvp with output times through the pool (Dopri5.memory): the same samples, and the pool hands out the kind the cap asks for', () => {
    const tEval = Float64Array.from({ length: 41 }, (_, i) => i / 8);
    const run = (path: 'SIMD' | 'plain') => {
      const memory = Dopri5.memory(N);
      expect(memory.simd).toBe(path === 'SIMD');
      const samples: number[][] = [];
      const r = solveIvp({ f: lorenz96, t0: 0, y0: Y0, tEnd: 5, rtol: 1e-8, atol: 1e-10, maxSteps: 100000, tEval, memory, onSample: (t, y) => samples.push([t, ...y]) });
      Dopri5.release(memory);
      expect(r.status).toBe('success');
      expect(samples.length).toBe(41);
      return bytesOf([...samples, r.y, [r.stats.nfev, r.stats.naccepted, r.stats.nrejected]]);
    };
    const { simd, plain } = bothPaths(run);
    expect(firstByteDiff(plain, simd)).toBe(-1);
    // a SIMD memory released above is not handed out under the cap, nor a plain one without it
    setKernelMemoryCapForTests(0);
    expect(Dopri5.memory(N).simd).toBe(false);
    setKernelMemoryCapForTests(Infinity);
    expect(Dopri5.memory(N).simd).toBe(true);
  });
});

/** Level F: a tiny model (odd m, so rows have a padding entry) and its data. */
const dataF = generateDataset({ n: 12, L: 5, d: 40, seed: 3, fillers: 'distinct' });
const M = 7;
const M1 = 5;
const paramsF = (seed = 11): Params => initParams({ m: M, m1: M1, d: dataF.d, s0: 0.7, s1: 0.5, seed });

function pairKernelsOf(lg: LossGrad): PairKernels {
  return (lg as unknown as { simd: PairKernels }).simd;
}

function outcomeBytes(r: RunOutcome): Uint8Array {
  // every trajectory column except wall-clock ones
  const keep = r.trajectory.columns.map((c, j) => (/wall|second/i.test(c) ? -1 : j)).filter((j) => j >= 0);
  return bytesOf([r.y, [r.t, r.stats.nfev, r.stats.naccepted, r.stats.nrejected], ...r.trajectory.rows.map((row) => keep.map((j) => row[j]))]);
}

describe("Level F's pair kernels and GD update (src/model/simdPairs.ts, src/run/fullDynamics.ts) above the cap", () => {
  it('loss and gradient bit for bit', () => {
    const grad = (path: 'SIMD' | 'plain', p = paramsF()) => {
      const lg = new LossGrad(dataF, M, M1);
      expect(pairKernelsOf(lg).simd).toBe(path === 'SIMD');
      const g: ParamGrad = { dWQ: new Float64Array(M * dataF.d), dWK: new Float64Array(M * dataF.d), dWV: new Float64Array(M * dataF.d), dW: new Float64Array(M1 * M) };
      const loss = lg.lossAndGrad(p, g);
      return bytesOf([[loss], g.dWQ, g.dWK, g.dWV, g.dW, lg.F]);
    };
    const { simd, plain } = bothPaths((path) => grad(path));
    expect(firstByteDiff(plain, simd)).toBe(-1);
    const nudged = paramsF();
    nudged.WQ[5] *= 1 + Number.EPSILON;
    expect(firstByteDiff(grad('SIMD', nudged), simd)).toBeGreaterThanOrEqual(0);
  });

  const gd: RunPlan = { method: 'gd', tEnd: 1, rtol: 1, atol: 1, maxSteps: 1, controller: 'I', lr: 0.3, steps: 300, samples: 7 };
  const flow: RunPlan = { method: 'dopri5', tEnd: 3, rtol: 1e-9, atol: 1e-11, maxSteps: 100000, controller: 'PI', lr: 1, steps: 1, samples: 7 };
  for (const plan of [gd, flow]) {
    it(`a ${plan.method} run (runDynamics) bit for bit: final state, statistics, every recorded row`, () => {
      const run = (path: 'SIMD' | 'plain', p = paramsF()) => {
        const dyn = new FullDynamics(dataF, p);
        expect(pairKernelsOf((dyn as unknown as { lg: LossGrad }).lg).simd).toBe(path === 'SIMD');
        return outcomeBytes(runDynamics(dyn, dyn.pack(p), plan));
      };
      const { simd, plain } = bothPaths(run);
      expect(firstByteDiff(plain, simd)).toBe(-1);
      const nudged = paramsF();
      nudged.WK[3] *= 1 + Number.EPSILON;
      expect(firstByteDiff(run('SIMD', nudged), simd)).toBeGreaterThanOrEqual(0);
    });
  }
});

/** Level G cases: k above the kernels' tile edge (32), and an odd k with an extra token. */
const gramCases: { name: string; data: Dataset; m: number; m1: number; extraTokens?: number[] }[] = [
  { name: 'k = 91, distinct fillers', data: generateDataset({ n: 30, L: 6, d: 300, seed: 5, fillers: 'distinct' }), m: 10, m1: 8 },
  { name: 'odd k, repeated fillers, an extra token', data: generateDataset({ n: 18, L: 4, d: 30, seed: 4, fillers: 'repeat' }), m: 5, m1: 7, extraTokens: [29] },
];

function kernelsAreSimd(model: GramModel): boolean {
  return (model as unknown as { w: { km: { simd: boolean } } }).w.km.simd;
}

describe("Level G's k x k kernels (src/gram/kernels.ts) and the Wishart draw (src/gram/wishartKernel.ts) above the cap", () => {
  for (const c of gramCases) {
    it(`${c.name}: the field and the GD map bit for bit, on a lifted state and on one with signed zeros`, () => {
      const eval_ = (path: 'SIMD' | 'plain', bump = 1) => {
        const model = new GramModel(c.data, c.m, c.m1, { extraTokens: c.extraTokens });
        expect(kernelsAreSimd(model)).toBe(path === 'SIMD');
        const lifted = liftParams(initParams({ m: c.m, m1: c.m1, d: c.data.d, s0: 0.6, s1: 0.5, seed: 7 }), c.data, c.extraTokens);
        // not symmetric, exact zeros of both signs
        const arbitrary = Float64Array.from({ length: model.size }, (_, i) => {
          const r = Math.sin(1 + i * 12.9898) * 0.5;
          return i % 31 === 0 ? 0 : i % 37 === 0 ? -0 : r;
        });
        arbitrary[model.layout.s] = 1.5 * bump;
        const out: Float64Array[] = [];
        for (const y of [lifted, arbitrary]) {
          const f = new Float64Array(model.size).fill(NaN);
          model.field(0, y, f);
          const next = new Float64Array(model.size).fill(NaN);
          model.gdStep(0.3, y, next);
          out.push(f, next);
        }
        return bytesOf(out);
      };
      const { simd, plain } = bothPaths((path) => eval_(path));
      expect(firstByteDiff(plain, simd)).toBe(-1);
      expect(firstByteDiff(eval_('SIMD', 1 + Number.EPSILON), simd)).toBeGreaterThanOrEqual(0);
    });

    it(`${c.name}: a dopri5 run from a Wishart draw (Bartlett) bit for bit, the draw included`, () => {
      const run = (path: 'SIMD' | 'plain', s0 = 0.4) => {
        const y0 = sampleGramState({ data: c.data, m: 3 * 400, m1: c.m1, s0, s1: 0.5, seed: 2, extraTokens: c.extraTokens, method: 'bartlett' });
        const model = new GramModel(c.data, 3 * 400, c.m1, { extraTokens: c.extraTokens });
        expect(kernelsAreSimd(model)).toBe(path === 'SIMD');
        const dyn = new GramDynamics(model);
        const plan: RunPlan = { method: 'dopri5', tEnd: 2, rtol: 1e-8, atol: 1e-10, maxSteps: 100000, controller: 'PI', lr: 1, steps: 1, samples: 5 };
        return { draw: bytesOf([y0]), run: outcomeBytes(runDynamics(dyn, y0, plan)) };
      };
      const { simd, plain } = bothPaths(run);
      expect(firstByteDiff(plain.draw, simd.draw)).toBe(-1);
      expect(firstByteDiff(plain.run, simd.run)).toBe(-1);
      expect(firstByteDiff(run('SIMD', 0.4 * (1 + Number.EPSILON)).draw, simd.draw)).toBeGreaterThanOrEqual(0);
    });
  }
});

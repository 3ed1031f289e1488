/**
 * The fast analytic gradient (src/model/gradient.ts) against two oracles: reverse-mode
 * autodiff of the literal Eq. 1 (src/model/oracle.ts) and central finite differences; plus
 * negative controls showing the checker rejects gradients that are slightly or grossly wrong.
 *
 * Relative difference (src/model/gradcheck.ts): per matrix max|a-b| / max|b|, max over the
 * four matrices.
 */
import { fc } from '@fast-check/vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { fillerSlots, generateDataset, type FillerMode } from '../../src/data/generate.js';
import type { Dataset } from '../../src/data/dataset.js';
import { forwardAll } from '../../src/model/forward.js';
import { checkGradient, compareGrads, finiteDifferenceGrad, GRAD_KEYS, type GradKey } from '../../src/model/gradcheck.js';
import { LossGrad, allocGrad } from '../../src/model/gradient.js';
import { writeDatasetNpz, writeGradNpz, writeParamsNpz } from '../../src/io/files.js';
import { initParams } from '../../src/model/init.js';
import { oracleLossAndGrad } from '../../src/model/oracle.js';
import type { ParamGrad, Params } from '../../src/model/params.js';
import { measure } from '../measure.js';
import { oracleGate, PYTHON } from '../oracles/python.js';

/** analytic vs autodiff: both exact up to round-off in a different evaluation order */
const TOL_ORACLE = 1e-12;
/** loss and F between the three forward implementations */
const TOL_FORWARD = 1e-13;
/** either gradient vs central differences (truncation h^2 and round-off eps/h) */
const TOL_FD = 1e-6;

interface Config {
  n: number;
  L: number;
  d: number;
  fillers: FillerMode;
  m: number;
  m1: number;
  s0: number;
  s1: number;
  dataSeed: number;
  initSeed: number;
}

const configArb = fc
  .record({
    n: fc.constantFrom(6, 12, 18),
    L: fc.integer({ min: 3, max: 6 }),
    fillers: fc.constantFrom<FillerMode>('distinct', 'repeat'),
    extraD: fc.integer({ min: 0, max: 20 }),
    m: fc.integer({ min: 2, max: 8 }),
    m1: fc.integer({ min: 1, max: 8 }),
    s0: fc.double({ min: 0.1, max: 2, noNaN: true }),
    s1: fc.double({ min: 0.1, max: 2, noNaN: true }),
    dataSeed: fc.integer({ min: 0, max: 1_000_000 }),
    initSeed: fc.integer({ min: 0, max: 1_000_000 }),
  })
  .map(({ extraD, ...c }): Config => {
    // distinct fillers need one token per filler slot of the whole set; repeat only L-1 fillers.
    const minD = c.fillers === 'distinct' ? fillerSlots(c.n, c.L) + 3 : c.L + 2;
    return { ...c, d: minD + extraD };
  });

function build(c: Config): { data: Dataset; p: Params } {
  const data = generateDataset({ n: c.n, L: c.L, d: c.d, seed: c.dataSeed, fillers: c.fillers });
  const p = initParams({ m: c.m, m1: c.m1, d: c.d, s0: c.s0, s1: c.s1, seed: c.initSeed });
  return { data, p };
}

function analytic(p: Params, data: Dataset): { loss: number; F: Float64Array; grad: ParamGrad } {
  const lg = new LossGrad(data, p.m, p.m1);
  const grad = allocGrad(p);
  const loss = lg.lossAndGrad(p, grad);
  return { loss, F: lg.F.slice(), grad };
}

/**
 * The function the finite differences differentiate: the ORACLE's loss (the literal Eq. 1 on the
 * autodiff tape, src/model/oracle.ts), never LossGrad's, so that a forward-pass bug of the code
 * under test cannot hide in both sides of the comparison.
 */
function oracleLoss(data: Dataset): (q: Params) => number {
  return (q) => oracleLossAndGrad(q, data).loss;
}

function relVec(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < b.length; i++) {
    const diff = Math.abs(a[i] - b[i]);
    maxDiff = Number.isNaN(diff) ? Infinity : Math.max(maxDiff, diff);
    maxRef = Math.max(maxRef, Math.abs(b[i]));
  }
  return maxDiff / Math.max(maxRef, 1e-300);
}

const worstSeen = { oracle: 0, forward: 0, fd: 0 };

describe('analytic gradient = autodiff oracle (property, random small configurations)', () => {
  it('rel <= 1e-12; loss and F agree to 1e-13 (30 runs, seed 20241009)', () => {
    let runs = 0;
    fc.assert(
      fc.property(configArb, (c) => {
        runs++;
        const { data, p } = build(c);
        const fast = analytic(p, data);
        const oracle = oracleLossAndGrad(p, data);
        const fwd = forwardAll(p, data);

        const check = checkGradient(fast.grad, oracle.grad, TOL_ORACLE);
        worstSeen.oracle = Math.max(worstSeen.oracle, check.maxRel);
        expect(check.pass, `${check.worst} rel ${check.maxRel}`).toBe(true);

        const fRel = Math.max(relVec(fast.F, oracle.F), relVec(fwd.F, oracle.F));
        const lossRel = Math.max(Math.abs(fast.loss - oracle.loss), Math.abs(fwd.loss - oracle.loss)) / oracle.loss;
        worstSeen.forward = Math.max(worstSeen.forward, fRel, lossRel);
        expect(fRel).toBeLessThanOrEqual(TOL_FORWARD);
        expect(lossRel).toBeLessThanOrEqual(TOL_FORWARD);
      }),
      { numRuns: 30, seed: 20241009 },
    );
    expect(runs).toBe(30); // the property body ran every time
  });
});

describe('both gradients = central finite differences', () => {
  // The oracle's loss costs a tape forward and backward per call, so each run differences 8
  // seeded coordinates per matrix (every coordinate of the small cases below).
  it('rel <= 1e-6 on 8 seeded coordinates per matrix (20 runs, seed 7)', () => {
    let runs = 0;
    fc.assert(
      fc.property(configArb, (c) => {
        runs++;
        const { data, p } = build(c);
        const fd = finiteDifferenceGrad(oracleLoss(data), p, { maxPerMatrix: 8, seed: c.initSeed });
        const fast = analytic(p, data);
        const oracle = oracleLossAndGrad(p, data);
        const a = checkGradient(fast.grad, fd.grad, TOL_FD, fd.mask);
        const o = checkGradient(oracle.grad, fd.grad, TOL_FD, fd.mask);
        worstSeen.fd = Math.max(worstSeen.fd, a.maxRel, o.maxRel);
        expect(a.pass, `analytic: ${a.worst} rel ${a.maxRel}`).toBe(true);
        expect(o.pass, `oracle: ${o.worst} rel ${o.maxRel}`).toBe(true);
      }),
      { numRuns: 20, seed: 7 },
    );
    expect(runs).toBe(20);
  });

  it('a deterministic coordinate subset (maxPerMatrix) at a larger size', () => {
    const data = generateDataset({ n: 60, L: 5, d: 64, seed: 3, fillers: 'repeat' });
    const p = initParams({ m: 16, m1: 32, d: 64, s0: Math.sqrt(2 / 64), s1: Math.sqrt(2 / 16), seed: 4 });
    const fd = finiteDifferenceGrad(oracleLoss(data), p, { maxPerMatrix: 8, seed: 11 });
    // the subset depends on the seed only (a constant function is enough to read the mask)
    const first = finiteDifferenceGrad(() => 0, p, { maxPerMatrix: 40, seed: 11 });
    const again = finiteDifferenceGrad(() => 0, p, { maxPerMatrix: 40, seed: 11 });
    const other = finiteDifferenceGrad(() => 0, p, { maxPerMatrix: 40, seed: 12 });
    expect(fd.mask).toBeDefined();
    for (const key of GRAD_KEYS) {
      expect(fd.mask![key].length).toBe(8);
      expect(first.mask![key].length).toBe(40);
      expect(Array.from(again.mask![key])).toEqual(Array.from(first.mask![key]));
    }
    expect(Array.from(other.mask!.dWQ)).not.toEqual(Array.from(first.mask!.dWQ));
    const fast = analytic(p, data);
    const check = checkGradient(fast.grad, fd.grad, TOL_FD, fd.mask);
    expect(check.pass, `${check.worst} rel ${check.maxRel}`).toBe(true);
    // the oracle agrees with the analytic gradient on every entry at this size too
    expect(checkGradient(fast.grad, oracleLossAndGrad(p, data).grad, TOL_ORACLE).pass).toBe(true);
  });

  it("the paper's Figure-1 size (n=60, L=5, d=64, m=128, m1=256, Kaiming scales): analytic = oracle", () => {
    const data = generateDataset({ n: 60, L: 5, d: 64, seed: 1, fillers: 'repeat' });
    const p = initParams({ m: 128, m1: 256, d: 64, s0: Math.sqrt(2 / 64), s1: Math.sqrt(2 / 128), seed: 1 });
    const fast = analytic(p, data);
    const oracle = oracleLossAndGrad(p, data);
    const check = checkGradient(fast.grad, oracle.grad, TOL_ORACLE);
    worstSeen.oracle = Math.max(worstSeen.oracle, check.maxRel);
    expect(check.pass, `${check.worst} rel ${check.maxRel}`).toBe(true);
    expect(Math.abs(fast.loss - oracle.loss) / oracle.loss).toBeLessThanOrEqual(TOL_FORWARD);
    expect(relVec(fast.F, oracle.F)).toBeLessThanOrEqual(TOL_FORWARD);
  });
});

describe('a token repeated inside one sample (scatter-add of both implementations)', () => {
  it('analytic = oracle = finite differences', () => {
    // Hand-made set: token 5 twice in sample 0, mu_1 twice in sample 1 (not paper data, but
    // Eq. 1 is defined for it, and repeats are where gather/scatter bugs hide).
    const data: Dataset = {
      n: 2,
      L: 4,
      d: 7,
      tokens: Int32Array.of(0, 5, 5, 2, 0, 0, 1, 6),
      y: Float64Array.of(1, -1),
      type: Int32Array.of(1, 1),
    };
    const p = initParams({ m: 3, m1: 2, d: 7, s0: 0.9, s1: 0.7, seed: 5 });
    const fast = analytic(p, data);
    const oracle = oracleLossAndGrad(p, data);
    expect(checkGradient(fast.grad, oracle.grad, TOL_ORACLE).pass).toBe(true);
    const fd = finiteDifferenceGrad(oracleLoss(data), p);
    expect(checkGradient(oracle.grad, fd.grad, TOL_FD).pass).toBe(true);
    expect(checkGradient(fast.grad, fd.grad, TOL_FD).pass).toBe(true);
  });
});

describe('negative controls: the checker rejects wrong gradients', () => {
  const c: Config = { n: 12, L: 4, d: 30, fillers: 'distinct', m: 5, m1: 4, s0: 0.8, s1: 0.6, dataSeed: 1, initSeed: 2 };
  const { data, p } = build(c);
  const fast = analytic(p, data);
  const oracle = oracleLossAndGrad(p, data);
  const fd = finiteDifferenceGrad(oracleLoss(data), p);

  const copy = (g: ParamGrad): ParamGrad => ({ dWQ: g.dWQ.slice(), dWK: g.dWK.slice(), dWV: g.dWV.slice(), dW: g.dW.slice() });
  const maxAbs = (v: Float64Array) => v.reduce((acc, x) => Math.max(acc, Math.abs(x)), 0);

  it('the unperturbed gradient passes both checks (so the rejections below are caused by the defects)', () => {
    expect(checkGradient(fast.grad, oracle.grad, TOL_ORACLE).pass).toBe(true);
    expect(checkGradient(fast.grad, fd.grad, TOL_FD).pass).toBe(true);
  });

  for (const key of GRAD_KEYS) {
    it(`one entry of ${key} off by 1e-6 of the matrix max is rejected at ${TOL_ORACLE}`, () => {
      const bad = copy(fast.grad);
      const k = Math.floor(bad[key].length / 2);
      bad[key][k] += 1e-6 * maxAbs(bad[key]);
      const r = checkGradient(bad, oracle.grad, TOL_ORACLE);
      expect(r.pass).toBe(false);
      expect(r.worst).toBe(key);
      // exactly the injected 1e-6 up to round-off (measured 6.5e-17)
      expect(Math.abs(r.maxRel - 1e-6)).toBeLessThan(1e-15);
    });
  }

  it('one entry off by 1e-5 of the matrix max is rejected against finite differences at 1e-6', () => {
    const bad = copy(fast.grad);
    bad.dWK[3] += 1e-5 * maxAbs(bad.dWK);
    const r = checkGradient(bad, fd.grad, TOL_FD);
    expect(r.pass).toBe(false);
    expect(r.worst).toBe('dWK');
  });

  const gross: Array<[string, GradKey, (v: Float64Array) => void]> = [
    ['sign of dWV flipped', 'dWV', (v) => v.forEach((x, i) => (v[i] = -x))],
    ['dWQ off by a factor 2', 'dWQ', (v) => v.forEach((x, i) => (v[i] = 2 * x))],
    ['dW transposed-index slip (entries swapped)', 'dW', (v) => v.reverse()],
    ['a NaN in dWK', 'dWK', (v) => (v[0] = NaN)],
  ];
  for (const [name, key, corrupt] of gross) {
    it(`${name}: rejected against the oracle and against finite differences`, () => {
      const bad = copy(fast.grad);
      corrupt(bad[key]);
      for (const [ref, tol] of [
        [oracle.grad, TOL_ORACLE],
        [fd.grad, TOL_FD],
      ] as const) {
        const r = checkGradient(bad, ref, tol);
        expect(r.pass).toBe(false);
        expect(r.worst).toBe(key);
      }
    });
  }
});

describe('compareGrads definition', () => {
  it('max over matrices of max|a-b| / max|b|, computed by hand', () => {
    const b: ParamGrad = {
      dWQ: Float64Array.of(2, -4),
      dWK: Float64Array.of(1, 1),
      dWV: Float64Array.of(0, 0),
      dW: Float64Array.of(10),
    };
    const a: ParamGrad = {
      dWQ: Float64Array.of(2.4, -4), // 0.4 / 4 = 0.1
      dWK: Float64Array.of(1, 1.5), // 0.5 / 1 = 0.5
      dWV: Float64Array.of(0, 0), // 0 / tiny = 0
      dW: Float64Array.of(9), // 1 / 10 = 0.1
    };
    const r = compareGrads(a, b);
    expect(r.worst).toBe('dWK');
    expect(r.maxRel).toBe(0.5);
    expect(r.perMatrix.dWQ).toBeCloseTo(0.1, 15);
    expect(r.perMatrix.dWV).toBe(0);
    // an all-zero reference with a nonzero candidate can never pass
    const c = compareGrads({ ...a, dWV: Float64Array.of(1e-200, 0) }, b);
    expect(c.worst).toBe('dWV');
    expect(c.maxRel).toBeGreaterThan(1e90);
    // a NaN on either side is an infinite difference, never a pass
    expect(compareGrads(a, { ...b, dW: Float64Array.of(NaN) }).maxRel).toBe(Infinity);
    expect(compareGrads({ ...a, dWQ: Float64Array.of(NaN, -4) }, b).maxRel).toBe(Infinity);
    expect(checkGradient(b, { ...b, dWK: Float64Array.of(NaN, 1) }, 1).pass).toBe(false);
  });
});

describe('finiteDifferenceGrad on a function with a known gradient', () => {
  // f = sum theta^3 over the four matrices: df/dtheta_k = 3 theta_k^2 exactly. For a cubic the
  // central difference is exactly 3 theta^2 + h^2, so plain differences show an O(h^2) error
  // and the Richardson combination removes it (up to round-off).
  const p = initParams({ m: 3, m1: 2, d: 5, s0: 1, s1: 1, seed: 31 });
  const cubic = (q: Params) => [q.WQ, q.WK, q.WV, q.W].reduce((acc, M) => acc + M.reduce((s, x) => s + x * x * x, 0), 0);
  const exact: ParamGrad = { dWQ: p.WQ.map((x) => 3 * x * x), dWK: p.WK.map((x) => 3 * x * x), dWV: p.WV.map((x) => 3 * x * x), dW: p.W.map((x) => 3 * x * x) };

  it('Richardson (default) is exact to round-off; plain central differences carry the h^2 term', () => {
    const rich = compareGrads(finiteDifferenceGrad(cubic, p).grad, exact);
    expect(rich.maxRel).toBeLessThan(1e-10);
    const plain = compareGrads(finiteDifferenceGrad(cubic, p, { richardson: false, relStep: 1e-3 }).grad, exact);
    expect(plain.maxRel).toBeGreaterThan(1e-8);
    expect(plain.maxRel).toBeLessThan(1e-5);
  });

  it('leaves the parameters untouched and honours a zero matrix (step relative to 1)', () => {
    const before = p.WQ.slice();
    finiteDifferenceGrad(cubic, p);
    expect(Array.from(p.WQ)).toEqual(Array.from(before));
    const zero: Params = { ...p, W: new Float64Array(p.W.length) };
    const fd = finiteDifferenceGrad(cubic, zero);
    expect(fd.grad.dW.every((g) => Number.isFinite(g) && Math.abs(g) < 1e-9)).toBe(true);
  });
});

// bench/python/torch_grad.py: PyTorch autograd (Debian python3-torch) and the script's NumPy
// reverse pass, on files written by coflow, with the one interpreter of test/oracles/python.ts
// (the NumPy interop tests use it too). Skipped where unavailable, except in CI (CI=true), where
// a missing oracle fails with what is missing.
const SCRIPT = fileURLToPath(new URL('../../bench/python/torch_grad.py', import.meta.url));
const torchGate = oracleGate('PyTorch gradient oracle (bench/python/torch_grad.py --engine torch)', ['numpy', 'torch']);
const numpyGate = oracleGate('NumPy gradient oracle (bench/python/torch_grad.py --engine numpy)', ['numpy']);

describe('cross-language check with bench/python/torch_grad.py', () => {
  const dir = mkdtempSync(join(tmpdir(), 'coflow-torch-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const data = generateDataset({ n: 12, L: 5, d: 40, seed: 21, fillers: 'repeat' });
  const p = initParams({ m: 6, m1: 5, d: 40, s0: 0.7, s1: 0.9, seed: 22 });
  const fast = analytic(p, data);
  const files = { params: join(dir, 'params.npz'), data: join(dir, 'data.npz'), grad: join(dir, 'grad.npz'), bad: join(dir, 'bad.npz') };
  writeParamsNpz(files.params, p);
  writeDatasetNpz(files.data, data);
  writeGradNpz(files.grad, fast, p);
  // The script's bound: 1e-13 (measured 1.0e-15 PyTorch, 1.6e-15 NumPy). Negative control: one
  // entry of dWV off by 1e-11 of the matrix max (100x the bound).
  const SCRIPT_TOL = 1e-13;
  const bad = { ...fast.grad, dWV: fast.grad.dWV.slice() };
  bad.dWV[11] += 1e-11 * bad.dWV.reduce((acc, x) => Math.max(acc, Math.abs(x)), 0);
  writeGradNpz(files.bad, { ...fast, grad: bad }, p);

  const run = (engine: string, grad: string) => spawnSync(PYTHON, [SCRIPT, files.params, files.data, grad, '--engine', engine, '--tol', String(SCRIPT_TOL)], { encoding: 'utf8' });
  const worst = (stdout: string) => Number(/worst \w+ ([0-9.e+-]+)/.exec(stdout)?.[1]);

  for (const [label, engine, gate] of [
    ['PyTorch autograd', 'torch', torchGate],
    ['NumPy reverse pass', 'numpy', numpyGate],
  ] as const) {
    it.skipIf(!gate.run)(`${label}: agrees to <= 1e-13, and rejects a 1e-11 error in one entry`, () => {
      // in CI a missing oracle is a failure, with what is missing as the message
      expect(gate.problem, gate.problem ?? '').toBeNull();
      const good = run(engine, files.grad);
      expect(good.status, good.stdout + good.stderr).toBe(0);
      expect(good.stdout).toContain(`engine ${engine}`);
      measure(`${label} vs coflow grad, worst relative`, worst(good.stdout));
      expect(worst(good.stdout)).toBeLessThanOrEqual(SCRIPT_TOL);
      const rejected = run(engine, files.bad);
      expect(rejected.status, rejected.stdout + rejected.stderr).toBe(1);
      expect(rejected.stdout).toMatch(/FAIL: worst dWV/);
    });
  }
});

afterAll(() => {
  // For the record; the bounds themselves are asserted in the tests above.
  console.log(
    `worst rel seen: analytic vs oracle ${worstSeen.oracle.toExponential(2)}, ` +
      `forward (loss, F) ${worstSeen.forward.toExponential(2)}, vs finite differences ${worstSeen.fd.toExponential(2)}`,
  );
});

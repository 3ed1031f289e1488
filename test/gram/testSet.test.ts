/**
 * Level G with extra tracked tokens (a test set's) and GramTestSet, checked against Level F:
 * - at a lifted state, GramTestSet = LossGrad's forward pass on the test set, same weights;
 * - after 200 GD steps (Level F: W -= eta grad on the training set; Level G: the exact GD map
 *   with the test tokens tracked) the test outputs agree to round-off;
 * - after a gradient flow (Dormand-Prince on both levels, rtol 1e-10) they agree within
 *   integrator tolerance;
 * - negative control: freezing the unseen tokens' Gram entries breaks the agreement by far more
 *   than the tolerance, so those entries carry real information;
 * - without extra tokens every entry point reproduces, bit for bit, digests pinned from the code
 *   as it was before extra tokens existed; with them, the training tokens' block is unchanged;
 * - the Wishart start on extra tokens has the Wishart law (moment z-scores, Bartlett = direct in
 *   distribution where the extra columns make the law rank-deficient), the mean start is the mean.
 */
import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { Dataset } from '../../src/data/dataset.js';
import { generateDataset, generateTestSet } from '../../src/data/generate.js';
import { UsageError } from '../../src/errors.js';
import { GramModel } from '../../src/gram/flow.js';
import { gramLayout, tokenIndex } from '../../src/gram/layout.js';
import { liftParams } from '../../src/gram/lift.js';
import { GramTestSet } from '../../src/gram/testSet.js';
import { WishartMethod, meanGramState, sampleGramState } from '../../src/gram/wishart.js';
import { LossGrad, allocGrad } from '../../src/model/gradient.js';
import { initParams } from '../../src/model/init.js';
import { ParamGrad, Params } from '../../src/model/params.js';
import { solveIvp } from '../../src/ode/solveIvp.js';
import { repeatedTokenDataset, gdUpdate } from './helpers.js';
import { ks2, ksCritical001, momentZ } from './stats.js';

const m = 16;
const m1 = 16;
const train = generateDataset({ n: 12, L: 5, d: 60, seed: 21, fillers: 'distinct' });
const testData = generateTestSet({ n: 40, L: 5, d: 60, seed: 21 });
const extra = testData.tokens;

function weights(seed: number): Params {
  return initParams({ m, m1, d: train.d, s0: Math.sqrt(2 / train.d), s1: Math.sqrt(2 / m), seed });
}

/** max |x - ref| / max |ref| */
function relErr(x: ArrayLike<number>, ref: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) {
    diff = Math.max(diff, Math.abs(x[i] - ref[i]));
    scale = Math.max(scale, Math.abs(ref[i]));
  }
  return diff / scale;
}

/** Level F test outputs (the oracle): LossGrad's own forward pass on the test set. */
function levelFTest(lg: LossGrad, p: Params): { F: Float64Array; loss: number; error: number } {
  const loss = lg.loss(p);
  let wrong = 0;
  for (let i = 0; i < testData.n; i++) if (testData.y[i] * lg.F[i] <= 0) wrong++;
  return { F: lg.F.slice(), loss, error: wrong / testData.n };
}

/** Indices of the Level G state that involve a token absent from the training data. */
function unseenEntries(model: GramModel): Int32Array {
  const { k, layout: lay } = model;
  const inTrain = new Uint8Array(k);
  for (const a of model.index.sampleLocal) inTrain[a] = 1;
  const out: number[] = [];
  for (let b = 0; b < k; b++) {
    for (let a = 0; a < k; a++) {
      if (inTrain[a] && inTrain[b]) continue;
      for (const off of [lay.S, lay.A, lay.B, lay.C]) out.push(off + b * k + a);
    }
    if (!inTrain[b]) out.push(lay.u + b);
  }
  return Int32Array.from(out);
}

/** Level F state vector [WQ, WK, WV, W] and views of it as Params / ParamGrad (a is fixed). */
function flatParams(p: Params): Float64Array {
  const z = new Float64Array(p.WQ.length * 3 + p.W.length);
  z.set(p.WQ, 0);
  z.set(p.WK, p.WQ.length);
  z.set(p.WV, 2 * p.WQ.length);
  z.set(p.W, 3 * p.WQ.length);
  return z;
}
function viewParams(z: Float64Array, a: Float64Array, d: number): Params {
  const md = m * d;
  return { m, m1, d, WQ: z.subarray(0, md), WK: z.subarray(md, 2 * md), WV: z.subarray(2 * md, 3 * md), W: z.subarray(3 * md), a };
}
function viewGrad(z: Float64Array, d: number): ParamGrad {
  const md = m * d;
  return { dWQ: z.subarray(0, md), dWK: z.subarray(md, 2 * md), dWV: z.subarray(2 * md, 3 * md), dW: z.subarray(3 * md) };
}

describe('GramTestSet = Level F on the test set', () => {
  test('the test set brings unseen tokens, and the model tracks them', () => {
    const seen = new Set(train.tokens);
    const unseenOcc = Array.from(testData.tokens).filter((t) => !seen.has(t)).length;
    expect(unseenOcc).toBeGreaterThan(20);
    const model = new GramModel(train, m, m1, { extraTokens: extra });
    const plain = new GramModel(train, m, m1);
    expect(model.k).toBe(new Set([...train.tokens, ...testData.tokens]).size);
    expect(model.k).toBeGreaterThan(plain.k);
    // no pair with an unseen token enters Gam: the pattern is the training data's
    expect(model.gamNonzeros).toBe(plain.gamNonzeros);
  });

  test('at a lifted state: outputs to 1e-12, loss and error equal', () => {
    for (const seed of [1, 2, 3]) {
      const p = weights(seed);
      const model = new GramModel(train, m, m1, { extraTokens: extra });
      const ts = new GramTestSet(model, testData);
      const ev = ts.evaluate(liftParams(p, train, extra));
      const ref = levelFTest(new LossGrad(testData, m, m1), p);
      const err = relErr(ev.F, ref.F);
      console.log(`lifted state, seed ${seed}: max |dF| / max |F| = ${err.toExponential(2)}`);
      expect(err).toBeLessThan(1e-12);
      expect(Math.abs(ev.loss - ref.loss)).toBeLessThan(1e-12 * ref.loss);
      expect(ev.error).toBe(ref.error);
    }
  });

  test('the training set as a test set reproduces the model outputs bit for bit; evaluate reuses its result', () => {
    const model = new GramModel(train, m, m1);
    const y = liftParams(weights(4), train);
    const ts = new GramTestSet(model, train);
    const ev = ts.evaluate(y);
    const out = model.outputs(y);
    expect(Array.from(ev.F)).toEqual(Array.from(out.F));
    expect(ev.loss).toBe(out.loss);
    const again = ts.evaluate(y);
    expect(again).toBe(ev);
    expect(again.F).toBe(ev.F);
  });

  test('at the mean state every output is 0: loss log 2, and y F = 0 counts as an error', () => {
    const model = new GramModel(train, m, m1, { extraTokens: extra });
    const ev = new GramTestSet(model, testData).evaluate(meanGramState({ data: train, m, m1, s0: 0.3, s1: 0.2, extraTokens: extra }));
    expect(Array.from(ev.F).every((f) => f === 0)).toBe(true);
    expect(Math.abs(ev.loss - Math.log(2))).toBeLessThan(1e-15);
    expect(ev.error).toBe(1);
  });

  test('refuses a test set with untracked tokens (one line naming extraTokens), a wrong d, a wrong state length', () => {
    const plain = new GramModel(train, m, m1);
    expect(() => new GramTestSet(plain, testData)).toThrow(UsageError);
    try {
      new GramTestSet(plain, testData);
    } catch (e) {
      const msg = (e as Error).message;
      expect(msg).toMatch(/pass the test tokens as extraTokens/);
      expect(msg).not.toMatch(/\n/);
    }
    const otherD = generateTestSet({ n: 5, L: 5, d: 61, seed: 1 });
    expect(() => new GramTestSet(plain, otherD)).toThrow(/d = 61/);
    const ts = new GramTestSet(new GramModel(train, m, m1, { extraTokens: extra }), testData);
    expect(() => ts.evaluate(new Float64Array(plain.size))).toThrow(UsageError);
    expect(() => tokenIndex(train, [0, 60])).toThrow(/extraTokens\[1\] = 60/);
    expect(() => tokenIndex(train, [1.5])).toThrow(UsageError);
    expect(() => tokenIndex(train, [-1])).toThrow(UsageError);
  });
});

describe('test outputs along training: Level F vs Level G with extra tokens', () => {
  const eta = 0.25;
  const steps = 200;

  /** 200 GD steps on both levels from the same weights; optionally freeze the unseen entries. */
  function runGd(freeze: boolean): { err: number; moved: number; trainBlock: Float64Array; y: Float64Array; model: GramModel } {
    const p = weights(7);
    const lgTrain = new LossGrad(train, m, m1);
    const lgTest = new LossGrad(testData, m, m1);
    const g = allocGrad(p);
    const model = new GramModel(train, m, m1, { extraTokens: extra });
    const ts = new GramTestSet(model, testData);
    let y: Float64Array = liftParams(p, train, extra);
    const y0 = y.slice();
    let next: Float64Array = new Float64Array(model.size);
    const frozen = unseenEntries(model);
    const F0 = ts.evaluate(y).F.slice();
    let err = 0;
    let compared = 0;
    for (let step = 1; step <= steps; step++) {
      lgTrain.lossAndGrad(p, g);
      gdUpdate(p, g, eta);
      model.gdStep(eta, y, next);
      [y, next] = [next, y];
      if (freeze) for (const i of frozen) y[i] = y0[i];
      if (step % 50 !== 0) continue;
      err = Math.max(err, relErr(ts.evaluate(y).F, levelFTest(lgTest, p).F));
      compared++;
    }
    expect(compared).toBe(steps / 50);
    const moved = relErr(ts.evaluate(y).F, F0);
    return { err, moved, trainBlock: model.outputs(y).F, y, model };
  }

  test('200 exact GD steps: test outputs agree to 1e-13, and the run moved them', () => {
    const r = runGd(false);
    console.log(`GD ${steps} steps, eta ${eta}: max rel. test-output gap ${r.err.toExponential(2)}; test outputs moved by ${r.moved.toExponential(2)} (relative)`);
    // measured 1.3e-15: exact GD maps, round-off only
    expect(r.err).toBeLessThan(1e-13);
    expect(r.moved).toBeGreaterThan(0.1);
    // the entries of unseen tokens really changed (their Q, K, V columns did not)
    const y0 = liftParams(weights(7), train, extra);
    const idx = unseenEntries(r.model);
    let change = 0;
    for (const i of idx) change = Math.max(change, Math.abs(r.y[i] - y0[i]));
    expect(change).toBeGreaterThan(1e-2);
  });

  test('negative control: unseen entries frozen at their start values -> the test outputs disagree', () => {
    const good = runGd(false);
    const bad = runGd(true);
    console.log(`GD negative control: test-output gap with frozen unseen entries ${bad.err.toExponential(2)} (tolerance 1e-9)`);
    expect(bad.err).toBeGreaterThan(1e-3);
    // freezing touches nothing the training outputs depend on: they are identical
    expect(Array.from(bad.trainBlock)).toEqual(Array.from(good.trainBlock));
  });

  /** Gradient flow to tEnd on both levels (Dormand-Prince, rtol 1e-10); returns the test-output gap. */
  function runFlow(freeze: boolean, tEnd: number): { err: number; moved: number } {
    const p = weights(8);
    const d = train.d;
    const lgTrain = new LossGrad(train, m, m1);
    const z0 = flatParams(p);
    const fieldF = (_t: number, z: Float64Array, dz: Float64Array): void => {
      lgTrain.lossAndGrad(viewParams(z, p.a, d), viewGrad(dz, d));
      for (let i = 0; i < dz.length; i++) dz[i] = -dz[i];
    };
    // at most 162 trial steps measured on either level
    const opts = { t0: 0, tEnd, rtol: 1e-10, atol: 1e-12, maxSteps: 2000 };
    const resF = solveIvp({ ...opts, f: fieldF, y0: z0 });
    expect(resF.status).toBe('success');
    const zEnd = resF.y;

    const model = new GramModel(train, m, m1, { extraTokens: extra });
    const frozen = unseenEntries(model);
    const fieldG = (t: number, y: Float64Array, dy: Float64Array): void => {
      model.field(t, y, dy);
      if (freeze) for (const i of frozen) dy[i] = 0;
    };
    const y0 = liftParams(p, train, extra);
    const res = solveIvp({ ...opts, f: fieldG, y0 });
    expect(res.status).toBe('success');
    const ts = new GramTestSet(model, testData);
    const F0 = ts.evaluate(y0).F.slice();
    const FG = ts.evaluate(res.y).F;
    const ref = levelFTest(new LossGrad(testData, m, m1), viewParams(zEnd, p.a, d));
    return { err: relErr(FG, ref.F), moved: relErr(FG, F0) };
  }

  test('gradient flow (Dormand-Prince, rtol 1e-10 on both levels): test outputs agree within integrator tolerance; frozen unseen entries do not', () => {
    const tEnd = 50;
    const good = runFlow(false, tEnd);
    const bad = runFlow(true, tEnd);
    console.log(`flow to t = ${tEnd}: test-output gap ${good.err.toExponential(2)}, moved ${good.moved.toExponential(2)}; frozen unseen entries: gap ${bad.err.toExponential(2)}`);
    // tolerance 100 rtol, as for the invariants' drift; measured about 1e-11
    const tol = 100 * 1e-10;
    expect(good.moved).toBeGreaterThan(0.1);
    expect(good.err).toBeLessThan(tol);
    expect(bad.err).toBeGreaterThan(1e4 * tol);
  });
});

describe('extra tokens leave everything else as it was', () => {
  function digest(...arrs: (ArrayLike<number> & { buffer: ArrayBufferLike; byteOffset: number; byteLength: number } | number)[]): string {
    const h = createHash('sha256');
    for (const a of arrs) {
      const x = typeof a === 'number' ? Float64Array.of(a) : a;
      h.update(Buffer.from(x.buffer, x.byteOffset, x.byteLength));
    }
    return h.digest('hex').slice(0, 32);
  }

  // SHA-256 digests (first 128 bits) of the same computations made by the code before extra
  // tokens existed (recorded from that version; platform-independent: V8's Math is fdlibm).
  const PINNED: Record<string, string> = {
    'tokenIndex D1': 'fd2b3b3c5e7da9b6d6e8e736765d0450',
    'tokenIndex D2': 'ce50c7e4ef1a4858d5f3dcaa593a20d0',
    'tokenIndex D3': '974f38636d567664350db6e78b006505',
    'sampleGramState D1 m=9 auto': 'f66d1c27a1155ba7d16b75de2f0dede2',
    'sampleGramState D1 m=200 auto': '1c9949ba0a2b31ed809646bce70efe34',
    'sampleGramState D1 m=120 direct': '117497a9f49b2ec9291863d33c561cee',
    'sampleGramState D3 m=20 auto': '6502bd7b144d3a2c06ba4f8fffda0080',
    'sampleGramState D3 m=40 auto': 'c66c7e1736b1b9879f12d07a0480f456',
    'sampleGramState D3 m=40 direct': '070a4b219718c9bf032f99c5c962e02a',
    'meanGramState D1': 'ea25b956fda27a1d26a241a950163e66',
    'liftParams D1': 'd98244c1520306be1f5aaf7e06b45dc9',
    'GramModel outputs': '0b2d4b96bb57d943cd973ee134442907',
    'GramModel field': '80382b9b8d49ea843c1a0898d42920ab',
    'GramModel gramGrad': '6fbbfb6e793eb9af0bad258dcfc6da6b',
    'GramModel 20 gd steps': '52df4f35c924da7d4a23ee508d2ba964',
  };

  /**
   * The pinned computations; `extraFor(data)` gives the extra tokens to pass (undefined: the old
   * call signature).
   */
  function fingerprints(extraFor: (data: Dataset) => number[] | Int32Array | undefined): Record<string, string> {
    const D1 = generateDataset({ n: 12, L: 5, d: 40, seed: 21, fillers: 'distinct' });
    const D2 = generateDataset({ n: 60, L: 5, d: 64, seed: 1, fillers: 'repeat' });
    const D3 = repeatedTokenDataset();
    const out: Record<string, string> = {};
    for (const [name, data] of [
      ['D1', D1],
      ['D2', D2],
      ['D3', D3],
    ] as const) {
      const ex = extraFor(data);
      const idx = ex === undefined ? tokenIndex(data) : tokenIndex(data, ex);
      out[`tokenIndex ${name}`] = digest(idx.k, idx.globalOf, idx.localOf, idx.sampleLocal);
    }
    const cfg = (data: Dataset) => {
      const ex = extraFor(data);
      return { data, m1: 16, s0: 0.3, s1: 0.2, ...(ex === undefined ? {} : { extraTokens: ex }) };
    };
    for (const [name, data, mm, method] of [
      ['D1', D1, 9, undefined],
      ['D1', D1, 200, undefined],
      ['D1', D1, 120, 'direct'],
      ['D3', D3, 20, undefined],
      ['D3', D3, 40, undefined],
      ['D3', D3, 40, 'direct'],
    ] as const) {
      out[`sampleGramState ${name} m=${mm} ${method ?? 'auto'}`] = digest(sampleGramState({ ...cfg(data), m: mm, seed: 3, method }));
    }
    out['meanGramState D1'] = digest(meanGramState({ ...cfg(D1), m: 50 }));
    const p = initParams({ m: 16, m1: 16, d: 40, s0: Math.sqrt(2 / 40), s1: Math.sqrt(2 / 16), seed: 5 });
    const ex1 = extraFor(D1);
    let s: Float64Array = ex1 === undefined ? liftParams(p, D1) : liftParams(p, D1, ex1);
    out['liftParams D1'] = digest(s);
    const model = ex1 === undefined ? new GramModel(D1, 16, 16) : new GramModel(D1, 16, 16, { extraTokens: ex1 });
    const o = model.outputs(s);
    out['GramModel outputs'] = digest(o.loss, o.F, o.margins, o.sampleLoss);
    const f = new Float64Array(model.size);
    model.field(0, s, f);
    out['GramModel field'] = digest(f);
    const gg = model.gramGrad(s);
    out['GramModel gramGrad'] = digest(gg.Gam, gg.gu, gg.loss);
    let nx: Float64Array = new Float64Array(model.size);
    for (let i = 0; i < 20; i++) {
      model.gdStep(0.05, s, nx);
      [s, nx] = [nx, s];
    }
    out['GramModel 20 gd steps'] = digest(s);
    return out;
  }

  test('no extra tokens: tokenIndex, GramModel, sampleGramState, meanGramState, liftParams are bit-identical to before', () => {
    expect(fingerprints(() => undefined)).toEqual(PINNED);
    // an empty list, or extra tokens that all occur in the data, change nothing either
    expect(fingerprints(() => [])).toEqual(PINNED);
    expect(fingerprints((data) => Int32Array.from(data.tokens.subarray(0, 2 * data.L)))).toEqual(PINNED);
  });

  /** The training tokens' sub-block of a state over more tracked tokens. */
  function restrict(y: Float64Array, big: GramModel, small: GramModel): Float64Array {
    const K = big.k;
    const k = small.k;
    const lb = big.layout;
    const ls = small.layout;
    const map = Int32Array.from(small.index.globalOf, (t) => big.index.localOf[t]);
    const out = new Float64Array(ls.size);
    for (let b = 0; b < k; b++) {
      for (let a = 0; a < k; a++) {
        for (const blk of ['S', 'A', 'B', 'C'] as const) out[ls[blk] + b * k + a] = y[lb[blk] + map[b] * K + map[a]];
      }
      out[ls.u + b] = y[lb.u + map[b]];
    }
    out[ls.s] = y[lb.s];
    return out;
  }

  test('with extra tokens the training tokens block is the same: starts (every Wishart regime) and 200 GD steps', () => {
    const big = new GramModel(train, m, m1, { extraTokens: extra });
    const small = new GramModel(train, m, m1);
    const p0 = 3 * small.k + 1;
    const p = 3 * big.k + 1;
    expect(p).toBeGreaterThan(p0 + 20);
    const base = { data: train, m1, s0: 0.3, s1: 0.2 };
    const same = (a: Float64Array, b: Float64Array): void => expect(Array.from(a)).toEqual(Array.from(b));
    // m < p0 (direct), p0 <= m < p (Bartlett, rank-deficient on the extra columns), m >= p (Bartlett)
    for (const mm of [20, p0, p0 + 5, p, p + 40]) {
      const methods: (WishartMethod | undefined)[] = [undefined, 'direct', ...(mm >= p0 ? (['bartlett'] as const) : [])];
      for (const method of methods) {
        const withExtra = sampleGramState({ ...base, m: mm, seed: 12, method, extraTokens: extra });
        same(restrict(withExtra, big, small), sampleGramState({ ...base, m: mm, seed: 12, method }));
      }
    }
    same(restrict(meanGramState({ ...base, m, extraTokens: extra }), big, small), meanGramState({ ...base, m }));
    const w = weights(3);
    same(restrict(liftParams(w, train, extra), big, small), liftParams(w, train));
    // the training tokens' dynamics do not see the extra tokens (zero rows of Gam, zero gu)
    let yb: Float64Array = liftParams(w, train, extra);
    let ys: Float64Array = liftParams(w, train);
    let nb: Float64Array = new Float64Array(big.size);
    let ns: Float64Array = new Float64Array(small.size);
    for (let step = 0; step < 200; step++) {
      big.gdStep(0.25, yb, nb);
      small.gdStep(0.25, ys, ns);
      [yb, nb] = [nb, yb];
      [ys, ns] = [ns, ys];
    }
    same(restrict(yb, big, small), ys);
    same(big.outputs(yb).F, small.outputs(ys).F);
  });
});

describe('starting states on extra tokens', () => {
  // training tokens {0, 1} (k0 = 2, p0 = 7); extra tokens 3 and 4 (k = 4, p = 13)
  const tiny: Dataset = { n: 2, L: 2, d: 6, tokens: Int32Array.of(0, 1, 1, 0), y: Float64Array.of(1, 1), type: Int32Array.of(1, 1) };
  const ext = [4, 3, 4];
  const k = 4;
  const lay = gramLayout(k);
  const cfg = { data: tiny, m1: 3, s0: 0.7, s1: 0.4, extraTokens: ext };
  const q = cfg.s0 ** 2;
  const rVar = cfg.s1 ** 2 * cfg.m1;
  const Z_MAX = 5;

  /** max |z| of every state entry against its Wishart moments (as in wishart.test.ts), over all 4 tokens. */
  function stateMaxZ(states: Float64Array[], mm: number): number {
    const checks: [number, number, number][] = [];
    for (let b = 0; b < k; b++) {
      for (let a = 0; a < k; a++) {
        const diag = a === b;
        checks.push([lay.S + b * k + a, 0, mm * q * q]);
        for (const off of [lay.A, lay.B, lay.C]) checks.push([off + b * k + a, diag ? mm * q : 0, mm * q * q * (diag ? 2 : 1)]);
      }
      checks.push([lay.u + b, 0, mm * q * rVar]);
    }
    checks.push([lay.s, mm * rVar, 2 * mm * rVar * rVar]);
    let worst = 0;
    for (const [off, mean, variance] of checks) {
      const z = momentZ(states.map((y) => y[off]), mean, variance);
      worst = Math.max(worst, Math.abs(z.mean), Math.abs(z.variance));
    }
    return worst;
  }

  test('tracked set and layout', () => {
    const idx = tokenIndex(tiny, ext);
    expect(Array.from(idx.globalOf)).toEqual([0, 1, 3, 4]);
    expect(sampleGramState({ ...cfg, m: 5, seed: 1 }).length).toBe(lay.size);
  });

  for (const [mm, method, label] of [
    [3, undefined, 'auto -> direct, m < p0'],
    [9, undefined, 'auto -> Bartlett, p0 <= m < p: rank-deficient on the extra columns'],
    [9, 'direct', 'direct, p0 <= m < p'],
    [20, undefined, 'auto -> Bartlett, m >= p'],
  ] as const) {
    test(`Wishart moments of every entry, extra block included (${label}, m = ${mm})`, () => {
      const states = Array.from({ length: 3000 }, (_, seed) => sampleGramState({ ...cfg, m: mm, seed, method }));
      const maxZ = stateMaxZ(states, mm);
      expect(maxZ).toBeLessThan(Z_MAX);
      // negative control: one degree of freedom more is detected
      expect(stateMaxZ(states, mm + 1)).toBeGreaterThan(Z_MAX);
      // the extra block's A diagonal in particular: mean s0^2 m within sampling error
      for (const t of [2, 3]) {
        const xs = states.map((y) => y[lay.A + t * k + t]);
        const z = momentZ(xs, mm * q, 2 * mm * q * q);
        expect(Math.abs(z.mean)).toBeLessThan(Z_MAX);
      }
    });
  }

  /** Eigenvalues of a symmetric n x n matrix (cyclic Jacobi; n <= 8 here). */
  function symEig(M: Float64Array, n: number): number[] {
    const a = M.slice();
    for (let sweep = 0; sweep < 100; sweep++) {
      let off = 0;
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off += a[i * n + j] ** 2;
      if (off < 1e-30) break;
      for (let p = 0; p < n; p++) {
        for (let r = p + 1; r < n; r++) {
          const apr = a[p * n + r];
          if (apr === 0) continue;
          const theta = (a[r * n + r] - a[p * n + p]) / (2 * apr);
          const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
          const c = 1 / Math.sqrt(t * t + 1);
          const sn = t * c;
          for (let kk = 0; kk < n; kk++) {
            const akp = a[kk * n + p];
            const akr = a[kk * n + r];
            a[kk * n + p] = c * akp - sn * akr;
            a[kk * n + r] = sn * akp + c * akr;
          }
          for (let kk = 0; kk < n; kk++) {
            const apk = a[p * n + kk];
            const ark = a[r * n + kk];
            a[p * n + kk] = c * apk - sn * ark;
            a[r * n + kk] = sn * apk + c * ark;
          }
        }
      }
    }
    return Array.from({ length: n }, (_, i) => a[i * n + i]).sort((x, z) => z - x);
  }

  /** Numerical rank and smallest eigenvalue (relative to the largest) of a PSD candidate. */
  function rankOf(M: Float64Array, n: number): { rank: number; minRel: number } {
    const ev = symEig(M, n);
    return { rank: ev.filter((v) => v > 1e-9 * ev[0]).length, minRel: ev[n - 1] / ev[0] };
  }

  test('joint structure: the Gram matrices of [Q K] and [V r] are PSD with rank min(m, columns), extra tokens included', () => {
    // [Q K]^T [Q K] = [[A, S^T], [S, B]] (8 x 8) and [V r]^T [V r] = [[C, u], [u^T, s]] (5 x 5);
    // moments alone would not see cross entries drawn from the wrong columns, a rank would.
    for (const [mm, method] of [
      [3, undefined],
      [7, undefined], // Bartlett with p0 = 7 <= m < p = 13: rank 7 < 8 on [Q K]
      [7, 'direct'],
      [9, undefined],
      [20, undefined],
    ] as const) {
      for (let seed = 0; seed < 100; seed++) {
        const y = sampleGramState({ ...cfg, m: mm, seed, method });
        const QK = new Float64Array(64);
        for (let b = 0; b < k; b++) {
          for (let a = 0; a < k; a++) {
            QK[b * 8 + a] = y[lay.A + b * k + a];
            QK[(k + b) * 8 + k + a] = y[lay.B + b * k + a];
            QK[(k + b) * 8 + a] = y[lay.S + b * k + a]; // K_b . Q_a
            QK[a * 8 + k + b] = y[lay.S + b * k + a];
          }
        }
        const Vr = new Float64Array(25);
        for (let b = 0; b < k; b++) {
          for (let a = 0; a < k; a++) Vr[b * 5 + a] = y[lay.C + b * k + a];
          Vr[b * 5 + 4] = y[lay.u + b];
          Vr[4 * 5 + b] = y[lay.u + b];
        }
        Vr[24] = y[lay.s];
        const qk = rankOf(QK, 8);
        const vr = rankOf(Vr, 5);
        const label = `m = ${mm}, ${method ?? 'auto'}, seed ${seed}`;
        expect(qk.minRel, label).toBeGreaterThan(-1e-12);
        expect(vr.minRel, label).toBeGreaterThan(-1e-12);
        expect(qk.rank, label).toBe(Math.min(mm, 8));
        expect(vr.rank, label).toBe(Math.min(mm, 5));
      }
    }
  });

  test('rank-deficient Bartlett and direct agree in distribution on the extra block (two-sample KS, m = 9 < p = 13)', () => {
    const N = 2000;
    const stats: [string, (y: Float64Array) => number][] = [
      ['A22', (y) => y[lay.A + 2 * k + 2]],
      ['A33', (y) => y[lay.A + 3 * k + 3]],
      ['A23', (y) => y[lay.A + 2 * k + 3]],
      ['S02', (y) => y[lay.S + 0 * k + 2]],
      ['S32', (y) => y[lay.S + 3 * k + 2]],
      ['C33', (y) => y[lay.C + 3 * k + 3]],
      ['B13', (y) => y[lay.B + 1 * k + 3]],
      ['u3', (y) => y[lay.u + 3]],
      ['trA+trB+trC', (y) => [lay.A, lay.B, lay.C].reduce((s, off) => s + y[off] + y[off + 5] + y[off + 10] + y[off + 15], 0)],
    ];
    const draw = (method: 'bartlett' | 'direct', mm: number, base: number): Float64Array[] =>
      Array.from({ length: N }, (_, i) => sampleGramState({ ...cfg, m: mm, seed: base + i, method }));
    const bart = draw('bartlett', 9, 0);
    const dir = draw('direct', 9, 100000);
    // ks2 needs finite values (a NaN would stall its merge), so check them first
    for (const [name, f] of stats) expect([...bart, ...dir].every((y) => Number.isFinite(f(y))), name).toBe(true);
    const crit = ksCritical001(N, N);
    for (const [name, f] of stats) expect(ks2(bart.map(f), dir.map(f)), name).toBeLessThan(crit);
    // negative control: two more degrees of freedom are detected
    const dir11 = draw('direct', 11, 200000);
    expect(Math.max(...stats.map(([, f]) => ks2(bart.map(f), dir11.map(f))))).toBeGreaterThan(crit);
  });

  test('the mean state is A = B = C = s0^2 m I, S = 0, u = 0, s = s1^2 m1 m on all tracked tokens', () => {
    const mm = 9;
    const y = meanGramState({ ...cfg, m: mm });
    expect(y.length).toBe(lay.size);
    for (let b = 0; b < k; b++) {
      for (let a = 0; a < k; a++) {
        expect(y[lay.S + b * k + a]).toBe(0);
        for (const off of [lay.A, lay.B, lay.C]) expect(y[off + b * k + a]).toBe(a === b ? cfg.s0 * cfg.s0 * mm : 0);
      }
      expect(y[lay.u + b]).toBe(0);
    }
    expect(y[lay.s]).toBe(cfg.s1 * cfg.s1 * cfg.m1 * mm);
  });

  test('Bartlett still needs m >= 3 k0 + 1 for the training tokens', () => {
    expect(() => sampleGramState({ ...cfg, m: 6, seed: 1, method: 'bartlett' })).toThrow(/m >= p = 7/);
  });
});

/**
 * The generated Level G field and GD map (kernel calls, src/gram/kernels.ts) give the same bits
 * as the scalar loops they replaced (./scalarReference.ts), for odd and even k, tokens repeated
 * inside samples, tracked extra tokens (empty rows and columns of Gam), k above the kernels'
 * tile edge, states whose A, B, C are not bitwise symmetric, exact zeros of both signs, and
 * outputs that start out dirty.
 */
import { describe, expect, test } from 'vitest';
import { Dataset } from '../../src/data/dataset.js';
import { generateDataset } from '../../src/data/generate.js';
import { GramModel, GramModelOptions } from '../../src/gram/flow.js';
import { liftParams } from '../../src/gram/lift.js';
import { tokenIndex } from '../../src/gram/layout.js';
import { initParams } from '../../src/model/init.js';
import { firstDiff, lcg, repeatedTokenDataset } from './helpers.js';
import { scalarField, scalarGdMap, ScalarWorkspace } from './scalarReference.js';



/** Gam's nonzero list as GramModel builds it: pairs (key b, query a) of one sample, b-major. */
function nonzeroList(data: Dataset, opts: GramModelOptions): { nzRow: Int32Array; nzCol: Int32Array; nnz: number } {
  const { k, sampleLocal } = tokenIndex(data, opts.extraTokens);
  const mark = new Uint8Array(k * k);
  for (let i = 0; i < data.n; i++) {
    for (let p = 0; p < data.L; p++) for (let l = 0; l < data.L; l++) mark[sampleLocal[i * data.L + p] * k + sampleLocal[i * data.L + l]] = 1;
  }
  const rows: number[] = [];
  const cols: number[] = [];
  for (let b = 0; b < k; b++) {
    for (let a = 0; a < k; a++) {
      if (mark[b * k + a]) {
        rows.push(b);
        cols.push(a);
      }
    }
  }
  return { nzRow: Int32Array.from(rows), nzCol: Int32Array.from(cols), nnz: rows.length };
}

interface Case {
  name: string;
  data: Dataset;
  m: number;
  m1: number;
  opts: GramModelOptions;
}

const cases: Case[] = [
  { name: 'distinct fillers', data: generateDataset({ n: 12, L: 5, d: 40, seed: 3, fillers: 'distinct' }), m: 8, m1: 6, opts: {} },
  { name: 'tokens repeated inside samples (k = 9)', data: repeatedTokenDataset(), m: 6, m1: 4, opts: {} },
  { name: 'repeated fillers + extra tokens', data: generateDataset({ n: 18, L: 4, d: 30, seed: 4, fillers: 'repeat' }), m: 5, m1: 7, opts: { extraTokens: [29, 28, 27, 0] } },
  { name: 'k above the tile edge', data: generateDataset({ n: 30, L: 6, d: 300, seed: 5, fillers: 'distinct' }), m: 10, m1: 8, opts: { extraTokens: [299] } },
];

/** Lifted weights (exactly symmetric A, B, C) and arbitrary arrays (not symmetric, signed zeros). */
function states(c: Case, model: GramModel): Float64Array[] {
  const lifted = liftParams(initParams({ m: c.m, m1: c.m1, d: c.data.d, s0: 0.6, s1: 0.5, seed: 7 }), c.data, c.opts.extraTokens);
  const rnd = lcg(model.k);
  const arbitrary = new Float64Array(model.size).map(() => {
    const r = rnd();
    return r < 0.03 ? 0 : r < 0.06 ? -0 : 2 * r - 1;
  });
  arbitrary[model.layout.s] = 1.5;
  return [lifted, arbitrary];
}

describe('generated Level G code = the scalar loops, bit for bit', () => {
  for (const c of cases) {
    test(c.name, () => {
      const model = new GramModel(c.data, c.m, c.m1, c.opts);
      const k = model.k;
      const list = nonzeroList(c.data, c.opts);
      expect(list.nnz).toBe(model.gamNonzeros);
      for (const y of states(c, model)) {
        expect(y.length).toBe(model.size);
        const { Gam, gu } = model.gramGrad(y);
        const w: ScalarWorkspace = { k, m1: c.m1, Gam, gu, ...list, T1: new Float64Array(k * k), T2: new Float64Array(k * k) };

        const ref = new Float64Array(model.size);
        scalarField(w, y, ref);
        const got = new Float64Array(model.size).fill(NaN);
        model.field(0, y, got);
        expect(firstDiff(got, ref)).toBe(-1);

        for (const eta of [0.05, -1.5, 3]) {
          scalarGdMap(w, eta, y, ref);
          got.fill(-7);
          model.gdStep(eta, y, got);
          expect(firstDiff(got, ref)).toBe(-1);
        }
      }
    });
  }
});

/** The kernels of a model (private; the tests check which path an evaluation took). */
function kernelsOf(model: GramModel): { state: number; mem: Float64Array } {
  return (model as unknown as { w: { km: { state: number; mem: Float64Array } } }).w.km;
}

describe('in place: the state and the derivative in a StageMemory hosted in the kernels\' memory give the same bits', () => {
  for (const c of cases) {
    test(c.name, () => {
      const model = new GramModel(c.data, c.m, c.m1, { ...c.opts, solverVectors: 4 });
      const k = model.k;
      const list = nonzeroList(c.data, c.opts);
      const hosted = model.stageMemory(4)!;
      expect(hosted).toBeDefined();
      expect(model.stageMemory(5)).toBeUndefined();
      const [yIn, outIn, other] = [hosted.take(), hosted.take(), hosted.take()];
      const km = kernelsOf(model);
      expect(yIn.buffer === km.mem.buffer).toBe(true);
      for (const y of states(c, model)) {
        const { Gam, gu } = model.gramGrad(y);
        const w: ScalarWorkspace = { k, m1: c.m1, Gam, gu, ...list, T1: new Float64Array(k * k), T2: new Float64Array(k * k) };
        const ref = new Float64Array(model.size);
        scalarField(w, y, ref);

        // both in the memory: the kernels read yIn itself (no copy) and build the blocks in outIn
        yIn.set(y);
        outIn.fill(NaN);
        model.field(0, yIn, outIn);
        expect(km.state).toBe(yIn.byteOffset / 8);
        expect(firstDiff(outIn, ref)).toBe(-1);
        expect(firstDiff(yIn, y)).toBe(-1);

        // only one of them in the memory
        const plainOut = new Float64Array(model.size).fill(NaN);
        model.field(0, yIn, plainOut);
        expect(firstDiff(plainOut, ref)).toBe(-1);
        other.fill(-3);
        model.field(0, y, other);
        expect(firstDiff(other, ref)).toBe(-1);

        // out must not overlap y (the field reads y while writing out)
        expect(() => model.field(0, yIn, yIn)).toThrow(/different buffer/);
        expect(() => model.field(0, yIn, new Float64Array(yIn.buffer, yIn.byteOffset + 8, model.size))).toThrow(/different buffer/);

        for (const eta of [0.05, -1.5]) {
          scalarGdMap(w, eta, y, ref);
          yIn.set(y);
          outIn.fill(-7);
          model.gdStep(eta, yIn, outIn);
          expect(firstDiff(outIn, ref)).toBe(-1);
        }
      }
    });
  }

  test('released: the memory goes to the next model of this size, zeroed, and the old model refuses to run', () => {
    const c = cases[0];
    const a = new GramModel(c.data, c.m, c.m1, { solverVectors: 13 });
    const y = states(c, a)[0];
    const v = a.stageMemory(13)!.take();
    v.set(y);
    const dy = new Float64Array(a.size);
    a.field(0, v, dy);
    const memA = kernelsOf(a).mem.buffer;
    a.release();
    expect(() => a.field(0, y, dy)).toThrow(/after release/);
    const b = new GramModel(c.data, c.m, c.m1, { solverVectors: 13 });
    const kb = kernelsOf(b);
    // the same pages (the allocator's released memory), every byte zero again
    expect(kb.mem.buffer === memA).toBe(true);
    expect(kb.mem.every((x) => Object.is(x, 0))).toBe(true);
    const again = new Float64Array(b.size);
    const w = b.stageMemory(13)!.take();
    w.set(y);
    b.field(0, w, again);
    expect(firstDiff(again, dy)).toBe(-1);
  });
});

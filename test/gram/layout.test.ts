import { describe, expect, test } from 'vitest';
import { generateDataset } from '../../src/data/generate.js';
import { UsageError } from '../../src/errors.js';
import { GramModel } from '../../src/gram/flow.js';
import { gramLayout, tokenIndex } from '../../src/gram/layout.js';
import { meanGramState } from '../../src/gram/wishart.js';
import { repeatedTokenDataset } from './helpers.js';

describe('layout and token index', () => {
  test('block offsets follow S, A, B, C, u, s', () => {
    expect(gramLayout(3)).toEqual({ k: 3, size: 4 * 9 + 3 + 1, S: 0, A: 9, B: 18, C: 27, u: 36, s: 39 });
    expect(() => gramLayout(0)).toThrow(UsageError);
  });

  test('local order is ascending vocabulary id; absent tokens map to -1', () => {
    const data = repeatedTokenDataset();
    const idx = tokenIndex(data);
    expect(Array.from(idx.globalOf)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(idx.k).toBe(9);
    expect(Array.from(idx.localOf.subarray(9))).toEqual([-1, -1, -1]);
    for (let i = 0; i < data.tokens.length; i++) expect(idx.globalOf[idx.sampleLocal[i]]).toBe(data.tokens[i]);
  });

  test('a data set with gaps in the vocabulary: mu_1..mu_3 are local 0..2, fillers compacted', () => {
    const data = generateDataset({ n: 6, L: 4, d: 200, seed: 2, fillers: 'distinct' });
    const idx = tokenIndex(data);
    const distinct = [...new Set(data.tokens)].sort((a, b) => a - b);
    expect(Array.from(idx.globalOf)).toEqual(distinct);
    expect(idx.localOf[0]).toBe(0);
    expect(idx.localOf[2]).toBe(2);
    for (let t = 0; t < data.d; t++) expect(idx.localOf[t] >= 0).toBe(distinct.includes(t));
  });

  test('bad input is refused with a UsageError naming the field', () => {
    const good = repeatedTokenDataset();
    expect(() => tokenIndex({ ...good, tokens: Int32Array.from(good.tokens, (t) => (t === 8 ? 12 : t)) })).toThrow(/data.tokens\[\d+\] = 12/);
    expect(() => tokenIndex({ ...good, y: good.y.map(() => 0) })).toThrow(/data.y\[0\]/);
    expect(() => tokenIndex({ ...good, tokens: good.tokens.subarray(1) })).toThrow(/data.tokens has length/);
    expect(() => new GramModel(good, 0, 3)).toThrow(/^m must be/);
    expect(() => new GramModel(good, 3, 1.5)).toThrow(/^m1 must be/);
    const model = new GramModel(good, 3, 2);
    expect(() => model.loss(new Float64Array(5))).toThrow(UsageError);
    expect(() => meanGramState({ data: good, m: 3, m1: 2, s0: -1, s1: 1 })).toThrow(/s0/);
  });

  test('Gam pattern = pairs of tokens sharing a sample', () => {
    const data = repeatedTokenDataset();
    const model = new GramModel(data, 3, 2);
    const pairs = new Set<string>();
    for (let i = 0; i < data.n; i++) {
      for (let p = 0; p < data.L; p++) for (let l = 0; l < data.L; l++) pairs.add(`${data.tokens[i * data.L + p]},${data.tokens[i * data.L + l]}`);
    }
    expect(model.gamNonzeros).toBe(pairs.size);
  });
});

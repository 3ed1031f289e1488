import { describe, expect, it } from 'vitest';
import { fillerSlots, generateDataset, typeCounts } from '../../src/data/generate.js';
import { UsageError } from '../../src/errors.js';

/** |I1|, |I2|, |I3|, |I4| for n samples in exact proportions 1/2, 1/6, 1/6, 1/6 (Def. 2.1, Assumption 2.3), written out. */
const LITERAL_COUNTS: Record<number, number[]> = {
  6: [3, 1, 1, 1],
  24: [12, 4, 4, 4],
  60: [30, 10, 10, 10],
  240: [120, 40, 40, 40],
};

function sampleTokens(data: ReturnType<typeof generateDataset>, i: number): number[] {
  return Array.from(data.tokens.subarray(i * data.L, (i + 1) * data.L));
}

describe('generateDataset (paper Def. 2.1, Assumption 2.3)', () => {
  it('has exact type proportions, labels = AND of the two targets, mu_3 exactly once per sample', () => {
    for (const [n, L] of [[6, 3], [60, 5], [24, 6]]) {
      const d = 3 + fillerSlots(n, L);
      const data = generateDataset({ n, L, d, seed: 7, fillers: 'distinct' });
      const counts = [0, 0, 0, 0];
      for (let i = 0; i < n; i++) {
        const toks = sampleTokens(data, i);
        const has1 = toks.includes(0);
        const has2 = toks.includes(1);
        counts[data.type[i] - 1]++;
        // The label is the logical AND of "mu_1 present" and "mu_2 present".
        expect(data.y[i]).toBe(has1 && has2 ? 1 : -1);
        const expectedType = has1 && has2 ? 1 : has1 ? 2 : has2 ? 3 : 4;
        expect(data.type[i]).toBe(expectedType);
        for (const special of [0, 1, 2]) expect(toks.filter((t) => t === special).length).toBeLessThanOrEqual(1);
        expect(toks.filter((t) => t === 2).length).toBe(1);
      }
      // Def. 2.1 with exact proportions 1/2, 1/6, 1/6, 1/6, as literal numbers (not the formula)
      expect(counts).toEqual(LITERAL_COUNTS[n]);
    }
  });

  it('type counts and filler slots are the literal numbers of Def. 2.1 / App. A (negative control: one sample relabelled)', () => {
    // paper App. A: n = 60 as 30 / 10 / 10 / 10 with 160 filler slots; the presets' sizes too
    const slots: Record<string, number> = { '6,3': 4, '60,5': 160, '24,6': 88, '240,6': 880 };
    let checked = 0;
    for (const [key, want] of Object.entries(slots)) {
      const [n, L] = key.split(',').map(Number);
      expect(typeCounts(n)).toEqual(LITERAL_COUNTS[n]);
      expect(fillerSlots(n, L)).toBe(want);
      const data = generateDataset({ n, L, d: 3 + want, seed: 2, fillers: 'distinct' });
      const counts = [1, 2, 3, 4].map((t) => data.type.filter((x) => x === t).length);
      expect(counts).toEqual(LITERAL_COUNTS[n]);
      // samples come in blocks I1, I2, I3, I4
      expect(Array.from(data.type)).toEqual(LITERAL_COUNTS[n].flatMap((c, t) => Array<number>(c).fill(t + 1)));
      // the filler slots of the set: every token that is not mu_1..mu_3
      expect(Array.from(data.tokens).filter((x) => x >= 3).length).toBe(want);
      // negative control: one I3 sample counted as I2 no longer matches
      const moved = Int32Array.from(data.type);
      moved[LITERAL_COUNTS[n][0] + LITERAL_COUNTS[n][1]] = 2;
      expect([1, 2, 3, 4].map((t) => moved.filter((x) => x === t).length)).not.toEqual(LITERAL_COUNTS[n]);
      checked++;
    }
    expect(checked).toBe(4);
  });

  it('distinct mode uses every filler token at most once in the whole set (and all of them when d is tight)', () => {
    const n = 60;
    const L = 5;
    const slots = fillerSlots(n, L);
    expect(slots).toBe(160); // the paper's App. A set has 160 filler slots (paper App. A: n = 60, L = 5)
    const data = generateDataset({ n, L, d: 3 + slots, seed: 1, fillers: 'distinct' });
    const fillers = Array.from(data.tokens).filter((t) => t >= 3);
    expect(fillers.length).toBe(slots);
    expect(new Set(fillers).size).toBe(slots);
  });

  it('repeat mode (the paper experiment, d = 64) repeats fillers across samples but never within one', () => {
    const data = generateDataset({ n: 60, L: 5, d: 64, seed: 0, fillers: 'repeat' });
    const fillers = Array.from(data.tokens).filter((t) => t >= 3);
    expect(fillers.length).toBe(160);
    expect(new Set(fillers).size).toBeLessThanOrEqual(61);
    for (let i = 0; i < data.n; i++) {
      const toks = sampleTokens(data, i);
      expect(new Set(toks).size).toBe(data.L);
      for (const t of toks) expect(t >= 0 && t < 64).toBe(true);
    }
  });

  it('is deterministic in the seed and changes with it', () => {
    const a = generateDataset({ n: 12, L: 4, d: 40, seed: 3, fillers: 'distinct' });
    const b = generateDataset({ n: 12, L: 4, d: 40, seed: 3, fillers: 'distinct' });
    const c = generateDataset({ n: 12, L: 4, d: 40, seed: 4, fillers: 'distinct' });
    expect(Array.from(a.tokens)).toEqual(Array.from(b.tokens));
    expect(Array.from(a.tokens)).not.toEqual(Array.from(c.tokens));
  });

  it('places mu_3 uniformly over positions (chi-square over many samples)', () => {
    const L = 5;
    const data = generateDataset({ n: 6000, L, d: 64, seed: 11, fillers: 'repeat' });
    const counts = new Array(L).fill(0);
    for (let i = 0; i < data.n; i++) counts[sampleTokens(data, i).indexOf(2)]++;
    const expected = data.n / L;
    const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
    // chi-square with 4 degrees of freedom: P(chi2 > 18.47) = 0.001
    expect(chi2).toBeLessThan(18.47);
  });

  it('rejects sets that cannot be built, naming the field', () => {
    expect(() => generateDataset({ n: 10, L: 5, d: 64, seed: 0, fillers: 'repeat' })).toThrow(/n must be a multiple of 6/);
    expect(() => generateDataset({ n: 60, L: 5, d: 64, seed: 0, fillers: 'distinct' })).toThrow(/d >= 163/);
    expect(() => generateDataset({ n: 6, L: 2, d: 64, seed: 0, fillers: 'repeat' })).toThrow(/L must be an integer >= 3/);
    expect(() => generateDataset({ n: 6, L: 8, d: 9, seed: 0, fillers: 'repeat' })).toThrow(UsageError);
  });
});

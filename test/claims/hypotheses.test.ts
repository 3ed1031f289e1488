import { describe, expect, it } from 'vitest';
import { evaluateHypotheses, HYPOTHESIS_IDS, Hypothesis, HypothesisId, HypothesisInput, SMALL_F0_MAX } from '../../src/claims/hypotheses.js';
import type { Dataset } from '../../src/data/dataset.js';
import { generateDataset } from '../../src/data/generate.js';

// A configuration that meets every hypothesis: n = 36 = L^2, m = max(m1, L^2) exactly,
// the Condition 1 scales exactly, distinct fillers, exact proportions, dopri5.
const L = 6;
const n = 36;
const m = 64;
const m1 = 64;
const d = 3 + (n * (3 * L - 7)) / 3;

function baseInput(): HypothesisInput {
  return {
    settings: { n, L, d, m, m1, s0: 1 / Math.sqrt(L * m), s1: 1 / Math.sqrt(m1), method: 'dopri5', fillers: 'distinct' },
    data: generateDataset({ n, L, d, seed: 0, fillers: 'distinct' }),
    maxAbsF0: 0.001,
  };
}

function get(hs: Hypothesis[], id: HypothesisId): Hypothesis {
  const h = hs.find((x) => x.id === id);
  if (!h) throw new Error(`missing ${id}`);
  return h;
}

function holds(input: HypothesisInput, id: HypothesisId): boolean {
  return get(evaluateHypotheses(input), id).holds;
}

function withSettings(patch: Partial<HypothesisInput['settings']>): HypothesisInput {
  const b = baseInput();
  return { ...b, settings: { ...b.settings, ...patch } };
}

function withData(data: Dataset): HypothesisInput {
  return { ...baseInput(), data };
}

describe('evaluateHypotheses', () => {
  it('returns every hypothesis once, in the order of HypothesisId, each with a statement and a measurement', () => {
    const hs = evaluateHypotheses(baseInput());
    expect(hs.map((h) => h.id)).toEqual([
      'condition1-m',
      'n-ge-L2',
      'distinct-fillers',
      'exact-proportions',
      'small-F0',
      'theory-scales',
      'gradient-flow',
    ]);
    expect(hs.map((h) => h.id)).toEqual([...HYPOTHESIS_IDS]);
    for (const h of hs) {
      expect(h.statement.length).toBeGreaterThan(10);
      expect(h.measured.length).toBeGreaterThan(3);
    }
  });

  it('the base configuration (all boundaries met with equality) meets every hypothesis', () => {
    const hs = evaluateHypotheses(baseInput());
    for (const h of hs) expect(h.holds, `${h.id}: ${h.measured}`).toBe(true);
  });

  it('condition1-m: m = max(m1, L^2) holds, one less breaks, for either term of the max', () => {
    expect(holds(withSettings({ m: 64, m1: 64 }), 'condition1-m')).toBe(true);
    expect(holds(withSettings({ m: 63, m1: 64 }), 'condition1-m')).toBe(false);
    expect(holds(withSettings({ m: 36, m1: 8 }), 'condition1-m')).toBe(true);
    expect(holds(withSettings({ m: 35, m1: 8 }), 'condition1-m')).toBe(false);
    // paper-fig1's widths: m = 128 < m1 = 256
    const h = get(evaluateHypotheses(withSettings({ m: 128, m1: 256, L: 5 })), 'condition1-m');
    expect(h.holds).toBe(false);
    expect(h.measured).toBe('m = 128, max(m1, L^2) = 256');
  });

  it('n-ge-L2: n = L^2 holds, n < L^2 breaks', () => {
    expect(holds(withSettings({ n: 36, L: 6 }), 'n-ge-L2')).toBe(true);
    expect(holds(withSettings({ n: 24, L: 6 }), 'n-ge-L2')).toBe(false);
    expect(holds(withSettings({ n: 35, L: 6 }), 'n-ge-L2')).toBe(false);
    expect(get(evaluateHypotheses(withSettings({ n: 24 })), 'n-ge-L2').measured).toBe('n = 24, L^2 = 36');
  });

  it('distinct-fillers: measured from the tokens; one repeated filler breaks it, whatever the flag says', () => {
    const data = baseInput().data;
    const tokens = data.tokens.slice();
    // find two filler slots in different samples and make the second a copy of the first
    const first = tokens.findIndex((t) => t >= 3);
    const second = tokens.findIndex((t, i) => t >= 3 && Math.floor(i / L) !== Math.floor(first / L));
    tokens[second] = tokens[first];
    const bad = withData({ ...data, tokens });
    expect(bad.settings.fillers).toBe('distinct');
    const h = get(evaluateHypotheses(bad), 'distinct-fillers');
    expect(h.holds).toBe(false);
    expect(h.measured).toMatch(/1 occurring more than once/);
    // the flag does not decide: distinct data with fillers = 'repeat' in the settings still holds
    const flagOnly = { ...baseInput(), settings: { ...baseInput().settings, fillers: 'repeat' } };
    expect(holds(flagOnly, 'distinct-fillers')).toBe(true);
    // a repeat-mode training set that actually repeats (paper App. A sizes) breaks it
    expect(holds(withData(generateDataset({ n: 60, L: 5, d: 64, seed: 0, fillers: 'repeat' })), 'distinct-fillers')).toBe(false);
  });

  it('distinct-fillers: mu_1, mu_2, mu_3 recur in every sample and do not count as fillers', () => {
    const data = baseInput().data;
    let common = 0;
    for (const t of data.tokens) if (t === 2) common++;
    expect(common).toBe(n);
    expect(holds(baseInput(), 'distinct-fillers')).toBe(true);
  });

  it('exact-proportions: measured from data.type; 31/9/10/10 breaks, 30/10/10/10 holds', () => {
    const data60 = generateDataset({ n: 60, L: 5, d: 64, seed: 0, fillers: 'repeat' });
    expect(holds(withData(data60), 'exact-proportions')).toBe(true);
    const type = data60.type.slice();
    const firstI2 = type.indexOf(2);
    type[firstI2] = 1; // 31/9/10/10
    const h = get(evaluateHypotheses(withData({ ...data60, type })), 'exact-proportions');
    expect(h.holds).toBe(false);
    expect(h.measured).toBe('|I1..I4| = 31/9/10/10 of n = 60');
    // I2 and I3 swapped in size: 30/11/9/10 breaks too
    const t2 = data60.type.slice();
    t2[t2.indexOf(3)] = 2;
    expect(holds(withData({ ...data60, type: t2 }), 'exact-proportions')).toBe(false);
    // an unknown type value breaks it
    const t3 = data60.type.slice();
    t3[0] = 5;
    expect(holds(withData({ ...data60, type: t3 }), 'exact-proportions')).toBe(false);
  });

  it('small-F0: 0.01 holds, 0.0100001 breaks, NaN breaks', () => {
    expect(SMALL_F0_MAX).toBe(0.01);
    expect(holds({ ...baseInput(), maxAbsF0: 0 }, 'small-F0')).toBe(true);
    expect(holds({ ...baseInput(), maxAbsF0: 0.01 }, 'small-F0')).toBe(true);
    expect(holds({ ...baseInput(), maxAbsF0: 0.0100001 }, 'small-F0')).toBe(false);
    expect(holds({ ...baseInput(), maxAbsF0: 23.5 }, 'small-F0')).toBe(false);
    expect(holds({ ...baseInput(), maxAbsF0: Number.NaN }, 'small-F0')).toBe(false);
    expect(get(evaluateHypotheses({ ...baseInput(), maxAbsF0: 23.5 }), 'small-F0').measured).toBe('max|F(0)| = 23.5');
  });

  it('theory-scales: s0 is an upper bound up to ln m; s1 sqrt(m1) is held to [1/ln m, ln m]', () => {
    const lnm = Math.log(m);
    const s0theory = 1 / Math.sqrt(L * m);
    const s1theory = 1 / Math.sqrt(m1);
    // much smaller s0 is fine (it only makes F(0) smaller)
    expect(holds(withSettings({ s0: s0theory / 100 }), 'theory-scales')).toBe(true);
    // s0 up to ln m times the theory scale holds, above it breaks
    expect(holds(withSettings({ s0: s0theory * lnm * 0.999 }), 'theory-scales')).toBe(true);
    expect(holds(withSettings({ s0: s0theory * lnm * 1.001 }), 'theory-scales')).toBe(false);
    // s1 inside the band on both sides holds, outside breaks on both sides
    expect(holds(withSettings({ s1: s1theory * lnm * 0.999 }), 'theory-scales')).toBe(true);
    expect(holds(withSettings({ s1: (s1theory / lnm) * 1.001 }), 'theory-scales')).toBe(true);
    expect(holds(withSettings({ s1: s1theory * lnm * 1.001 }), 'theory-scales')).toBe(false);
    expect(holds(withSettings({ s1: (s1theory / lnm) * 0.999 }), 'theory-scales')).toBe(false);
    // paper-fig1's Kaiming scales s0 = sqrt(2/64), s1 = sqrt(2/128) at m = 128, m1 = 256, L = 5 fall
    // inside the band (s0 sqrt(L m) = sqrt(20) = 4.47 <= ln 128 = 4.85, s1 sqrt(m1) = 2): its large
    // F(0) comes from the product of the scales, which small-F0 catches, not theory-scales
    expect(holds(withSettings({ m: 128, m1: 256, L: 5, s0: Math.sqrt(2 / 64), s1: Math.sqrt(2 / 128) }), 'theory-scales')).toBe(true);
    expect(holds(withSettings({ m: 128, m1: 256, L: 5, s0: Math.sqrt(2 / 48), s1: Math.sqrt(2 / 128) }), 'theory-scales')).toBe(false);
    // the log factor is floored at 1 for tiny m: m = 2 allows s0 sqrt(L m) = 1 exactly
    expect(holds(withSettings({ m: 2, s0: 1 / Math.sqrt(L * 2), s1: s1theory }), 'theory-scales')).toBe(true);
  });

  it('gradient-flow: dopri5 and odex hold, gd breaks', () => {
    expect(holds(withSettings({ method: 'dopri5' }), 'gradient-flow')).toBe(true);
    expect(holds(withSettings({ method: 'odex' }), 'gradient-flow')).toBe(true);
    expect(holds(withSettings({ method: 'gd' }), 'gradient-flow')).toBe(false);
  });

  it('each hypothesis breaks independently of the others', () => {
    const breakers: [HypothesisId, HypothesisInput][] = [
      ['condition1-m', withSettings({ m: 63 })],
      ['n-ge-L2', withSettings({ n: 30 })],
      ['small-F0', { ...baseInput(), maxAbsF0: 0.5 }],
      ['theory-scales', withSettings({ s1: 1 })],
      ['gradient-flow', withSettings({ method: 'gd' })],
    ];
    for (const [id, input] of breakers) {
      const broken = evaluateHypotheses(input).filter((h) => !h.holds).map((h) => h.id);
      expect(broken, id).toEqual([id]);
    }
  });
});

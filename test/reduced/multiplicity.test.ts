/**
 * Oracle: brute-force enumeration. For every target orbit O, every pair (b, a) in O and every
 * token c, classify (b, c) and (c, a) by the data set's own orbit map and count; the derived
 * symbolic multiplicities N(O; O1, O2), evaluated at (n, L), must equal these counts exactly,
 * for EVERY pair of O (which also checks that the count does not depend on the representative).
 */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import {
  NUM_CLASSES,
  NUM_ORDERED,
  classSize,
  datasetOrbits,
  deriveMatVecTerms,
  deriveProductTerms,
  evaluateCount,
  orbitSize,
  type ProductTerm,
} from '../../src/reduced/index.js';
import { conformingData, customData } from './helpers.js';
import { generateDataset } from '../../src/data/generate.js';

const SIZES: [number, number][] = [
  [6, 3],
  [6, 4],
  [12, 5],
  [18, 4],
  [24, 6],
  [12, 8],
];

/** Number of mismatches between derived product counts and enumeration on one data set. */
function productMismatches(n: number, L: number, terms: readonly ProductTerm[]): number {
  const data = conformingData(n, L, n + L);
  const { k, pairOrbit } = datasetOrbits(data);
  // derived[target][left * NUM_ORDERED + right]
  const derived = new Map<number, Map<number, number>>();
  for (const t of terms) {
    const v = evaluateCount(t.count, n, L);
    const row = derived.get(t.target) ?? new Map<number, number>();
    row.set(t.left * NUM_ORDERED + t.right, (row.get(t.left * NUM_ORDERED + t.right) ?? 0) + v);
    derived.set(t.target, row);
  }
  let mismatches = 0;
  const counts = new Map<number, number>();
  for (let b = 0; b < k; b++) {
    for (let a = 0; a < k; a++) {
      counts.clear();
      for (let c = 0; c < k; c++) {
        const key = pairOrbit[b * k + c] * NUM_ORDERED + pairOrbit[c * k + a];
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      const row = derived.get(pairOrbit[b * k + a]) ?? new Map<number, number>();
      for (const [key, v] of counts) if (row.get(key) !== v) mismatches++;
      // Derived terms that enumeration never produced must evaluate to 0.
      for (const [key, v] of row) if (!counts.has(key) && v !== 0) mismatches++;
    }
  }
  return mismatches;
}

describe('multiplicities of the orbit-form matrix product', () => {
  for (const [n, L] of SIZES) {
    it(`equal enumeration for every pair at n=${n}, L=${L}`, () => {
      expect(productMismatches(n, L, deriveProductTerms())).toBe(0);
    });
  }

  it('negative control: one wrong count is caught', () => {
    const terms = deriveProductTerms();
    // Replace (N_t - 2) F_t of the "third sample" term by N_t F_t in one target only.
    const idx = terms.findIndex((t) => t.count.some((f) => f.base === 'N' && f.minus === 2));
    expect(idx).toBeGreaterThanOrEqual(0);
    const broken = terms.map((t, i) => (i === idx ? { ...t, count: t.count.map((f) => ({ ...f, minus: 0 })) } : t));
    expect(productMismatches(12, 5, broken)).toBeGreaterThan(0);
  });

  it('matrix-vector counts, class sizes and orbit sizes equal enumeration', () => {
    for (const [n, L] of SIZES) {
      const data = conformingData(n, L, 3);
      const { k, pairOrbit, tokenClass } = datasetOrbits(data);
      const classCount = new Array(NUM_CLASSES).fill(0);
      for (let b = 0; b < k; b++) classCount[tokenClass[b]]++;
      for (let c = 0; c < NUM_CLASSES; c++) expect(evaluateCount(classSize(c), n, L)).toBe(classCount[c]);
      const orbitCount = new Array(NUM_ORDERED).fill(0);
      for (let i = 0; i < k * k; i++) orbitCount[pairOrbit[i]]++;
      for (let o = 0; o < NUM_ORDERED; o++) expect(evaluateCount(orbitSize(o), n, L)).toBe(orbitCount[o]);
      const mv = deriveMatVecTerms();
      for (let a = 0; a < k; a++) {
        // (X v)[a] = sum_c X[a, c] v[c]: count c by (orbit of (a, c), class of c).
        const got = new Map<string, number>();
        for (let c = 0; c < k; c++) {
          const key = `${pairOrbit[a * k + c]}:${tokenClass[c]}`;
          got.set(key, (got.get(key) ?? 0) + 1);
        }
        for (const t of mv.filter((t) => t.targetClass === tokenClass[a])) {
          expect(evaluateCount(t.count, n, L)).toBe(got.get(`${t.orbit}:${t.sumClass}`) ?? 0);
        }
      }
    }
  });
});

describe('datasetOrbits', () => {
  it('rejects sets that are not theory-conforming', () => {
    // Fillers repeat across samples (the paper's own Figure-1 set is like this).
    const repeat = generateDataset({ n: 12, L: 5, d: 20, seed: 1, fillers: 'repeat' });
    expect(() => datasetOrbits(repeat)).toThrow(UsageError);
    expect(() => datasetOrbits(repeat)).toThrow(/filler token/);
    // Unequal I2 / I3 counts.
    expect(() => datasetOrbits(customData([6, 3, 1, 2], 5))).toThrow(/type I2/);
  });

  it('classes and samples match the data set', () => {
    const data = conformingData(12, 5);
    const { k, tokenIds, tokenClass, tokenSample } = datasetOrbits(data);
    expect(k).toBe(3 + 6 * 2 + 2 * 3 * 2 + 2 * 4);
    for (let j = 3; j < k; j++) {
      const i = tokenSample[j];
      expect(Array.from(data.tokens.subarray(i * 5, i * 5 + 5))).toContain(tokenIds[j]);
      expect(tokenClass[j]).toBe(2 + data.type[i]);
    }
  });
});

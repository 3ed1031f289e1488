/**
 * evaluateCount (plain TypeScript, src/reduced/derive.ts) against mathjs evaluating the count's
 * own expression (countExpr), for every count the type-level system uses (class and orbit sizes,
 * the product and matrix-vector terms), at valid and edge sizes: the same integers.
 */
import { parse } from 'mathjs';
import { describe, expect, test } from 'vitest';
import { classSize, countExpr, deriveMatVecTerms, deriveProductTerms, evaluateCount, orbitSize, type SymCount } from '../../src/reduced/derive.js';
import { NUM_CLASSES, NUM_ORDERED } from '../../src/reduced/orbits.js';

function viaMathjs(c: SymCount, n: number, L: number): number {
  const v = parse(countExpr(c)).evaluate({ n, L }) as number;
  return Math.round(v) + 0;
}

const counts: SymCount[] = [
  ...Array.from({ length: NUM_CLASSES }, (_, c) => classSize(c)),
  ...Array.from({ length: NUM_ORDERED }, (_, o) => orbitSize(o)),
  ...deriveProductTerms().map((t) => t.count),
  ...deriveMatVecTerms().map((t) => t.count),
];

describe('evaluateCount equals mathjs on countExpr', () => {
  test('the system has counts with several factors (the comparison is not vacuous)', () => {
    expect(counts.length).toBeGreaterThan(100);
    expect(counts.some((c) => c.length >= 3)).toBe(true);
  });
  for (const [n, L] of [
    [6, 3],
    [6, 4],
    [12, 5],
    [60, 5],
    [240, 6],
    [600, 11],
  ]) {
    test(`n = ${n}, L = ${L}`, () => {
      for (const c of counts) expect(evaluateCount(c, n, L)).toBe(viaMathjs(c, n, L));
    });
  }
});

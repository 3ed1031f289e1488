/**
 * r = W^T a (src/model/gradient.ts) against the definition summed entry by entry, for row counts
 * that exercise the eight-row, four-row and one-row loops; and, with a = +-1 as in the model,
 * bit for bit against the four-row grouping the gradient's tests were written against.
 */
import { describe, expect, test } from 'vitest';
import { transposeTimesVector } from '../../src/model/gradient.js';
import { Rng } from '../../src/random/rng.js';

/** The four-row grouping: r[c] += a0 W0 + a1 W1 + a2 W2 + a3 W3, then one row at a time. */
function fourRows(W: Float64Array, rows: number, cols: number, a: Float64Array): Float64Array {
  const r = new Float64Array(cols);
  let j = 0;
  for (; j + 3 < rows; j += 4) {
    for (let c = 0; c < cols; c++) r[c] += a[j] * W[j * cols + c] + a[j + 1] * W[(j + 1) * cols + c] + a[j + 2] * W[(j + 2) * cols + c] + a[j + 3] * W[(j + 3) * cols + c];
  }
  for (; j < rows; j++) for (let c = 0; c < cols; c++) r[c] += a[j] * W[j * cols + c];
  return r;
}

describe('transposeTimesVector', () => {
  for (const rows of [1, 3, 4, 7, 8, 13, 16, 21, 256]) {
    test(`${rows} rows`, () => {
      const rng = new Rng(`ttv-${rows}`);
      const cols = 5;
      const W = rng.fillNormal(new Float64Array(rows * cols), 1);
      const a = Float64Array.from({ length: rows }, () => rng.sign());
      const r = new Float64Array(cols).fill(NaN); // must be overwritten
      transposeTimesVector(W, rows, cols, a, r);
      for (let c = 0; c < cols; c++) {
        let s = 0;
        for (let j = 0; j < rows; j++) s += a[j] * W[j * cols + c];
        expect(r[c]).toBeCloseTo(s, 12);
      }
      const ref = fourRows(W, rows, cols, a);
      for (let c = 0; c < cols; c++) expect(Object.is(r[c], ref[c])).toBe(true);
    });
  }
});

/**
 * conservedProbes against the definitions, formed here with plain loops: tr D1 = |W_Q|_F^2 -
 * |W_K|_F^2, v^T D1 v = |W_Q^T v|^2 - |W_K^T v|^2 (likewise D2 = W^T W - W_V W_V^T) on the
 * seeded probes, for row counts odd and even (the two-row loop and its one-row tail).
 */
import { describe, expect, test } from 'vitest';
import { CONSERVED_PROBES, conservedProbes, probeVectors } from '../../src/model/conserved.js';
import { Rng } from '../../src/random/rng.js';

/** [sum of squares, |X v_j|^2 for each probe] of a row-major X with `cols` columns, one entry at a time. */
function naive(X: Float64Array, cols: number, probes: Float64Array): number[] {
  const out = new Array<number>(CONSERVED_PROBES + 1).fill(0);
  for (let o = 0; o < X.length; o += cols) {
    for (let c = 0; c < cols; c++) out[0] += X[o + c] ** 2;
    for (let j = 0; j < CONSERVED_PROBES; j++) {
      let dot = 0;
      for (let c = 0; c < cols; c++) dot += X[o + c] * probes[j * cols + c];
      out[1 + j] += dot ** 2;
    }
  }
  return out;
}

describe('conservedProbes', () => {
  for (const [d, m, m1] of [
    [7, 5, 3],
    [8, 4, 6],
    [1, 3, 1],
  ]) {
    test(`d = ${d}, m = ${m}, m1 = ${m1}`, () => {
      const rng = new Rng(`conserved-${d}-${m}-${m1}`);
      const [tQ, tK, tV] = [0, 1, 2].map(() => rng.fillNormal(new Float64Array(d * m), 1));
      const W = rng.fillNormal(new Float64Array(m1 * m), 1);
      const probes = probeVectors(m);
      const [q, k, v, w] = [tQ, tK, tV, W].map((X) => naive(X, m, probes));
      const got = conservedProbes(tQ, tK, tV, W, m, m1);
      for (let j = 0; j <= CONSERVED_PROBES; j++) {
        // the code sums row by row, the oracle entry by entry: agreement to round-off
        expect(got.groups[0][j]).toBeCloseTo(q[j] - k[j], 12);
        expect(got.groups[1][j]).toBeCloseTo(w[j] - v[j], 12);
      }
      expect(got.scales[0]).toBeCloseTo(q[0] + k[0], 12);
      expect(got.scales[1]).toBeCloseTo(w[0] + v[0], 12);
    });
  }
});

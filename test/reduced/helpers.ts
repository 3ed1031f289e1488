/** Shared helpers of the Level T tests. */
import { Dataset } from '../../src/data/dataset.js';
import { fillerSlots, generateDataset } from '../../src/data/generate.js';
import { gramLayout } from '../../src/gram/layout.js';

/** A theory-conforming set (exact proportions, distinct fillers) from the project's generator. */
export function conformingData(n: number, L: number, seed = 1): Dataset {
  return generateDataset({ n, L, d: 3 + fillerSlots(n, L) + 7, seed, fillers: 'distinct' });
}

/** Theory scales (paper Condition 1): s0 = 1/sqrt(L m), s1 = 1/sqrt(m1). */
export function theoryScales(L: number, m: number, m1: number): { s0: number; s1: number } {
  return { s0: 1 / Math.sqrt(L * m), s1: 1 / Math.sqrt(m1) };
}

/**
 * Largest relative error over the Level G blocks S, A, B, C, u, s, each measured against the max
 * |entry| of the reference block (so the small S block is not hidden behind the large A block).
 * A block whose reference is exactly 0 is measured absolutely.
 */
export function blockRelErr(k: number, got: Float64Array, ref: Float64Array): number {
  const g = gramLayout(k);
  const bounds = [g.S, g.A, g.B, g.C, g.u, g.s, g.size];
  let worst = 0;
  for (let b = 0; b + 1 < bounds.length; b++) {
    let scale = 0;
    let err = 0;
    for (let i = bounds[b]; i < bounds[b + 1]; i++) {
      scale = Math.max(scale, Math.abs(ref[i]));
      err = Math.max(err, Math.abs(got[i] - ref[i]));
    }
    worst = Math.max(worst, scale > 0 ? err / scale : err);
  }
  return worst;
}

/** max |a - b| / max |b| over a whole vector. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale > 0 ? err / scale : err;
}

/**
 * A data set that is NOT theory-conforming: counts per type given explicitly (e.g. unequal I2 and
 * I3), distinct fillers, specials at the first positions. Level G handles it; Level T must not.
 */
export function customData(counts: [number, number, number, number], L: number): Dataset {
  const n = counts.reduce((s, c) => s + c, 0);
  const specials = [[0, 1, 2], [0, 2], [1, 2], [2]];
  const tokens = new Int32Array(n * L);
  const y = new Float64Array(n);
  const type = new Int32Array(n);
  let next = 3;
  let i = 0;
  for (let t = 0; t < 4; t++) {
    for (let j = 0; j < counts[t]; j++, i++) {
      type[i] = t + 1;
      y[i] = t === 0 ? 1 : -1;
      for (let l = 0; l < L; l++) tokens[i * L + l] = l < specials[t].length ? specials[t][l] : next++;
    }
  }
  return { n, L, d: next + 2, tokens, y, type };
}

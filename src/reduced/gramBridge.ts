/**
 * Between the type level and Level G on a concrete theory-conforming data set: every Gram entry
 * (b, a) takes the value of its orbit (expand), and an orbit takes the mean of its entries
 * (restrict). On the symmetric subspace restrict(expand(y)) = y; along a Level G trajectory
 * from the mean state the spread of the entries inside each orbit measures how far the solution
 * has left that subspace (it must stay at round-off, docs/levels.md#level-t).
 */
import { UsageError } from '../errors.js';
import { Dataset } from '../data/dataset.js';
import { gramLayout } from '../gram/layout.js';
import { NUM_CLASSES, NUM_ORDERED, ORDERED_ORBITS, TYPE_LAYOUT, datasetOrbits } from './orbits.js';

export function expandToGram(y: Float64Array, data: Dataset): Float64Array {
  const lay = TYPE_LAYOUT;
  const { k, pairOrbit, tokenClass } = datasetOrbits(data);
  const g = gramLayout(k);
  const out = new Float64Array(g.size);
  for (let i = 0; i < k * k; i++) {
    const o = pairOrbit[i];
    const v = ORDERED_ORBITS[o].unordered;
    out[g.S + i] = y[lay.S + o];
    out[g.A + i] = y[lay.A + v];
    out[g.B + i] = y[lay.B + v];
    out[g.C + i] = y[lay.C + v];
  }
  for (let b = 0; b < k; b++) out[g.u + b] = y[lay.u + tokenClass[b]];
  out[g.s] = y[lay.s];
  return out;
}

/**
 * Averages each orbit's entries. maxOrbitSpread is the largest (max - min) inside one orbit of
 * one block, divided by the largest |entry| of that block (S, A, B, C or u); a block that is
 * entirely zero has spread 0. Orbits without entries (only for n = 6 or L <= 4) are set to 0.
 */
export function restrictFromGram(yG: Float64Array, data: Dataset): { y: Float64Array; maxOrbitSpread: number } {
  const lay = TYPE_LAYOUT;
  const { k, pairOrbit, tokenClass } = datasetOrbits(data);
  const g = gramLayout(k);
  if (yG.length !== g.size) throw new UsageError(`Level G state has length ${yG.length}, expected 4k^2+k+1 = ${g.size} for k = ${k} tokens`);
  const y = new Float64Array(lay.size);
  let maxSpread = 0;

  const blocks: { gOff: number; tOff: number; symmetric: boolean }[] = [
    { gOff: g.S, tOff: lay.S, symmetric: false },
    { gOff: g.A, tOff: lay.A, symmetric: true },
    { gOff: g.B, tOff: lay.B, symmetric: true },
    { gOff: g.C, tOff: lay.C, symmetric: true },
  ];
  const sum = new Float64Array(NUM_ORDERED);
  const count = new Float64Array(NUM_ORDERED);
  const lo = new Float64Array(NUM_ORDERED);
  const hi = new Float64Array(NUM_ORDERED);
  for (const blk of blocks) {
    sum.fill(0);
    count.fill(0);
    lo.fill(Infinity);
    hi.fill(-Infinity);
    let scale = 0;
    for (let i = 0; i < k * k; i++) {
      const ord = pairOrbit[i];
      // A symmetric block has one variable per unordered orbit: pool (b, a) with (a, b).
      const o = blk.symmetric ? ORDERED_ORBITS[ord].unordered : ord;
      const v = yG[blk.gOff + i];
      sum[o] += v;
      count[o]++;
      if (v < lo[o]) lo[o] = v;
      if (v > hi[o]) hi[o] = v;
      scale = Math.max(scale, Math.abs(v));
    }
    const nVars = blk.symmetric ? lay.B - lay.A : NUM_ORDERED;
    for (let o = 0; o < nVars; o++) {
      if (count[o] === 0) continue;
      y[blk.tOff + o] = sum[o] / count[o];
      if (scale > 0) maxSpread = Math.max(maxSpread, (hi[o] - lo[o]) / scale);
    }
  }

  const uSum = new Float64Array(NUM_CLASSES);
  const uCount = new Float64Array(NUM_CLASSES);
  const uLo = new Float64Array(NUM_CLASSES).fill(Infinity);
  const uHi = new Float64Array(NUM_CLASSES).fill(-Infinity);
  let uScale = 0;
  for (let b = 0; b < k; b++) {
    const c = tokenClass[b];
    const v = yG[g.u + b];
    uSum[c] += v;
    uCount[c]++;
    uLo[c] = Math.min(uLo[c], v);
    uHi[c] = Math.max(uHi[c], v);
    uScale = Math.max(uScale, Math.abs(v));
  }
  for (let c = 0; c < NUM_CLASSES; c++) {
    if (uCount[c] === 0) continue;
    y[lay.u + c] = uSum[c] / uCount[c];
    if (uScale > 0) maxSpread = Math.max(maxSpread, (uHi[c] - uLo[c]) / uScale);
  }
  y[lay.s] = yG[g.s];
  return { y, maxOrbitSpread: maxSpread };
}

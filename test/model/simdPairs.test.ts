import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset } from '../../src/data/generate.js';
import { PairTable } from '../../src/model/pairTable.js';
import { PairKernels } from '../../src/model/simdPairs.js';
import { Rng } from '../../src/random/rng.js';
import { setKernelMemoryCapForTests } from '../../src/wasm/memory.js';

// Both paths against the same oracle: the SIMD kernels, and the plain loops PairKernels runs when
// its data would exceed the kernel memory's cap (forced here by a cap of 0 bytes).
for (const pathMode of ['SIMD', 'plain'] as const) describe(`pair kernels of the gradient (${pathMode})`, () => {
  let savedCap = Infinity;
  beforeAll(() => {
    if (pathMode === 'plain') savedCap = setKernelMemoryCapForTests(0);
  });
  afterAll(() => {
    setKernelMemoryCapForTests(savedCap);
  });

  for (const m of [1, 2, 7, 16, 128]) {
    it(`m = ${m}: scores and accumulated rows equal a scalar computation (oracle) to round-off`, () => {
      const data = generateDataset({ n: 12, L: 4, d: 30, seed: m, fillers: 'repeat' });
      const pairs = new PairTable(data);
      const k = new PairKernels(pairs, data.d, m);
      expect(k.simd).toBe(pathMode === 'SIMD');
      const rng = new Rng(m);
      const tQ = rng.fillNormal(new Float64Array(data.d * m), 1);
      const tK = rng.fillNormal(new Float64Array(data.d * m), 1);
      k.load(tQ, tK);
      k.scores(0.5);
      for (let id = 0; id < pairs.count; id++) {
        let s = 0;
        for (let c = 0; c < m; c++) s += tK[pairs.key[id] * m + c] * tQ[pairs.query[id] * m + c];
        expect(Math.abs(k.z[id] - 0.5 * s)).toBeLessThanOrEqual(1e-13 * (1 + Math.abs(s)));
      }
      for (let id = 0; id < pairs.count; id++) k.gam[id] = rng.normal();
      const gQ = new Float64Array(data.d * m).fill(NaN);
      const gK = new Float64Array(data.d * m).fill(NaN);
      k.gradients(-2, gQ, gK);
      const refQ = new Float64Array(data.d * m);
      const refK = new Float64Array(data.d * m);
      for (let id = 0; id < pairs.count; id++) {
        const b = pairs.key[id];
        const a = pairs.query[id];
        for (let c = 0; c < m; c++) {
          refQ[a * m + c] += -2 * k.gam[id] * tK[b * m + c];
          refK[b * m + c] += -2 * k.gam[id] * tQ[a * m + c];
        }
      }
      // Every row is written (unused tokens' rows are 0), and the values match.
      for (let i = 0; i < refQ.length; i++) {
        expect(Math.abs(gQ[i] - refQ[i])).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(refQ[i])));
        expect(Math.abs(gK[i] - refK[i])).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(refK[i])));
      }
      const unused = pairs.unused;
      for (const t of unused) for (let c = 0; c < m; c++) expect(gQ[t * m + c]).toBe(0);
    });
  }
});

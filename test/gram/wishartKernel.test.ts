/**
 * The Bartlett path of sampleGramState (src/gram/wishartKernel.ts: only the blocks the state
 * reads, T stored in 4-row panels, summed by a WebAssembly SIMD kernel) against the code it
 * replaced, kept here as the oracle: the full lower-triangular T, the full G = D T T^T D, each
 * entry summed left to right, and the state read off G. Equality is bit for bit (Object.is, so
 * +0 and -0 differ), on random small configurations covering extra tokens, m = p0, p0 <= m < p
 * (extra tokens without a diagonal entry), huge m, s0 = 0 (signed zeros), p not a multiple of 4.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Dataset } from '../../src/data/dataset.js';
import { generateDataset } from '../../src/data/generate.js';
import { sampleChiSquare } from '../../src/gram/gamma.js';
import { gramLayout, tokenIndex } from '../../src/gram/layout.js';
import { GramSampleConfig, sampleGramState } from '../../src/gram/wishart.js';
import { Rng } from '../../src/random/rng.js';
import { setKernelMemoryCapForTests } from '../../src/wasm/memory.js';

/** The sampler's own configuration (no `method`: 'auto', as sampleGramState defaults). */
type Cfg = Omit<GramSampleConfig, 'method'>;

/** The full-matrix Bartlett code sampleGramState used before src/gram/wishartKernel.ts. */
function oracle(c: Cfg): Float64Array {
  const idx = tokenIndex(c.data, c.extraTokens);
  const k = idx.k;
  const inData = new Uint8Array(k);
  for (let i = 0; i < idx.sampleLocal.length; i++) inData[idx.sampleLocal[i]] = 1;
  let k0 = 0;
  for (let a = 0; a < k; a++) k0 += inData[a];
  const ke = k - k0;
  const p0 = 3 * k0 + 1;
  const p = 3 * k + 1;
  const col = new Int32Array(3 * k);
  let jd = 0;
  let je = 0;
  for (let a = 0; a < k; a++) {
    for (let X = 0; X < 3; X++) col[X * k + a] = inData[a] ? X * k0 + jd : p0 + X * ke + je;
    if (inData[a]) jd++;
    else je++;
  }
  const rCol = 3 * k0;
  const sigma = new Float64Array(p).fill(c.s0);
  sigma[rCol] = c.s1 * Math.sqrt(c.m1);
  const m = c.m;
  if (m < p0) throw new Error('oracle: Bartlett needs m >= p0');
  const rng = new Rng(`wishart:${c.seed}`);
  const T = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    const below = Math.min(i, m);
    for (let j = 0; j < below; j++) T[i * p + j] = rng.normal();
    if (i < m) T[i * p + i] = Math.sqrt(sampleChiSquare(rng, m - i));
  }
  const G = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let l = 0; l <= j; l++) s += T[i * p + l] * T[j * p + l];
      const v = sigma[i] * sigma[j] * s;
      G[i * p + j] = v;
      G[j * p + i] = v;
    }
  }
  const lay = gramLayout(k);
  const y = new Float64Array(lay.size);
  const at = (i: number, j: number): number => G[i * p + j];
  for (let b = 0; b < k; b++) {
    for (let a = 0; a < k; a++) {
      y[lay.S + b * k + a] = at(col[k + b], col[a]);
      y[lay.A + b * k + a] = at(col[b], col[a]);
      y[lay.B + b * k + a] = at(col[k + b], col[k + a]);
      y[lay.C + b * k + a] = at(col[2 * k + b], col[2 * k + a]);
    }
    y[lay.u + b] = at(col[2 * k + b], rCol);
  }
  y[lay.s] = at(rCol, rCol);
  return y;
}

/** A float with the sign of zero shown (template strings print -0 as 0). */
const show = (x: number): string => (Object.is(x, -0) ? '-0' : String(x));

/** The first index where the two differ bit for bit (Object.is), or -1. */
function firstDifference(a: Float64Array, b: Float64Array): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

// Both paths against the oracle: the WebAssembly tiles, and the plain-JS tiles a draw too large
// for a kernel memory falls back to (forced here by a cap of 0 bytes, src/wasm/memory.ts).
for (const pathMode of ['SIMD', 'plain'] as const) describe(`Bartlett Gram state: fast path = full-matrix oracle, bit for bit (${pathMode})`, () => {
  let savedCap = Infinity;
  beforeAll(() => {
    if (pathMode === 'plain') savedCap = setKernelMemoryCapForTests(0);
  });
  afterAll(() => {
    setKernelMemoryCapForTests(savedCap);
  });

  test('random small configurations (extra tokens, m = p0, p0 <= m < p, huge m, s0 = 0)', () => {
    const rng = new Rng('test-wishart-kernel');
    let negativeZeros = 0;
    let shortRows = 0;
    for (let c = 0; c < 400; c++) {
      const d = 2 + rng.int(20);
      const n = 1 + rng.int(4);
      const L = 1 + rng.int(4);
      const data: Dataset = {
        n,
        L,
        d,
        tokens: Int32Array.from({ length: n * L }, () => rng.int(d)),
        y: Float64Array.from({ length: n }, () => rng.sign()),
        type: Int32Array.from({ length: n }, () => 1 + rng.int(4)),
      };
      const extraTokens = rng.uniform() < 0.5 ? Array.from({ length: 1 + rng.int(6) }, () => rng.int(d)) : undefined;
      const p0 = 3 * tokenIndex(data).k + 1;
      const p = 3 * tokenIndex(data, extraTokens).k + 1;
      const ms = [p0, p0 + 1, p - 1, p, p + 3, 1e6];
      const m = Math.max(p0, ms[rng.int(ms.length)]);
      const cfg: Cfg = { data, m, m1: 1 + rng.int(9), s0: [0, 0.3, 1.7][rng.int(3)], s1: [0, 0.5][rng.int(2)], seed: rng.int(1e6), extraTokens };
      const want = oracle(cfg);
      const got = sampleGramState({ ...cfg, method: rng.uniform() < 0.5 ? 'bartlett' : 'auto' });
      const at = firstDifference(want, got);
      expect(at, `config ${c} (d=${d}, m=${m}, p0=${p0}, p=${p}, s0=${cfg.s0}): entry ${at}: ${show(want[at])} vs ${show(got[at])}`).toBe(-1);
      for (let i = 0; i < want.length; i++) if (Object.is(want[i], -0)) negativeZeros++;
      if (m < p) shortRows++;
    }
    // the signed-zero and m < p cases were exercised, not just possible
    expect(negativeZeros).toBeGreaterThan(0);
    expect(shortRows).toBeGreaterThan(0);
  });

  test('generated data sets (k up to about 100) with a test set\'s tokens', () => {
    for (const [n, L, d, fillers, extra] of [
      [24, 6, 120, 'distinct', [100, 101, 119, 5]],
      [60, 5, 64, 'repeat', undefined],
      [12, 4, 40, 'distinct', [39, 38, 0]],
    ] as const) {
      const data = generateDataset({ n, L, d, seed: 3, fillers });
      const p0 = 3 * tokenIndex(data).k + 1;
      for (const m of [p0, p0 + 2, 1e5]) {
        const cfg: Cfg = { data, m, m1: 64, s0: 0.01, s1: 0.125, seed: 7, extraTokens: extra };
        const at = firstDifference(oracle(cfg), sampleGramState(cfg));
        expect(at, `n=${n} L=${L} d=${d} m=${m}`).toBe(-1);
      }
    }
  });
});

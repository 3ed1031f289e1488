import { describe, expect, it } from 'vitest';
import { MAX_TERMS, SimdKernels, StageMemory } from '../../src/ode/simd.js';
import { sleb, uleb } from '../../src/wasm/emit.js';
import { Rng } from '../../src/random/rng.js';

/** Scalar reference of the kernels, in the same operation order (the oracle). */
function referenceCombination(base: Float64Array, h: number, coef: number[], K: Float64Array[]): Float64Array {
  return base.map((b, i) => {
    let acc = coef[0] * K[0][i];
    for (let q = 1; q < coef.length; q++) acc += coef[q] * K[q][i];
    return b + acc * h;
  });
}

function setup(n: number, seed: number) {
  const rng = new Rng(seed);
  const mem = new StageMemory(n, MAX_TERMS + 5);
  const kernels = new SimdKernels(mem);
  const K = Array.from({ length: MAX_TERMS }, () => {
    const v = mem.take();
    for (let i = 0; i < n; i++) v[i] = rng.normal();
    return v;
  });
  const kPtr = Int32Array.from(K, (k) => k.byteOffset);
  const y = mem.take();
  const yNew = mem.take();
  const atol = mem.take();
  const out = mem.take();
  for (let i = 0; i < n; i++) {
    y[i] = rng.normal();
    yNew[i] = y[i] * (1 + 0.1 * rng.normal());
    atol[i] = 1e-6 * (1 + rng.uniform());
  }
  mem.pad(atol, 1);
  return { rng, mem, kernels, K, kPtr, y, yNew, atol, out };
}

describe('WebAssembly SIMD kernels of the Runge-Kutta passes', () => {
  it('LEB128 encoders match hand-encoded values (wasm spec examples)', () => {
    expect(uleb(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(uleb(0)).toEqual([0]);
    expect(uleb(240)).toEqual([0xf0, 0x01]);
    expect(sleb(-123456)).toEqual([0xc0, 0xbb, 0x78]);
    expect(sleb(-1)).toEqual([0x7f]);
    expect(sleb(64)).toEqual([0xc0, 0x00]);
  });

  for (const n of [1, 2, 7, 1000, 57344]) {
    it(`n = ${n}: every term count gives the scalar result bit for bit, and the error norm to round-off`, () => {
      const { kernels, K, kPtr, y, yNew, atol, out } = setup(n, n);
      for (let m = 1; m <= MAX_TERMS; m++) {
        // Non-contiguous stage choice, so the offsets table is really used.
        const colsList = Array.from({ length: m }, (_, q) => (q * 3) % MAX_TERMS).filter((v, i, a) => a.indexOf(v) === i);
        while (colsList.length < m) colsList.push([...Array(MAX_TERMS).keys()].find((c) => !colsList.includes(c))!);
        const cols = Int32Array.from(colsList);
        const coef = Float64Array.from({ length: m }, (_, q) => (q + 1) / 7 - 0.3);
        const h = 0.0371;
        kernels.linearCombination(out, y, h, cols, coef, kPtr);
        const ref = referenceCombination(y, h, Array.from(coef), colsList.map((c) => K[c]));
        expect(Array.from(out)).toEqual(Array.from(ref));
        let sum = 0;
        const rtol = 1e-3;
        for (let i = 0; i < n; i++) {
          const e = ref[i] - y[i];
          const r = e / (atol[i] + rtol * Math.max(Math.abs(y[i]), Math.abs(yNew[i])));
          sum += r * r;
        }
        const got = kernels.errorNormSq(h, cols, coef, kPtr, y, yNew, atol, rtol);
        expect(Math.abs(got - sum) / sum).toBeLessThan(1e-12);
      }
    });
  }

  it('NaN or Inf in any stage makes the error norm non-finite (the solver relies on this)', () => {
    const { kernels, K, kPtr, y, yNew, atol } = setup(9, 3);
    const cols = Int32Array.from([0, 1, 2]);
    const coef = Float64Array.from([0.5, -0.25, 0.125]);
    expect(Number.isFinite(kernels.errorNormSq(0.1, cols, coef, kPtr, y, yNew, atol, 1e-6))).toBe(true);
    for (const bad of [NaN, Infinity, -Infinity]) {
      const saved = K[1][4];
      K[1][4] = bad;
      expect(Number.isFinite(kernels.errorNormSq(0.1, cols, coef, kPtr, y, yNew, atol, 1e-6))).toBe(false);
      K[1][4] = saved;
      yNew[6] = bad;
      expect(Number.isFinite(kernels.errorNormSq(0.1, cols, coef, kPtr, y, yNew, atol, 1e-6))).toBe(false);
      yNew[6] = y[6];
    }
  });

  it('vectors are 16-byte aligned, zero-initialised, and the memory refuses a vector too many', () => {
    const mem = new StageMemory(5, 2);
    const a = mem.take();
    const b = mem.take();
    expect(a.byteOffset % 16).toBe(0);
    expect(b.byteOffset % 16).toBe(0);
    expect(Array.from(b)).toEqual([0, 0, 0, 0, 0]);
    expect(() => mem.take()).toThrow(/taken/);
  });

  for (const n of [1, 2, 7, 1000, 57_345]) {
    it(`n = ${n}: the fused GD step is out = y - lr g bit for bit (the JS loop), and its probe is 0`, () => {
      const { rng, kernels, y, out, K } = setup(n, 11 + n);
      const g = K[0];
      for (const lr of [0.01, 1e-7, 3.75]) {
        expect(kernels.gradientStep(out, y, g, lr)).toBe(0);
        for (let i = 0; i < n; i++) if (!Object.is(out[i], y[i] - lr * g[i])) throw new Error(`entry ${i} differs at lr ${lr}`);
      }
      // negative control: the reference itself tells apart a different rounding order
      const lr = 0.1 + rng.uniform();
      let differs = 0;
      for (let i = 0; i < n; i++) if (!Object.is(y[i] - lr * g[i], y[i] + -g[i] * lr * 1.0000000000000002)) differs++;
      expect(differs).toBeGreaterThan(0);
    });
  }

  it('the fused GD step reports NaN exactly when some entry of out is non-finite (also by overflow)', () => {
    const { kernels, y, out, K } = setup(9, 5);
    const g = K[0];
    expect(kernels.gradientStep(out, y, g, 0.5)).toBe(0);
    for (const bad of [NaN, Infinity, -Infinity]) {
      for (const at of [0, 8]) {
        const saved = g[at];
        g[at] = bad;
        expect(kernels.gradientStep(out, y, g, 0.5)).toBeNaN();
        g[at] = saved;
      }
    }
    // finite inputs whose difference overflows
    const saved = [y[3], g[3]];
    y[3] = 1.7e308;
    g[3] = -1.7e308;
    expect(kernels.gradientStep(out, y, g, 1)).toBeNaN();
    expect(out[3]).toBe(Infinity);
    [y[3], g[3]] = saved;
    expect(kernels.gradientStep(out, y, g, 0.5)).toBe(0);
  });
});


import { describe, expect, it } from 'vitest';
import { StageKernels, StageMemory } from '../../src/ode/simd.js';
import { Dopri5 } from '../../src/ode/dopri5.js';
import { DOPRI5 } from '../../src/ode/tableau.js';
import { sleb, uleb } from '../../src/wasm/emit.js';
import { describeBothPaths, kernelPath } from '../wasm/paths.js';
import { Rng } from '../../src/random/rng.js';

/** Distinct stage vectors of setup(); term counts beyond it repeat stages. */
const STAGES = 12;
/** Term counts tested: the explicit-argument kernels (1..8), the term table, the plain loop. */
const MAX_K = 20;

/** Scalar reference of the combination kernels, in the same operation order (the oracle). */
function referenceCombination(base: Float64Array, h: number, coef: ArrayLike<number>, K: Float64Array[]): Float64Array {
  return base.map((b, i) => {
    let acc = coef[0] * K[0][i];
    for (let q = 1; q < coef.length; q++) acc += coef[q] * K[q][i];
    return b + acc * h;
  });
}

/**
 * Scalar reference of the error-norm kernels, in the same operation order: err_i = acc_i * h
 * (acc as above), r_i = err_i / (atol_i + rtol max(|y_i|, |yNew_i|)), two lane sums (even, odd
 * i) of r_i^2 + yNew_i * 0, lane 0 + lane 1. (The padding entry adds +0.)
 */
function referenceErrorNormSq(h: number, coef: ArrayLike<number>, K: Float64Array[], y: Float64Array, yNew: Float64Array, atol: Float64Array, rtol: number): number {
  const lanes = [0, 0];
  for (let i = 0; i < y.length; i++) {
    let acc = coef[0] * K[0][i];
    for (let q = 1; q < coef.length; q++) acc += coef[q] * K[q][i];
    const r = (acc * h) / (atol[i] + rtol * Math.max(Math.abs(y[i]), Math.abs(yNew[i])));
    lanes[i & 1] += r * r + yNew[i] * 0;
  }
  return lanes[0] + lanes[1];
}

/** Which path the memories of setup() take: the SIMD kernels, or plain vectors and loops (cap 0). */

/** `stages` random stage vectors and y, yNew, atol, out in a memory of `extra` more vectors (>= 4). */
function setup(n: number, seed: number, extra = 5, stages = STAGES) {
  const rng = new Rng(seed);
  const mem = new StageMemory(n, stages + extra);
  // the path under test is the one running (else a passing test would say nothing about it)
  expect(mem.simd).toBe(kernelPath.current === 'SIMD');
  const kernels = new StageKernels(mem);
  const K = Array.from({ length: stages }, () => {
    const v = mem.take();
    for (let i = 0; i < n; i++) v[i] = rng.normal();
    return v;
  });
  const kPtr = Int32Array.from(K, (k) => mem.address(k));
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

/**
 * Stage indices of an m-term combination: 'permuted' is non-sequential and distinct up to STAGES
 * terms (as a tableau's rows; 5 is prime to 12), 'repeating' uses some stages twice from m = 4 on.
 */
function stageChoice(m: number, kind: 'permuted' | 'repeating'): number[] {
  const perm = (q: number) => (5 * q + 3) % STAGES;
  return Array.from({ length: m }, (_, q) => (kind === 'repeating' && q % 4 === 3 ? perm(q - 3) : perm(q)));
}

function sameBits(got: Float64Array, want: Float64Array): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < got.length; i++) if (!Object.is(got[i], want[i])) throw new Error(`entry ${i}: ${got[i]} !== ${want[i]}`);
}

describe('LEB128', () => {
  it('LEB128 encoders match hand-encoded values (wasm spec examples)', () => {
    expect(uleb(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(uleb(0)).toEqual([0]);
    expect(uleb(240)).toEqual([0xf0, 0x01]);
    expect(sleb(-123456)).toEqual([0xc0, 0xbb, 0x78]);
    expect(sleb(-1)).toEqual([0x7f]);
    expect(sleb(64)).toEqual([0xc0, 0x00]);
  });
});

// The same oracles for both paths: the WebAssembly SIMD kernels, and the plain vectors and loops
// a StageMemory above the kernel memory's cap gets (forced here by a cap of 0 bytes).
describeBothPaths('the Runge-Kutta passes', () => {

  // Memories of 17 vectors (term table for up to 17 terms: 18..20 take the plain loop) and of
  // 29 (every K <= 20 from the table), so each of the three paths meets the oracles.
  for (const n of [1, 2, 7, 1001, 57_344]) {
    for (const extra of [5, 17]) {
      it(`n = ${n}, ${STAGES + extra} vectors: K = 1..${MAX_K} terms give the scalar results bit for bit (combination and error norm)`, () => {
        const { kernels, K, kPtr, y, yNew, atol, out } = setup(n, n + extra, extra);
        for (const kind of ['permuted', 'repeating'] as const) {
          for (let m = 1; m <= MAX_K; m++) {
            const colsList = stageChoice(m, kind);
            const cols = Int32Array.from(colsList);
            const coef = Float64Array.from({ length: m }, (_, q) => (q + 1) / 7 - 0.3);
            const stages = colsList.map((c) => K[c]);
            for (const h of [0.0371, -1.3e-3]) {
              kernels.linearCombination(out, y, h, cols, coef, kPtr);
              sameBits(out, referenceCombination(y, h, coef, stages));
              const rtol = 1e-3;
              expect(kernels.errorNormSq(h, cols, coef, kPtr, y, yNew, atol, rtol)).toBe(referenceErrorNormSq(h, coef, stages, y, yNew, atol, rtol));
            }
          }
        }
      });
    }
  }

  // Dormand-Prince's y_new pass with the error's partial sum (Dopri5.ePartial): the oracles are
  // the scalar references above, over all the terms at once.
  for (const n of [1, 2, 7, 1001, 57_344]) {
    it(`n = ${n}: y_new and the partial error sum in one pass, then the last term, give the two separate passes' bits (K = 1..8, one atol or one per component)`, () => {
      const { rng, kernels, K, kPtr, y, yNew, atol, out, mem } = setup(n, 3 * n + 1, 6);
      expect(kernels.fusesPartial(5)).toBe(kernelPath.current === 'SIMD');
      if (!kernels.fusesPartial(1)) {
        expect(() => kernels.errorNormFromPartial(0.1, out, K[0], 1, y, yNew, atol, null, 1e-3)).toThrow(/no SIMD kernels/);
        return;
      }
      expect(kernels.fusesPartial(9)).toBe(false);
      const part = mem.take();
      const uniform = mem.take();
      uniform.fill(2.5e-7, 0, n);
      mem.pad(uniform, 1);
      // special values in a few entries: signed zeros, a tiny and a huge number
      for (const [i, v] of [[0, -0], [n - 1, 0], [n >> 1, 1e-300]] as const) K[3][i] = v;
      if (n > 3) K[7][2] = 1e100;
      for (let m = 1; m <= 8; m++) {
        const colsList = stageChoice(m + 1, 'permuted');
        const cols = Int32Array.from(colsList.slice(0, m));
        const b = Float64Array.from({ length: m }, (_, q) => (q + 1) / 9 - 0.2);
        const e = Float64Array.from({ length: m + 1 }, () => rng.normal() * 1e-2);
        const last = K[colsList[m]];
        const stages = colsList.map((c) => K[c]);
        for (const h of [0.0371, -1.3e-3]) {
          kernels.combinationWithPartial(out, y, part, h, cols, b, e.subarray(0, m), kPtr);
          sameBits(out, referenceCombination(y, h, b, stages.slice(0, m)));
          // part is the partial sum itself (h = 1 and a zero base in the reference)
          sameBits(part, referenceCombination(new Float64Array(n), 1, e.subarray(0, m), stages.slice(0, m)).map((v, i) => (Object.is(v, 0) && Object.is(part[i], -0) ? -0 : v)));
          for (const [w, value] of [[atol, null], [uniform, 2.5e-7]] as const) {
            const want = referenceErrorNormSq(h, e, stages, y, yNew, w, 1e-3);
            expect(kernels.errorNormFromPartial(h, part, last, e[m], y, yNew, w, value, 1e-3)).toBe(want);
            // negative control: the last term's coefficient matters
            expect(kernels.errorNormFromPartial(h, part, last, e[m] * 1.5, y, yNew, w, value, 1e-3)).not.toBe(want);
          }
        }
      }
      // a non-finite last stage or yNew makes the norm non-finite (the solver relies on this)
      const last = K[11];
      for (const bad of [NaN, Infinity]) {
        const saved = last[0];
        last[0] = bad;
        expect(Number.isFinite(kernels.errorNormFromPartial(0.1, part, last, 0.3, y, yNew, atol, null, 1e-3))).toBe(false);
        last[0] = saved;
        yNew[0] = bad;
        expect(Number.isFinite(kernels.errorNormFromPartial(0.1, part, last, 0.3, y, yNew, uniform, 2.5e-7, 1e-3))).toBe(false);
        yNew[0] = y[0];
      }
    });
  }

  it('Dopri5 takes the one-pass y_new and partial error with the SIMD kernels: b and e share stages 1, 3..6, e adds stage 7', () => {
    const solver = new Dopri5({ f: (_t, y, dy) => dy.set(y), t0: 0, y0: Float64Array.of(1, 2, 3), tEnd: 1, rtol: 1e-6, atol: 1e-9, maxSteps: 100 });
    const partial = (solver as unknown as { ePartial: { coef: Float64Array; last: number } | null }).ePartial;
    if (kernelPath.current !== 'SIMD') {
      expect(partial).toBeNull();
      return;
    }
    const nonzero = (v: ArrayLike<number>) => Array.from(v).flatMap((x, j) => (x !== 0 ? [j] : []));
    expect(nonzero(DOPRI5.b)).toEqual([0, 2, 3, 4, 5]);
    expect(nonzero(DOPRI5.e)).toEqual([0, 2, 3, 4, 5, 6]);
    expect(Array.from(partial!.coef)).toEqual([0, 2, 3, 4, 5].map((j) => DOPRI5.e[j]));
    expect(partial!.last).toBe(DOPRI5.e[6]);
    // the solve reaches y(1) = e y0 (its oracle); its bits equal the two-pass solve's: test/golden
    while (solver.step() === 'running');
    expect(solver.y[2] / 3).toBeCloseTo(Math.E, 5);
  });

  it('out may be the base or one of the stages, for every path (each entry is read before it is written)', () => {
    for (const extra of [5, 17]) {
      const { kernels, K, kPtr, y } = setup(9, 21, extra);
      for (const m of [3, 13, 19]) {
        const colsList = stageChoice(m, 'permuted');
        const cols = Int32Array.from(colsList);
        const coef = Float64Array.from({ length: m }, (_, q) => 0.5 - q / 11);
        const want = referenceCombination(y, 0.25, coef, colsList.map((c) => K[c]));
        const base = Float64Array.from(y);
        kernels.linearCombination(y, y, 0.25, cols, coef, kPtr);
        sameBits(y, want);
        y.set(base);
        const stage = K[colsList[m - 1]];
        const saved = Float64Array.from(stage);
        const want2 = referenceCombination(y, 0.25, coef, colsList.map((c) => K[c]));
        kernels.linearCombination(stage, y, 0.25, cols, coef, kPtr);
        sameBits(stage, want2);
        stage.set(saved);
      }
    }
  });

  it('no terms: the combination is the base, the error norm 0 (NaN when yNew is not finite)', () => {
    const { kernels, kPtr, y, yNew, atol, out } = setup(7, 4);
    const none = new Int32Array(0);
    const noCoef = new Float64Array(0);
    kernels.linearCombination(out, y, 0.5, none, noCoef, kPtr);
    sameBits(out, y);
    expect(kernels.errorNormSq(0.5, none, noCoef, kPtr, y, yNew, atol, 1e-3)).toBe(0);
    yNew[2] = Infinity;
    expect(kernels.errorNormSq(0.5, none, noCoef, kPtr, y, yNew, atol, 1e-3)).toBeNaN();
  });

  it('NaN or Inf in any stage makes the error norm non-finite (the solver relies on this), for every path', () => {
    const { kernels, K, kPtr, y, yNew, atol } = setup(9, 3);
    for (const m of [3, 13, 19]) {
      const cols = Int32Array.from(stageChoice(m, 'permuted'));
      const coef = Float64Array.from({ length: m }, (_, q) => 0.5 - q / 11);
      expect(Number.isFinite(kernels.errorNormSq(0.1, cols, coef, kPtr, y, yNew, atol, 1e-6))).toBe(true);
      const stage = K[cols[m - 1]];
      for (const bad of [NaN, Infinity, -Infinity]) {
        const saved = stage[4];
        stage[4] = bad;
        expect(Number.isFinite(kernels.errorNormSq(0.1, cols, coef, kPtr, y, yNew, atol, 1e-6))).toBe(false);
        stage[4] = saved;
        yNew[6] = bad;
        expect(Number.isFinite(kernels.errorNormSq(0.1, cols, coef, kPtr, y, yNew, atol, 1e-6))).toBe(false);
        yNew[6] = y[6];
      }
    }
  });

  it('vectors are 16-byte aligned, zero-initialised, at their addresses, and the memory refuses a vector too many', () => {
    const mem = new StageMemory(5, 2);
    const a = mem.take();
    const b = mem.take();
    expect(a.byteOffset % 16).toBe(0);
    expect(b.byteOffset % 16).toBe(0);
    // addresses: byte offsets in the WebAssembly memory (5 values padded to 6: 48 bytes apart),
    // indices with plain vectors (byte offsets of a large plain state would overflow an int32)
    expect([mem.address(a), mem.address(b)]).toEqual(kernelPath.current === 'SIMD' ? [a.byteOffset, a.byteOffset + 48] : [0, 1]);
    expect(mem.vectorAt(mem.address(a))).toBe(a);
    expect(mem.vectorAt(mem.address(b))).toBe(b);
    expect(() => mem.address(new Float64Array(5))).toThrow(/not a vector of this memory/);
    expect(Array.from(b)).toEqual([0, 0, 0, 0, 0]);
    expect(() => mem.take()).toThrow(/taken/);
  });

  for (const n of [1, 2, 7, 1000, 57_345]) {
    it(`n = ${n}: the fused GD step is out = y - lr g bit for bit (the JS loop), and its probe is 0`, () => {
      const { rng, kernels, y, out, K } = setup(n, 11 + n, 5, 8);
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
    const { kernels, y, out, K } = setup(9, 5, 5, 8);
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


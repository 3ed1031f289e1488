/**
 * The k x k kernels of the Level G field and GD map (src/gram/kernels.ts) against naive dense
 * loops that add the same terms in the same order (the nonzero list b-major, a-minor; +0 as the
 * start of a fresh block). The kernels promise the same bits, so the comparison is bit for bit
 * (Object.is: -0 differs from +0). Sizes around the SIMD width (2) and the tile edge (16): k = 1,
 * odd k (a last row and column outside the 2 x 2 blocks), k not a multiple of 16; patterns with
 * an empty row and an empty column, and rows with more than four nonzeros (several passes).
 * Every case runs twice: on the WebAssembly kernels, and on the plain loops GramKernels falls
 * back to above the kernel memory's cap (src/wasm/memory.ts).
 */
import { describe, expect, test } from 'vitest';
import { GramKernels, compressPattern } from '../../src/gram/kernels.js';
import { describeBothPaths, kernelPath } from '../wasm/paths.js';
import { firstDiff, lcg } from './helpers.js';

/** The path setup()'s kernels take: WebAssembly, or the plain loops of a kernel memory above its cap. */



interface Setup {
  k: number;
  km: GramKernels;
  Gam: Float64Array;
  nzRow: Int32Array;
  nzCol: Int32Array;
  nnz: number;
  y: Float64Array;
  rnd: () => number;
}

/**
 * A pattern like Gam's (b-major list): token 0 a hub (full row and column, as mu_1 is), the
 * others in "samples" of 1..6 tokens (nonzero within a sample: runs of rows and of columns with
 * the same pattern, which the kernels do two at a time, of every length mod 4), token k - 1 in
 * none (an empty row and column, as an extra token), and a few random nonzeros on top (rows
 * with a pattern of their own).
 */
function setup(k: number, seed: number): Setup {
  const rnd = lcg(seed);
  const group = new Int32Array(k).fill(-1);
  let g = 0;
  for (let b = 1; b < k - 1; g++) {
    const size = 1 + (g % 6);
    for (let i = 0; i < size && b < k - 1; i++) group[b++] = g;
  }
  const rows: number[] = [];
  const cols: number[] = [];
  for (let b = 0; b < k; b++) {
    for (let a = 0; a < k; a++) {
      const empty = k > 2 && (a === k - 1 || b === k - 1);
      const hub = a === 0 || b === 0;
      const same = group[b] >= 0 && group[b] === group[a];
      if (!empty && (hub || same || (b % 5 === 4 && a % 5 === 4 && rnd() < 0.5))) {
        rows.push(b);
        cols.push(a);
      }
    }
  }
  const nzRow = Int32Array.from(rows);
  const nzCol = Int32Array.from(cols);
  const nnz = rows.length;
  const Gam = new Float64Array(k * k);
  // values of both signs, and an exact zero on the pattern now and then (a -0 product)
  for (let e = 0; e < nnz; e++) Gam[nzRow[e] * k + nzCol[e]] = e % 7 === 3 ? 0 : rnd() - 0.5;
  const size = 4 * k * k + k + 1;
  const km = new GramKernels(k, size, { nzRow, nzCol, nnz }, Gam, ['O', 'T1', 'T2']);
  // the path under test is the one running
  expect(km.simd).toBe(kernelPath.current === 'SIMD');
  const y = new Float64Array(size).map(() => rnd() - 0.5);
  km.loadState(y);
  return { k, km, Gam, nzRow, nzCol, nnz, y, rnd };
}

/** Random contents for kernel matrix m, with some +0 and -0 entries. */
function randomize(s: Setup, m: number): Float64Array {
  const v = s.km.view(m);
  for (let i = 0; i < v.length; i++) {
    const r = s.rnd();
    v[i] = r < 0.05 ? 0 : r < 0.1 ? -0 : r - 0.5;
  }
  return v.slice();
}

const SIZES = [1, 2, 3, 5, 16, 17, 33, 40, 131];

// Both paths against the same oracles: the WebAssembly kernels, and the plain loops GramKernels
// runs when its memory would exceed the kernel memory's cap (forced here by a cap of 0 bytes).
describeBothPaths('Level G kernels = naive loops in the same order, bit for bit', () => {

  test('compressPattern groups the list by rows and by columns, keeping its order inside a group', () => {
    const k = 4;
    // b-major list: (0,1) (0,3) (2,0) (2,1) (3,1)
    const nzRow = Int32Array.from([0, 0, 2, 2, 3]);
    const nzCol = Int32Array.from([1, 3, 0, 1, 1]);
    const r = compressPattern(k, nzRow, nzCol, 5, 'rows');
    expect(Array.from(r.ptr)).toEqual([0, 2, 2, 4, 5]);
    expect(Array.from(r.other)).toEqual([1, 3, 0, 1, 1]);
    expect(Array.from(r.pos)).toEqual([1, 3, 8, 9, 13]);
    const c = compressPattern(k, nzRow, nzCol, 5, 'cols');
    expect(Array.from(c.ptr)).toEqual([0, 1, 4, 4, 5]);
    // column 1: b = 0, 2, 3 ascending
    expect(Array.from(c.other)).toEqual([2, 0, 2, 3, 0]);
    expect(Array.from(c.pos)).toEqual([8, 1, 9, 13, 3]);
  });

  for (const k of SIZES) {
    test(`k = ${k}: gamRows and gamCols`, () => {
      const s = setup(k, 11 + k);
      const { km, Gam, nzRow, nzCol, nnz, y } = s;
      const { O } = km.slots;
      if (k >= 8) {
        // the pattern does have rows (and columns) done as pairs, with 1..4 nonzeros left after fours
        for (const by of ['rows', 'cols'] as const) {
          const c = compressPattern(k, nzRow, nzCol, nnz, by);
          const tails = new Set<number>();
          c.pairStart.forEach((p, q) => p && tails.add((c.ptr[c.order[q] + 1] - c.ptr[c.order[q]]) % 4));
          expect(tails.size).toBeGreaterThan(1);
        }
      }
      for (const src of [0, 1]) {
        for (const [coef, init] of [[1, true], [-0.75, false], [-1, true], [2.5, false]] as const) {
          // rows of Gam: dst[b, :] += (coef Gam[b, a]) src[a, :];
          // columns of Gam: dst[a, :] += (coef Gam[b, a]) src[b, :], b ascending in the list order
          for (const byRows of [true, false]) {
            const base = randomize(s, O);
            const ref = init ? new Float64Array(k * k) : base.slice();
            for (let e = 0; e < nnz; e++) {
              const g = coef * Gam[nzRow[e] * k + nzCol[e]];
              const [dst, from] = byRows ? [nzRow[e], nzCol[e]] : [nzCol[e], nzRow[e]];
              for (let j = 0; j < k; j++) ref[dst * k + j] += g * y[src * k * k + from * k + j];
            }
            if (byRows) km.gamRows(O, km.state + src * k * k, coef, init);
            else km.gamCols(O, km.state + src * k * k, coef, init);
            expect(firstDiff(km.view(O), ref), byRows ? 'gamRows' : 'gamCols').toBe(-1);
          }
        }
      }
    });

    test(`k = ${k}: transpose, transposeInPlace, symmetrize`, () => {
      const s = setup(k, 101 + k);
      const { km } = s;
      const { O, T1, T2 } = km.slots;
      const x = randomize(s, T1);
      const xt = new Float64Array(k * k);
      for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) xt[j * k + i] = x[i * k + j];
      randomize(s, T2);
      km.transpose(T2, T1);
      expect(firstDiff(km.view(T2), xt)).toBe(-1);
      expect(firstDiff(km.view(T1), x)).toBe(-1); // the source is left alone
      km.transposeInPlace(T1);
      expect(firstDiff(km.view(T1), xt)).toBe(-1);
      km.transposeInPlace(T1);
      expect(firstDiff(km.view(T1), x)).toBe(-1);

      for (const [c, init] of [[-1, true], [0.5 * -0.3, false], [1, false]] as const) {
        const base = randomize(s, O);
        const ref = init ? new Float64Array(k * k) : base.slice();
        for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) ref[i * k + j] += c * (x[i * k + j] + x[j * k + i]);
        km.symmetrize(O, T1, c, init);
        expect(firstDiff(km.view(O), ref)).toBe(-1);
      }
    });

    test(`k = ${k}: outerSym, copy, matVec, vecMat, store`, () => {
      const s = setup(k, 201 + k);
      const { km, y } = s;
      const { O } = km.slots;
      const gu = new Float64Array(k).map((_, i) => (i % 5 === 2 ? 0 : s.rnd() - 0.5));
      km.loadGu(gu);
      const u = y.subarray(4 * k * k, 4 * k * k + k);
      for (const [z, zAt] of [[u, km.state + 4 * k * k], [gu, km.gu]] as const) {
        for (const [c, init] of [[-1, true], [0.7, false]] as const) {
          // X = gu z^T in a zero-filled scratch, then dst += c (X + X^T)
          const X = new Float64Array(k * k);
          for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) X[i * k + j] += gu[i] * z[j];
          const base = randomize(s, O);
          const ref = init ? new Float64Array(k * k) : base.slice();
          for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) ref[i * k + j] += c * (X[i * k + j] + X[j * k + i]);
          km.outerSym(O, km.gu, zAt, c, init);
          expect(firstDiff(km.view(O), ref)).toBe(-1);
        }
      }
      for (const [c, init] of [[1, true], [-0.25, false]] as const) {
        const base = randomize(s, O);
        const ref = init ? new Float64Array(k * k) : base.slice();
        for (let i = 0; i < k * k; i++) ref[i] += c * y[3 * k * k + i];
        km.copy(O, km.state + 3 * k * k, c, init);
        expect(firstDiff(km.view(O), ref)).toBe(-1);
      }
      // M x (row dot products from +0) and x^T M (down the columns, from +0) with M = C
      const v = new Float64Array(k);
      const ref = new Float64Array(k);
      for (let i = 0; i < k; i++) {
        let acc = 0;
        for (let l = 0; l < k; l++) acc += y[3 * k * k + i * k + l] * gu[l];
        ref[i] = acc;
      }
      km.matVec(v, km.state + 3 * k * k, km.gu);
      expect(firstDiff(v, ref)).toBe(-1);
      for (let j = 0; j < k; j++) {
        let acc = 0;
        for (let l = 0; l < k; l++) acc += gu[l] * y[3 * k * k + l * k + j];
        ref[j] = acc;
      }
      km.vecMat(v, km.gu, km.state + 3 * k * k);
      expect(firstDiff(v, ref)).toBe(-1);

      const out = new Float64Array(4 * k * k + k + 1).fill(9);
      km.store(out, k * k, O);
      expect(firstDiff(out.subarray(k * k, 2 * k * k), km.view(O))).toBe(-1);
      expect(out[k * k - 1]).toBe(9);
      expect(out[2 * k * k]).toBe(9);
    });
  }

  test('fresh blocks and dot products start from +0: entries whose every product is -0 come out +0', () => {
    // one nonzero per row and column, Gam = -0.5 there; a state of +0: every product is -0.5 * +0 = -0
    const k = 3;
    const Gam = new Float64Array(k * k);
    Gam[1] = Gam[5] = Gam[6] = -0.5;
    const size = 4 * k * k + k + 1;
    const km = new GramKernels(k, size, { nzRow: Int32Array.of(0, 1, 2), nzCol: Int32Array.of(1, 2, 0), nnz: 3 }, Gam, ['O']);
    expect(km.simd).toBe(kernelPath.current === 'SIMD');
    km.loadState(new Float64Array(size));
    const { O } = km.slots;
    const allPlusZero = (v: Float64Array) => Array.from(v).every((x) => Object.is(x, 0));
    for (const op of [() => km.gamRows(O, km.state, 1, true), () => km.gamCols(O, km.state, 1, true), () => km.copy(O, km.state, -1, true)]) {
      km.view(O).fill(NaN);
      op();
      expect(allPlusZero(km.view(O))).toBe(true);
    }
    km.loadGu(Float64Array.of(-1, -1, -1));
    const v = new Float64Array(k).fill(NaN);
    km.vecMat(v, km.gu, km.state);
    expect(allPlusZero(v)).toBe(true);
    v.fill(NaN);
    km.matVec(v, km.state, km.gu);
    expect(allPlusZero(v)).toBe(true);
    // negative control: without the +0 start these entries would be -0
    expect(Object.is(-0.5 * 0, -0) && Object.is(-1 * 0, -0)).toBe(true);
    expect(allPlusZero(Float64Array.of(-0))).toBe(false);
  });

  test('the bit comparison sees a one-ulp change and a sign of zero', () => {
    const a = Float64Array.of(1, 0, 3);
    expect(firstDiff(a, Float64Array.of(1, 0, 3))).toBe(-1);
    expect(firstDiff(a, Float64Array.of(1, -0, 3))).toBe(1);
    expect(firstDiff(a, Float64Array.of(1, 0, 3 + 2 ** -51))).toBe(2);
  });
});

/**
 * The k x k kernels of the Level G vector field and GD map. The generated code
 * (./generated/gramField.ts) calls them; the emitter (src/symbolic/emit/gramCode.ts) decides
 * which call each term becomes. Every kernel works on matrices in one WebAssembly.Memory (the
 * state is copied in once per evaluation, finished blocks are copied out), runs its inner loops
 * as WebAssembly SIMD (f64x2, built by src/wasm/emit.ts, as src/ode/simd.ts does), and handles
 * the last row / column of an odd k in plain JavaScript. Matrices too large for a kernel memory
 * are kept in a plain array and run plain loops with the same bits instead (GramKernels).
 *
 * Why: the plain-JS loops the emitter printed before scattered along columns (stride k) and
 * made one load/store pass over a destination row per nonzero of Gam; at k = 883 a field
 * evaluation took about 100 ms. Here a product with the sparse Gam is computed a destination row
 * at a time over that row's nonzeros (Gam's nonzeros grouped by rows or by columns), up to four
 * source rows per pass, two destination rows with the same pattern (the filler tokens of one
 * sample) sharing each source load; every product that would scatter along columns is computed
 * as rows of its transpose (the emitter arranges that), and transposes and X + X^T run in
 * 2 x 2 SIMD blocks, tiled. What remains is mostly memory traffic: copying the state in and the
 * blocks out, and one pass per kernel over k x k matrices that do not fit the caches.
 *
 * Numbers: for every output element the additions happen in the same order as in the scalar
 * loops they replace (nonzeros in the order of the list b-major, a-minor; the accumulator
 * starts from the current value, or from +0 for a fresh block, as the zero-filled buffers did),
 * and f64x2.mul then f64x2.add round exactly like the JS `acc += g * x`, so the results are
 * bit-identical to those loops.
 *
 * Matrices are passed as f64 indices into the kernel memory (`slots`, `state`, `gu`); a matrix
 * is k x k, row-major with leading dimension k.
 */
import { UsageError } from '../errors.js';
import { buildModule, F64, FunctionSpec, I32, op, V128, ValType } from '../wasm/emit.js';
import { allocateKernelMemory, Block, KERNEL_MEMORY_MAX_BYTES, layoutBlocks, WASM32_MAX_BYTES } from '../wasm/memory.js';

/** Tile edge (elements) of the blocked transposes (measured: 32 and 64 beat 8 and 16 at k = 883). */
const TILE = 32;

/** Most source rows one row-update call combines (more gains nothing measurable: load-bound). */
const MAX_ROWS = 4;

/** A WebAssembly function body under construction, with structured-loop helpers. */
class Asm {
  readonly body: number[] = [];
  readonly locals: ValType[] = [];
  constructor(readonly params: readonly ValType[]) {}

  local(t: ValType): number {
    this.locals.push(t);
    return this.params.length + this.locals.length - 1;
  }

  add(...code: (readonly number[])[]): void {
    for (const c of code) this.body.push(...c);
  }

  /** for (v = start; v < end (unsigned); v += step) body(); start and end push an i32 */
  for(v: number, start: readonly number[], end: readonly number[], step: number, body: () => void): void {
    this.add(start, op.localSet(v), op.block, op.loop);
    this.add(op.localGet(v), end, op.i32GeU, op.brIf(1));
    body();
    this.add(op.localGet(v), op.i32Const(step), op.i32Add, op.localSet(v), op.br(0), op.end, op.end);
  }

  spec(name: string): FunctionSpec {
    return { name, params: [...this.params], results: [], locals: this.locals, body: this.body };
  }
}

const get = op.localGet;

/** i32 code: v + c */
function plus(v: number, c: number): number[] {
  return [...get(v), ...op.i32Const(c), ...op.i32Add];
}

/** i32 code: min(a + c, b) for locals a, b (unsigned) */
function minPlus(a: number, c: number, b: number): number[] {
  return [...plus(a, c), ...get(b), ...plus(a, c), ...get(b), ...op.i32LtU, ...op.select];
}

/** i32 code: byte address base + row * rowBytes + col * 8 (row, col: i32 code) */
function addr(base: number, rowBytes: number, row: readonly number[], col: readonly number[]): number[] {
  return [...get(base), ...row, ...get(rowBytes), ...op.i32Mul, ...op.i32Add, ...col, ...op.i32Const(8), ...op.i32Mul, ...op.i32Add];
}

/**
 * ax{N} / az{N}(dst, src_0..src_{N-1}, nBytes, g_0..g_{N-1}):
 *   dst[j] = ((base + g_0 src_0[j]) + g_1 src_1[j]) + ..., base = dst[j] (ax) or +0 (az)
 * over nBytes / 8 doubles, two at a time, then a scalar for an odd count.
 * bx{N} / bz{N}(dst_0, dst_1, src_0..src_{N-1}, nBytes, g_0..g_{N-1}, h_0..h_{N-1}): the same
 * for two destination rows with the same source rows (g for dst_0, h for dst_1), each source
 * value loaded once for both.
 */
function rowUpdateKernel(N: number, D: 1 | 2, zeroStart: boolean): FunctionSpec {
  const pDst = (d: number) => d;
  const pSrc = (q: number) => D + q;
  const pN = D + N;
  const pG = (d: number, q: number) => D + N + 1 + d * N + q;
  const a = new Asm([...Array<ValType>(D + N + 1).fill(I32), ...Array<ValType>(D * N).fill(F64)]);
  const lI = a.local(I32);
  const lEven = a.local(I32);
  const lG = Array.from({ length: D * N }, () => a.local(V128));
  const lAcc = Array.from({ length: D }, () => a.local(V128));
  const lX = a.local(V128);
  const lZero = a.local(V128); // never written: locals start at +0
  const lAccS = Array.from({ length: D }, () => a.local(F64));
  const lXS = a.local(F64);
  const lZeroS = a.local(F64);
  for (let d = 0; d < D; d++) for (let q = 0; q < N; q++) a.add(get(pG(d, q)), op.f64x2Splat, op.localSet(lG[d * N + q]));
  a.add(get(pN), op.i32Const(-16), op.i32And, op.localSet(lEven));
  const at = (base: number) => [...get(base), ...get(lI), ...op.i32Add];
  a.for(lI, op.i32Const(0), get(lEven), 16, () => {
    for (let d = 0; d < D; d++) a.add(zeroStart ? get(lZero) : [...at(pDst(d)), ...op.v128Load()], op.localSet(lAcc[d]));
    for (let q = 0; q < N; q++) {
      a.add(at(pSrc(q)), op.v128Load(), op.localSet(lX));
      for (let d = 0; d < D; d++) a.add(get(lAcc[d]), get(lX), get(lG[d * N + q]), op.f64x2Mul, op.f64x2Add, op.localSet(lAcc[d]));
    }
    for (let d = 0; d < D; d++) a.add(at(pDst(d)), get(lAcc[d]), op.v128Store());
  });
  // an odd count: the last double (lI = lEven here)
  a.add(get(lI), get(pN), op.i32LtU, op.if);
  for (let d = 0; d < D; d++) a.add(zeroStart ? get(lZeroS) : [...at(pDst(d)), ...op.f64Load()], op.localSet(lAccS[d]));
  for (let q = 0; q < N; q++) {
    a.add(at(pSrc(q)), op.f64Load(), op.localSet(lXS));
    for (let d = 0; d < D; d++) a.add(get(lAccS[d]), get(lXS), get(pG(d, q)), op.f64Mul, op.f64Add, op.localSet(lAccS[d]));
  }
  for (let d = 0; d < D; d++) a.add(at(pDst(d)), get(lAccS[d]), op.f64Store());
  a.add(op.end);
  return a.spec(`${D === 1 ? 'a' : 'b'}${zeroStart ? 'z' : 'x'}${N}`);
}

/** i32 code: local a + local b */
function sum(a: number, b: number): number[] {
  return [...get(a), ...get(b), ...op.i32Add];
}

/**
 * tr(dst, src, rowBytes, kEven): dst = src^T on the leading kEven x kEven part, in 2 x 2 blocks
 * (two rows of src loaded, their lanes exchanged), in strips of TILE destination rows. The
 * inner loops step pointers (no multiplications).
 */
function transposeKernel(): FunctionSpec {
  const [pDst, pSrc, pRow, pK] = [0, 1, 2, 3];
  const a = new Asm([I32, I32, I32, I32]);
  const [lJJ, lJEnd, lI, lS, lSEnd, lD, lRow2] = [a.local(I32), a.local(I32), a.local(I32), a.local(I32), a.local(I32), a.local(I32), a.local(I32)];
  const [lA, lB] = [a.local(V128), a.local(V128)];
  a.add(get(pRow), get(pRow), op.i32Add, op.localSet(lRow2));
  a.for(lJJ, op.i32Const(0), get(pK), TILE, () => {
    a.add(minPlus(lJJ, TILE, pK), op.localSet(lJEnd));
    a.for(lI, op.i32Const(0), get(pK), 2, () => {
      // s: src[I, JJ], its end src[I, JEnd]; d: dst[JJ, I]
      a.add(addr(pSrc, pRow, get(lI), get(lJEnd)), op.localSet(lSEnd));
      a.add(addr(pDst, pRow, get(lJJ), get(lI)), op.localSet(lD));
      a.for(lS, addr(pSrc, pRow, get(lI), get(lJJ)), get(lSEnd), 16, () => {
        a.add(get(lS), op.v128Load(), op.localSet(lA));
        a.add(sum(lS, pRow), op.v128Load(), op.localSet(lB));
        a.add(get(lD), get(lA), get(lB), op.f64x2Lanes(0, 2), op.v128Store());
        a.add(sum(lD, pRow), get(lA), get(lB), op.f64x2Lanes(1, 3), op.v128Store());
        a.add(sum(lD, lRow2), op.localSet(lD));
      });
    });
  });
  return a.spec('tr');
}

/**
 * Loops over the pairs of 2 x 2 blocks (I, J), (J, I) with J >= I on the leading kEven x kEven
 * part, in TILE x TILE tiles: body() with lP = address of row I at column J and lQ = address of
 * row J at column I in the matrix at pBase (the next rows are + rowBytes).
 */
function blockPairs(a: Asm, pBase: number, pRow: number, pK: number, lP: number, lQ: number, body: () => void): void {
  const [lII, lIEnd, lJJ, lJEnd, lI, lJ0, lPEnd, lRow2] = [a.local(I32), a.local(I32), a.local(I32), a.local(I32), a.local(I32), a.local(I32), a.local(I32), a.local(I32)];
  a.add(get(pRow), get(pRow), op.i32Add, op.localSet(lRow2));
  a.for(lII, op.i32Const(0), get(pK), TILE, () => {
    a.add(minPlus(lII, TILE, pK), op.localSet(lIEnd));
    a.for(lJJ, get(lII), get(pK), TILE, () => {
      a.add(minPlus(lJJ, TILE, pK), op.localSet(lJEnd));
      a.for(lI, get(lII), get(lIEnd), 2, () => {
        // J from max(JJ, I): each pair once, a diagonal block with itself
        a.add(get(lJJ), get(lI), get(lJJ), get(lI), op.i32GtU, op.select, op.localSet(lJ0));
        a.add(addr(pBase, pRow, get(lI), get(lJEnd)), op.localSet(lPEnd));
        a.add(addr(pBase, pRow, get(lJ0), get(lI)), op.localSet(lQ));
        a.for(lP, addr(pBase, pRow, get(lI), get(lJ0)), get(lPEnd), 16, () => {
          body();
          a.add(sum(lQ, lRow2), op.localSet(lQ));
        });
      });
    });
  });
}

/**
 * tri(m, rowBytes, kEven): m = m^T in place on the leading kEven x kEven part: each 2 x 2 block
 * (I, J), J >= I, exchanged with (J, I), both transposed.
 */
function transposeInPlaceKernel(): FunctionSpec {
  const [pM, pRow, pK] = [0, 1, 2];
  const a = new Asm([I32, I32, I32]);
  const [lP, lQ] = [a.local(I32), a.local(I32)];
  const [lA0, lA1, lB0, lB1] = [a.local(V128), a.local(V128), a.local(V128), a.local(V128)];
  blockPairs(a, pM, pRow, pK, lP, lQ, () => {
    a.add(get(lP), op.v128Load(), op.localSet(lA0));
    a.add(sum(lP, pRow), op.v128Load(), op.localSet(lA1));
    a.add(get(lQ), op.v128Load(), op.localSet(lB0));
    a.add(sum(lQ, pRow), op.v128Load(), op.localSet(lB1));
    a.add(get(lP), get(lB0), get(lB1), op.f64x2Lanes(0, 2), op.v128Store());
    a.add(sum(lP, pRow), get(lB0), get(lB1), op.f64x2Lanes(1, 3), op.v128Store());
    a.add(get(lQ), get(lA0), get(lA1), op.f64x2Lanes(0, 2), op.v128Store());
    a.add(sum(lQ, pRow), get(lA0), get(lA1), op.f64x2Lanes(1, 3), op.v128Store());
  });
  return a.spec('tri');
}

/**
 * sym / symz(dst, x, rowBytes, kEven, c): dst[i, j] = base + c (x[i, j] + x[j, i]) on the
 * leading kEven x kEven part, base = dst[i, j] (sym) or +0 (symz). Each pair of 2 x 2 blocks
 * (I, J), (J, I) with J >= I is done together (x read once).
 */
function symmetrizeKernel(zeroStart: boolean): FunctionSpec {
  const [pDst, pX, pRow, pK, pC] = [0, 1, 2, 3, 4];
  const a = new Asm([I32, I32, I32, I32, F64]);
  const [lP, lQ, lDelta] = [a.local(I32), a.local(I32), a.local(I32)];
  const [lC, lY0, lY1, lV0, lV1, lZero] = [a.local(V128), a.local(V128), a.local(V128), a.local(V128), a.local(V128), a.local(V128)];
  const lBase = [a.local(V128), a.local(V128), a.local(V128), a.local(V128)];
  a.add(get(pC), op.f64x2Splat, op.localSet(lC));
  // dst = x + delta (i32 arithmetic wraps, so a negative delta is fine)
  a.add(get(pDst), get(pX), op.i32Sub, op.localSet(lDelta));
  blockPairs(a, pX, pRow, pK, lP, lQ, () => {
    // v0, v1 = rows I, I+1 of c (x + x^T) at columns J, J+1
    a.add(get(lQ), op.v128Load(), op.localSet(lY0));
    a.add(sum(lQ, pRow), op.v128Load(), op.localSet(lY1));
    a.add(get(lC), get(lP), op.v128Load(), get(lY0), get(lY1), op.f64x2Lanes(0, 2), op.f64x2Add, op.f64x2Mul, op.localSet(lV0));
    a.add(get(lC), sum(lP, pRow), op.v128Load(), get(lY0), get(lY1), op.f64x2Lanes(1, 3), op.f64x2Add, op.f64x2Mul, op.localSet(lV1));
    // destination rows I, I+1 at J and J, J+1 at I; all four bases before any store (on the
    // diagonal, J = I, the blocks coincide)
    const dstAddr = [
      [...get(lP), ...get(lDelta), ...op.i32Add],
      [...sum(lP, pRow), ...get(lDelta), ...op.i32Add],
      [...get(lQ), ...get(lDelta), ...op.i32Add],
      [...sum(lQ, pRow), ...get(lDelta), ...op.i32Add],
    ];
    for (let r = 0; r < 4; r++) a.add(zeroStart ? get(lZero) : [...dstAddr[r], ...op.v128Load()], op.localSet(lBase[r]));
    // rows J, J+1 at columns I, I+1: c (x[J, I] + x[I, J]), the same sums transposed
    // (floating-point addition is commutative)
    const values: number[][] = [get(lV0), get(lV1), [...get(lV0), ...get(lV1), ...op.f64x2Lanes(0, 2)], [...get(lV0), ...get(lV1), ...op.f64x2Lanes(1, 3)]];
    for (let r = 0; r < 4; r++) a.add(dstAddr[r], get(lBase[r]), values[r], op.f64x2Add, op.v128Store());
  });
  return a.spec(zeroStart ? 'symz' : 'sym');
}

/**
 * outer / outerz(dst, x, z, rowBytes, k, kEven, c): for rows i < k, columns j < kEven,
 * dst[i, j] = base + c ((0 + x[i] z[j]) + (0 + x[j] z[i])), base = dst[i, j] or +0: the sum
 * X + X^T of X = x z^T, each X entry as the zero-filled scratch held it.
 */
function outerKernel(zeroStart: boolean): FunctionSpec {
  const [pDst, pX, pZ, pRow, pK, pKE, pC] = [0, 1, 2, 3, 4, 5, 6];
  const a = new Asm([I32, I32, I32, I32, I32, I32, F64]);
  const [lI, lJ, lD, lEnd] = [a.local(I32), a.local(I32), a.local(I32), a.local(I32)];
  const [lC, lXi, lZi, lZero] = [a.local(V128), a.local(V128), a.local(V128), a.local(V128)];
  a.add(get(pC), op.f64x2Splat, op.localSet(lC));
  a.add(get(pKE), op.i32Const(8), op.i32Mul, op.localSet(lEnd));
  const at8 = (base: number, idx: number) => [...get(base), ...get(idx), ...op.i32Const(8), ...op.i32Mul, ...op.i32Add];
  a.for(lI, op.i32Const(0), get(pK), 1, () => {
    a.add(at8(pX, lI), op.f64Load(), op.f64x2Splat, op.localSet(lXi));
    a.add(at8(pZ, lI), op.f64Load(), op.f64x2Splat, op.localSet(lZi));
    a.add(addr(pDst, pRow, get(lI), op.i32Const(0)), op.localSet(lD));
    // lJ: byte offset of column j
    a.for(lJ, op.i32Const(0), get(lEnd), 16, () => {
      a.add(sum(lD, lJ));
      a.add(zeroStart ? get(lZero) : [...sum(lD, lJ), ...op.v128Load()]);
      a.add(get(lC));
      a.add(get(lZero), get(lXi), sum(pZ, lJ), op.v128Load(), op.f64x2Mul, op.f64x2Add);
      a.add(get(lZero), sum(pX, lJ), op.v128Load(), get(lZi), op.f64x2Mul, op.f64x2Add);
      a.add(op.f64x2Add, op.f64x2Mul, op.f64x2Add, op.v128Store());
    });
  });
  return a.spec(zeroStart ? 'outerz' : 'outer');
}

/**
 * mv(dst, m, x, rowBytes, kEven, k): dst[i] = ((0 + m[i, 0] x[0]) + m[i, 1] x[1]) + ... for rows
 * i < kEven, two rows at a time (row i in lane 0, row i + 1 in lane 1), columns in order: the
 * dot products of a plain loop down each row.
 */
function matVecKernel(): FunctionSpec {
  const [pDst, pM, pX, pRow, pKE, pK] = [0, 1, 2, 3, 4, 5];
  const a = new Asm([I32, I32, I32, I32, I32, I32]);
  const [lI, lL] = [a.local(I32), a.local(I32)];
  const [lAcc, lA, lB, lX, lZero] = [a.local(V128), a.local(V128), a.local(V128), a.local(V128), a.local(V128)];
  const at8 = (base: number, idx: readonly number[]) => [...get(base), ...idx, ...op.i32Const(8), ...op.i32Mul, ...op.i32Add];
  a.for(lI, op.i32Const(0), get(pKE), 2, () => {
    // acc = +0, as the plain loop's acc = 0
    a.add(get(lZero), op.localSet(lAcc));
    a.for(lL, op.i32Const(0), get(pKE), 2, () => {
      a.add(addr(pM, pRow, get(lI), get(lL)), op.v128Load(), op.localSet(lA));
      a.add(addr(pM, pRow, plus(lI, 1), get(lL)), op.v128Load(), op.localSet(lB));
      a.add(at8(pX, get(lL)), op.v128Load(), op.localSet(lX));
      a.add(get(lAcc), get(lA), get(lB), op.f64x2Lanes(0, 2), get(lX), get(lX), op.f64x2Lanes(0, 2), op.f64x2Mul, op.f64x2Add);
      a.add(get(lA), get(lB), op.f64x2Lanes(1, 3), get(lX), get(lX), op.f64x2Lanes(1, 3), op.f64x2Mul, op.f64x2Add, op.localSet(lAcc));
    });
    // an odd k: the last column (lL = kEven here)
    a.add(get(lL), get(pK), op.i32LtU, op.if);
    a.add(get(lAcc));
    a.add(addr(pM, pRow, get(lI), get(lL)), op.f64Load(), op.f64x2Splat, addr(pM, pRow, plus(lI, 1), get(lL)), op.f64Load(), op.f64x2ReplaceLane(1));
    a.add(at8(pX, get(lL)), op.f64Load(), op.f64x2Splat, op.f64x2Mul, op.f64x2Add, op.localSet(lAcc));
    a.add(op.end);
    a.add(at8(pDst, get(lI)), get(lAcc), op.v128Store());
  });
  return a.spec('mv');
}

let compiled: WebAssembly.Module | null = null;

function kernelModule(): WebAssembly.Module {
  if (!compiled) {
    const fns: FunctionSpec[] = [];
    for (let n = 1; n <= MAX_ROWS; n++) {
      for (const D of [1, 2] as const) fns.push(rowUpdateKernel(n, D, false), rowUpdateKernel(n, D, true));
    }
    fns.push(transposeKernel(), transposeInPlaceKernel(), symmetrizeKernel(false), symmetrizeKernel(true), outerKernel(false), outerKernel(true), matVecKernel());
    compiled = new WebAssembly.Module(buildModule(fns));
  }
  return compiled;
}

type RowUpdate = (dst: number, ...rest: number[]) => void;
type Exports = {
  tr: (dst: number, src: number, rowBytes: number, kEven: number) => void;
  tri: (m: number, rowBytes: number, kEven: number) => void;
  sym: (dst: number, x: number, rowBytes: number, kEven: number, c: number) => void;
  symz: (dst: number, x: number, rowBytes: number, kEven: number, c: number) => void;
  outer: (dst: number, x: number, z: number, rowBytes: number, k: number, kEven: number, c: number) => void;
  outerz: (dst: number, x: number, z: number, rowBytes: number, k: number, kEven: number, c: number) => void;
  mv: (dst: number, m: number, x: number, rowBytes: number, kEven: number, k: number) => void;
} & Record<string, RowUpdate>;

/** The nonzero pattern of Gam grouped by rows or by columns (compressed sparse rows). */
interface Compressed {
  /** the nonzeros of group r are ptr[r] .. ptr[r + 1] - 1 */
  readonly ptr: Int32Array;
  /** the other index of each nonzero: the source row it multiplies */
  readonly other: Int32Array;
  /** b * k + a: its position in the dense Gam */
  readonly pos: Int32Array;
  /**
   * The groups in the order to process them: groups with the same nonzero pattern next to each
   * other (the filler tokens of one sample share their pattern), so the source rows they read
   * are still in cache for the next group. Groups are independent: the order changes no bits.
   */
  readonly order: Int32Array;
  /** 1 where order[q] and order[q + 1] have the same nonempty pattern and are done as a pair */
  readonly pairStart: Uint8Array;
}

/**
 * Groups the nonzero list (b-major, a-minor, as GramModel builds it) by rows (b) or by columns
 * (a); within a group the nonzeros keep the list's order (a ascending in a row, b ascending in a
 * column), which is the order the scalar loops added them in.
 */
export function compressPattern(k: number, nzRow: Int32Array, nzCol: Int32Array, nnz: number, by: 'rows' | 'cols'): Compressed {
  const [key, other] = by === 'rows' ? [nzRow, nzCol] : [nzCol, nzRow];
  const ptr = new Int32Array(k + 1);
  for (let e = 0; e < nnz; e++) ptr[key[e] + 1]++;
  for (let r = 0; r < k; r++) ptr[r + 1] += ptr[r];
  const fill = ptr.slice(0, k);
  const o = new Int32Array(nnz);
  const pos = new Int32Array(nnz);
  for (let e = 0; e < nnz; e++) {
    const q = fill[key[e]]++;
    o[q] = other[e];
    pos[q] = nzRow[e] * k + nzCol[e];
  }
  const pattern = (r: number) => o.subarray(ptr[r], ptr[r + 1]);
  const comparePatterns = (r: number, q: number): number => {
    const x = pattern(r);
    const z = pattern(q);
    for (let i = 0; i < x.length && i < z.length; i++) if (x[i] !== z[i]) return x[i] - z[i];
    return x.length - z.length;
  };
  const order = Int32Array.from({ length: k }, (_, r) => r).sort((r, q) => comparePatterns(r, q) || r - q);
  const pairStart = new Uint8Array(k);
  for (let q = 0; q + 1 < k; q++) {
    const r = order[q];
    const r2 = order[q + 1];
    if (ptr[r + 1] > ptr[r] && comparePatterns(r, r2) === 0) {
      pairStart[q] = 1;
      q++;
    }
  }
  return { ptr, other: o, pos, order, pairStart };
}

/** Throws where a kernel call of a plain-array GramKernels would be (it never calls one). */
const noKernel: RowUpdate = () => {
  throw new Error('GramKernels: a WebAssembly kernel called without a kernel memory');
};

/**
 * Kernel memory and kernels for one GramModel: a copy of the state, of gu, and the named k x k
 * scratch matrices the generated code uses, after an optional region reserved for a host (an
 * integrator's vectors, so that the field reads its stages and writes its derivatives in
 * place: bindState, target). Allocated once; the methods allocate nothing.
 *
 * The blocks are laid out by src/wasm/memory.ts and live in one kernel memory when they fit its
 * cap (4 GiB - 64 KiB: these kernels use byte addresses only as unsigned i32). Above it they live
 * in one plain Float64Array with the same layout (the same f64 indices, so the generated code
 * cannot tell), and every method runs a plain loop that performs, for every output element, the
 * operations of the kernel in the same order (the scalar loops the header describes, which the
 * odd-k tails below already are): the same bits, with no limit on k from the kernel memory.
 */
export class GramKernels {
  /**
   * f64 index of the state the kernels read (layout src/gram/layout.ts): their own copy, or, for
   * a state that already lives in this memory, the state itself (bindState)
   */
  state: number;
  /** f64 index of the kernels' own copy of the state */
  private readonly stateHome: number;
  private readonly stateSize: number;
  /**
   * Byte offset of the region reserved for a host at the start of the memory (the constructor's
   * reserveBytes), or -1 when none was reserved (not asked for, or it did not fit).
   */
  readonly reservedOffset: number;
  /** the kernels' WebAssembly memory (null: plain arrays, see below) */
  readonly memory: WebAssembly.Memory | null;
  /** f64 index of the copy of gu (k) */
  readonly gu: number;
  /** f64 index of a scratch vector (k): matVec / vecMat results */
  private readonly vec: number;
  /** f64 index of each named k x k matrix */
  readonly slots: Readonly<Record<string, number>>;
  /** the whole kernel memory as doubles */
  readonly mem: Float64Array;

  /** the WebAssembly kernels; null: plain loops over a plain `mem` (see above) */
  private readonly ex: Exports | null;
  // one field per kernel, so that every call site has a single target (V8 then calls the
  // WebAssembly function directly; a call site that sees several targets goes through a generic
  // wrapper that boxes every f64 argument: garbage on every call)
  private readonly ax1: RowUpdate;
  private readonly ax2: RowUpdate;
  private readonly ax3: RowUpdate;
  private readonly ax4: RowUpdate;
  private readonly bx1: RowUpdate;
  private readonly bx2: RowUpdate;
  private readonly bx3: RowUpdate;
  private readonly bx4: RowUpdate;
  private readonly az1: RowUpdate;
  private readonly az2: RowUpdate;
  private readonly az3: RowUpdate;
  private readonly az4: RowUpdate;
  private readonly bz1: RowUpdate;
  private readonly bz2: RowUpdate;
  private readonly bz3: RowUpdate;
  private readonly bz4: RowUpdate;
  private readonly byRows: Compressed;
  private readonly byCols: Compressed;
  private readonly stateView: Float64Array;
  private readonly guView: Float64Array;
  private readonly vecView: Float64Array;
  private readonly views = new Map<number, Float64Array>();
  private readonly rowBytes: number;
  private readonly kEven: number;

  constructor(
    readonly k: number,
    stateSize: number,
    pattern: { readonly nzRow: Int32Array; readonly nzCol: Int32Array; readonly nnz: number },
    private readonly Gam: Float64Array,
    slotNames: readonly string[],
    reserveBytes = 0,
  ) {
    const kk = k * k;
    // The reserved region comes first (low addresses: a host such as an integrator's
    // StageMemory keeps int32 addresses), so with it the whole memory must fit the 2 GiB cap;
    // when it does not, the kernels get a memory of their own and nothing is reserved.
    const specOf = (reserve: number) => {
      const spec: Record<string, Block> = reserve > 0 ? { reserved: { f64: reserve / 8 } } : {};
      Object.assign(spec, { state: { f64: stateSize }, gu: { f64: k }, vec: { f64: k } });
      for (const name of slotNames) spec[`slot ${name}`] = { f64: kk };
      return spec;
    };
    let spec = specOf(reserveBytes);
    let km = reserveBytes > 0 ? allocateKernelMemory(spec, KERNEL_MEMORY_MAX_BYTES) : null;
    if (!km) {
      spec = specOf(0);
      km = allocateKernelMemory(spec, WASM32_MAX_BYTES);
    }
    const layout = layoutBlocks(spec);
    this.reservedOffset = km && 'reserved' in spec ? layout.offset.reserved : -1;
    this.memory = km ? km.memory : null;
    this.stateHome = layout.offset.state / 8;
    this.state = this.stateHome;
    this.stateSize = stateSize;
    this.gu = layout.offset.gu / 8;
    this.vec = layout.offset.vec / 8;
    const slots: Record<string, number> = {};
    for (const name of slotNames) slots[name] = layout.offset[`slot ${name}`] / 8;
    this.slots = slots;
    if (km) {
      this.mem = new Float64Array(km.memory.buffer);
      this.ex = km.instantiate(kernelModule()) as unknown as Exports;
    } else {
      try {
        this.mem = new Float64Array(layout.bytes / 8);
      } catch (e) {
        throw new UsageError(`k = ${k} tokens: could not allocate the Level G kernels' ${Math.ceil(layout.bytes / 2 ** 20)} MiB (${(e as Error).message}); track fewer tokens`);
      }
      this.ex = null;
    }
    const ex: Record<string, RowUpdate> = this.ex ?? {};
    [this.ax1, this.ax2, this.ax3, this.ax4] = [ex.ax1 ?? noKernel, ex.ax2 ?? noKernel, ex.ax3 ?? noKernel, ex.ax4 ?? noKernel];
    [this.bx1, this.bx2, this.bx3, this.bx4] = [ex.bx1 ?? noKernel, ex.bx2 ?? noKernel, ex.bx3 ?? noKernel, ex.bx4 ?? noKernel];
    [this.az1, this.az2, this.az3, this.az4] = [ex.az1 ?? noKernel, ex.az2 ?? noKernel, ex.az3 ?? noKernel, ex.az4 ?? noKernel];
    [this.bz1, this.bz2, this.bz3, this.bz4] = [ex.bz1 ?? noKernel, ex.bz2 ?? noKernel, ex.bz3 ?? noKernel, ex.bz4 ?? noKernel];
    this.stateView = this.mem.subarray(this.stateHome, this.stateHome + stateSize);
    this.guView = this.mem.subarray(this.gu, this.gu + k);
    this.vecView = this.mem.subarray(this.vec, this.vec + k);
    for (const name of slotNames) this.views.set(slots[name], this.mem.subarray(slots[name], slots[name] + kk));
    this.byRows = compressPattern(k, pattern.nzRow, pattern.nzCol, pattern.nnz, 'rows');
    this.byCols = compressPattern(k, pattern.nzRow, pattern.nzCol, pattern.nnz, 'cols');
    this.rowBytes = k * 8;
    this.kEven = k & ~1;
  }

  /** True when the WebAssembly kernels run (else the plain loops over a plain `mem`). */
  get simd(): boolean {
    return this.ex !== null;
  }

  /** The state y into kernel memory (all of it, one TypedArray.set; allocation-free). */
  loadState(y: Float64Array): void {
    this.state = this.stateHome;
    this.stateView.set(y);
  }

  /**
   * The kernels read the state y from now on: in place when y lives in this memory (a vector of
   * a StageMemory hosted in the reserved region), else from their copy (loadState). In place
   * saves the copy of the state in, and with target() the copies of the blocks out: at k = 883
   * these took 7.6 of 18 ms per evaluation (docs/performance.md). The output must not overlap y
   * (GramModel refuses that).
   */
  bindState(y: Float64Array): void {
    if (this.ex !== null && y.buffer === this.mem.buffer && y.length === this.stateSize) this.state = y.byteOffset / 8;
    else this.loadState(y);
  }

  /**
   * Where a block of out at f64 offset o is built: in out itself when out lives in this memory,
   * else in the kernel matrix `slot` (then store() copies it out).
   */
  target(out: Float64Array, o: number, slot: number): number {
    return this.ex !== null && out.buffer === this.mem.buffer ? out.byteOffset / 8 + o : slot;
  }

  /** gu (length k) into kernel memory. */
  loadGu(gu: Float64Array): void {
    this.guView.set(gu);
  }

  /** out[o .. o + k^2) = the matrix at m: a kernel matrix, or (nothing to do) the block itself, built in place (target) */
  store(out: Float64Array, o: number, m: number): void {
    if (out.buffer === this.mem.buffer && out.byteOffset / 8 + o === m) return;
    out.set(this.views.get(m)!, o);
  }

  /** The named matrix at m as a view (for tests). */
  view(m: number): Float64Array {
    return this.views.get(m)!;
  }

  /** dst = base + coef src (elementwise, base = dst or +0 when init) */
  copy(dst: number, src: number, coef: number, init: boolean): void {
    const kk = this.k * this.k;
    if (!this.ex) {
      const { mem } = this;
      for (let e = 0; e < kk; e++) mem[dst + e] = (init ? 0 : mem[dst + e]) + coef * mem[src + e];
      return;
    }
    if (init) this.az1(dst * 8, src * 8, kk * 8, coef);
    else this.ax1(dst * 8, src * 8, kk * 8, coef);
  }

  /**
   * Row b of dst += sum over the nonzeros (b, a) of row b of Gam, a ascending, of
   * (coef Gam[b, a]) src[a, :]: dst = base + coef Gam src (base = dst, or +0 when init).
   */
  gamRows(dst: number, src: number, coef: number, init: boolean): void {
    this.product(this.byRows, dst, src, coef, init);
  }

  /**
   * Row a of dst += sum over the nonzeros (b, a) of column a of Gam, b ascending, of
   * (coef Gam[b, a]) src[b, :]: dst = base + coef Gam^T src.
   */
  gamCols(dst: number, src: number, coef: number, init: boolean): void {
    this.product(this.byCols, dst, src, coef, init);
  }

  private product(c: Compressed, dst: number, src: number, coef: number, init: boolean): void {
    const { k } = this;
    if (!this.ex) return this.productLoop(c, dst, src, coef, init);
    const { order, pairStart } = c;
    for (let q = 0; q < k; q++) {
      const r = order[q];
      if (pairStart[q]) this.rowPair(c, r, order[++q], dst, src, coef, init);
      else this.row(c, r, dst, src, coef, init);
    }
  }

  /**
   * product() as plain loops (no kernel memory): row by row (rows are independent), each row's
   * nonzeros in list order, one pass each, entry by entry dst += (coef Gam[b, a]) src, the first
   * from +0 when init: per entry the same products and sums, in the same order, as the kernel
   * calls (up to four nonzeros a call, a row pair sharing its loads) make.
   */
  private productLoop(c: Compressed, dst: number, src: number, coef: number, init: boolean): void {
    const { k, mem, Gam } = this;
    const { ptr, other, pos } = c;
    for (let r = 0; r < k; r++) {
      const d = dst + r * k;
      const first = ptr[r];
      const end = ptr[r + 1];
      if (first === end && init) mem.fill(0, d, d + k);
      for (let e = first; e < end; e++) {
        const g = coef * Gam[pos[e]];
        const s = src + other[e] * k;
        if (init && e === first) for (let j = 0; j < k; j++) mem[d + j] = 0 + g * mem[s + j];
        else for (let j = 0; j < k; j++) mem[d + j] += g * mem[s + j];
      }
    }
  }

  // In row and rowPair every call site names one kernel (see the fields above); with init the
  // first call starts from +0 (az, bz), as the zero-filled output did.

  /** dst row r += its nonzeros' terms, up to four per kernel call */
  private row(c: Compressed, r: number, dst: number, src: number, coef: number, init: boolean): void {
    const { ptr } = c;
    const d = (dst + r * this.k) * 8;
    let e = ptr[r];
    const end = ptr[r + 1];
    if (e === end) {
      if (init) this.mem.fill(0, dst + r * this.k, dst + r * this.k + this.k);
      return;
    }
    for (let zero = init; e < end; zero = false) {
      const n = Math.min(end - e, 4);
      this.rowCall(zero, n, c, d, src * 8, e, coef);
      e += n;
    }
  }

  /** Rows r and r2 (the same nonempty pattern) of dst together: each source row read once. */
  private rowPair(c: Compressed, r: number, r2: number, dst: number, src: number, coef: number, init: boolean): void {
    const { ptr } = c;
    const d = (dst + r * this.k) * 8;
    const d2 = (dst + r2 * this.k) * 8;
    let e = ptr[r];
    const end = ptr[r + 1];
    // the same sources, so the same offsets into r2's nonzeros
    let f = ptr[r2];
    for (let zero = init; e < end; zero = false) {
      const n = Math.min(end - e, 4);
      this.pairCall(zero, n, c, d, d2, src * 8, e, f, coef);
      e += n;
      f += n;
    }
  }

  /**
   * One kernel call over the n (1..4) nonzeros e.. of a row: dst row at byte d, sources the rows
   * `other` of the matrix at byte s; from +0 (az) when `zero`, else added to dst (ax). Explicit
   * argument lists: nothing is allocated per call.
   */
  private rowCall(zero: boolean, n: number, c: Compressed, d: number, s: number, e: number, coef: number): void {
    const { Gam } = this;
    const { other, pos } = c;
    const rb = this.rowBytes;
    switch (n) {
      case 4:
        (zero ? this.az4 : this.ax4)(d, s + other[e] * rb, s + other[e + 1] * rb, s + other[e + 2] * rb, s + other[e + 3] * rb, rb,
          coef * Gam[pos[e]], coef * Gam[pos[e + 1]], coef * Gam[pos[e + 2]], coef * Gam[pos[e + 3]]);
        return;
      case 3:
        (zero ? this.az3 : this.ax3)(d, s + other[e] * rb, s + other[e + 1] * rb, s + other[e + 2] * rb, rb, coef * Gam[pos[e]], coef * Gam[pos[e + 1]], coef * Gam[pos[e + 2]]);
        return;
      case 2:
        (zero ? this.az2 : this.ax2)(d, s + other[e] * rb, s + other[e + 1] * rb, rb, coef * Gam[pos[e]], coef * Gam[pos[e + 1]]);
        return;
      default:
        (zero ? this.az1 : this.ax1)(d, s + other[e] * rb, rb, coef * Gam[pos[e]]);
    }
  }

  /** rowCall for two rows with the same pattern: nonzeros e.. of row d and f.. of row d2. */
  private pairCall(zero: boolean, n: number, c: Compressed, d: number, d2: number, s: number, e: number, f: number, coef: number): void {
    const { Gam } = this;
    const { other, pos } = c;
    const rb = this.rowBytes;
    switch (n) {
      case 4:
        (zero ? this.bz4 : this.bx4)(d, d2, s + other[e] * rb, s + other[e + 1] * rb, s + other[e + 2] * rb, s + other[e + 3] * rb, rb,
          coef * Gam[pos[e]], coef * Gam[pos[e + 1]], coef * Gam[pos[e + 2]], coef * Gam[pos[e + 3]],
          coef * Gam[pos[f]], coef * Gam[pos[f + 1]], coef * Gam[pos[f + 2]], coef * Gam[pos[f + 3]]);
        return;
      case 3:
        (zero ? this.bz3 : this.bx3)(d, d2, s + other[e] * rb, s + other[e + 1] * rb, s + other[e + 2] * rb, rb,
          coef * Gam[pos[e]], coef * Gam[pos[e + 1]], coef * Gam[pos[e + 2]], coef * Gam[pos[f]], coef * Gam[pos[f + 1]], coef * Gam[pos[f + 2]]);
        return;
      case 2:
        (zero ? this.bz2 : this.bx2)(d, d2, s + other[e] * rb, s + other[e + 1] * rb, rb, coef * Gam[pos[e]], coef * Gam[pos[e + 1]], coef * Gam[pos[f]], coef * Gam[pos[f + 1]]);
        return;
      default:
        (zero ? this.bz1 : this.bx1)(d, d2, s + other[e] * rb, rb, coef * Gam[pos[e]], coef * Gam[pos[f]]);
    }
  }

  /**
   * out[i] = ((0 + m[i, 0] x[0]) + m[i, 1] x[1]) + ... (out: a JS vector of length k; m, x in
   * kernel memory): the row dot products of a plain loop.
   */
  matVec(out: Float64Array, m: number, x: number): void {
    const { k, mem, vec } = this;
    if (!this.ex) {
      for (let i = 0; i < k; i++) {
        let acc = 0;
        for (let j = 0; j < k; j++) acc += mem[m + i * k + j] * mem[x + j];
        out[i] = acc;
      }
      return;
    }
    this.ex.mv(vec * 8, m * 8, x * 8, this.rowBytes, this.kEven, k);
    if (k & 1) {
      const l = k - 1;
      let acc = 0;
      for (let j = 0; j < k; j++) acc += mem[m + l * k + j] * mem[x + j];
      mem[vec + l] = acc;
    }
    out.set(this.vecView);
  }

  /**
   * out[j] = ((0 + x[0] m[0, j]) + x[1] m[1, j]) + ... (out: a JS vector of length k; x, m in
   * kernel memory): x^T m along the rows of m, each entry summed in the order of a plain dot
   * product down column j.
   */
  vecMat(out: Float64Array, x: number, m: number): void {
    const { k, mem } = this;
    if (!this.ex) {
      // row by row (as the kernel calls go), each entry's sum still in increasing l, from +0
      const x0 = mem[x];
      for (let j = 0; j < k; j++) out[j] = 0 + x0 * mem[m + j];
      for (let l = 1; l < k; l++) {
        const xl = mem[x + l];
        const row = m + l * k;
        for (let j = 0; j < k; j++) out[j] += xl * mem[row + j];
      }
      return;
    }
    const rb = this.rowBytes;
    const d = this.vec * 8;
    const s = m * 8;
    // the first call (rows 0..3 of m) starts from +0, as the zero-filled scratch did
    switch (Math.min(k, 4)) {
      case 4:
        this.az4(d, s, s + rb, s + 2 * rb, s + 3 * rb, rb, mem[x], mem[x + 1], mem[x + 2], mem[x + 3]);
        break;
      case 3:
        this.az3(d, s, s + rb, s + 2 * rb, rb, mem[x], mem[x + 1], mem[x + 2]);
        break;
      case 2:
        this.az2(d, s, s + rb, rb, mem[x], mem[x + 1]);
        break;
      default:
        this.az1(d, s, rb, mem[x]);
        break;
    }
    let l = Math.min(k, 4);
    for (; k - l >= 4; l += 4) this.ax4(d, s + l * rb, s + (l + 1) * rb, s + (l + 2) * rb, s + (l + 3) * rb, rb, mem[x + l], mem[x + l + 1], mem[x + l + 2], mem[x + l + 3]);
    switch (k - l) {
      case 3:
        this.ax3(d, s + l * rb, s + (l + 1) * rb, s + (l + 2) * rb, rb, mem[x + l], mem[x + l + 1], mem[x + l + 2]);
        break;
      case 2:
        this.ax2(d, s + l * rb, s + (l + 1) * rb, rb, mem[x + l], mem[x + l + 1]);
        break;
      case 1:
        this.ax1(d, s + l * rb, rb, mem[x + l]);
        break;
      default:
        break;
    }
    out.set(this.vecView);
  }

  /** dst = src^T (dst and src distinct) */
  transpose(dst: number, src: number): void {
    const { k, mem } = this;
    if (!this.ex) {
      for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) mem[dst + j * k + i] = mem[src + i * k + j];
      return;
    }
    this.ex.tr(dst * 8, src * 8, this.rowBytes, this.kEven);
    if (k & 1) {
      const l = k - 1;
      for (let j = 0; j < k; j++) mem[dst + j * k + l] = mem[src + l * k + j];
      for (let i = 0; i < l; i++) mem[dst + l * k + i] = mem[src + i * k + l];
    }
  }

  /** m = m^T in place */
  transposeInPlace(m: number): void {
    const { k, mem } = this;
    if (!this.ex) {
      for (let i = 0; i < k; i++) {
        for (let j = i + 1; j < k; j++) {
          const t = mem[m + i * k + j];
          mem[m + i * k + j] = mem[m + j * k + i];
          mem[m + j * k + i] = t;
        }
      }
      return;
    }
    this.ex.tri(m * 8, this.rowBytes, this.kEven);
    if (k & 1) {
      const l = k - 1;
      for (let i = 0; i < l; i++) {
        const t = mem[m + i * k + l];
        mem[m + i * k + l] = mem[m + l * k + i];
        mem[m + l * k + i] = t;
      }
    }
  }

  /** dst = base + c (x + x^T) (base = dst, or +0 when init); dst and x distinct */
  symmetrize(dst: number, x: number, c: number, init: boolean): void {
    const { k, mem } = this;
    if (!this.ex) {
      // (entry (j, i) is c (x[j, i] + x[i, j]), the kernel's c (x[i, j] + x[j, i]): addition commutes exactly)
      for (let i = 0; i < k; i++) {
        for (let j = 0; j < k; j++) mem[dst + i * k + j] = (init ? 0 : mem[dst + i * k + j]) + c * (mem[x + i * k + j] + mem[x + j * k + i]);
      }
      return;
    }
    (init ? this.ex.symz : this.ex.sym)(dst * 8, x * 8, this.rowBytes, this.kEven, c);
    if (k & 1) {
      const l = k - 1;
      for (let j = 0; j < k; j++) mem[dst + l * k + j] = (init ? 0 : mem[dst + l * k + j]) + c * (mem[x + l * k + j] + mem[x + j * k + l]);
      for (let i = 0; i < l; i++) mem[dst + i * k + l] = (init ? 0 : mem[dst + i * k + l]) + c * (mem[x + i * k + l] + mem[x + l * k + i]);
    }
  }

  /**
   * dst = base + c (X + X^T) for X = x z^T (x, z: vectors of length k at f64 indices x, z), each
   * X[i, j] = 0 + x[i] z[j] as a zero-filled scratch would hold it (base = dst, or +0 when init).
   */
  outerSym(dst: number, x: number, z: number, c: number, init: boolean): void {
    const { k, mem } = this;
    if (!this.ex) {
      for (let i = 0; i < k; i++) {
        for (let j = 0; j < k; j++) {
          mem[dst + i * k + j] = (init ? 0 : mem[dst + i * k + j]) + c * ((0 + mem[x + i] * mem[z + j]) + (0 + mem[x + j] * mem[z + i]));
        }
      }
      return;
    }
    (init ? this.ex.outerz : this.ex.outer)(dst * 8, x * 8, z * 8, this.rowBytes, k, this.kEven, c);
    if (k & 1) {
      const l = k - 1;
      for (let i = 0; i < k; i++) {
        mem[dst + i * k + l] = (init ? 0 : mem[dst + i * k + l]) + c * ((0 + mem[x + i] * mem[z + l]) + (0 + mem[x + l] * mem[z + i]));
      }
    }
  }
}

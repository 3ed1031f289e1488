/**
 * The hot loops of an explicit Runge-Kutta step, as WebAssembly SIMD kernels (f64x2).
 *
 * Why: in V8 the plain-JS stage combinations over a 57,344-component state were compute-bound
 * (about 0.2 ms per 6-term pass, with the data in cache or not); the same pass in WebAssembly
 * with 128-bit SIMD takes about 0.07 ms and gives bit-identical results (same operation order).
 * The kernels are generated here by src/wasm/emit.ts, so nothing is assembled at install time:
 * one combination and one error-norm kernel per term count K, for every K >= 1 (ARGUMENT_TERMS),
 * so a tableau of any number of stages runs on them.
 *
 * All vectors a solver uses live in one WebAssembly.Memory (StageMemory, from the allocator of
 * src/wasm/memory.ts), each padded to an even length so that every vector starts on a 16-byte
 * boundary and the SIMD loops need no scalar tail; padding entries stay 0 (and atol's padding is
 * 1, so the padded error terms are 0 / 1). A state too large for that memory gets plain vectors
 * instead, and StageKernels runs the same operations as plain loops, with the same bits (the
 * error norm keeps the kernel's two lane sums), so the state's size is never limited here.
 */
import { buildModule, F64, FunctionSpec, I32, op, V128, ValType } from '../wasm/emit.js';
import { allocateKernelMemory, BlockSpec, KernelMemory, kernelMemoryCap, layoutBlocks } from '../wasm/memory.js';

/**
 * Combinations of up to this many terms call kernels that take the stage offsets and the
 * coefficients as arguments (lc1..lc8, en1..en8, all in one module with gd); a combination of
 * more terms (a tableau of more stages than DOPRI5's 7) calls a kernel generated for its term
 * count on first use, which reads them from the memory's term table (StageMemory).
 */
const ARGUMENT_TERMS = 8;

/** Locals lC(q) = splat(param pC(q)) for q < K: the coefficients as f64x2. */
function splatAll(K: number, pC: (q: number) => number, lC: (q: number) => number): number[] {
  const code: number[] = [];
  for (let q = 0; q < K; q++) code.push(...op.localGet(pC(q)), ...op.f64x2Splat, ...op.localSet(lC(q)));
  return code;
}

/**
 * The same locals from the term table: lK(q) = the i32 at pPtrs + 4q (stage offsets), lC(q) =
 * splat of the f64 at pCoefs + 8q (coefficients, copied exactly).
 */
function loadTable(K: number, pCoefs: number, pPtrs: number, lK: (q: number) => number, lC: (q: number) => number): number[] {
  const code: number[] = [];
  for (let q = 0; q < K; q++) {
    code.push(...op.localGet(pPtrs), ...op.i32Load(4 * q), ...op.localSet(lK(q)));
    code.push(...op.localGet(pCoefs), ...op.v128Load64Splat(8 * q), ...op.localSet(lC(q)));
  }
  return code;
}

/** Pushes sum_q k_q[i] * c_q (two lanes at byte offset i), summed left to right. */
function weightedStages(K: number, pK: (q: number) => number, lI: number, lC: (q: number) => number): number[] {
  const code: number[] = [];
  for (let q = 0; q < K; q++) {
    code.push(...op.localGet(pK(q)), ...op.localGet(lI), ...op.i32Add, ...op.v128Load(), ...op.localGet(lC(q)), ...op.f64x2Mul);
    if (q > 0) code.push(...op.f64x2Add);
  }
  return code;
}

/**
 * lc{K}(out, base, k_0..k_{K-1}, nBytes, h, c_0..c_{K-1}) (K <= ARGUMENT_TERMS), or
 * lct{K}(out, base, nBytes, h, coefs, ptrs) with k_q = the i32 at ptrs + 4q and c_q = the f64 at
 * coefs + 8q (the term table, any K >= 1):
 *   out_i = base_i + acc_i * h,  acc_i = (...((c_0 k_0,i + c_1 k_1,i) + c_2 k_2,i) + ...) + c_{K-1} k_{K-1},i,
 * each product rounded, then summed left to right (as the JS it replaced), for every K alike: the
 * two forms run the same loop and differ only in where the offsets and coefficients come from.
 */
function combinationKernel(K: number, table: boolean): FunctionSpec {
  const pOut = 0;
  const pBase = 1;
  const pN = table ? 2 : 2 + K;
  const pH = pN + 1;
  const nParams = table ? 6 : 4 + 2 * K;
  const lI = nParams;
  const lH = nParams + 1;
  const lC = (q: number) => nParams + 2 + q;
  const lAcc = nParams + 2 + K;
  // the stage offsets: parameters 2..K+1, or (table) locals after lAcc
  const pK = table ? (q: number) => nParams + 3 + K + q : (q: number) => 2 + q;
  const body: number[] = [...op.localGet(pH), ...op.f64x2Splat, ...op.localSet(lH)];
  body.push(...(table ? loadTable(K, 4, 5, pK, lC) : splatAll(K, (q) => 4 + K + q, lC)));
  body.push(...op.i32Const(0), ...op.localSet(lI), ...op.block, ...op.loop);
  body.push(...op.localGet(lI), ...op.localGet(pN), ...op.i32GeU, ...op.brIf(1));
  body.push(...weightedStages(K, pK, lI, lC));
  body.push(...op.localSet(lAcc));
  body.push(...op.localGet(pOut), ...op.localGet(lI), ...op.i32Add);
  body.push(...op.localGet(pBase), ...op.localGet(lI), ...op.i32Add, ...op.v128Load());
  body.push(...op.localGet(lAcc), ...op.localGet(lH), ...op.f64x2Mul, ...op.f64x2Add, ...op.v128Store());
  body.push(...op.localGet(lI), ...op.i32Const(16), ...op.i32Add, ...op.localSet(lI), ...op.br(0), ...op.end, ...op.end);
  const params: ValType[] = table ? [I32, I32, I32, F64, I32, I32] : [I32, I32, ...Array<ValType>(K).fill(I32), I32, F64, ...Array<ValType>(K).fill(F64)];
  const locals: ValType[] = [I32, V128, ...Array<ValType>(K).fill(V128), V128, ...Array<ValType>(table ? K : 0).fill(I32)];
  return { name: table ? `lct${K}` : `lc${K}`, params, results: [], locals, body };
}

/**
 * en{K}(k_0..k_{K-1}, y, yNew, atol, nBytes, h, rtol, c_0..c_{K-1}) -> f64 (K <= ARGUMENT_TERMS),
 * or ent{K}(y, yNew, atol, nBytes, h, rtol, coefs, ptrs) -> f64 (the term table, any K >= 1):
 *   sum_i (err_i / w_i)^2, err_i = acc_i * h with acc_i summed as in combinationKernel,
 *   w_i = atol_i + rtol max(|y_i|, |yNew_i|)
 * (HNW I, Eq. (4.11)), the error vector never stored. Two lane sums (even and odd i), each
 * sum += (r_i * r_i + yNew_i * 0) in order of i, added at the end (lane 0 + lane 1). NaN or Inf
 * in any stage or in yNew makes the result non-finite.
 */
function errorNormKernel(K: number, table: boolean): FunctionSpec {
  const o = table ? 0 : K;
  const pY = o;
  const pYNew = o + 1;
  const pAtol = o + 2;
  const pN = o + 3;
  const pH = o + 4;
  const pRtol = o + 5;
  const nParams = table ? 8 : 6 + 2 * K;
  const lI = nParams;
  const lH = nParams + 1;
  const lR = nParams + 2;
  const lC = (q: number) => nParams + 3 + q;
  const lSum = nParams + 3 + K;
  const lE = nParams + 4 + K;
  const lZero = nParams + 5 + K; // never written: locals start at 0
  // the stage offsets: parameters 0..K-1, or (table) locals after lZero
  const pK = table ? (q: number) => nParams + 6 + K + q : (q: number) => q;

  const body: number[] = [...op.localGet(pH), ...op.f64x2Splat, ...op.localSet(lH)];
  body.push(...op.localGet(pRtol), ...op.f64x2Splat, ...op.localSet(lR));
  body.push(...(table ? loadTable(K, 6, 7, pK, lC) : splatAll(K, (q) => K + 6 + q, lC)));
  body.push(...op.i32Const(0), ...op.localSet(lI), ...op.block, ...op.loop);
  body.push(...op.localGet(lI), ...op.localGet(pN), ...op.i32GeU, ...op.brIf(1));
  body.push(...weightedStages(K, pK, lI, lC));
  // e = acc * h
  body.push(...op.localGet(lH), ...op.f64x2Mul, ...op.localSet(lE));
  // w = atol + rtol * max(|y|, |yNew|); r = e / w; sum += r * r
  body.push(...op.localGet(lE));
  body.push(...op.localGet(pAtol), ...op.localGet(lI), ...op.i32Add, ...op.v128Load());
  body.push(...op.localGet(lR));
  body.push(...op.localGet(pY), ...op.localGet(lI), ...op.i32Add, ...op.v128Load(), ...op.f64x2Abs);
  body.push(...op.localGet(pYNew), ...op.localGet(lI), ...op.i32Add, ...op.v128Load(), ...op.f64x2Abs);
  body.push(...op.f64x2Max, ...op.f64x2Mul, ...op.f64x2Add, ...op.f64x2Div, ...op.localSet(lE));
  // sum += r * r + yNew * 0: the second term is NaN exactly when yNew is Inf or NaN, which an
  // infinite weight would otherwise hide (r = e / Inf = 0).
  body.push(...op.localGet(lSum), ...op.localGet(lE), ...op.localGet(lE), ...op.f64x2Mul);
  body.push(...op.localGet(pYNew), ...op.localGet(lI), ...op.i32Add, ...op.v128Load(), ...op.localGet(lZero), ...op.f64x2Mul, ...op.f64x2Add);
  body.push(...op.f64x2Add, ...op.localSet(lSum));
  body.push(...op.localGet(lI), ...op.i32Const(16), ...op.i32Add, ...op.localSet(lI), ...op.br(0), ...op.end, ...op.end);
  body.push(...op.localGet(lSum), ...op.f64x2ExtractLane(0), ...op.localGet(lSum), ...op.f64x2ExtractLane(1), ...op.f64Add);
  const params: ValType[] = table
    ? [I32, I32, I32, I32, F64, F64, I32, I32]
    : [...Array<ValType>(K).fill(I32), I32, I32, I32, I32, F64, F64, ...Array<ValType>(K).fill(F64)];
  const locals: ValType[] = [I32, V128, V128, ...Array<ValType>(K).fill(V128), V128, V128, V128, ...Array<ValType>(table ? K : 0).fill(I32)];
  return { name: table ? `ent${K}` : `en${K}`, params, results: [F64], locals, body };
}

/**
 * lcp{K}(out, base, part, k_0..k_{K-1}, nBytes, h, c_0..c_{K-1}, e_0..e_{K-1}) (K <= ARGUMENT_TERMS):
 * combinationKernel's out = base + acc(c) h, and in the same pass part = acc(e), both sums formed
 * as weightedStages forms them (products rounded, added left to right), each stage vector read
 * once for both. Dormand-Prince's new state and the first terms of its error estimate share their
 * stages (b and e are nonzero on the same stages but the last), so this saves the error norm the
 * second reading of those stages: Dopri5.step, docs/performance.md.
 */
function combinationPartialKernel(K: number): FunctionSpec {
  const [pOut, pBase, pPart] = [0, 1, 2];
  const pK = (q: number) => 3 + q;
  const pN = 3 + K;
  const pH = 4 + K;
  const pC = (q: number) => 5 + K + q;
  const pE = (q: number) => 5 + 2 * K + q;
  const nParams = 5 + 3 * K;
  const [lI, lH, lX, lAccC, lAccE] = [nParams, nParams + 1, nParams + 2, nParams + 3, nParams + 4];
  const lC = (q: number) => nParams + 5 + q;
  const lE = (q: number) => nParams + 5 + K + q;
  const body: number[] = [...op.localGet(pH), ...op.f64x2Splat, ...op.localSet(lH)];
  body.push(...splatAll(K, pC, lC), ...splatAll(K, pE, lE));
  body.push(...op.i32Const(0), ...op.localSet(lI), ...op.block, ...op.loop);
  body.push(...op.localGet(lI), ...op.localGet(pN), ...op.i32GeU, ...op.brIf(1));
  for (let q = 0; q < K; q++) {
    body.push(...op.localGet(pK(q)), ...op.localGet(lI), ...op.i32Add, ...op.v128Load(), ...op.localSet(lX));
    for (const [lAcc, lCoef] of [[lAccC, lC(q)], [lAccE, lE(q)]]) {
      if (q > 0) body.push(...op.localGet(lAcc));
      body.push(...op.localGet(lX), ...op.localGet(lCoef), ...op.f64x2Mul);
      if (q > 0) body.push(...op.f64x2Add);
      body.push(...op.localSet(lAcc));
    }
  }
  body.push(...op.localGet(pOut), ...op.localGet(lI), ...op.i32Add);
  body.push(...op.localGet(pBase), ...op.localGet(lI), ...op.i32Add, ...op.v128Load());
  body.push(...op.localGet(lAccC), ...op.localGet(lH), ...op.f64x2Mul, ...op.f64x2Add, ...op.v128Store());
  body.push(...op.localGet(pPart), ...op.localGet(lI), ...op.i32Add, ...op.localGet(lAccE), ...op.v128Store());
  body.push(...op.localGet(lI), ...op.i32Const(16), ...op.i32Add, ...op.localSet(lI), ...op.br(0), ...op.end, ...op.end);
  const params: ValType[] = [...Array<ValType>(3 + K).fill(I32), I32, F64, ...Array<ValType>(2 * K).fill(F64)];
  const locals: ValType[] = [I32, V128, V128, V128, V128, ...Array<ValType>(2 * K).fill(V128)];
  return { name: `lcp${K}`, params, results: [], locals, body };
}

/**
 * enp / enps(part, k, y, yNew, atol, nBytes, h, rtol, c) -> f64: errorNormKernel's sum for
 * acc_i = part_i + k_i c, the last term of its left-to-right sum added to the partial sum that
 * lcp stored (so the same bits as errorNormKernel over all the terms). enp reads atol as a
 * vector (an i32 address), enps takes one f64 for every component (nothing to read).
 */
function errorNormPartialKernel(scalarAtol: boolean): FunctionSpec {
  const [pPart, pK, pY, pYNew, pAtol, pN, pH, pRtol, pC] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [lI, lH, lR, lC, lSum, lE, lZero, lAtol] = [9, 10, 11, 12, 13, 14, 15, 16];
  const at = (p: number) => [...op.localGet(p), ...op.localGet(lI), ...op.i32Add, ...op.v128Load()];
  const body: number[] = [...op.localGet(pH), ...op.f64x2Splat, ...op.localSet(lH)];
  body.push(...op.localGet(pRtol), ...op.f64x2Splat, ...op.localSet(lR));
  body.push(...op.localGet(pC), ...op.f64x2Splat, ...op.localSet(lC));
  if (scalarAtol) body.push(...op.localGet(pAtol), ...op.f64x2Splat, ...op.localSet(lAtol));
  body.push(...op.i32Const(0), ...op.localSet(lI), ...op.block, ...op.loop);
  body.push(...op.localGet(lI), ...op.localGet(pN), ...op.i32GeU, ...op.brIf(1));
  // e = (part + k c) h
  body.push(...at(pPart), ...at(pK), ...op.localGet(lC), ...op.f64x2Mul, ...op.f64x2Add);
  body.push(...op.localGet(lH), ...op.f64x2Mul, ...op.localSet(lE));
  // from here on as errorNormKernel: r = e / (atol + rtol max(|y|, |yNew|)); sum += r r + yNew 0
  body.push(...op.localGet(lE), ...(scalarAtol ? op.localGet(lAtol) : at(pAtol)), ...op.localGet(lR));
  body.push(...at(pY), ...op.f64x2Abs, ...at(pYNew), ...op.f64x2Abs);
  body.push(...op.f64x2Max, ...op.f64x2Mul, ...op.f64x2Add, ...op.f64x2Div, ...op.localSet(lE));
  body.push(...op.localGet(lSum), ...op.localGet(lE), ...op.localGet(lE), ...op.f64x2Mul);
  body.push(...at(pYNew), ...op.localGet(lZero), ...op.f64x2Mul, ...op.f64x2Add);
  body.push(...op.f64x2Add, ...op.localSet(lSum));
  body.push(...op.localGet(lI), ...op.i32Const(16), ...op.i32Add, ...op.localSet(lI), ...op.br(0), ...op.end, ...op.end);
  body.push(...op.localGet(lSum), ...op.f64x2ExtractLane(0), ...op.localGet(lSum), ...op.f64x2ExtractLane(1), ...op.f64Add);
  const params: ValType[] = [I32, I32, I32, I32, scalarAtol ? F64 : I32, I32, F64, F64, F64];
  return { name: scalarAtol ? 'enps' : 'enp', params, results: [F64], locals: [I32, V128, V128, V128, V128, V128, V128, V128], body };
}

/**
 * gd(out, y, g, nBytes, lr) -> f64: one full-batch gradient-descent step, out_i = y_i - lr g_i
 * (the product first, then the difference: the same two roundings as the JS it replaces, so
 * the iterates are bit-identical), fused with the non-finite probe of src/ode/iterate.ts: the
 * result is sum_i out_i * 0, which is 0 when every out_i is finite and NaN otherwise. One pass
 * over the state instead of two (the JS update and the probe cost about half a paper-fig1 GD
 * step between them).
 */
function gdKernel(): FunctionSpec {
  const pOut = 0;
  const pY = 1;
  const pG = 2;
  const pN = 3;
  const pLr = 4;
  const lI = 5;
  const lLr = 6;
  const lV = 7;
  const lSum = 8;
  const lZero = 9; // never written: locals start at 0
  const body: number[] = [...op.localGet(pLr), ...op.f64x2Splat, ...op.localSet(lLr)];
  body.push(...op.i32Const(0), ...op.localSet(lI), ...op.block, ...op.loop);
  body.push(...op.localGet(lI), ...op.localGet(pN), ...op.i32GeU, ...op.brIf(1));
  // v = y - lr * g
  body.push(...op.localGet(pY), ...op.localGet(lI), ...op.i32Add, ...op.v128Load());
  body.push(...op.localGet(lLr), ...op.localGet(pG), ...op.localGet(lI), ...op.i32Add, ...op.v128Load(), ...op.f64x2Mul);
  body.push(...op.f64x2Sub, ...op.localSet(lV));
  body.push(...op.localGet(pOut), ...op.localGet(lI), ...op.i32Add, ...op.localGet(lV), ...op.v128Store());
  // sum += v * 0
  body.push(...op.localGet(lSum), ...op.localGet(lV), ...op.localGet(lZero), ...op.f64x2Mul, ...op.f64x2Add, ...op.localSet(lSum));
  body.push(...op.localGet(lI), ...op.i32Const(16), ...op.i32Add, ...op.localSet(lI), ...op.br(0), ...op.end, ...op.end);
  body.push(...op.localGet(lSum), ...op.f64x2ExtractLane(0), ...op.localGet(lSum), ...op.f64x2ExtractLane(1), ...op.f64Add);
  return { name: 'gd', params: [I32, I32, I32, I32, F64], results: [F64], locals: [I32, V128, V128, V128, V128], body };
}

let compiled: WebAssembly.Module | null = null;

function kernelModule(): WebAssembly.Module {
  if (!compiled) {
    const fns: FunctionSpec[] = [];
    for (let K = 1; K <= ARGUMENT_TERMS; K++) fns.push(combinationKernel(K, false), errorNormKernel(K, false), combinationPartialKernel(K));
    fns.push(errorNormPartialKernel(false), errorNormPartialKernel(true), gdKernel());
    compiled = new WebAssembly.Module(buildModule(fns));
  }
  return compiled;
}

/** The term-table kernels lct{K} and ent{K}, one module per K, compiled on first use (per thread). */
const tableModules = new Map<number, WebAssembly.Module>();

function tableKernelModule(K: number): WebAssembly.Module {
  let m = tableModules.get(K);
  if (!m) {
    m = new WebAssembly.Module(buildModule([combinationKernel(K, true), errorNormKernel(K, true)]));
    tableModules.set(K, m);
  }
  return m;
}

/** The blocks of a StageMemory: the vectors, then the term table (see StageMemory). */
function stageBlocks(nPad: number, count: number) {
  return { vectors: { f64: count * nPad }, coefs: { f64: count }, ptrs: { i32: count } } as const;
}

/** The blocks of a StageMemory placed from byte `byteOffset` of a memory it does not own (see StageMemory's `host`). */
function hostedMemory<S extends BlockSpec>(spec: S, memory: WebAssembly.Memory, byteOffset: number): KernelMemory<S> {
  const layout = layoutBlocks(spec);
  const end = byteOffset + layout.bytes;
  if (!(Number.isInteger(byteOffset) && byteOffset >= 0 && byteOffset % 16 === 0) || end > memory.buffer.byteLength || end > kernelMemoryCap()) {
    throw new RangeError(`StageMemory: a hosted region [${byteOffset}, ${end}) must be 16-byte aligned, inside the memory (${memory.buffer.byteLength} bytes) and below ${kernelMemoryCap()} bytes`);
  }
  const offset = Object.fromEntries(Object.entries(layout.offset).map(([name, o]) => [name, o + byteOffset])) as { [K in keyof S]: number };
  return new KernelMemory(memory, spec, { offset, bytes: end });
}

/**
 * `count` vectors of n float64 each for the kernels of this file, handed out by take(). Each
 * vector has an address (address(), an int32, what the kernels' kPtr arrays hold) they find it by.
 *
 * When they fit one kernel memory (src/wasm/memory.ts), the vectors live in it, padded to even
 * length (padding entries 0, atol's 1: see the file comment), and after them the term table for
 * the kernels of more than ARGUMENT_TERMS terms: room for `count` coefficients (f64) and `count`
 * stage offsets (i32), as a combination of distinct vectors of this memory has at most `count`
 * terms; the addresses are then the vectors' byte offsets in it. Otherwise (memory === null) each
 * vector is a Float64Array of its own, so no single allocation bounds the state, its address is
 * its index (byte offsets of a state this large would not fit an int32), and StageKernels runs
 * plain loops that give the same bits.
 */
export class StageMemory {
  /** padded length of every vector */
  readonly nPad: number;
  /** the kernels' WebAssembly memory; null: plain vectors (they did not fit, see fits()) */
  readonly memory: WebAssembly.Memory | null;
  /** the term table (WebAssembly only; empty otherwise): coefficients and stage offsets, with their byte addresses */
  readonly tableCoef: Float64Array;
  readonly tablePtr: Int32Array;
  readonly coefAddr: number;
  readonly ptrAddr: number;
  /** every vector, in address order (views of `memory`, or arrays of their own) */
  private readonly vectors: Float64Array[];
  /** the vectors' block with its padding (WebAssembly only), for reset() and pad() */
  private readonly padded: Float64Array | null;
  /** address of the first vector, and from one vector to the next: its byte offset in the memory and nPad * 8, or 0 and 1 (plain vectors) */
  private readonly base: number;
  private readonly step: number;
  private next = 0;

  /** Whether `count` vectors of length n go into one kernel memory (else: plain vectors). */
  static fits(n: number, count: number): boolean {
    return StageMemory.bytes(n, count) <= kernelMemoryCap();
  }

  /**
   * Bytes a StageMemory of `count` vectors of length n occupies in a WebAssembly memory: what a
   * host reserves for one (see the constructor's `host`), a multiple of 16.
   */
  static bytes(n: number, count: number): number {
    return layoutBlocks(stageBlocks(n + (n & 1), count)).bytes;
  }

  /**
   * `host`: lay the vectors out in bytes [byteOffset, byteOffset + StageMemory.bytes(n, count))
   * of a WebAssembly memory someone else owns (a state function whose own kernels work in that
   * memory can then read the stages and write the derivatives in place, with no copies: e.g.
   * Level G's kernels, src/gram/kernels.ts). The region must be 16-byte aligned, end within
   * the memory and below 2 GiB (the kernels' addresses are int32), and hold zeros or a
   * previous StageMemory's vectors (the padding is zeroed by reset(), as for a reused memory).
   */
  constructor(
    readonly n: number,
    readonly count: number,
    host?: { readonly memory: WebAssembly.Memory; readonly byteOffset: number },
  ) {
    this.nPad = n + (n & 1);
    const blocks = stageBlocks(this.nPad, count);
    const km = host ? hostedMemory(blocks, host.memory, host.byteOffset) : allocateKernelMemory(blocks);
    this.vectors = [];
    if (km) {
      this.memory = km.memory;
      this.padded = km.f64('vectors');
      for (let j = 0; j < count; j++) this.vectors.push(this.padded.subarray(j * this.nPad, j * this.nPad + n));
      this.tableCoef = km.f64('coefs');
      this.tablePtr = km.i32('ptrs');
      this.coefAddr = km.offset.coefs;
      this.ptrAddr = km.offset.ptrs;
      this.base = km.offset.vectors;
      this.step = this.nPad * 8;
    } else {
      this.memory = null;
      this.padded = null;
      for (let j = 0; j < count; j++) this.vectors.push(new Float64Array(n));
      this.tableCoef = new Float64Array(0);
      this.tablePtr = new Int32Array(0);
      this.coefAddr = 0;
      this.ptrAddr = 0;
      this.base = 0;
      this.step = 1;
    }
  }

  /** True when the vectors live in a WebAssembly memory (the SIMD kernels run). */
  get simd(): boolean {
    return this.memory !== null;
  }

  /**
   * Hands the vectors out again from the first (their contents are kept: the new owner overwrites
   * what it reads), with every padding entry back to 0. For a solver that replaces an earlier one
   * of the same state length, so that a run of many legs works in one memory.
   */
  reset(): void {
    this.next = 0;
    const all = this.padded;
    if (!all || this.nPad === this.n) return;
    for (let j = 0; j < this.count; j++) all[j * this.nPad + this.n] = 0;
  }

  /** The next unused vector (length n; in a WebAssembly memory it starts at a 16-byte boundary; all zeros unless the memory was reset()). */
  take(): Float64Array {
    if (this.next >= this.count) throw new RangeError(`StageMemory: all ${this.count} vectors are taken`);
    return this.vectors[this.next++];
  }

  /** The address of a vector of this memory (see above): what the kernels' kPtr arrays hold. */
  address(view: Float64Array): number {
    const j = this.vectors.indexOf(view);
    if (j < 0) throw new RangeError('StageMemory.address: not a vector of this memory (use one from take())');
    return this.base + j * this.step;
  }

  /** The vector at an address (see address()). */
  vectorAt(address: number): Float64Array {
    return this.vectors[(address - this.base) / this.step];
  }

  /**
   * Whether the kernels can take `view` as an output or base directly: a view of the WebAssembly
   * memory, or, with plain vectors, any array (the plain loops index arrays, not addresses).
   */
  reaches(view: Float64Array): boolean {
    return this.memory === null || view.buffer === this.memory.buffer;
  }

  /** Its padding entry (index n, when n is odd) set to `value`; used for atol (see the file comment). */
  pad(view: Float64Array, value: number): void {
    if (this.padded && this.nPad > this.n) this.padded[(view.byteOffset - this.padded.byteOffset) / 8 + this.n] = value;
  }
}

/** Entries per block of the plain loops (an even number: the error norm's lanes follow i & 1); 16 KiB of sums. */
const PLAIN_BLOCK = 2048;

type Lc = (...args: number[]) => void;
type En = (...args: number[]) => number;
type LcTable = (out: number, base: number, nBytes: number, h: number, coefs: number, ptrs: number) => void;
type EnTable = (y: number, yNew: number, atol: number, nBytes: number, h: number, rtol: number, coefs: number, ptrs: number) => number;
type Gd = (out: number, y: number, g: number, nBytes: number, lr: number) => number;
type Enp = (part: number, k: number, y: number, yNew: number, atol: number, nBytes: number, h: number, rtol: number, c: number) => number;

/**
 * The kernels bound to one StageMemory; arguments are vectors taken from it, and kPtr holds
 * their addresses (StageMemory.address). Any number of terms works: up to ARGUMENT_TERMS by
 * explicit-argument kernels, beyond by term-table kernels (instantiated here on first use of
 * each K), and beyond the table's room (only possible with repeated stages) by a plain loop in
 * the same operation order; all three give the same bits. With plain vectors (StageMemory.memory
 * null) every call runs the plain loops, again with the same bits.
 */
export class StageKernels {
  private readonly lc: Lc[] = [];
  private readonly en: En[] = [];
  private readonly lcTable: LcTable[] = [];
  private readonly enTable: EnTable[] = [];
  private readonly gd: Gd | null = null;
  private readonly lcp: Lc[] = [];
  private readonly enp: Enp | null = null;
  private readonly enps: Enp | null = null;
  private readonly nBytes: number;
  /** the SIMD kernels run (else the plain loops) */
  private readonly simd: boolean;
  /** the vectors of one plain-loop call (reused: no allocation per call once long enough) */
  private readonly terms: Float64Array[] = [];
  /** a block of sums of the plain loops (made on their first call) */
  private accBlock: Float64Array | null = null;

  constructor(private readonly mem: StageMemory) {
    this.nBytes = mem.nPad * 8;
    this.simd = mem.memory !== null;
    if (mem.memory) {
      const exports = new WebAssembly.Instance(kernelModule(), { env: { memory: mem.memory } }).exports as Record<string, unknown>;
      for (let K = 1; K <= ARGUMENT_TERMS; K++) {
        this.lc[K] = exports[`lc${K}`] as Lc;
        this.en[K] = exports[`en${K}`] as En;
        this.lcp[K] = exports[`lcp${K}`] as Lc;
      }
      this.gd = exports.gd as Gd;
      this.enp = exports.enp as Enp;
      this.enps = exports.enps as Enp;
    }
  }

  /**
   * out = y - lr * g (bit-identical to the JS loop), and in the same pass the non-finite probe:
   * returns 0 when every entry of out is finite, NaN otherwise (see gdKernel).
   */
  gradientStep(out: Float64Array, y: Float64Array, g: Float64Array, lr: number): number {
    if (this.gd) return this.gd(out.byteOffset, y.byteOffset, g.byteOffset, this.nBytes, lr);
    // One sum instead of gdKernel's two lanes: every term is +-0 or NaN, so both give +0 or NaN.
    let probe = 0;
    for (let i = 0; i < out.length; i++) {
      const v = y[i] - lr * g[i];
      out[i] = v;
      probe += v * 0;
    }
    return probe;
  }

  /**
   * out = base + h * sum_q coef_q K[cols_q], where K[j] is the vector at address kPtr[j], for
   * any number of terms (operation order: combinationKernel). out may be base or one of the K[j].
   */
  linearCombination(out: Float64Array, base: Float64Array, h: number, cols: Int32Array, coef: Float64Array, kPtr: Int32Array): void {
    if (!this.simd) return this.combinationLoop(out, base, h, cols, coef, kPtr);
    const o = out.byteOffset;
    const b = base.byteOffset;
    const n = this.nBytes;
    const p = (q: number) => kPtr[cols[q]];
    // Explicit argument lists (no spread): no allocation per call.
    switch (cols.length) {
      case 1: return this.lc[1](o, b, p(0), n, h, coef[0]);
      case 2: return this.lc[2](o, b, p(0), p(1), n, h, coef[0], coef[1]);
      case 3: return this.lc[3](o, b, p(0), p(1), p(2), n, h, coef[0], coef[1], coef[2]);
      case 4: return this.lc[4](o, b, p(0), p(1), p(2), p(3), n, h, coef[0], coef[1], coef[2], coef[3]);
      case 5: return this.lc[5](o, b, p(0), p(1), p(2), p(3), p(4), n, h, coef[0], coef[1], coef[2], coef[3], coef[4]);
      case 6: return this.lc[6](o, b, p(0), p(1), p(2), p(3), p(4), p(5), n, h, coef[0], coef[1], coef[2], coef[3], coef[4], coef[5]);
      case 7: return this.lc[7](o, b, p(0), p(1), p(2), p(3), p(4), p(5), p(6), n, h, coef[0], coef[1], coef[2], coef[3], coef[4], coef[5], coef[6]);
      case 8: return this.lc[8](o, b, p(0), p(1), p(2), p(3), p(4), p(5), p(6), p(7), n, h, coef[0], coef[1], coef[2], coef[3], coef[4], coef[5], coef[6], coef[7]);
      case 0: {
        out.set(base);
        return;
      }
      default: {
        const K = cols.length;
        if (K > this.mem.count) return this.combinationLoop(out, base, h, cols, coef, kPtr);
        this.fillTable(cols, coef, kPtr);
        return (this.lcTable[K] ?? this.instantiateTable(K).lc)(o, b, n, h, this.mem.coefAddr, this.mem.ptrAddr);
      }
    }
  }

  /**
   * sum_i (err_i / w_i)^2 (see errorNormKernel) for err = h * sum_q coef_q K[cols_q], any number of
   * terms (none: err = 0, and the sum is 0, or NaN if yNew is not finite).
   */
  errorNormSq(h: number, cols: Int32Array, coef: Float64Array, kPtr: Int32Array, y: Float64Array, yNew: Float64Array, atol: Float64Array, rtol: number): number {
    if (!this.simd) return this.errorNormLoop(h, cols, coef, kPtr, y, yNew, atol, rtol);
    const Y = y.byteOffset;
    const N = yNew.byteOffset;
    const A = atol.byteOffset;
    const n = this.nBytes;
    const p = (q: number) => kPtr[cols[q]];
    switch (cols.length) {
      case 1: return this.en[1](p(0), Y, N, A, n, h, rtol, coef[0]);
      case 2: return this.en[2](p(0), p(1), Y, N, A, n, h, rtol, coef[0], coef[1]);
      case 3: return this.en[3](p(0), p(1), p(2), Y, N, A, n, h, rtol, coef[0], coef[1], coef[2]);
      case 4: return this.en[4](p(0), p(1), p(2), p(3), Y, N, A, n, h, rtol, coef[0], coef[1], coef[2], coef[3]);
      case 5: return this.en[5](p(0), p(1), p(2), p(3), p(4), Y, N, A, n, h, rtol, coef[0], coef[1], coef[2], coef[3], coef[4]);
      case 6: return this.en[6](p(0), p(1), p(2), p(3), p(4), p(5), Y, N, A, n, h, rtol, coef[0], coef[1], coef[2], coef[3], coef[4], coef[5]);
      case 7: return this.en[7](p(0), p(1), p(2), p(3), p(4), p(5), p(6), Y, N, A, n, h, rtol, coef[0], coef[1], coef[2], coef[3], coef[4], coef[5], coef[6]);
      case 8: return this.en[8](p(0), p(1), p(2), p(3), p(4), p(5), p(6), p(7), Y, N, A, n, h, rtol, coef[0], coef[1], coef[2], coef[3], coef[4], coef[5], coef[6], coef[7]);
      default: {
        const K = cols.length;
        if (K === 0 || K > this.mem.count) return this.errorNormLoop(h, cols, coef, kPtr, y, yNew, atol, rtol);
        this.fillTable(cols, coef, kPtr);
        return (this.enTable[K] ?? this.instantiateTable(K).en)(Y, N, A, n, h, rtol, this.mem.coefAddr, this.mem.ptrAddr);
      }
    }
  }

  /**
   * True when combinationWithPartial and errorNormFromPartial run for K terms: the SIMD kernels,
   * K <= ARGUMENT_TERMS. Otherwise call linearCombination and errorNormSq (the same bits).
   */
  fusesPartial(K: number): boolean {
    return this.simd && K >= 1 && K <= ARGUMENT_TERMS;
  }

  /**
   * linearCombination(out, base, h, cols, coef, kPtr) and, in the same pass over the K stages,
   * part = sum_q ecoef_q K[cols_q] (no h; the partial sum errorNormSq would form over these
   * terms): see combinationPartialKernel. Only where fusesPartial(cols.length); part must not be
   * out, base nor a term.
   */
  combinationWithPartial(out: Float64Array, base: Float64Array, part: Float64Array, h: number, cols: Int32Array, coef: Float64Array, ecoef: Float64Array, kPtr: Int32Array): void {
    const o = out.byteOffset;
    const b = base.byteOffset;
    const r = part.byteOffset;
    const n = this.nBytes;
    const p = (q: number) => kPtr[cols[q]];
    const c = coef;
    const e = ecoef;
    switch (cols.length) {
      case 1: return this.lcp[1](o, b, r, p(0), n, h, c[0], e[0]);
      case 2: return this.lcp[2](o, b, r, p(0), p(1), n, h, c[0], c[1], e[0], e[1]);
      case 3: return this.lcp[3](o, b, r, p(0), p(1), p(2), n, h, c[0], c[1], c[2], e[0], e[1], e[2]);
      case 4: return this.lcp[4](o, b, r, p(0), p(1), p(2), p(3), n, h, c[0], c[1], c[2], c[3], e[0], e[1], e[2], e[3]);
      case 5: return this.lcp[5](o, b, r, p(0), p(1), p(2), p(3), p(4), n, h, c[0], c[1], c[2], c[3], c[4], e[0], e[1], e[2], e[3], e[4]);
      case 6: return this.lcp[6](o, b, r, p(0), p(1), p(2), p(3), p(4), p(5), n, h, c[0], c[1], c[2], c[3], c[4], c[5], e[0], e[1], e[2], e[3], e[4], e[5]);
      case 7: return this.lcp[7](o, b, r, p(0), p(1), p(2), p(3), p(4), p(5), p(6), n, h, c[0], c[1], c[2], c[3], c[4], c[5], c[6], e[0], e[1], e[2], e[3], e[4], e[5], e[6]);
      case 8: return this.lcp[8](o, b, r, p(0), p(1), p(2), p(3), p(4), p(5), p(6), p(7), n, h, c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], e[0], e[1], e[2], e[3], e[4], e[5], e[6], e[7]);
      default: throw new RangeError(`combinationWithPartial: ${cols.length} terms (fusesPartial is false for it)`);
    }
  }

  /**
   * errorNormSq over the terms whose partial sum combinationWithPartial stored in part, plus one
   * last term c k: the same bits as errorNormSq over all of them. atolValue: the one atol of every
   * component when there is one (then the atol vector is not read), else null.
   */
  errorNormFromPartial(h: number, part: Float64Array, k: Float64Array, c: number, y: Float64Array, yNew: Float64Array, atol: Float64Array, atolValue: number | null, rtol: number): number {
    if (!this.enp || !this.enps) throw new RangeError('errorNormFromPartial: no SIMD kernels (fusesPartial is false)');
    const n = this.nBytes;
    if (atolValue !== null) return this.enps(part.byteOffset, k.byteOffset, y.byteOffset, yNew.byteOffset, atolValue, n, h, rtol, c);
    return this.enp(part.byteOffset, k.byteOffset, y.byteOffset, yNew.byteOffset, atol.byteOffset, n, h, rtol, c);
  }

  /** The memory the vectors must come from. */
  get memory(): StageMemory {
    return this.mem;
  }

  /** The term table := the K coefficients and stage offsets of a call (K <= mem.count). */
  private fillTable(cols: Int32Array, coef: Float64Array, kPtr: Int32Array): void {
    const tc = this.mem.tableCoef;
    const tp = this.mem.tablePtr;
    for (let q = 0; q < cols.length; q++) {
      tc[q] = coef[q];
      tp[q] = kPtr[cols[q]];
    }
  }

  /** The term-table kernels for K terms, bound to this memory (once per K). */
  private instantiateTable(K: number): { lc: LcTable; en: EnTable } {
    const exports = new WebAssembly.Instance(tableKernelModule(K), { env: { memory: this.mem.memory! } }).exports as Record<string, unknown>;
    this.lcTable[K] = exports[`lct${K}`] as LcTable;
    this.enTable[K] = exports[`ent${K}`] as EnTable;
    return { lc: this.lcTable[K], en: this.enTable[K] };
  }

  /** this.terms[q] := the vector of term q of a call. */
  private gatherTerms(cols: Int32Array, kPtr: Int32Array): Float64Array[] {
    const t = this.terms;
    for (let q = 0; q < cols.length; q++) t[q] = this.mem.vectorAt(kPtr[cols[q]]);
    return t;
  }

  /**
   * acc[j] := sum_q coef_q K[cols_q][o + j] for j < len, each entry summed in the kernels' order
   * (the products of term 0, 1, ... added left to right; the loop over terms is outside the loop
   * over entries, which changes no entry's order of operations and runs as tight loops).
   */
  private accumulate(o: number, len: number, K: number, t: Float64Array[], coef: Float64Array): Float64Array {
    const acc = (this.accBlock ??= new Float64Array(PLAIN_BLOCK));
    const t0 = t[0];
    const c0 = coef[0];
    for (let j = 0; j < len; j++) acc[j] = c0 * t0[o + j];
    for (let q = 1; q < K; q++) {
      const tq = t[q];
      const cq = coef[q];
      for (let j = 0; j < len; j++) acc[j] += cq * tq[o + j];
    }
    return acc;
  }

  /**
   * combinationKernel as plain loops, PLAIN_BLOCK entries at a time: the same products, summed
   * in the same order. A block's sums are formed before any of its entries is written, so out may
   * be base or a term, as for the kernel. Only the n entries: a padding entry of out would get +0
   * again (0 + (+-0) h), what it holds.
   */
  private combinationLoop(out: Float64Array, base: Float64Array, h: number, cols: Int32Array, coef: Float64Array, kPtr: Int32Array): void {
    const K = cols.length;
    if (K === 0) {
      out.set(base);
      return;
    }
    const t = this.gatherTerms(cols, kPtr);
    const n = this.mem.n;
    for (let o = 0; o < n; o += PLAIN_BLOCK) {
      const len = Math.min(PLAIN_BLOCK, n - o);
      const acc = this.accumulate(o, len, K, t, coef);
      for (let j = 0; j < len; j++) out[o + j] = base[o + j] + acc[j] * h;
    }
  }

  /**
   * errorNormKernel as plain loops, its two lane sums included: entry i goes to lane i & 1 (the
   * blocks start at even i), each lane summed in increasing i, lane 0 + lane 1 at the end, so the
   * sum has the kernel's bits; no terms: err = 0. Only the n entries: the padding entry's term,
   * (+-0 / 1)^2 + 0 * 0 = +0, leaves a lane sum unchanged (a sum started at +0 is never -0).
   */
  private errorNormLoop(h: number, cols: Int32Array, coef: Float64Array, kPtr: Int32Array, y: Float64Array, yNew: Float64Array, atol: Float64Array, rtol: number): number {
    const K = cols.length;
    const t = this.gatherTerms(cols, kPtr);
    const n = this.mem.n;
    let lane0 = 0;
    let lane1 = 0;
    for (let o = 0; o < n; o += PLAIN_BLOCK) {
      const len = Math.min(PLAIN_BLOCK, n - o);
      const acc = K === 0 ? (this.accBlock ??= new Float64Array(PLAIN_BLOCK)).fill(0, 0, len) : this.accumulate(o, len, K, t, coef);
      for (let j = 0; j < len; j++) {
        const i = o + j;
        const yn = yNew[i];
        const r = (acc[j] * h) / (atol[i] + rtol * Math.max(Math.abs(y[i]), Math.abs(yn)));
        if ((j & 1) === 0) lane0 += r * r + yn * 0;
        else lane1 += r * r + yn * 0;
      }
    }
    return lane0 + lane1;
  }
}

/**
 * The hot loops of an explicit Runge-Kutta step, as WebAssembly SIMD kernels (f64x2).
 *
 * Why: in V8 the plain-JS stage combinations over a 57,344-component state were compute-bound
 * (about 0.2 ms per 6-term pass, with the data in cache or not); the same pass in WebAssembly
 * with 128-bit SIMD takes about 0.07 ms and gives bit-identical results (same operation order).
 * The kernels are generated here by src/wasm/emit.ts, so nothing is assembled at install time.
 *
 * All vectors a solver uses live in one WebAssembly.Memory (StageMemory), each padded to an even
 * length so that every vector starts on a 16-byte boundary and the SIMD loops need no scalar tail;
 * padding entries stay 0 (and atol's padding is 1, so the padded error terms are 0 / 1).
 */
import { UsageError } from '../errors.js';
import { buildModule, F64, FunctionSpec, I32, op, V128, ValType } from '../wasm/emit.js';

/** Most nonzero coefficients one combination may have (DOPRI5 needs 7). */
export const MAX_TERMS = 8;

/** Locals lC(q) = splat(param pC(q)) for q < K: the coefficients as f64x2. */
function splatAll(K: number, pC: (q: number) => number, lC: (q: number) => number): number[] {
  const code: number[] = [];
  for (let q = 0; q < K; q++) code.push(...op.localGet(pC(q)), ...op.f64x2Splat, ...op.localSet(lC(q)));
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
 * lc{K}(out, base, k_0..k_{K-1}, nBytes, h, c_0..c_{K-1}):
 *   out_i = base_i + (sum_q c_q k_q,i) * h, summed left to right (as the JS it replaced).
 */
function combinationKernel(K: number): FunctionSpec {
  const pOut = 0;
  const pBase = 1;
  const pK = (q: number) => 2 + q;
  const pN = 2 + K;
  const pH = 3 + K;
  const pC = (q: number) => 4 + K + q;
  const nParams = 4 + 2 * K;
  const lI = nParams;
  const lH = nParams + 1;
  const lC = (q: number) => nParams + 2 + q;
  const lAcc = nParams + 2 + K;
  const body: number[] = [...op.localGet(pH), ...op.f64x2Splat, ...op.localSet(lH)];
  body.push(...splatAll(K, pC, lC));
  body.push(...op.i32Const(0), ...op.localSet(lI), ...op.block, ...op.loop);
  body.push(...op.localGet(lI), ...op.localGet(pN), ...op.i32GeU, ...op.brIf(1));
  body.push(...weightedStages(K, pK, lI, lC));
  body.push(...op.localSet(lAcc));
  body.push(...op.localGet(pOut), ...op.localGet(lI), ...op.i32Add);
  body.push(...op.localGet(pBase), ...op.localGet(lI), ...op.i32Add, ...op.v128Load());
  body.push(...op.localGet(lAcc), ...op.localGet(lH), ...op.f64x2Mul, ...op.f64x2Add, ...op.v128Store());
  body.push(...op.localGet(lI), ...op.i32Const(16), ...op.i32Add, ...op.localSet(lI), ...op.br(0), ...op.end, ...op.end);
  const params: ValType[] = [I32, I32, ...Array<ValType>(K).fill(I32), I32, F64, ...Array<ValType>(K).fill(F64)];
  return { name: `lc${K}`, params, results: [], locals: [I32, V128, ...Array<ValType>(K).fill(V128), V128], body };
}

/**
 * en{K}(k_0..k_{K-1}, y, yNew, atol, nBytes, h, rtol, c_0..c_{K-1}) -> f64:
 *   sum_i (err_i / w_i)^2, err_i = (sum_q c_q k_q,i) * h, w_i = atol_i + rtol max(|y_i|, |yNew_i|)
 * (HNW I, Eq. (4.11)), the error vector never stored. Two lane sums, added at the end. NaN or
 * Inf in any stage or in yNew makes the result non-finite.
 */
function errorNormKernel(K: number): FunctionSpec {
  const pK = (q: number) => q;
  const pY = K;
  const pYNew = K + 1;
  const pAtol = K + 2;
  const pN = K + 3;
  const pH = K + 4;
  const pRtol = K + 5;
  const pC = (q: number) => K + 6 + q;
  const nParams = 6 + 2 * K;
  const lI = nParams;
  const lH = nParams + 1;
  const lR = nParams + 2;
  const lC = (q: number) => nParams + 3 + q;
  const lSum = nParams + 3 + K;
  const lE = nParams + 4 + K;
  const lZero = nParams + 5 + K; // never written: locals start at 0

  const body: number[] = [...op.localGet(pH), ...op.f64x2Splat, ...op.localSet(lH)];
  body.push(...op.localGet(pRtol), ...op.f64x2Splat, ...op.localSet(lR));
  body.push(...splatAll(K, pC, lC));
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
  const params: ValType[] = [...Array<ValType>(K).fill(I32), I32, I32, I32, I32, F64, F64, ...Array<ValType>(K).fill(F64)];
  return { name: `en${K}`, params, results: [F64], locals: [I32, V128, V128, ...Array<ValType>(K).fill(V128), V128, V128, V128], body };
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
    for (let K = 1; K <= MAX_TERMS; K++) fns.push(combinationKernel(K), errorNormKernel(K));
    fns.push(gdKernel());
    compiled = new WebAssembly.Module(buildModule(fns));
  }
  return compiled;
}

/** `count` vectors of n float64 each, in one WebAssembly memory, padded to even length. */
export class StageMemory {
  readonly memory: WebAssembly.Memory;
  /** padded length of every vector */
  readonly nPad: number;
  private next = 0;

  constructor(
    readonly n: number,
    readonly count: number,
  ) {
    this.nPad = n + (n & 1);
    const bytes = count * this.nPad * 8;
    if (bytes > 2 ** 31) {
      throw new UsageError(`a state of ${n} values is too large for the integrator (its ${count} vectors must fit 2 GiB); reduce the problem size`);
    }
    this.memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(bytes / 65536)) });
  }

  /**
   * Hands the vectors out again from the first (their contents are kept: the new owner overwrites
   * what it reads), with every padding entry back to 0. For a solver that replaces an earlier one
   * of the same state length, so that a run of many legs works in one memory.
   */
  reset(): void {
    this.next = 0;
    if (this.nPad === this.n) return;
    const all = new Float64Array(this.memory.buffer, 0, this.count * this.nPad);
    for (let j = 0; j < this.count; j++) all[j * this.nPad + this.n] = 0;
  }

  /** The next unused vector (length n; it starts at a 16-byte boundary; all zeros unless the memory was reset()). */
  take(): Float64Array {
    if (this.next >= this.count) throw new RangeError(`StageMemory: all ${this.count} vectors are taken`);
    const view = new Float64Array(this.memory.buffer, this.next * this.nPad * 8, this.n);
    this.next++;
    return view;
  }

  /** Its padding entry (index n, when n is odd) set to `value`; used for atol (see above). */
  pad(view: Float64Array, value: number): void {
    if (this.nPad > this.n) new Float64Array(this.memory.buffer, view.byteOffset + this.n * 8, 1)[0] = value;
  }
}

type Lc = (...args: number[]) => void;
type En = (...args: number[]) => number;
type Gd = (out: number, y: number, g: number, nBytes: number, lr: number) => number;

/** The kernels bound to one StageMemory. Arguments are views taken from that memory. */
export class SimdKernels {
  private readonly lc: Lc[] = [];
  private readonly en: En[] = [];
  private readonly gd: Gd;
  private readonly nBytes: number;

  constructor(private readonly mem: StageMemory) {
    const exports = new WebAssembly.Instance(kernelModule(), { env: { memory: mem.memory } }).exports as Record<string, unknown>;
    for (let K = 1; K <= MAX_TERMS; K++) {
      this.lc[K] = exports[`lc${K}`] as Lc;
      this.en[K] = exports[`en${K}`] as En;
    }
    this.gd = exports.gd as Gd;
    this.nBytes = mem.nPad * 8;
  }

  /**
   * out = y - lr * g (bit-identical to the JS loop), and in the same pass the non-finite probe:
   * returns 0 when every entry of out is finite, NaN otherwise (see gdKernel).
   */
  gradientStep(out: Float64Array, y: Float64Array, g: Float64Array, lr: number): number {
    return this.gd(out.byteOffset, y.byteOffset, g.byteOffset, this.nBytes, lr);
  }

  /** out = base + h * sum_q coef_q K[cols_q], where K[j] is the vector at byte offset kPtr[j]. */
  linearCombination(out: Float64Array, base: Float64Array, h: number, cols: Int32Array, coef: Float64Array, kPtr: Int32Array): void {
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
      default:
        throw new RangeError(`a combination of ${cols.length} terms exceeds MAX_TERMS = ${MAX_TERMS}`);
    }
  }

  /** sum_i (err_i / w_i)^2 (see errorNormKernel) for err = h * sum_q coef_q K[cols_q]. */
  errorNormSq(h: number, cols: Int32Array, coef: Float64Array, kPtr: Int32Array, y: Float64Array, yNew: Float64Array, atol: Float64Array, rtol: number): number {
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
      default:
        throw new RangeError(`an error estimate of ${cols.length} terms is not supported (1..${MAX_TERMS})`);
    }
  }

  /** The memory the views must come from. */
  get memory(): StageMemory {
    return this.mem;
  }
}

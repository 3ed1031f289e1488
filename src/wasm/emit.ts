/**
 * A minimal WebAssembly binary writer: just enough to build small numeric kernels (typed
 * functions over an imported linear memory, with SIMD) from TypeScript, with no assembler or
 * toolchain at install or run time. Encoding per the WebAssembly core spec, section 5 (binary
 * format) and the fixed-width SIMD proposal (opcodes 0xFD ...).
 */

export const I32 = 0x7f;
export const F64 = 0x7c;
export const V128 = 0x7b;
export type ValType = typeof I32 | typeof F64 | typeof V128;

/** Unsigned LEB128. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (32-bit values). */
export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function name(s: string): number[] {
  const bytes = Array.from(new TextEncoder().encode(s));
  return [...uleb(bytes.length), ...bytes];
}

function section(id: number, bytes: number[]): number[] {
  return [id, ...uleb(bytes.length), ...bytes];
}

/** i8x16.shuffle with 16 byte-lane indices into the concatenation of its two operands (0..31). */
function i8x16Shuffle(lanes: readonly number[]): number[] {
  if (lanes.length !== 16 || lanes.some((l) => !(Number.isInteger(l) && l >= 0 && l < 32))) {
    throw new RangeError('i8x16.shuffle needs 16 lane indices in 0..31');
  }
  return [0xfd, ...uleb(0x0d), ...lanes];
}

/** Instruction encoders (only those the kernels use). */
export const op = {
  localGet: (i: number) => [0x20, ...uleb(i)],
  localSet: (i: number) => [0x21, ...uleb(i)],
  i32Const: (v: number) => [0x41, ...sleb(v)],
  i32Add: [0x6a],
  i32Mul: [0x6c],
  i32GeU: [0x4f],
  f64Add: [0xa0],
  f64Mul: [0xa2],
  /** i32.load / f64.load / f64.store with natural alignment and a constant offset */
  i32Load: (offset = 0) => [0x28, 0x02, ...uleb(offset)],
  f64Load: (offset = 0) => [0x2b, 0x03, ...uleb(offset)],
  f64Store: (offset = 0) => [0x39, 0x03, ...uleb(offset)],
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  br: (depth: number) => [0x0c, ...uleb(depth)],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  end: [0x0b],
  /** v128.load / v128.store with 16-byte alignment and a constant offset */
  v128Load: (offset = 0) => [0xfd, ...uleb(0x00), 0x04, ...uleb(offset)],
  v128Store: (offset = 0) => [0xfd, ...uleb(0x0b), 0x04, ...uleb(offset)],
  f64x2Splat: [0xfd, ...uleb(0x14)],
  f64x2ExtractLane: (lane: number) => [0xfd, ...uleb(0x21), lane],
  f64x2Abs: [0xfd, ...uleb(0xec)],
  f64x2Add: [0xfd, ...uleb(0xf0)],
  f64x2Sub: [0xfd, ...uleb(0xf1)],
  f64x2Mul: [0xfd, ...uleb(0xf2)],
  f64x2Div: [0xfd, ...uleb(0xf3)],
  f64x2Max: [0xfd, ...uleb(0xf5)],
  i32Sub: [0x6b],
  i32And: [0x71],
  i32Shl: [0x74],
  i32LtU: [0x49],
  i32GtU: [0x4b],
  /** select: the first operand if the i32 condition is nonzero, else the second (i32 / f64 operands) */
  select: [0x1b],
  /** if / else / end with no result */
  if: [0x04, 0x40],
  else: [0x05],
  /** v128.load64_splat (both lanes = the f64 at the address) with 8-byte alignment and a constant offset */
  v128Load64Splat: (offset = 0) => [0xfd, ...uleb(0x0a), 0x03, ...uleb(offset)],
  i8x16Shuffle,
  /** f64x2.replace_lane: the vector with lane `lane` set to an f64 operand */
  f64x2ReplaceLane: (lane: number): number[] => [0xfd, ...uleb(0x22), lane],
  /**
   * The f64x2 [x[p], x[q]] of the four f64 lanes x = (a0, a1, b0, b1) of the operands a, b, as
   * an i8x16.shuffle (e.g. (0, 2) = [a0, b0], (1, 3) = [a1, b1]).
   */
  f64x2Lanes: (p: number, q: number): number[] => {
    const bytes = (l: number) => Array.from({ length: 8 }, (_, i) => l * 8 + i);
    return i8x16Shuffle([...bytes(p), ...bytes(q)]);
  },
};

export interface FunctionSpec {
  name: string;
  params: ValType[];
  results: ValType[];
  /** extra locals, in order after the parameters */
  locals: ValType[];
  /** the body, without the final `end` */
  body: number[];
}

/** A module importing `env.memory` (at least `minPages` 64 KiB pages) and exporting `functions`. */
export function buildModule(functions: FunctionSpec[], minPages = 1): Uint8Array<ArrayBuffer> {
  const types = functions.map((f) => [0x60, ...vec(f.params.map((t) => [t])), ...vec(f.results.map((t) => [t]))]);
  const bodies = functions.map((f) => {
    const localGroups = f.locals.map((t) => [...uleb(1), t]);
    const code = [...vec(localGroups), ...f.body, ...op.end];
    return [...uleb(code.length), ...code];
  });
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x00, ...uleb(minPages)]])),
    ...section(3, vec(functions.map((_, i) => uleb(i)))),
    ...section(7, vec(functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]))),
    ...section(10, vec(bodies)),
  ];
  return new Uint8Array(bytes);
}

/**
 * The one allocator of the WebAssembly kernels' memories (src/ode/simd.ts, src/model/simdPairs.ts,
 * src/gram/kernels.ts, src/gram/wishartKernel.ts). A kernel family names the float64 and int32
 * blocks it needs; allocateKernelMemory lays them out in one WebAssembly.Memory, each block on a
 * 16-byte boundary (so every f64x2 load and store of a kernel is aligned, and an i32 block never
 * shifts the float64 blocks after it), or returns null when they do not fit: above the cap, or
 * refused by the engine. The family then keeps the same data in plain typed arrays and runs plain
 * JavaScript loops in the kernels' operation order (the same bits), so a WebAssembly memory never
 * limits a model's size; it only decides which of the two code paths runs.
 *
 * Why a cap: a wasm32 memory holds at most 65536 pages of 64 KiB (4 GiB), and the kernels take
 * byte addresses as i32. The integrator keeps its addresses in Int32Arrays, whose entries stop at
 * 2^31 - 1, so the default cap is 2 GiB; a family whose addresses are only ever used as unsigned
 * i32 (Level G's k x k kernels) may ask for up to WASM32_MAX_BYTES.
 */

/** Default cap of a kernel memory: 2 GiB (byte addresses stay non-negative int32). */
export const KERNEL_MEMORY_MAX_BYTES = 2 ** 31;

/** Largest wasm32 memory V8 gives: 65535 pages (4 GiB - 64 KiB, so a byte count fits a uint32). */
export const WASM32_MAX_BYTES = 2 ** 32 - 65536;

const PAGE_BYTES = 65536;
const ALIGN = 16;

/** Lowered by tests (setKernelMemoryCapForTests); Infinity: only the callers' own caps apply. */
let testCap = Infinity;

/**
 * Lowers the cap of every kernel memory allocated from now on to `bytes` (Infinity restores the
 * defaults) and returns the previous setting. For tests only: with a small cap the plain-array
 * fallbacks run on small problems, so they can be compared with the SIMD path bit for bit.
 */
export function setKernelMemoryCapForTests(bytes: number): number {
  if (!(bytes >= 0)) throw new RangeError(`setKernelMemoryCapForTests: bytes must be >= 0, got ${bytes}`);
  const previous = testCap;
  testCap = bytes;
  return previous;
}

/** The cap that applies to a request whose own limit is `maxBytes`. */
export function kernelMemoryCap(maxBytes = KERNEL_MEMORY_MAX_BYTES): number {
  return Math.min(maxBytes, testCap, WASM32_MAX_BYTES);
}

/** A block: `f64` doubles or `i32` 32-bit integers (a length, >= 0). */
export type Block = { readonly f64: number } | { readonly i32: number };
export type BlockSpec = Readonly<Record<string, Block>>;
type F64Name<S extends BlockSpec> = { [K in keyof S]: S[K] extends { readonly f64: number } ? K : never }[keyof S];
type I32Name<S extends BlockSpec> = { [K in keyof S]: S[K] extends { readonly i32: number } ? K : never }[keyof S];

export interface BlockLayout<S extends BlockSpec> {
  /** byte offset of each block, a multiple of 16, in the order of the spec */
  readonly offset: { readonly [K in keyof S]: number };
  /** bytes up to the end of the last block, rounded up to 16 */
  readonly bytes: number;
}

/**
 * The blocks placed one after another in the order given, each starting on a 16-byte boundary.
 * Pure arithmetic: a fallback that keeps the same layout in a plain Float64Array uses it too.
 */
export function layoutBlocks<S extends BlockSpec>(spec: S): BlockLayout<S> {
  const offset: Record<string, number> = {};
  let next = 0;
  for (const name of Object.keys(spec)) {
    const b = spec[name];
    const [length, size] = 'f64' in b ? [b.f64, 8] : [b.i32, 4];
    if (!(Number.isSafeInteger(length) && length >= 0)) throw new RangeError(`kernel memory block '${name}': length must be an integer >= 0, got ${length}`);
    offset[name] = next;
    next += Math.ceil((length * size) / ALIGN) * ALIGN;
  }
  return { offset: offset as { [K in keyof S]: number }, bytes: next };
}

/** One WebAssembly memory holding the blocks of a spec, with a view of each block. */
export class KernelMemory<S extends BlockSpec> {
  readonly offset: { readonly [K in keyof S]: number };
  readonly bytes: number;
  private readonly f64Views = new Map<keyof S, Float64Array>();
  private readonly i32Views = new Map<keyof S, Int32Array>();

  constructor(
    readonly memory: WebAssembly.Memory,
    spec: S,
    layout: BlockLayout<S>,
  ) {
    this.offset = layout.offset;
    this.bytes = layout.bytes;
    // The memory is never grown, so its buffer, and these views, stay valid.
    const buffer = memory.buffer;
    for (const name of Object.keys(spec) as (keyof S & string)[]) {
      const b = spec[name];
      if ('f64' in b) this.f64Views.set(name, new Float64Array(buffer, layout.offset[name], b.f64));
      else this.i32Views.set(name, new Int32Array(buffer, layout.offset[name], b.i32));
    }
  }

  /** The float64 block `name` (its requested length). */
  f64(name: F64Name<S>): Float64Array {
    return this.f64Views.get(name)!;
  }

  /** The int32 block `name` (its requested length). */
  i32(name: I32Name<S>): Int32Array {
    return this.i32Views.get(name)!;
  }

  /** The exports of `module` instantiated on this memory (imported as env.memory). */
  instantiate(module: WebAssembly.Module): Record<string, unknown> {
    return new WebAssembly.Instance(module, { env: { memory: this.memory } }).exports as Record<string, unknown>;
  }
}

/**
 * Memories given back (releaseKernelMemory), most recent first, per thread (module state), at
 * most RELEASED_MAX_BYTES (1 GiB) in all. Why keep them: a fresh memory is fresh pages, and each first
 * touch of a page is a page fault; at Level G's k = 883 a run's 400 MB cost about 100,000
 * faults (0.2-0.5 s of system time), and two workers faulting at once slow each other down
 * (docs/performance.md). A sweep's next run of the same size then reuses the pages.
 */
const released: WebAssembly.Memory[] = [];
export const RELEASED_MAX_BYTES = 2 ** 30;
let releasedMax = RELEASED_MAX_BYTES;

/** For tests only: the bound on what is kept (RELEASED_MAX_BYTES restores it); returns the previous one. Drops what is kept. */
export function setReleasedMaxBytesForTests(bytes: number): number {
  const previous = releasedMax;
  releasedMax = bytes;
  released.length = 0;
  return previous;
}

/**
 * Gives a memory back for allocateKernelMemory to hand out again in this thread, zeroed. The
 * caller must not use it, nor any view or kernel on it, afterwards. A memory that would take
 * the kept total above RELEASED_MAX_BYTES is dropped, or pushes out the oldest ones.
 */
export function releaseKernelMemory(memory: WebAssembly.Memory): void {
  if (released.includes(memory)) return;
  released.unshift(memory);
  let total = 0;
  for (let i = 0; i < released.length; i++) {
    total += released[i].buffer.byteLength;
    if (total > releasedMax) {
      released.length = i;
      break;
    }
  }
}

/** A released memory of exactly `pages` pages, zeroed (as a new one is), or null. */
function reuse(pages: number): WebAssembly.Memory | null {
  const i = released.findIndex((m) => m.buffer.byteLength === pages * PAGE_BYTES);
  if (i < 0) return null;
  const memory = released.splice(i, 1)[0];
  new Uint8Array(memory.buffer).fill(0);
  return memory;
}

/**
 * The blocks of `spec` in one WebAssembly memory (a released one of the same size, zeroed, or a
 * new one), or null when they need more than kernelMemoryCap(maxBytes) bytes or the engine
 * cannot reserve the memory (a RangeError; plain arrays of the same total may still be
 * allocated, as they need no contiguous reservation).
 */
export function allocateKernelMemory<S extends BlockSpec>(spec: S, maxBytes = KERNEL_MEMORY_MAX_BYTES): KernelMemory<S> | null {
  const layout = layoutBlocks(spec);
  if (layout.bytes > kernelMemoryCap(maxBytes)) return null;
  const pages = Math.max(1, Math.ceil(layout.bytes / PAGE_BYTES));
  let memory = reuse(pages);
  if (memory === null) {
    try {
      memory = new WebAssembly.Memory({ initial: pages });
    } catch (e) {
      if (e instanceof RangeError) return null;
      throw e;
    }
  }
  return new KernelMemory(memory, spec, layout);
}

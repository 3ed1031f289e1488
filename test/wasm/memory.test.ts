/**
 * The kernels' one allocator (src/wasm/memory.ts): blocks on 16-byte boundaries, in the order
 * given, that do not overlap (distinct patterns written through every view read back intact,
 * the gaps between blocks untouched), offsets a kernel can use (a generated kernel reads a block
 * at its reported offset), and the cap: a request one byte above it is refused, one at it
 * accepted, and the test cap lowers every cap until it is restored.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { buildModule, F64, I32, op } from '../../src/wasm/emit.js';
import {
  allocateKernelMemory,
  KERNEL_MEMORY_MAX_BYTES,
  kernelMemoryCap,
  layoutBlocks,
  releaseKernelMemory,
  RELEASED_MAX_BYTES,
  setKernelMemoryCapForTests,
  setReleasedMaxBytesForTests,
  WASM32_MAX_BYTES,
} from '../../src/wasm/memory.js';
import { StageMemory } from '../../src/ode/simd.js';
import { Dopri5 } from '../../src/ode/dopri5.js';
import { solveIvp } from '../../src/ode/solveIvp.js';

afterEach(() => {
  setKernelMemoryCapForTests(Infinity);
});

/** Blocks of every kind and of awkward sizes: odd f64 counts, i32 counts not a multiple of 4, empty. */
const SPEC = {
  a: { f64: 3 }, // 24 bytes -> 32
  b: { i32: 5 }, // 20 bytes -> 32
  c: { f64: 0 }, // 0 bytes
  d: { f64: 1 }, // 8 bytes -> 16
  e: { i32: 4 }, // 16 bytes
  f: { f64: 1000 }, // 8000 bytes
} as const;

/**
 * Writes a distinct pattern through every view (block j, entry i: 1000 (j + 1) + i + 0.5 for
 * float64, -(1000 (j + 1) + i) for int32), then checks every view still reads its own pattern
 * and every byte outside the views is still 0. Returns the problems found (none: disjoint).
 */
function overlapProblems(buffer: ArrayBufferLike, views: (Float64Array | Int32Array)[]): string[] {
  const value = (v: Float64Array | Int32Array, j: number, i: number) => (v instanceof Float64Array ? 1000 * (j + 1) + i + 0.5 : -(1000 * (j + 1) + i));
  views.forEach((v, j) => {
    for (let i = 0; i < v.length; i++) v[i] = value(v, j, i);
  });
  const problems: string[] = [];
  views.forEach((v, j) => {
    for (let i = 0; i < v.length; i++) if (v[i] !== value(v, j, i)) problems.push(`view ${j} entry ${i}: ${v[i]}`);
  });
  const covered = new Uint8Array(buffer.byteLength);
  for (const v of views) covered.fill(1, v.byteOffset, v.byteOffset + v.byteLength);
  const bytes = new Uint8Array(buffer);
  for (let b = 0; b < bytes.length; b++) if (!covered[b] && bytes[b] !== 0) problems.push(`byte ${b} outside every block is ${bytes[b]}`);
  return problems;
}

describe('layoutBlocks', () => {
  it('places the blocks in order, each on a 16-byte boundary, rounding each size up to 16 (hand-computed oracle)', () => {
    const { offset, bytes } = layoutBlocks(SPEC);
    expect(offset).toEqual({ a: 0, b: 32, c: 64, d: 64, e: 80, f: 96 });
    expect(bytes).toBe(96 + 8000);
  });

  it('refuses a length that is not an integer >= 0, naming the block', () => {
    expect(() => layoutBlocks({ x: { f64: -1 } })).toThrow(/block 'x': length must be an integer >= 0, got -1/);
    expect(() => layoutBlocks({ y: { i32: 2.5 } })).toThrow(/block 'y'/);
  });
});

describe('allocateKernelMemory', () => {
  it('gives aligned, disjoint views of the requested lengths in one memory', () => {
    const km = allocateKernelMemory(SPEC);
    expect(km).not.toBeNull();
    const views = [km!.f64('a'), km!.i32('b'), km!.f64('c'), km!.f64('d'), km!.i32('e'), km!.f64('f')];
    expect(views.map((v) => v.length)).toEqual([3, 5, 0, 1, 4, 1000]);
    for (const v of views) {
      expect(v.buffer).toBe(km!.memory.buffer);
      expect(v.byteOffset % 16).toBe(0);
    }
    expect(views.map((v) => v.byteOffset)).toEqual(Object.values(km!.offset));
    expect(overlapProblems(km!.memory.buffer, views)).toEqual([]);
  });

  it('negative control: the pattern check reports views that overlap or write outside the blocks', () => {
    const shared = new ArrayBuffer(64);
    // a second f64 view starting 8 bytes into the first
    expect(overlapProblems(shared, [new Float64Array(shared, 0, 2), new Float64Array(shared, 8, 2)]).length).toBeGreaterThan(0);
    // disjoint views pass; a write just past a block (as by a view one entry too long) is caught
    const buffer = new ArrayBuffer(64);
    const blocks = [new Float64Array(buffer, 0, 2), new Int32Array(buffer, 32, 3)];
    expect(overlapProblems(buffer, blocks)).toEqual([]);
    new Int32Array(buffer, 32, 4)[3] = 7;
    expect(overlapProblems(buffer, blocks)).toEqual(['byte 44 outside every block is 7']);
  });

  it('a kernel finds a block at its reported offset', () => {
    // get(addr) = the f64 at byte address addr
    const module = new WebAssembly.Module(buildModule([{ name: 'get', params: [I32], results: [F64], locals: [], body: [...op.localGet(0), ...op.f64Load()] }]));
    const km = allocateKernelMemory(SPEC)!;
    km.f64('f').forEach((_, i, f) => (f[i] = i / 3));
    km.f64('d')[0] = -2.5;
    const get = km.instantiate(module).get as (addr: number) => number;
    expect(get(km.offset.f + 8 * 999)).toBe(999 / 3);
    expect(get(km.offset.d)).toBe(-2.5);
  });

  it('refuses a request above the cap (null), accepts one at it', () => {
    const { bytes } = layoutBlocks(SPEC);
    expect(allocateKernelMemory(SPEC, bytes - 1)).toBeNull();
    expect(allocateKernelMemory(SPEC, bytes)).not.toBeNull();
    // the default cap is 2 GiB; a caller may ask for up to 4 GiB - 64 KiB, never more
    expect(kernelMemoryCap()).toBe(KERNEL_MEMORY_MAX_BYTES);
    expect(kernelMemoryCap(WASM32_MAX_BYTES)).toBe(2 ** 32 - 65536);
    expect(kernelMemoryCap(2 ** 40)).toBe(WASM32_MAX_BYTES);
    // refused from the layout alone: nothing of 3 GiB is allocated here
    expect(allocateKernelMemory({ big: { f64: 3 * 2 ** 27 } })).toBeNull();
  });

  it('the test cap lowers every cap until restored, and returns the previous setting', () => {
    const { bytes } = layoutBlocks(SPEC);
    expect(setKernelMemoryCapForTests(bytes - 1)).toBe(Infinity);
    expect(allocateKernelMemory(SPEC)).toBeNull();
    expect(allocateKernelMemory(SPEC, WASM32_MAX_BYTES)).toBeNull();
    expect(kernelMemoryCap()).toBe(bytes - 1);
    expect(setKernelMemoryCapForTests(Infinity)).toBe(bytes - 1);
    expect(allocateKernelMemory(SPEC)).not.toBeNull();
    expect(() => setKernelMemoryCapForTests(-1)).toThrow(/bytes must be >= 0/);
  });
});

describe('released memories', () => {
  it('a released memory is handed out again for a request of its page count, every byte zero; another size gets a new one', () => {
    const spec = { x: { f64: 20000 } }; // 160,000 bytes: 3 pages
    const a = allocateKernelMemory(spec)!;
    a.f64('x').fill(7.5);
    releaseKernelMemory(a.memory);
    releaseKernelMemory(a.memory); // twice: kept once
    const other = allocateKernelMemory({ y: { f64: 40000 } })!; // 5 pages: not that one
    expect(other.memory === a.memory).toBe(false);
    const b = allocateKernelMemory({ p: { i32: 3 }, q: { f64: 19990 } })!; // 3 pages again
    expect(b.memory === a.memory).toBe(true);
    expect(new Uint8Array(b.memory.buffer).every((v) => v === 0)).toBe(true);
    // handed out once: the next request of that size gets a new memory
    const c = allocateKernelMemory(spec)!;
    expect(c.memory === a.memory).toBe(false);
  });

  it('at most the bound is kept: a larger memory is dropped, and a new one pushes out the oldest', () => {
    expect(RELEASED_MAX_BYTES).toBe(2 ** 30);
    const previous = setReleasedMaxBytesForTests(4 * 65536);
    try {
      const huge = new WebAssembly.Memory({ initial: 5 });
      releaseKernelMemory(huge);
      expect(allocateKernelMemory({ x: { f64: (4 * 65536 + 8) / 8 } })!.memory === huge).toBe(false);
      const two = Array.from({ length: 3 }, () => new WebAssembly.Memory({ initial: 2 }));
      for (const m of two) releaseKernelMemory(m);
      // the first no longer fits the bound with the two after it; the second and third are kept
      const size = { x: { f64: 65536 / 8 + 1 } };
      const got = [allocateKernelMemory(size)!, allocateKernelMemory(size)!, allocateKernelMemory(size)!].map((k) => two.indexOf(k.memory));
      expect(got.sort()).toEqual([-1, 1, 2]);
    } finally {
      setReleasedMaxBytesForTests(previous);
    }
  });
});

describe('a StageMemory hosted in a memory it does not own', () => {
  it('lays its vectors out inside the region, and refuses a region that is misaligned or does not fit', () => {
    const bytes = StageMemory.bytes(7, 3);
    expect(bytes % 16).toBe(0);
    const memory = new WebAssembly.Memory({ initial: 1 });
    const hosted = new StageMemory(7, 3, { memory, byteOffset: 4096 });
    const v = [hosted.take(), hosted.take(), hosted.take()];
    for (const x of v) {
      expect(x.buffer === memory.buffer).toBe(true);
      expect(x.byteOffset).toBeGreaterThanOrEqual(4096);
      expect(x.byteOffset + x.byteLength).toBeLessThanOrEqual(4096 + bytes);
      expect(x.byteOffset % 16).toBe(0);
      expect(hosted.address(x)).toBe(x.byteOffset);
    }
    expect(() => new StageMemory(7, 3, { memory, byteOffset: 4104 })).toThrow(/16-byte aligned/);
    expect(() => new StageMemory(7, 3, { memory, byteOffset: 65536 - bytes + 16 })).toThrow(/inside the memory/);
    expect(() => new StageMemory(7, 3, { memory, byteOffset: 65536 - bytes })).not.toThrow();
  });

  it('a Dormand-Prince solve in a hosted memory gives the bits of one in its own memory (a nonlinear field)', () => {
    const n = 33; // odd: a padded vector
    const f = (_t: number, y: Float64Array, dy: Float64Array) => {
      for (let i = 0; i < n; i++) dy[i] = -y[i] * (1 + y[(i + 1) % n] * y[(i + 1) % n] / 3);
    };
    const y0 = Float64Array.from({ length: n }, (_, i) => Math.cos(i + 0.5));
    const opts = { f, t0: 0, y0, tEnd: 2, rtol: 1e-9, atol: 1e-12, maxSteps: 10000 };
    const own = solveIvp(opts);
    const memory = new WebAssembly.Memory({ initial: 2 });
    const hosted = solveIvp({ ...opts, memory: new StageMemory(n, Dopri5.VECTORS, { memory, byteOffset: 1024 }) });
    expect(hosted.stats).toEqual(own.stats);
    expect(Array.from(hosted.y)).toEqual(Array.from(own.y));
    // oracle for the solve itself: each component decays, bounded by the linear decay e^-t
    for (let i = 0; i < n; i++) expect(Math.abs(own.y[i])).toBeLessThanOrEqual(Math.abs(y0[i]) * Math.exp(-2) * (1 + 1e-9));
  });
});

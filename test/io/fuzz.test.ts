/**
 * Fuzz tests of the .npy / .npz readers (fast-check, fixed seeds). The property, for every
 * generated input: reading ends in success or in a UsageError, never another exception, each
 * read takes under a second, and ArrayBuffer memory and peak RSS grow by less than 200 MB over
 * the whole run. When the input is valid by construction (or a corruption happens to leave the
 * data intact), the values read equal the ones encoded, bit for bit.
 *
 *   (a) random byte mutations, truncations, insertions and deletions of valid archives written
 *       by our writers (stored, and re-packed as DEFLATE like numpy.savez_compressed), read
 *       generically and through the domain readers;
 *   (b) generated .npy headers: arbitrary dtype strings, shapes (including huge and negative),
 *       fortran_order values, key sets, versions and header lengths, with payloads that fit or not;
 *   (c) ZIP-level corruption of sizes, offsets, counts, methods and flags in the end record,
 *       the central directory and the local headers.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset } from '../../src/data/generate.js';
import { UsageError } from '../../src/errors.js';
import { readDatasetNpz, readGradNpz, readParamsNpz, writeDatasetNpz, writeGradNpz, writeParamsNpz } from '../../src/io/files.js';
import { decodeNpy, encodeNpy, f8Array, i4Array, type NpyArray } from '../../src/io/npy.js';
import { decodeNpz, encodeNpz, type NpzEntries } from '../../src/io/npz.js';
import { listZip } from '../../src/io/zip.js';
import { initParams } from '../../src/model/init.js';
import { buildZip, npyImage, scratchDir, type RawMember } from './helpers.js';

const dir = scratchDir('fuzz');
const MAX_CASE_MS = 1000;
const MAX_GROWTH_MB = 200;

/** What an archive must decode to: key -> shape and values (NaN equal to NaN, -0 distinct from 0). */
type Expected = Map<string, { shape: number[]; values: ArrayLike<number> }>;

function expectedOf(entries: NpzEntries | Record<string, NpyArray>): Expected {
  const list = entries instanceof Map ? [...entries] : Object.entries(entries);
  return new Map(list.map(([k, a]) => [k, { shape: a.shape, values: a.data }]));
}

function sameValues(got: ArrayLike<number>, want: ArrayLike<number>): boolean {
  if (got.length !== want.length) return false;
  for (let i = 0; i < got.length; i++) if (!Object.is(got[i], want[i])) return false;
  return true;
}

function expectDecoded(z: NpzEntries, want: Expected): void {
  expect([...z.keys()]).toEqual([...want.keys()]);
  for (const [k, w] of want) {
    const a = z.get(k)!;
    expect(a.shape, k).toEqual(w.shape);
    expect(sameValues(a.data, w.values), `values of ${k}`).toBe(true);
  }
}

// Memory over the whole file: growth of ArrayBuffer memory (checked after every case) and of
// the process's peak RSS (checked at the end; the high-water mark catches short-lived spikes).
let ab0 = 0;
let rss0 = 0;
let slowest = 0;
beforeAll(() => {
  ab0 = process.memoryUsage().arrayBuffers;
  rss0 = process.resourceUsage().maxRSS;
});
afterAll(() => {
  expect((process.resourceUsage().maxRSS - rss0) / 1024, 'peak RSS growth (MB)').toBeLessThan(MAX_GROWTH_MB);
  if (process.env.COFLOW_MEASURE) console.log(`[measure] fuzz: slowest read ${slowest.toFixed(1)} ms, peak RSS +${((process.resourceUsage().maxRSS - rss0) / 1024).toFixed(1)} MB`);
});

/** Runs one read: returns its value, or null for a UsageError; anything else fails the property. */
function attempt<T>(read: () => T, what: string): T | null {
  const t0 = performance.now();
  let value: T | null = null;
  try {
    value = read();
  } catch (e) {
    if (!(e instanceof UsageError)) throw new Error(`${what}: ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
    expect(e.message).not.toMatch(/\n/);
  }
  const ms = performance.now() - t0;
  slowest = Math.max(slowest, ms);
  if (ms > MAX_CASE_MS) throw new Error(`${what}: took ${ms.toFixed(0)} ms`);
  const growth = (process.memoryUsage().arrayBuffers - ab0) / 2 ** 20;
  if (growth > MAX_GROWTH_MB) throw new Error(`${what}: ArrayBuffer memory grew by ${growth.toFixed(0)} MB`);
  return value;
}

// ---------------------------------------------------------------------------------------------
// (a) mutations of archives written by our writers

interface Base {
  name: string;
  bytes: Uint8Array;
  expected: Expected;
  reader?: (path: string) => unknown;
}

/** The same members re-packed as DEFLATE (what numpy.savez_compressed writes). */
function deflated(bytes: Uint8Array): Uint8Array {
  return buildZip(listZip(bytes, 'base').map((m): RawMember => ({ name: m.name, content: m.raw, method: 8 }))).bytes;
}

function bases(): Base[] {
  const p = initParams({ m: 3, m1: 4, d: 9, s0: 0.5, s1: 0.7, seed: 3 });
  const data = generateDataset({ n: 6, L: 4, d: 9, seed: 4, fillers: 'repeat' });
  const grad = { dWQ: p.WQ.map((x) => -x), dWK: p.WK, dWV: p.WV, dW: p.W };
  writeParamsNpz(join(dir, 'p.npz'), p);
  writeDatasetNpz(join(dir, 'd.npz'), data);
  writeGradNpz(join(dir, 'g.npz'), { loss: 0.25, F: Float64Array.of(1, -1, 0.5, 2, -3, 0), grad }, p);
  const params = expectedOf({
    WQ: f8Array(p.WQ, [3, 9]),
    WK: f8Array(p.WK, [3, 9]),
    WV: f8Array(p.WV, [3, 9]),
    W: f8Array(p.W, [4, 3]),
    a: f8Array(p.a),
  });
  const dataset = expectedOf({
    tokens: i4Array(data.tokens, [6, 4]),
    y: f8Array(data.y),
    type: i4Array(data.type),
    d: i4Array(Int32Array.of(9)),
  });
  const gradExpected = expectedOf({
    loss: f8Array(Float64Array.of(0.25)),
    F: f8Array(Float64Array.of(1, -1, 0.5, 2, -3, 0)),
    dWQ: f8Array(grad.dWQ, [3, 9]),
    dWK: f8Array(grad.dWK, [3, 9]),
    dWV: f8Array(grad.dWV, [3, 9]),
    dW: f8Array(grad.dW, [4, 3]),
  });
  const generic = new Map<string, NpyArray>([
    ['scalar', f8Array(Float64Array.of(-0), [])],
    ['empty', f8Array(new Float64Array(0), [0, 3])],
    ['cube', f8Array(Float64Array.of(NaN, Infinity, -Infinity, 5e-324, 1, 2, 3, 4), [2, 2, 2])],
    ['ids', i4Array(Int32Array.of(-2147483648, 0, 2147483647))],
  ]);
  const list: Base[] = [
    { name: 'params', bytes: readFileSync(join(dir, 'p.npz')), expected: params, reader: readParamsNpz },
    { name: 'dataset', bytes: readFileSync(join(dir, 'd.npz')), expected: dataset, reader: readDatasetNpz },
    { name: 'grad', bytes: readFileSync(join(dir, 'g.npz')), expected: gradExpected, reader: readGradNpz },
    { name: 'generic', bytes: encodeNpz(generic), expected: expectedOf(generic) },
  ];
  return [...list, ...list.map((b) => ({ ...b, name: `${b.name} (deflate)`, bytes: deflated(b.bytes) }))];
}

type Mutation =
  | { t: 'flip'; edits: Array<[number, number]> }
  | { t: 'truncate'; at: number }
  | { t: 'insert'; at: number; bytes: Uint8Array }
  | { t: 'delete'; at: number; n: number }
  | { t: 'overwrite'; at: number; bytes: Uint8Array };

/** Positions: non-negative from the start, negative from the end (where the directory is). */
const position = fc.oneof(fc.nat({ max: 20_000 }), fc.integer({ min: -400, max: -1 }), fc.nat({ max: 300 }));
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ t: fc.constant('flip' as const), edits: fc.array(fc.tuple(position, fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 6 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('truncate' as const), at: position }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('insert' as const), at: position, bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('delete' as const), at: position, n: fc.integer({ min: 1, max: 64 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('overwrite' as const), at: position, bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }) },
);

function mutate(bytes: Uint8Array, m: Mutation): Uint8Array {
  const pos = (p: number) => (p >= 0 ? p % bytes.length : Math.max(0, bytes.length + p));
  switch (m.t) {
    case 'flip': {
      const out = bytes.slice();
      for (const [p, x] of m.edits) out[pos(p)] ^= x;
      return out;
    }
    case 'truncate':
      return bytes.slice(0, pos(m.at));
    case 'insert': {
      const at = pos(m.at);
      const out = new Uint8Array(bytes.length + m.bytes.length);
      out.set(bytes.subarray(0, at));
      out.set(m.bytes, at);
      out.set(bytes.subarray(at), at + m.bytes.length);
      return out;
    }
    case 'delete': {
      const at = pos(m.at);
      const out = new Uint8Array(bytes.length - Math.min(m.n, bytes.length - at));
      out.set(bytes.subarray(0, at));
      out.set(bytes.subarray(at + m.n), at);
      return out;
    }
    case 'overwrite': {
      const out = bytes.slice();
      out.set(m.bytes.subarray(0, Math.max(0, out.length - pos(m.at))), pos(m.at));
      return out;
    }
  }
}

describe('(a) byte-level mutations of archives written by our writers', () => {
  const all = bases();

  it('the unmutated bases decode to what was written', () => {
    for (const b of all) expectDecoded(decodeNpz(b.bytes, b.name), b.expected);
  });

  it('success (with the written values, bit for bit) or a UsageError; bounded time and memory', () => {
    let refused = 0;
    let intact = 0;
    fc.assert(
      fc.property(fc.nat({ max: all.length - 1 }), mutationArb, (i, m) => {
        const b = all[i];
        const bytes = mutate(b.bytes, m);
        const z = attempt(() => decodeNpz(bytes, 'fuzz.npz'), `${b.name}, ${m.t}`);
        if (z === null) refused++;
        else {
          // A corruption the reader accepts must have left the data intact (e.g. a flipped
          // timestamp): the CRC-32 and the structural checks leave no other way through.
          expectDecoded(z, b.expected);
          intact++;
        }
        if (b.reader) {
          const path = join(dir, 'mutated.npz');
          writeFileSync(path, bytes);
          attempt(() => b.reader!(path), `${b.name} through its domain reader, ${m.t}`);
        }
      }),
      { seed: 42, numRuns: 600 },
    );
    // The fuzzer exercised both outcomes (it is not refusing, or accepting, everything).
    if (process.env.COFLOW_MEASURE) console.log(`[measure] fuzz (a): ${refused} refused, ${intact} accepted intact`);
    expect(refused).toBeGreaterThan(100);
    expect(intact).toBeGreaterThan(5);
  });
});

// ---------------------------------------------------------------------------------------------
// (b) generated .npy headers

interface HeaderCase {
  descr: string;
  descrForm: 'single' | 'double' | 'bare' | 'list';
  fortran: string;
  shape: bigint[];
  shapeForm: 'tuple' | 'nocomma' | 'list' | 'L' | 'bare';
  keys: 'exact' | 'missing' | 'extra' | 'dup';
  order: number[];
  trailer: string;
  version: number;
  lenDelta: number;
  payload: 'exact' | 'short' | 'long' | 'random';
  seedBytes: Uint8Array;
  method: 0 | 8;
}

const READABLE = ['<f8', '>f8', '<i4', '>i4', '<i8', '>i8'];
const dimArb = fc.oneof(
  { weight: 12, arbitrary: fc.bigInt({ min: 0n, max: 5n }) },
  { weight: 1, arbitrary: fc.bigInt({ min: 2n ** 31n - 2n, max: 2n ** 31n + 2n }) },
  { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: 10n ** 20n }) },
  { weight: 1, arbitrary: fc.bigInt({ min: -5n, max: -1n }) },
);
const wildHeaderArb: fc.Arbitrary<HeaderCase> = fc.record({
  descr: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...READABLE) },
    { weight: 2, arbitrary: fc.constantFrom('<f4', '|u1', '<c16', '|b1', '|O', '<U5', '=f8', 'f8', '<M8[ns]', '|V8', '<i2', '', "'", '\\') },
    { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
    { weight: 1, arbitrary: fc.stringMatching(/^[<>|=]?[a-zA-Z?][0-9]{0,3}$/) },
  ),
  descrForm: fc.constantFrom('single', 'single', 'single', 'double', 'bare', 'list'),
  fortran: fc.oneof({ weight: 8, arbitrary: fc.constantFrom('True', 'False') }, { weight: 1, arbitrary: fc.constantFrom('None', '1', '0', "'True'", 'true', '', 'False False') }),
  shape: fc.oneof({ weight: 10, arbitrary: fc.array(dimArb, { maxLength: 4 }) }, { weight: 1, arbitrary: fc.array(dimArb, { minLength: 60, maxLength: 70 }) }),
  shapeForm: fc.constantFrom('tuple', 'tuple', 'tuple', 'tuple', 'nocomma', 'list', 'L', 'bare'),
  keys: fc.constantFrom('exact', 'exact', 'exact', 'exact', 'missing', 'extra', 'dup'),
  order: fc.shuffledSubarray([0, 1, 2], { minLength: 3, maxLength: 3 }),
  trailer: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(', }', '}', ',}', ' , } ') }, { weight: 1, arbitrary: fc.string({ maxLength: 6 }) }),
  version: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(1, 2, 3) }, { weight: 1, arbitrary: fc.constantFrom(0, 4, 255) }),
  lenDelta: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -20, max: 20 }) }, { weight: 1, arbitrary: fc.constantFrom(0xffff, 0xffffffff, 10_001) }),
  payload: fc.constantFrom('exact', 'exact', 'exact', 'short', 'long', 'random'),
  seedBytes: fc.uint8Array({ minLength: 0, maxLength: 2048 }),
  method: fc.constantFrom(0 as const, 8 as const),
});
/** Headers valid by construction (every field drawn from the accepted forms). */
const validHeaderArb: fc.Arbitrary<HeaderCase> = fc.record({
  descr: fc.constantFrom(...READABLE),
  descrForm: fc.constantFrom('single' as const, 'double' as const),
  fortran: fc.constantFrom('True', 'False'),
  shape: fc.array(fc.bigInt({ min: 0n, max: 5n }), { maxLength: 4 }),
  shapeForm: fc.constantFrom('tuple' as const, 'L' as const),
  keys: fc.constant('exact' as const),
  order: fc.shuffledSubarray([0, 1, 2], { minLength: 3, maxLength: 3 }),
  trailer: fc.constantFrom(', }', '}', ',}', ' , } '),
  version: fc.constantFrom(1, 2, 3),
  lenDelta: fc.constant(0),
  payload: fc.constant('exact' as const),
  seedBytes: fc.uint8Array({ minLength: 0, maxLength: 2048 }),
  method: fc.constantFrom(0 as const, 8 as const),
});
const headerArb = fc.oneof(validHeaderArb, wildHeaderArb);

function tupleText(shape: bigint[], form: HeaderCase['shapeForm']): string {
  const items = shape.map((s) => s.toString() + (form === 'L' ? 'L' : ''));
  if (form === 'list') return `[${items.join(', ')}]`;
  if (form === 'bare') return items.join(', ') || '()';
  if (form === 'nocomma' || items.length !== 1) return `(${items.join(', ')})`;
  return `(${items[0]},)`;
}

function buildHeader(c: HeaderCase): { image: Uint8Array; valid: boolean; expected?: { shape: number[]; values: number[] } | 'int64-overflow' } {
  const descrText =
    c.descrForm === 'single' ? `'${c.descr}'` : c.descrForm === 'double' ? `"${c.descr}"` : c.descrForm === 'bare' ? c.descr : `[('f', '${c.descr}')]`;
  const items = [`'descr': ${descrText}`, `'fortran_order': ${c.fortran}`, `'shape': ${tupleText(c.shape, c.shapeForm)}`];
  let ordered = c.order.map((i) => items[i]);
  if (c.keys === 'missing') ordered = ordered.slice(1);
  if (c.keys === 'extra') ordered.push("'extra': 0");
  if (c.keys === 'dup') ordered.push(ordered[0]);
  const dict = `{${ordered.join(', ')}${c.trailer}`;

  const readable = READABLE.includes(c.descr) && (c.descrForm === 'single' || c.descrForm === 'double');
  const itemSize = readable ? Number(c.descr[2]) : 8;
  const smallShape = c.shape.every((s) => s >= 0n && s <= 5n) && c.shape.length <= 4;
  const count = smallShape ? c.shape.reduce((a, s) => a * Number(s), 1) : 0;
  const exactBytes = count * itemSize;
  const payloadLength = { exact: exactBytes, short: Math.max(0, exactBytes - 1 - (c.seedBytes.length % 8)), long: exactBytes + 1 + (c.seedBytes.length % 8), random: c.seedBytes.length }[c.payload];
  const payload = new Uint8Array(payloadLength);
  for (let i = 0; i < payloadLength; i++) payload[i] = c.seedBytes.length > 0 ? c.seedBytes[i % c.seedBytes.length] ^ (i * 131) : i * 7;

  const textOk = (c.shapeForm === 'tuple' || c.shapeForm === 'L' || (c.shapeForm === 'nocomma' && c.shape.length !== 1)) && [', }', '}', ',}', ' , } '].includes(c.trailer);
  const valid =
    readable &&
    (c.fortran === 'True' || c.fortran === 'False') &&
    smallShape &&
    textOk &&
    c.keys === 'exact' &&
    (c.version === 1 || c.version === 2 || c.version === 3) &&
    c.lenDelta === 0 &&
    (c.payload === 'exact' || (c.payload === 'random' && payloadLength === exactBytes));

  const headerLength = (c.version === 1 ? 10 : 12) + dict.length + 63 - (((c.version === 1 ? 10 : 12) + dict.length) % 64) + 1 - (c.version === 1 ? 10 : 12);
  const image = npyImage(dict, payload, {
    version: c.version,
    headerLen: c.lenDelta === 0 ? undefined : c.version === 1 ? (headerLength + c.lenDelta) & 0xffff : (headerLength + c.lenDelta) >>> 0,
  });
  if (!valid) return { image, valid };

  // Expected values, read independently with DataView, rearranged from Fortran order by index arithmetic.
  const shape = c.shape.map(Number);
  const view = new DataView(payload.buffer);
  const little = c.descr[0] === '<';
  const raw: number[] = [];
  for (let i = 0; i < count; i++) {
    if (c.descr[1] === 'f') raw.push(view.getFloat64(8 * i, little));
    else if (itemSize === 4) raw.push(view.getInt32(4 * i, little));
    else {
      const v = view.getBigInt64(8 * i, little);
      if (v < -(2n ** 31n) || v >= 2n ** 31n) return { image, valid, expected: 'int64-overflow' };
      raw.push(Number(v));
    }
  }
  let values = raw;
  if (c.fortran === 'True' && shape.length > 1) {
    values = new Array<number>(count);
    for (let ci = 0; ci < count; ci++) {
      // C multi-index of ci, then its Fortran offset
      let rest = ci;
      const idx = new Array<number>(shape.length);
      for (let k = shape.length - 1; k >= 0; k--) {
        idx[k] = rest % shape[k];
        rest = Math.floor(rest / shape[k]);
      }
      let f = 0;
      for (let k = shape.length - 1; k >= 0; k--) f = f * shape[k] + idx[k];
      values[ci] = raw[f];
    }
  }
  return { image, valid, expected: { shape, values } };
}

describe('(b) generated .npy headers', () => {
  it('success (valid headers: the encoded values) or a UsageError, alone and inside an .npz', () => {
    let valid = 0;
    let refused = 0;
    fc.assert(
      fc.property(headerArb, (c) => {
        const { image, valid: isValid, expected } = buildHeader(c);
        const zip = buildZip([{ name: 'k.npy', content: image, method: c.method }]).bytes;
        const alone = attempt(() => decodeNpy(image, "h.npy: key 'k'"), 'decodeNpy');
        const inNpz = attempt(() => decodeNpz(zip, 'h.npz'), 'decodeNpz');
        // The .npz path checks sizes against the ZIP directory first, but decides the same way.
        expect(inNpz === null, 'same decision alone and in an .npz').toBe(alone === null);
        if (!isValid) {
          if (alone === null) refused++;
          return;
        }
        if (expected === 'int64-overflow') {
          expect(alone).toBeNull();
          return;
        }
        valid++;
        expect(alone, `valid header refused: ${new TextDecoder('latin1').decode(image.subarray(0, 200))}`).not.toBeNull();
        expect(alone!.shape).toEqual(expected!.shape);
        expect(sameValues(alone!.data, expected!.values)).toBe(true);
        expectDecoded(inNpz!, new Map([['k', expected!]]));
      }),
      { seed: 42, numRuns: 1500 },
    );
    if (process.env.COFLOW_MEASURE) console.log(`[measure] fuzz (b): ${valid} valid read, ${refused} invalid refused`);
    expect(valid).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(300);
  });

  it('our writer round-trips any small float64 / int32 array (bit-exact, including NaN and -0)', () => {
    const arrayArb = fc.oneof(
      fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }).chain((shape) => {
        const n = shape.reduce((a, s) => a * s, 1);
        return fc.oneof(
          fc.array(fc.double(), { minLength: n, maxLength: n }).map((v) => f8Array(Float64Array.from(v), shape)),
          fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { minLength: n, maxLength: n }).map((v) => i4Array(Int32Array.from(v), shape)),
        );
      }),
    );
    fc.assert(
      fc.property(fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9_]{0,6}$/), arrayArb, { maxKeys: 4 }), (entries) => {
        const bytes = encodeNpz(entries);
        expectDecoded(attempt(() => decodeNpz(bytes, 'rt.npz'), 'round trip')!, expectedOf(entries));
        expectDecoded(attempt(() => decodeNpz(deflated(bytes), 'rt.npz'), 'round trip (deflate)')!, expectedOf(entries));
        for (const [k, a] of Object.entries(entries)) expect(sameValues(decodeNpy(encodeNpy(a), k).data, a.data)).toBe(true);
      }),
      { seed: 42, numRuns: 200 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// (c) ZIP-level corruption

interface Field {
  where: 'end' | 'central' | 'local';
  member: number;
  offset: number;
  width: 2 | 4;
}

const END_FIELDS: Array<[number, 2 | 4]> = [[4, 2], [6, 2], [8, 2], [10, 2], [12, 4], [16, 4], [20, 2]];
const CENTRAL_FIELDS: Array<[number, 2 | 4]> = [[4, 2], [6, 2], [8, 2], [10, 2], [16, 4], [20, 4], [24, 4], [28, 2], [30, 2], [32, 2], [34, 2], [42, 4]];
const LOCAL_FIELDS: Array<[number, 2 | 4]> = [[6, 2], [8, 2], [14, 4], [18, 4], [22, 4], [26, 2], [28, 2]];

describe('(c) ZIP-level corruption of sizes, offsets, counts, methods and flags', () => {
  const X = encodeNpy(f8Array(Float64Array.of(1.5, -2, 1e-300), [3]));
  const Y = encodeNpy(i4Array(Int32Array.of(1, 2, 3, 4, 5, 6), [2, 3]));
  const Z = encodeNpy(f8Array(Float64Array.from({ length: 40 }, (_, i) => Math.sin(i)), [5, 8]));
  const expected: Expected = new Map(
    (
      [
        ['x', X],
        ['y', Y],
        ['z', Z],
      ] as const
    ).map(([k, b]) => {
      const a = decodeNpy(b, k);
      return [k, { shape: a.shape, values: a.data }];
    }),
  );
  const archives = [0, 8].map((method) =>
    buildZip([
      { name: 'x.npy', content: X, method },
      { name: 'y.npy', content: Y, method },
      { name: 'z.npy', content: Z, method },
    ]),
  );

  const fieldArb: fc.Arbitrary<Field> = fc.oneof(
    fc.constantFrom(...END_FIELDS).map(([offset, width]) => ({ where: 'end' as const, member: 0, offset, width })),
    fc.tuple(fc.nat({ max: 2 }), fc.constantFrom(...CENTRAL_FIELDS)).map(([member, [offset, width]]) => ({ where: 'central' as const, member, offset, width })),
    fc.tuple(fc.nat({ max: 2 }), fc.constantFrom(...LOCAL_FIELDS)).map(([member, [offset, width]]) => ({ where: 'local' as const, member, offset, width })),
  );
  const valueArb = fc.oneof(
    fc.record({ t: fc.constant('set' as const), v: fc.constantFrom(0, 1, 2, 8, 0xfffe, 0xffff, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff) }),
    fc.record({ t: fc.constant('add' as const), v: fc.integer({ min: -64, max: 64 }) }),
    fc.record({ t: fc.constant('set' as const), v: fc.nat({ max: 0xffffffff }) }),
  );

  it('success (with the original values) or a UsageError; bounded time and memory', () => {
    let refused = 0;
    let intact = 0;
    fc.assert(
      fc.property(fc.nat({ max: 1 }), fc.array(fc.tuple(fieldArb, valueArb), { minLength: 1, maxLength: 3 }), (which, edits) => {
        const { bytes: base, layout } = archives[which];
        const bytes = base.slice();
        const view = new DataView(bytes.buffer);
        for (const [f, val] of edits) {
          const at = (f.where === 'end' ? layout.end : f.where === 'central' ? layout.central[f.member] : layout.local[f.member]) + f.offset;
          const old = f.width === 2 ? view.getUint16(at, true) : view.getUint32(at, true);
          const v = val.t === 'set' ? val.v : old + val.v;
          if (f.width === 2) view.setUint16(at, v & 0xffff, true);
          else view.setUint32(at, v >>> 0, true);
        }
        const z = attempt(() => decodeNpz(bytes, 'zip.npz'), `edits ${JSON.stringify(edits)}`);
        if (z === null) refused++;
        else {
          expectDecoded(z, expected);
          intact++;
        }
      }),
      { seed: 42, numRuns: 800 },
    );
    if (process.env.COFLOW_MEASURE) console.log(`[measure] fuzz (c): ${refused} refused, ${intact} accepted intact`);
    expect(refused).toBeGreaterThan(200);
    expect(intact).toBeGreaterThan(20);
  });
});

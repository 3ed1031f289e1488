/**
 * .npz round trips through the coflow schemas, and the validating readers' errors: each bad
 * file must give a UsageError that names the file and the offending key.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateDataset } from '../../src/data/generate.js';
import type { Dataset } from '../../src/data/dataset.js';
import { UsageError } from '../../src/errors.js';
import {
  readDatasetNpz,
  readGradNpz,
  readParamsNpz,
  writeDatasetNpz,
  writeGradNpz,
  writeParamsNpz,
} from '../../src/io/files.js';
import { encodeNpy, f8Array, i4Array, type NpyArray } from '../../src/io/npy.js';
import { decodeNpz, encodeNpz, readNpz, writeNpz } from '../../src/io/npz.js';
import { initParams } from '../../src/model/init.js';
import type { Params } from '../../src/model/params.js';
import { buildZip, errorOf, indexOfAscii, npyDict, npyImage, scratchDir } from './helpers.js';

const dir = scratchDir('files');
const data = generateDataset({ n: 12, L: 4, d: 40, seed: 1, fillers: 'distinct' });
const params = initParams({ m: 3, m1: 5, d: 40, s0: 0.5, s1: 0.7, seed: 2 });

const bitsEqual = (a: ArrayBufferView, b: ArrayBufferView) =>
  Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;

function paramEntries(p: Params): Record<string, NpyArray> {
  return {
    WQ: f8Array(p.WQ, [p.m, p.d]),
    WK: f8Array(p.WK, [p.m, p.d]),
    WV: f8Array(p.WV, [p.m, p.d]),
    W: f8Array(p.W, [p.m1, p.m]),
    a: f8Array(p.a, [p.m1]),
  };
}

function dataEntries(ds: Dataset): Record<string, NpyArray> {
  return {
    tokens: i4Array(ds.tokens, [ds.n, ds.L]),
    y: f8Array(ds.y),
    type: i4Array(ds.type),
    d: i4Array(Int32Array.of(ds.d)),
  };
}

/** Writes `entries` to a new file and returns the reader's error. */
function readError(name: string, entries: Record<string, NpyArray>, reader: (path: string) => unknown): Error {
  const path = join(dir, name);
  writeNpz(path, entries);
  const e = errorOf(() => reader(path));
  expect(e).toBeInstanceOf(UsageError);
  expect(e.message.startsWith(`${path}: `)).toBe(true);
  return e;
}

describe('round trips', () => {
  it('params: every matrix bit-exact, dims recovered from shapes', () => {
    const path = join(dir, 'params.npz');
    writeParamsNpz(path, params);
    const back = readParamsNpz(path);
    expect([back.m, back.m1, back.d]).toEqual([3, 5, 40]);
    for (const key of ['WQ', 'WK', 'WV', 'W', 'a'] as const) expect(bitsEqual(back[key], params[key])).toBe(true);
  });

  it('dataset: tokens, labels, types and d', () => {
    const path = join(dir, 'data.npz');
    writeDatasetNpz(path, data);
    const back = readDatasetNpz(path);
    expect([back.n, back.L, back.d]).toEqual([12, 4, 40]);
    expect(Array.from(back.tokens)).toEqual(Array.from(data.tokens));
    expect(Array.from(back.y)).toEqual(Array.from(data.y));
    expect(Array.from(back.type)).toEqual(Array.from(data.type));
  });

  it('dataset without d: d = max token + 1', () => {
    const { d: _d, ...rest } = dataEntries(data);
    const path = join(dir, 'data-nod.npz');
    writeNpz(path, rest);
    let maxToken = 0;
    for (const t of data.tokens) maxToken = Math.max(maxToken, t);
    expect(readDatasetNpz(path).d).toBe(maxToken + 1);
  });

  it('grad: loss, F and the four matrices', () => {
    const path = join(dir, 'grad.npz');
    const grad = { dWQ: params.WQ.map((x) => 2 * x), dWK: params.WK.slice(), dWV: params.WV.slice(), dW: params.W.slice() };
    writeGradNpz(path, { loss: 0.6931, F: Float64Array.of(1, -2, 3), grad }, params);
    const back = readGradNpz(path);
    expect(back.loss).toBe(0.6931);
    expect(Array.from(back.F)).toEqual([1, -2, 3]);
    expect([back.m, back.m1, back.d]).toEqual([3, 5, 40]);
    expect(bitsEqual(back.grad.dWQ, grad.dWQ)).toBe(true);
    expect(bitsEqual(back.grad.dW, grad.dW)).toBe(true);
  });

  it('generic npz keeps key order and dtypes; the archive is byte-deterministic', () => {
    const entries = new Map<string, NpyArray>([
      ['z_last', f8Array(Float64Array.of(1.5), [])],
      ['gram.A', f8Array(Float64Array.of(1, 2, 3, 4), [2, 2])],
      ['idx', i4Array(Int32Array.of(-1, 7))],
    ]);
    const bytes = encodeNpz(entries);
    expect(Buffer.compare(Buffer.from(bytes), Buffer.from(encodeNpz(entries)))).toBe(0);
    const back = decodeNpz(bytes, 'mem');
    expect([...back.keys()]).toEqual(['z_last', 'gram.A', 'idx']);
    expect(back.get('idx')!.dtype).toBe('<i4');
    expect(back.get('gram.A')!.shape).toEqual([2, 2]);
    expect(Array.from(back.get('gram.A')!.data)).toEqual([1, 2, 3, 4]);
  });
});

describe('damaged archives', () => {
  const path = join(dir, 'damaged-src.npz');
  writeParamsNpz(path, params);
  const good = new Uint8Array(readFileSync(path));
  // Our writer stores entries uncompressed with no extra field: data follows the local name.
  const wvData = indexOfAscii(good, 'WV.npy') + 'WV.npy'.length;

  it('a flipped byte inside WV gives a CRC error naming key WV', () => {
    const bad = good.slice();
    bad[wvData + 150] ^= 0x10;
    const p = join(dir, 'crc.npz');
    writeFileSync(p, bad);
    const e = errorOf(() => readParamsNpz(p));
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toMatch(new RegExp(`^${p}: key 'WV': CRC-32 mismatch \\(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\\)`));
  });

  it('a file cut inside WV names key WV; a file cut after the last entry names that entry', () => {
    const p = join(dir, 'trunc.npz');
    writeFileSync(p, good.subarray(0, wvData + 100));
    expect(errorOf(() => readParamsNpz(p)).message).toBe(`${p}: file truncated inside key 'WV' (ZIP end record missing); re-create the file`);
    const centralStart = good.length - 22 - 5 * 46 - ['WQ', 'WK', 'WV', 'W', 'a'].reduce((s, k) => s + k.length + 4, 0);
    writeFileSync(p, good.subarray(0, centralStart + 10));
    expect(errorOf(() => readParamsNpz(p)).message).toMatch(/file truncated after key 'a' \(ZIP central directory/);
  });

  it('not a zip at all', () => {
    const p = join(dir, 'text.npz');
    writeFileSync(p, 'hello, this is not an archive');
    expect(errorOf(() => readNpz(p)).message).toMatch(/not a ZIP\/\.npz archive/);
  });

  it('a missing file names the path', () => {
    const e = errorOf(() => readParamsNpz(join(dir, 'nope.npz')));
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toMatch(/cannot read .*nope\.npz: ENOENT/);
  });

  it('zip64 directory fields are refused clearly', () => {
    const bad = good.slice();
    const view = new DataView(bad.buffer);
    const cd = view.getUint32(bad.length - 22 + 16, true);
    view.setUint32(cd + 20, 0xffffffff, true); // compressed size of the first entry -> zip64 marker
    const p = join(dir, 'zip64.npz');
    writeFileSync(p, bad);
    expect(errorOf(() => readNpz(p)).message).toMatch(/key 'WQ': zip64 sizes .* not supported/);
  });
});

describe('schema violations name the key', () => {
  it('wrong dtype: WQ stored as int32', () => {
    const e = readError('dtype.npz', { ...paramEntries(params), WQ: i4Array(new Int32Array(3 * 40), [3, 40]) }, readParamsNpz);
    expect(e.message).toMatch(/key 'WQ' has dtype int32 \('<i4'\), expected float64 .*astype\(np\.float64\)/);
  });

  it('wrong shape: WK with one column too many', () => {
    const e = readError('shape.npz', { ...paramEntries(params), WK: f8Array(new Float64Array(3 * 41), [3, 41]) }, readParamsNpz);
    expect(e.message).toMatch(/key 'WK' has shape \(3, 41\) but axis 1 must be 40 \(d, from WQ\)/);
  });

  it('wrong shape: W not m1 x m', () => {
    const e = readError('shapeW.npz', { ...paramEntries(params), W: f8Array(new Float64Array(10), [5, 2]) }, readParamsNpz);
    expect(e.message).toMatch(/key 'W' has shape \(5, 2\) but axis 1 must be 3 \(m, from WQ\)/);
  });

  it('a not +-1, a non-finite weight, a missing key', () => {
    const a = params.a.slice();
    a[2] = 0.5;
    expect(readError('a.npz', { ...paramEntries(params), a: f8Array(a) }, readParamsNpz).message).toMatch(/key 'a' entry 2 is 0.5/);
    const WV = params.WV.slice();
    WV[7] = NaN;
    expect(readError('nan.npz', { ...paramEntries(params), WV: f8Array(WV, [3, 40]) }, readParamsNpz).message).toMatch(
      /key 'WV' has a non-finite entry NaN at flat index 7/,
    );
    const { W: _W, ...noW } = paramEntries(params);
    expect(readError('missing.npz', noW, readParamsNpz).message).toMatch(/key 'W' is missing .*keys present: WQ, WK, WV, a/);
  });

  it('bad label: an I2 sample with y = +1', () => {
    const i2 = data.type.indexOf(2);
    const y = data.y.slice();
    y[i2] = 1;
    const e = readError('label.npz', { ...dataEntries(data), y: f8Array(y) }, readDatasetNpz);
    expect(e.message).toMatch(new RegExp(`key 'y' entry ${i2} is 1 but the sample has type 2; I1 samples have y=\\+1`));
    y[i2] = 0;
    expect(readError('label0.npz', { ...dataEntries(data), y: f8Array(y) }, readDatasetNpz).message).toMatch(/key 'y' entry \d+ is 0, but labels must be \+1 or -1/);
  });

  it('type inconsistent with the tokens: an I3 sample relabelled I4', () => {
    const i3 = data.type.indexOf(3);
    const type = data.type.slice();
    type[i3] = 4;
    const e = readError('type.npz', { ...dataEntries(data), type: i4Array(type) }, readDatasetNpz);
    expect(e.message).toMatch(new RegExp(`key 'type' entry ${i3} is 4, so the sample lacks mu_1 \\(token 0\\) and lacks mu_2 \\(token 1\\), but its tokens lack mu_1 and contain mu_2`));
  });

  it('tokens outside [0, d), y of the wrong length, type out of range', () => {
    const tokens = data.tokens.slice();
    tokens[5] = 40;
    expect(readError('tok.npz', { ...dataEntries(data), tokens: i4Array(tokens, [12, 4]) }, readDatasetNpz).message).toMatch(
      /key 'tokens' has id 40 at sample 1, position 1, outside \[0, d=40\)/,
    );
    expect(readError('ylen.npz', { ...dataEntries(data), y: f8Array(data.y.subarray(1)) }, readDatasetNpz).message).toMatch(
      /key 'y' has shape \(11\) but axis 0 must be 12/,
    );
    const type = data.type.slice();
    type[0] = 5;
    expect(readError('t5.npz', { ...dataEntries(data), type: i4Array(type) }, readDatasetNpz).message).toMatch(/key 'type' entry 0 is 5/);
  });
});

/** An .npz whose members are given as raw .npy images (for dtypes our writer does not write). */
function rawNpz(entries: Record<string, NpyArray | Uint8Array>): Uint8Array {
  return buildZip(
    Object.entries(entries).map(([key, v]) => ({ name: `${key}.npy`, content: v instanceof Uint8Array ? v : encodeNpy(v) })),
  ).bytes;
}

function int64Npy(values: bigint[], shape: number[] = [values.length]): Uint8Array {
  return npyImage(npyDict('<i8', shape), new Uint8Array(BigInt64Array.from(values).buffer));
}

function withEntry(v: Float64Array, i: number, x: number): Float64Array {
  const c = v.slice();
  c[i] = x;
  return c;
}

describe('domain checks: each refusal names key, index or shapes, and a nearby file is accepted', () => {
  type Entries = Record<string, NpyArray | Uint8Array>;
  const P = () => paramEntries(params) as Entries;
  const D = () => dataEntries(data) as Entries;
  const grad = { dWQ: params.WQ, dWK: params.WK, dWV: params.WV, dW: params.W };
  const G = (): Entries => ({
    loss: f8Array(Float64Array.of(0.5)),
    F: f8Array(Float64Array.of(1, 2)),
    dWQ: f8Array(grad.dWQ, [3, 40]),
    dWK: f8Array(grad.dWK, [3, 40]),
    dWV: f8Array(grad.dWV, [3, 40]),
    dW: f8Array(grad.dW, [5, 3]),
  });
  const tooBig = data.tokens.slice();
  const filler = tooBig.findIndex((t) => t > 1); // a filler slot: changing it keeps the types right
  tooBig[filler] = 40;
  const negative = data.tokens.slice();
  negative[filler] = -1;
  const m1 = (): Entries => ({
    WQ: f8Array(params.WQ.subarray(0, 40), [1, 40]),
    WK: f8Array(params.WK.subarray(0, 40), [1, 40]),
    WV: f8Array(params.WV.subarray(0, 40), [1, 40]),
    W: f8Array(Float64Array.of(1, 2, 3, 4, 5), [5, 1]),
    a: f8Array(params.a),
  });
  const at = `sample ${Math.floor(filler / 4)}, position ${filler % 4}`;

  const cases: Array<[string, (path: string) => unknown, Entries, Entries, RegExp]> = [
    // [name, reader, bad file, nearby good file, message]
    ['Inf in W names row and column', readParamsNpz, { ...P(), W: f8Array(withEntry(params.W, 14, Infinity), [5, 3]) }, { ...P(), W: f8Array(withEntry(params.W, 14, 1e300), [5, 3]) }, /key 'W' has a non-finite entry Infinity at flat index 14 \(row 4, column 2\); the file must hold finite numbers/],
    ['NaN in WQ', readParamsNpz, { ...P(), WQ: f8Array(withEntry(params.WQ, 41, NaN), [3, 40]) }, { ...P(), WQ: f8Array(withEntry(params.WQ, 41, -0), [3, 40]) }, /key 'WQ' has a non-finite entry NaN at flat index 41 \(row 1, column 1\)/],
    ['-Inf in a', readParamsNpz, { ...P(), a: f8Array(withEntry(params.a, 3, -Infinity)) }, { ...P(), a: f8Array(withEntry(params.a, 3, -1)) }, /key 'a' has a non-finite entry -Infinity at flat index 3;/],
    ['WV with a wrong number of columns', readParamsNpz, { ...P(), WV: f8Array(new Float64Array(3 * 39), [3, 39]) }, { ...P(), WV: f8Array(new Float64Array(3 * 40), [3, 40]) }, /key 'WV' has shape \(3, 39\) but axis 1 must be 40 \(d, from WQ\)/],
    ['WK with a wrong number of rows', readParamsNpz, { ...P(), WK: f8Array(new Float64Array(2 * 40), [2, 40]) }, { ...P(), WK: f8Array(new Float64Array(3 * 40), [3, 40]) }, /key 'WK' has shape \(2, 40\) but axis 0 must be 3 \(m, from WQ\)/],
    ['a shorter than the rows of W', readParamsNpz, { ...P(), a: f8Array(params.a.subarray(0, 4)) }, P(), /key 'a' has shape \(4\) but axis 0 must be 5 \(m1, the number of rows of W\)/],
    ['a saved as a column', readParamsNpz, { ...P(), a: f8Array(params.a, [5, 1]) }, P(), /key 'a' has shape \(5, 1\), expected 1 dimension\(s\)/],
    ['WQ saved flat', readParamsNpz, { ...P(), WQ: f8Array(params.WQ) }, P(), /key 'WQ' has shape \(120\), expected 2 dimension\(s\)/],
    ['WQ with no rows', readParamsNpz, { ...m1(), WQ: f8Array(new Float64Array(0), [0, 40]) }, m1(), /key 'WQ' has an empty shape \(0, 40\)/],
    ['WQ missing', readParamsNpz, (({ WQ: _, ...rest }) => rest)(P()), P(), /key 'WQ' is missing \(expected the m x d query matrix; keys present: WK, WV, W, a\)/],
    ['WQ as int64 (dtype named)', readParamsNpz, { ...P(), WQ: int64Npy(Array(120).fill(0n), [3, 40]) }, P(), /key 'WQ' has dtype int64 \('<i8'\), expected float64 \(the m x d query matrix\); save it with arr\.astype\(np\.float64\)/],
    ['NaN label', readDatasetNpz, { ...D(), y: f8Array(withEntry(data.y, 3, NaN)) }, D(), /key 'y' has a non-finite entry NaN at flat index 3;/],
    ['a negative token id', readDatasetNpz, { ...D(), tokens: i4Array(negative, [12, 4]) }, D(), new RegExp(`key 'tokens' has a negative id -1 \\(${at}\\)`)],
    ['a token id >= d', readDatasetNpz, { ...D(), tokens: i4Array(tooBig, [12, 4]) }, { ...D(), tokens: i4Array(tooBig, [12, 4]), d: i4Array(Int32Array.of(41)) }, new RegExp(`key 'tokens' has id 40 at ${at}, outside \\[0, d=40\\)`)],
    ['d = 0', readDatasetNpz, { ...D(), d: i4Array(Int32Array.of(0)) }, D(), /key 'd' is 0, but the vocabulary size must be >= 1/],
    ['d with two entries', readDatasetNpz, { ...D(), d: i4Array(Int32Array.of(40, 40)) }, D(), /key 'd' has shape \(2\) but axis 0 must be 1/],
    ['tokens saved flat', readDatasetNpz, { ...D(), tokens: i4Array(data.tokens) }, D(), /key 'tokens' has shape \(48\), expected 2 dimension\(s\)/],
    ['tokens in 3 dimensions', readDatasetNpz, { ...D(), tokens: i4Array(data.tokens, [12, 4, 1]) }, D(), /key 'tokens' has shape \(12, 4, 1\), expected 2 dimension\(s\)/],
    ['tokens as float64 (dtype named)', readDatasetNpz, { ...D(), tokens: f8Array(Float64Array.from(data.tokens), [12, 4]) }, D(), /key 'tokens' has dtype float64 \('<f8'\), expected an integer array/],
    ['tokens as int64 beyond int32', readDatasetNpz, { ...D(), tokens: int64Npy([...Array.from(data.tokens.subarray(0, 47), BigInt), 3000000000n], [12, 4]) }, { ...D(), tokens: int64Npy(Array.from(data.tokens, BigInt), [12, 4]) }, /key 'tokens': has dtype int64 \('<i8'\) with a value 3000000000 at flat index 47 outside int32/],
    ['y as int64 (dtype named)', readDatasetNpz, { ...D(), y: int64Npy(Array.from(data.y, BigInt)) }, D(), /key 'y' has dtype int64 \('<i8'\), expected float64 \(the n labels \+1\/-1\)/],
    ['y as a column', readDatasetNpz, { ...D(), y: f8Array(data.y, [12, 1]) }, D(), /key 'y' has shape \(12, 1\), expected 1 dimension\(s\)/],
    ['type of the wrong length', readDatasetNpz, { ...D(), type: i4Array(data.type.subarray(0, 11)) }, D(), /key 'type' has shape \(11\) but axis 0 must be 12 \(n, the number of rows of tokens\)/],
    ['y missing', readDatasetNpz, (({ y: _, ...rest }) => rest)(D()), D(), /key 'y' is missing \(expected the n labels \+1\/-1; keys present: tokens, type, d\)/],
    ['grad: dWV of the wrong shape', readGradNpz, { ...G(), dWV: f8Array(new Float64Array(6), [3, 2]) }, G(), /key 'dWV' has shape \(3, 2\) but axis 1 must be 40 \(d, from dWQ\)/],
    ['grad: loss with two entries', readGradNpz, { ...G(), loss: f8Array(Float64Array.of(1, 2)) }, G(), /key 'loss' has shape \(2\) but axis 0 must be 1/],
    ['grad: NaN in F', readGradNpz, { ...G(), F: f8Array(Float64Array.of(1, NaN)) }, G(), /key 'F' has a non-finite entry NaN at flat index 1/],
  ];
  for (const [name, reader, bad, good, pattern] of cases) {
    it(name, () => {
      const slug = name.replace(/\W+/g, '_');
      const badPath = join(dir, `bad_${slug}.npz`);
      writeFileSync(badPath, rawNpz(bad));
      const e = errorOf(() => reader(badPath));
      expect(e).toBeInstanceOf(UsageError);
      expect(e.message.startsWith(`${badPath}: key '`)).toBe(true);
      expect(e.message).toMatch(pattern);
      const goodPath = join(dir, `good_${slug}.npz`);
      writeFileSync(goodPath, rawNpz(good));
      expect(() => reader(goodPath)).not.toThrow();
    });
  }
});

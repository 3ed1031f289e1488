import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeNpy, encodeNpy, f8Array, i4Array, type NpyArray } from '../../src/io/npy.js';
import { decodeNpz, encodeNpz, writeNpz } from '../../src/io/npz.js';
import { readZip } from '../../src/io/zip.js';

const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

describe('.npy header bytes (NumPy format spec, v1.0)', () => {
  it('float64 [1.0, -2.0]: magic, version, header length, dict, padding, data', () => {
    // 10-byte prefix + 57-byte dict + 20 spare spaces (NumPy leaves room for the first axis to
    // grow to 21 digits) + 40 padding spaces + '\n' = 128, a multiple of 64. Header length
    // 118 = 0x76. 1.0 = 0x3FF0000000000000, -2.0 = 0xC000000000000000, little-endian.
    const dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }";
    const expected = new Uint8Array([
      0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, // \x93NUMPY
      0x01, 0x00, // version 1.0
      0x76, 0x00, // header length 118, uint16 LE
      ...latin1(dict),
      ...latin1(' '.repeat(20 + 40)),
      0x0a,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x3f,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0,
    ]);
    const bytes = encodeNpy(f8Array(Float64Array.of(1, -2)));
    expect(bytes.length).toBe(128 + 16);
    expect(Array.from(bytes)).toEqual(Array.from(expected));
  });

  it('int32 2 x 3 matrix: shape tuple and data layout (C order)', () => {
    const bytes = encodeNpy(i4Array(Int32Array.of(1, 2, 3, -4, 5, 2147483647), [2, 3]));
    const header = new TextDecoder('latin1').decode(bytes.subarray(10, 128));
    expect(header.startsWith("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }")).toBe(true);
    expect(header.endsWith(' \n')).toBe(true);
    expect(bytes[8] + 256 * bytes[9]).toBe(118);
    // -4 = 0xFFFFFFFC, 2147483647 = 0x7FFFFFFF, little-endian
    expect(Array.from(bytes.subarray(128 + 12, 128 + 16))).toEqual([0xfc, 0xff, 0xff, 0xff]);
    expect(Array.from(bytes.subarray(128 + 20, 128 + 24))).toEqual([0xff, 0xff, 0xff, 0x7f]);
  });

  it('every header is padded so the data starts at a multiple of 64', () => {
    for (const shape of [[], [0], [7], [123456789, 0], [3, 4], [2, 3, 4], [1, 1, 1, 1, 1, 1]]) {
      const size = shape.reduce((a, b) => a * b, 1);
      const bytes = encodeNpy(f8Array(new Float64Array(size), shape));
      const hlen = bytes[8] + 256 * bytes[9];
      expect((10 + hlen) % 64).toBe(0);
      expect(bytes[10 + hlen - 1]).toBe(0x0a);
      expect(bytes.length).toBe(10 + hlen + 8 * size);
    }
  });
});

describe('.npy round trip', () => {
  it('float64 special values survive bit-exactly', () => {
    const values = Float64Array.of(0, -0, 1 / 3, -1e308, 5e-324, Infinity, -Infinity, NaN, Math.PI);
    const back = decodeNpy(encodeNpy(f8Array(values, [3, 3])), 't');
    expect(back.dtype).toBe('<f8');
    expect(back.shape).toEqual([3, 3]);
    expect(new Uint8Array(back.data.buffer)).toEqual(new Uint8Array(values.buffer));
  });

  it('int32 extremes and a 0-d array', () => {
    const back = decodeNpy(encodeNpy(i4Array(Int32Array.of(-2147483648, 0, 2147483647))), 't');
    expect(Array.from(back.data)).toEqual([-2147483648, 0, 2147483647]);
    const scalar = decodeNpy(encodeNpy(f8Array(Float64Array.of(2.5), [])), 't');
    expect(scalar.shape).toEqual([]);
    expect(Array.from(scalar.data)).toEqual([2.5]);
  });
});

/** Builds a .npy image with an arbitrary header dict and payload (for reader error paths). */
function handMade(dict: string, payload: Uint8Array, version = 1): Uint8Array {
  const prefix = version === 1 ? 10 : 12;
  let header = dict;
  header += ' '.repeat(64 - ((prefix + header.length + 1) % 64)) + '\n';
  const out = new Uint8Array(prefix + header.length + payload.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  out.set(latin1(header), prefix);
  out.set(payload, prefix + header.length);
  return out;
}

function errorOf(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('.npz writer: parts streamed from the arrays', () => {
  it('views into a larger array (nonzero offsets, odd lengths) are written as their own values; writeNpz writes the bytes of encodeNpz', () => {
    const big = Float64Array.from({ length: 41 }, (_, i) => (i % 7 === 3 ? NaN : (i - 20) / 3));
    big[5] = -0;
    const ints = Int32Array.from({ length: 9 }, (_, i) => (i - 4) * 123456789);
    const entries = { a: f8Array(big.subarray(3, 3 + 12), [3, 4]), b: f8Array(big.subarray(17, 18)), c: i4Array(ints.subarray(1, 8)), e: f8Array(new Float64Array(0)) };
    const bytes = encodeNpz(entries);
    // oracle: the arrays copied out first, encoded one by one (each .npy image checked above)
    const copies = { a: f8Array(big.slice(3, 15), [3, 4]), b: f8Array(big.slice(17, 18)), c: i4Array(ints.slice(1, 8)), e: f8Array(new Float64Array(0)) };
    expect(Buffer.compare(Buffer.from(bytes), Buffer.from(encodeNpz(copies)))).toBe(0);
    const back = decodeNpz(bytes, 'parts.npz');
    expect(Array.from(back.get('a')!.data).map((x) => Object.is(x, NaN) ? 'NaN' : x)).toEqual(Array.from(big.slice(3, 15)).map((x) => Object.is(x, NaN) ? 'NaN' : x));
    expect(Array.from(back.get('c')!.data)).toEqual(Array.from(ints.slice(1, 8)));
    expect(Object.is(back.get('b')!.data[0], big[17])).toBe(true);
    expect(back.get('e')!.data.length).toBe(0);
    // each member's image is that array's .npy image
    const dir = mkdtempSync(join(tmpdir(), 'coflow-npz-parts-'));
    try {
      writeNpz(join(dir, 'x.npz'), entries);
      expect(Buffer.compare(readFileSync(join(dir, 'x.npz')), Buffer.from(bytes))).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(Buffer.compare(Buffer.from(readZip(bytes, 'parts.npz').find((e) => e.name === 'a.npy')!.data), Buffer.from(encodeNpy(copies.a)))).toBe(0);
  });
});

describe('.npy reader', () => {
  it('reads <i8 and narrows to int32; rejects values outside int32', () => {
    const ok = new BigInt64Array([0n, -5n, 2147483647n]);
    const a = decodeNpy(handMade("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", new Uint8Array(ok.buffer)), 'f: key k');
    expect(a.dtype).toBe('<i4');
    expect(Array.from(a.data)).toEqual([0, -5, 2147483647]);
    const big = new BigInt64Array([1n, 2147483648n]);
    const e = errorOf(() => decodeNpy(handMade("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(big.buffer)), "f.npz: key 'tokens'"));
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toMatch(/^f\.npz: key 'tokens': has dtype int64 \('<i8'\) with a value 2147483648 at flat index 1 outside int32; /);
    const low = new BigInt64Array([-2147483649n]);
    expect(errorOf(() => decodeNpy(handMade("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(low.buffer)), 't')).message).toMatch(
      /value -2147483649 at flat index 0 outside int32/,
    );
  });

  it('reads big-endian data (hand-built bytes): >f8, >i4, >i8', () => {
    // 1.0 = 3F F0 00.., -2.5 = C0 04 00.., most significant byte first
    const f = Uint8Array.of(0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0xc0, 0x04, 0, 0, 0, 0, 0, 0);
    const a = decodeNpy(handMade("{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }", f), 't');
    expect([a.dtype, a.descr, Array.from(a.data)]).toEqual(['<f8', '>f8', [1, -2.5]]);
    // 0x01020304 = 16909060, -2 = FF FF FF FE
    const i = decodeNpy(handMade("{'descr': '>i4', 'fortran_order': False, 'shape': (2,), }", Uint8Array.of(1, 2, 3, 4, 0xff, 0xff, 0xff, 0xfe)), 't');
    expect([i.dtype, Array.from(i.data)]).toEqual(['<i4', [16909060, -2]]);
    const l = decodeNpy(
      handMade("{'descr': '>i8', 'fortran_order': False, 'shape': (2,), }", Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 7, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf9)),
      't',
    );
    expect(Array.from(l.data)).toEqual([7, -7]);
    // negative control on the byte order: the same bytes as '<f8' are different numbers
    const le = decodeNpy(handMade("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", f), 't');
    expect(Array.from(le.data)).not.toEqual([1, -2.5]);
  });

  it('reads Fortran-order data (hand-built bytes) into C order, in 2 and 3 dimensions', () => {
    // [[1, 2, 3], [4, 5, 6]] stored column by column: 1 4 2 5 3 6
    const f = new Float64Array([1, 4, 2, 5, 3, 6]);
    const a = decodeNpy(handMade("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", new Uint8Array(f.buffer)), 't');
    expect(a.shape).toEqual([2, 3]);
    expect(Array.from(a.data)).toEqual([1, 2, 3, 4, 5, 6]);
    // shape (2, 3, 4), C value at [i][j][k] = 100i + 10j + k; Fortran offset i + 2j + 6k
    const src = new Int32Array(24);
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) src[i + 2 * j + 6 * k] = 100 * i + 10 * j + k;
    const b = decodeNpy(handMade("{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3, 4), }", new Uint8Array(src.buffer)), 't');
    const expected: number[] = [];
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) expected.push(100 * i + 10 * j + k);
    expect(Array.from(b.data)).toEqual(expected);
    // big-endian and Fortran together: [[1, 2], [3, 4]] as '>i8' columns 1 3 2 4
    const be = new Uint8Array(32);
    [1, 3, 2, 4].forEach((v, k) => (be[8 * k + 7] = v));
    const c = decodeNpy(handMade("{'descr': '>i8', 'fortran_order': True, 'shape': (2, 2), }", be), 't');
    expect(Array.from(c.data)).toEqual([1, 2, 3, 4]);
    // 1-D and 0-d arrays are the same in both orders
    expect(Array.from(decodeNpy(handMade("{'descr': '<f8', 'fortran_order': True, 'shape': (3,), }", new Uint8Array(Float64Array.of(7, 8, 9).buffer)), 't').data)).toEqual([7, 8, 9]);
  });

  it('reads format version 2.0 headers', () => {
    const a = decodeNpy(handMade("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(Float64Array.of(7).buffer), 2), 't');
    expect(Array.from(a.data)).toEqual([7]);
  });

  const rejects: Array<[string, string, number, RegExp]> = [
    ['big-endian float32', "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", 8, /unsupported dtype '>f4' \(big-endian float32\).*astype\(np\.float64\)/],
    ['float32', "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 8, /unsupported dtype '<f4' \(float32\).*float64/],
    ['unsigned byte', "{'descr': '|u1', 'fortran_order': False, 'shape': (8,), }", 8, /unsupported dtype '\|u1'/],
    ['structured dtype', "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,), }", 8, /unsupported dtype/],
    ['truncated data', "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", 8, /truncated: shape \(2\) needs 16 bytes, found 8/],
    ['extra data', "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", 16, /8 unexpected bytes/],
  ];
  for (const [name, dict, payload, pattern] of rejects) {
    it(`rejects ${name} with a UsageError naming the source`, () => {
      const e = errorOf(() => decodeNpy(handMade(dict, new Uint8Array(payload)), "x.npz: key 'WQ'"));
      expect(e).toBeInstanceOf(UsageError);
      expect(e.message.startsWith("x.npz: key 'WQ': ")).toBe(true);
      expect(e.message).toMatch(pattern);
    });
  }

  it('rejects a file that is not .npy', () => {
    expect(() => decodeNpy(latin1('PK\x03\x04 not npy'), 't')).toThrow(/bad magic/);
  });

  it('writer refuses an inconsistent shape (programming error)', () => {
    const bad: NpyArray = { dtype: '<f8', shape: [2, 2], data: new Float64Array(3) };
    expect(() => encodeNpy(bad)).toThrow(RangeError);
  });
});

/**
 * Hostile .npy / .npz input: every refusal is a UsageError naming the file and the key, says
 * what is wrong and how to fix it, and comes with a negative control: a nearby valid input
 * that is accepted, so no check passes by refusing everything. Header-level refusals are also
 * timed and their memory measured: they must be decided from the header alone.
 */
import { closeSync, ftruncateSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { decodeNpy, encodeNpy, f8Array, i4Array } from '../../src/io/npy.js';
import { decodeNpz, readNpz, type NpzLimits } from '../../src/io/npz.js';
import { listZip } from '../../src/io/zip.js';
import { bounded, buildZip, concatBytes, errorOf, latin1, npyDict, npyImage, scratchDir, type RawMember } from './helpers.js';

const WHERE = "h.npz: key 'x'";
const f8 = (...v: number[]) => new Uint8Array(Float64Array.from(v).buffer);
const i4 = (...v: number[]) => new Uint8Array(Int32Array.from(v).buffer);
const dict = (descr: string, fortran: string, shape: string) => `{'descr': ${descr}, 'fortran_order': ${fortran}, 'shape': ${shape}, }`;
const GOOD = npyImage(npyDict('<f8', [2]), f8(1, 2));

/** Decoding `bad` fails with a UsageError for `where` matching `pattern`, quickly and without allocating. */
function refusedNpy(bad: Uint8Array, pattern: RegExp): Error {
  const r = bounded(() => decodeNpy(bad, WHERE));
  expect(r.error, `expected a refusal matching ${pattern}`).toBeInstanceOf(UsageError);
  const e = r.error as Error;
  expect(e.message.startsWith(`${WHERE}: `)).toBe(true);
  expect(e.message).toMatch(pattern);
  expect(e.message).not.toMatch(/\n/);
  expect(r.ms).toBeLessThan(1000);
  expect(r.peakRssMB).toBeLessThan(100);
  return e;
}

/** The same bytes as an .npz member, stored and deflated: refused too, naming the key. */
function refusedInNpz(bad: Uint8Array, pattern: RegExp | null): void {
  for (const method of [0, 8]) {
    const zip = buildZip([{ name: 'x.npy', content: bad, method }]).bytes;
    const r = bounded(() => decodeNpz(zip, 'h.npz'));
    expect(r.error, `method ${method}`).toBeInstanceOf(UsageError);
    expect((r.error as Error).message.startsWith(`${WHERE}: `)).toBe(true);
    if (pattern) expect((r.error as Error).message).toMatch(pattern);
    expect(r.ms).toBeLessThan(1000);
    expect(r.peakRssMB).toBeLessThan(100);
  }
}

function acceptedNpy(good: Uint8Array): void {
  expect(() => decodeNpy(good, WHERE)).not.toThrow();
  for (const method of [0, 8]) {
    expect(() => decodeNpz(buildZip([{ name: 'x.npy', content: good, method }]).bytes, 'h.npz')).not.toThrow();
  }
}

describe('.npy header refusals, each next to an accepted variant', () => {
  const big = (n: bigint) => n.toString();
  const cases: Array<[name: string, bad: Uint8Array, good: Uint8Array, pattern: RegExp, headerLevel?: false]> = [
    ['bad magic string', concatBytes([latin1('XNUMPY'), GOOD.subarray(6)]), GOOD, /not a \.npy array \(bad magic string: starts with bytes 58 4e 55 4d 50 59/],
    ['a ZIP where a .npy should be', latin1('PK\x03\x04 not npy at all'), GOOD, /bad magic string: starts with bytes 50 4b 03 04/],
    ['truncated fixed prefix', GOOD.subarray(0, 8), GOOD, /truncated \.npy header \(8 bytes, the fixed prefix alone is 10\); re-create the file/],
    ['unknown format version 4.0', npyImage(npyDict('<f8', [2]), f8(1, 2), { version: 4 }), npyImage(npyDict('<f8', [2]), f8(1, 2), { version: 2 }), /unsupported \.npy format version 4\.0 \(known: 1\.0, 2\.0, 3\.0\); save with np\.save/],
    ['unknown minor version 1.1', npyImage(npyDict('<f8', [2]), f8(1, 2), { minor: 1 }), npyImage(npyDict('<f8', [2]), f8(1, 2), { version: 3, utf8: true }), /version 1\.1/],
    ['header length over the limit (claims 4 GiB)', npyImage(npyDict('<f8', [2]), f8(1, 2), { version: 2, headerLen: 0xffffffff }), npyImage(npyDict('<f8', [2]).padEnd(9999) + '\n', f8(1, 2), { version: 2, pad: false }), /\.npy header claims 4294967295 bytes, more than the 10000 accepted/],
    ['header length beyond the file', npyImage(npyDict('<f8', [2]), f8(1, 2), { headerLen: 1000 }), GOOD, /truncated \.npy header \(the header ends at byte 1010, but the array has only 144 bytes\)/],
    ['dict not closed', npyImage("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), ", f8(1, 2)), GOOD, /not a valid Python dict literal \(expected ',' or '\}'|unexpected end/],
    ['missing comma between items', npyImage("{'descr': '<f8' 'fortran_order': False, 'shape': (2,)}", f8(1, 2)), npyImage('{"descr": "<f8", "fortran_order": False, "shape": (2,)}', f8(1, 2)), /not a valid Python dict literal \(expected ',' or '\}' at character 16/],
    ['unterminated string', npyImage("{'descr': '<f8, 'fortran_order': False, 'shape': (2,), }", f8(1, 2)), GOOD, /not a valid Python dict literal/],
    ['nesting 200 levels deep', npyImage(dict('['.repeat(200) + ']'.repeat(200), 'False', '(2,)'), f8(1, 2)), GOOD, /nested more than 16 levels/],
    ['text after the dict', npyImage(npyDict('<f8', [2]) + ' x', f8(1, 2)), npyImage(npyDict('<f8', [2]) + ' \t ', f8(1, 2)), /unexpected text after the dict/],
    ['a float in the shape', npyImage(dict("'<f8'", 'False', '(2.0,)'), f8(1, 2)), npyImage(dict("'<f8'", 'False', '(2L,)'), f8(1, 2)), /malformed integer/],
    ['an integer of 70 digits', npyImage(dict("'<f8'", 'False', `(${'9'.repeat(70)},)`), f8(1, 2)), GOOD, /malformed integer \(or one with more than 60 digits\)/],
    ['header that is not a dict', npyImage("['descr', '<f8']", f8(1, 2)), GOOD, /the \.npy header is \['descr', '<f8'\], not a dict/],
    ["no 'shape'", npyImage("{'descr': '<f8', 'fortran_order': False}", f8(1, 2)), GOOD, /the \.npy header has no 'shape'/],
    ['an extra key', npyImage("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'extra': 1}", f8(1, 2)), GOOD, /unexpected key 'extra' \(a \.npy header has exactly 'descr', 'fortran_order' and 'shape'\)/],
    ['a key twice', npyImage("{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (2,)}", f8(1, 2)), GOOD, /has key 'descr' twice/],
    ['a non-string key', npyImage("{1: 2, 'descr': '<f8', 'fortran_order': False, 'shape': (2,)}", f8(1, 2)), GOOD, /non-string key 1/],
    ['fortran_order 1', npyImage(dict("'<f8'", '1', '(2,)'), f8(1, 2)), npyImage(dict("'<f8'", 'True', '(2,)'), f8(1, 2)), /fortran_order 1, expected True or False/],
    ["fortran_order 'False' (a string)", npyImage(dict("'<f8'", "'False'", '(2,)'), f8(1, 2)), GOOD, /fortran_order 'False', expected True or False/],
    ['shape a list', npyImage(dict("'<f8'", 'False', '[2]'), f8(1, 2)), GOOD, /shape \[2\], expected a tuple of integers such as \(3,\)/],
    ['shape (2) without the comma', npyImage(dict("'<f8'", 'False', '(2)'), f8(1, 2)), GOOD, /shape 2, expected a tuple/],
    ['shape entry a string', npyImage(dict("'<f8'", 'False', "('2',)"), f8(1, 2)), GOOD, /whose entries must be integers/],
    ['a negative dimension', npyImage(dict("'<f8'", 'False', '(-1,)'), f8()), npyImage(dict("'<f8'", 'False', '(0,)'), f8()), /shape \(-1,\) has a negative dimension/],
    ['65 dimensions', npyImage(dict("'<f8'", 'False', `(${'1, '.repeat(65)})`), f8(1)), npyImage(dict("'<f8'", 'False', `(${'1, '.repeat(64)})`), f8(1)), /shape has 65 dimensions, more than the 64 accepted; save arrays with fewer dimensions/],
    ['an axis of 2**31 (next to an empty one)', npyImage(dict("'<f8'", 'False', `(0, ${2 ** 31})`), f8()), npyImage(dict("'<f8'", 'False', `(0, ${2 ** 31 - 1})`), f8()), /shape \(0, 2147483648\) has an axis longer than 2147483647/],
    ['shape (2**31, 2**31)', npyImage(dict("'<f8'", 'False', `(${2 ** 31}, ${2 ** 31})`), f8()), GOOD, /has an axis longer than 2147483647/],
    ['shape (10**15,)', npyImage(dict("'<f8'", 'False', `(${big(10n ** 15n)},)`), f8()), GOOD, /axis longer than 2147483647/],
    ['shape (2**30, 2**30): 8 EiB', npyImage(dict("'<f8'", 'False', `(${2 ** 30}, ${2 ** 30})`), f8()), GOOD, /shape \(1073741824, 1073741824\) of float64 \('<f8'\) needs 9223372036854775936 bytes, more than the 2147483648 bytes \(2 GiB\) accepted per array; coflow does not read arrays that large/],
    ['64 axes of 2**31 - 1 (a product that overflows float64 precision)', npyImage(dict("'<i4'", 'False', `(${`${2 ** 31 - 1}, `.repeat(64)})`), f8()), GOOD, /needs about \d\.\d\de59\d bytes, more than the 2147483648 bytes/],
    ['shape (268435456,) float64: 2 GiB + header', npyImage(dict("'<f8'", 'False', '(268435456,)'), f8()), npyImage(dict("'<f8'", 'False', '(2,)'), f8(1, 2)), /needs 2147483776 bytes, more than the 2147483648 bytes/],
    ['data truncated', npyImage(npyDict('<f8', [2]), f8(1)), GOOD, /data truncated: shape \(2\) needs 16 bytes, found 8/, false],
    ['data too long', npyImage(npyDict('<f8', [2]), f8(1, 2, 3)), GOOD, /8 unexpected bytes after the data of shape \(2\)/, false],
    ['int64 above int32', npyImage(npyDict('<i8', [2]), new Uint8Array(BigInt64Array.of(1n, 2n ** 31n).buffer)), npyImage(npyDict('<i8', [2]), new Uint8Array(BigInt64Array.of(1n, 2n ** 31n - 1n).buffer)), /has dtype int64 \('<i8'\) with a value 2147483648 at flat index 1 outside int32; store values in the int32 range/, false],
    ['int64 below int32 (big-endian)', npyImage(npyDict('>i8', [1]), Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff)), npyImage(npyDict('>i8', [1]), Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x80, 0, 0, 0)), /has dtype int64 \('>i8'\) with a value -2147483649 at flat index 0 outside int32/, false],
    ['a format 3.0 header that is not UTF-8', npyImage("{'descr': '<f8', 'fortran_order': False, 'shape': (2,)} \xff", f8(1, 2), { version: 3 }), npyImage(npyDict('<f8', [2]), f8(1, 2), { version: 3 }), /the \.npy header is not valid UTF-8/],
  ];
  for (const [name, bad, good, pattern, headerLevel] of cases) {
    it(name, () => {
      refusedNpy(bad, pattern);
      // Size problems show up in an .npz as a disagreement with the ZIP directory, caught before inflating.
      refusedInNpz(bad, headerLevel === false ? /(its \.npy header declares .* but the ZIP directory says|outside int32)/ : pattern);
      acceptedNpy(good);
    });
  }
});

describe('dtypes: the readable ones are read, every other one is refused by name with the fix', () => {
  const payload = new Uint8Array(32);
  const refused: Array<[descr: string, name: RegExp, fix: RegExp]> = [
    ['<f4', /\(float32\)/, /save it as float64 with a\.astype\(np\.float64\)/],
    ['>f4', /\(big-endian float32\)/, /a\.astype\(np\.float64\)/],
    ['<f2', /\(float16\)/, /a\.astype\(np\.float64\)/],
    ['<f16', /\(float128\)/, /a\.astype\(np\.float64\)/],
    ['<i2', /\(int16\)/, /as int32 with a\.astype\(np\.int32\), values as float64/],
    ['|i1', /\(int8\)/, /a\.astype\(np\.int32\)/],
    ['|u1', /\(uint8\)/, /a\.astype\(np\.int32\)/],
    ['<u4', /\(uint32\)/, /a\.astype\(np\.int32\)/],
    ['<u8', /\(uint64\)/, /a\.astype\(np\.int32\)/],
    ['|b1', /\(bool\)/, /a\.astype\(np\.int32\)/],
    ['<c16', /\(complex128\)/, /save the real part as float64 with a\.real\.astype\(np\.float64\)/],
    ['<c8', /\(complex64\)/, /a\.real\.astype/],
    ['|O', /\(pickled Python objects\)/, /coflow reads numeric arrays only/],
    ['<U5', /\(unicode string of 5 characters\)/, /numeric arrays only/],
    ['|S3', /\(byte string of 3 bytes\)/, /numeric arrays only/],
    ['|V8', /\(raw void bytes, 8 per item\)/, /numeric arrays only/],
    ['<M8[ns]', /\(datetime64\)/, /numeric arrays only/],
    ['<m8[s]', /\(timedelta64\)/, /numeric arrays only/],
    ['=f8', /\(float64 without an explicit byte order\)/, /save it with np\.save, which writes '<f8'/],
    ['f8', /\(float64 without an explicit byte order\)/, /np\.save/],
    ['', /\(unknown dtype\)/, /numeric arrays only/],
  ];
  for (const [descr, name, fix] of refused) {
    it(`refuses '${descr}'`, () => {
      const e = refusedNpy(npyImage(npyDict(descr, [4]), payload), new RegExp(`unsupported dtype '${descr.replace(/[[\]|]/g, '\\$&')}' `));
      expect(e.message).toMatch(name);
      expect(e.message).toMatch(fix);
    });
  }
  it('refuses structured and non-string descr', () => {
    refusedNpy(npyImage(dict("[('a', '<f8'), ('b', '<i4')]", 'False', '(1,)'), payload), /unsupported dtype: a structured dtype \[\('a', '<f8'\), \('b', '<i4'\)\]; save each field as its own plain float64 or int32 array/);
    refusedNpy(npyImage(dict('8', 'False', '(1,)'), payload), /descr 8, which is not a dtype string/);
  });
  it('reads <f8 >f8 <i4 >i4 <i8 >i8 (negative control for the refusals)', () => {
    const values = [1.5, -2, 0, 7];
    const cases: Array<[string, Uint8Array, number[]]> = [
      ['<f8', f8(...values), values],
      ['>f8', new Uint8Array(Buffer.from(f8(...values)).swap64()), values],
      ['<i4', i4(1, -2, 0, 7), [1, -2, 0, 7]],
      ['>i4', new Uint8Array(Buffer.from(i4(1, -2, 0, 7)).swap32()), [1, -2, 0, 7]],
      ['<i8', new Uint8Array(BigInt64Array.of(1n, -2n, 0n, 7n).buffer), [1, -2, 0, 7]],
      ['>i8', new Uint8Array(Buffer.from(new Uint8Array(BigInt64Array.of(1n, -2n, 0n, 7n).buffer)).swap64()), [1, -2, 0, 7]],
    ];
    for (const [descr, data, expected] of cases) {
      const a = decodeNpy(npyImage(npyDict(descr, [4]), data), WHERE);
      expect(Array.from(a.data), descr).toEqual(expected);
      expect(a.descr).toBe(descr);
      expect(a.dtype).toBe(descr[1] === 'f' ? '<f8' : '<i4');
    }
  });
});

// ---------------------------------------------------------------------------------------------
// ZIP structure

const X = npyImage(npyDict('<f8', [2]), f8(1, 2)); // 144 bytes
const Y = npyImage(npyDict('<i4', [3]), i4(4, 5, 6));
const members = (over: Partial<RawMember> = {}, method = 0): RawMember[] => [
  { name: 'x.npy', content: X, method, ...over },
  { name: 'y.npy', content: Y, method },
];

function npzRefused(bytes: Uint8Array, pattern: RegExp, limits?: Partial<NpzLimits>): Error {
  const r = bounded(() => decodeNpz(bytes, 'h.npz', limits));
  expect(r.error, `expected a refusal matching ${pattern}`).toBeInstanceOf(UsageError);
  const e = r.error as Error;
  expect(e.message.startsWith('h.npz: ')).toBe(true);
  expect(e.message).toMatch(pattern);
  expect(e.message).not.toMatch(/\n/);
  expect(r.ms).toBeLessThan(1000);
  expect(r.peakRssMB).toBeLessThan(100);
  return e;
}

function npzAccepted(bytes: Uint8Array, limits?: Partial<NpzLimits>): void {
  const z = decodeNpz(bytes, 'h.npz', limits);
  for (const [k, a] of z) expect(a.data.length, k).toBeGreaterThanOrEqual(0);
}

/** Overwrites a little-endian field of `width` bytes in a copy of `bytes`. */
function patched(bytes: Uint8Array, offset: number, width: 2 | 4, value: number): Uint8Array {
  const out = bytes.slice();
  const v = new DataView(out.buffer);
  if (width === 2) v.setUint16(offset, value, true);
  else v.setUint32(offset, value >>> 0, true);
  return out;
}

describe('ZIP structure refusals, each next to an accepted variant', () => {
  const good = buildZip(members());
  const goodDeflated = buildZip(members({}, 8));
  const L = good.layout;
  const eocd = L.end;

  it('the base archives are read (stored and deflated)', () => {
    for (const z of [good.bytes, goodDeflated.bytes]) {
      const back = decodeNpz(z, 'h.npz');
      expect(Array.from(back.get('x')!.data)).toEqual([1, 2]);
      expect(Array.from(back.get('y')!.data)).toEqual([4, 5, 6]);
    }
  });

  it('bad CRC', () => {
    npzRefused(buildZip(members({ crc: 0x12345678 })).bytes, /^h\.npz: key 'x': CRC-32 mismatch \(stored 0x12345678, computed 0x[0-9a-f]{8}\): the data is corrupted; re-create the file$/);
    npzRefused(buildZip(members({ crc: 0x12345678 }, 8)).bytes, /key 'x': CRC-32 mismatch/);
    npzAccepted(good.bytes);
  });

  it('duplicate member names', () => {
    npzRefused(buildZip([...members(), { name: 'x.npy', content: X }]).bytes, /key 'x': appears twice in the archive; write each array once/);
    npzAccepted(buildZip([...members(), { name: 'x2.npy', content: X }]).bytes);
  });

  it('zip64: end-record locator, and 0xFFFFFFFF size markers', () => {
    const locator = new Uint8Array(20);
    new DataView(locator.buffer).setUint32(0, 0x07064b50, true);
    const withLocator = concatBytes([good.bytes.subarray(0, eocd), locator, good.bytes.subarray(eocd)]);
    npzRefused(withLocator, /zip64 archive \(> 4 GiB or > 65535 entries\) is not supported; write smaller \.npz files/);
    // negative control: the same 20 bytes, zero, between directory and end record are harmless
    npzAccepted(concatBytes([good.bytes.subarray(0, eocd), new Uint8Array(20), good.bytes.subarray(eocd)]));
    npzRefused(patched(good.bytes, L.central[0] + 24, 4, 0xffffffff), /key 'x': zip64 sizes \(> 4 GiB\) are not supported/);
  });

  it('encrypted members', () => {
    npzRefused(buildZip(members({ flags: 0x0001 })).bytes, /key 'x': is encrypted; write it without encryption/);
    npzAccepted(buildZip(members({ flags: 0x0800 })).bytes); // the UTF-8 name flag is fine
  });

  it('unknown compression methods (bzip2 12, LZMA 14, AES 99)', () => {
    for (const method of [12, 14, 99]) {
      npzRefused(buildZip(members({ method, stored: X })).bytes, new RegExp(`key 'x': compression method ${method} is not supported \\(only stored and deflate\\); use np\\.savez or np\\.savez_compressed`));
    }
    npzAccepted(buildZip(members({ method: 8 })).bytes);
  });

  it('stored member whose compressed size differs from its size', () => {
    npzRefused(buildZip(members({ size: X.length + 8 })).bytes, /key 'x': stored \(uncompressed\) member has compressed size 144 != size 152/);
    npzAccepted(buildZip(members({ size: X.length, csize: X.length })).bytes);
  });

  it('member count over the cap', () => {
    const four = [...members(), { name: 'z.npy', content: X }, { name: 'w.npy', content: X }];
    npzRefused(buildZip(four).bytes, /^h\.npz: the archive has 4 members, more than the 3 accepted; store fewer arrays per file$/, { maxMembers: 3 });
    npzAccepted(buildZip(four.slice(0, 3)).bytes, { maxMembers: 3 });
  });

  it('a member declaring more than the per-member cap', () => {
    npzRefused(buildZip(members({ size: 0xfffffff0 }, 8)).bytes, /key 'x': declares 4294967280 bytes, more than the 2147483648 accepted per member; save smaller arrays/);
    npzRefused(good.bytes, /key 'x': declares 144 bytes, more than the 100 accepted per member/, { maxMemberBytes: 100 });
    npzAccepted(good.bytes, { maxMemberBytes: 144 });
  });

  it('members declaring more than the total cap together', () => {
    npzRefused(good.bytes, /key 'y': brings the archive's declared size to \d+ bytes, more than the 200 accepted in all; split the arrays over several files/, { maxTotalBytes: 200 });
    npzAccepted(good.bytes, { maxTotalBytes: X.length + Y.length });
  });

  it('central directory outside the file, too small, or with entries left over', () => {
    npzRefused(patched(good.bytes, eocd + 16, 4, L.cdStart + 1), /central directory lies outside the file/);
    npzRefused(patched(good.bytes, eocd + 12, 4, 50), /central directory of 50 bytes is too small for its 2 entries/);
    npzRefused(patched(patched(good.bytes, eocd + 8, 2, 1), eocd + 10, 2, 1), /central directory has \d+ bytes beyond its 1 entries \(corrupted: the entry count or directory size is wrong\)/);
    npzRefused(patched(good.bytes, eocd + 4, 2, 1), /multi-volume ZIP archives are not supported/);
    // negative control: the same fields rewritten with their true values
    npzAccepted(patched(patched(patched(patched(good.bytes, eocd + 16, 4, L.cdStart), eocd + 12, 4, eocd - L.cdStart), eocd + 8, 2, 2), eocd + 4, 2, 0));
  });

  it('local header missing, naming another member, or with another method', () => {
    npzRefused(patched(good.bytes, L.central[1] + 42, 4, L.local[0] + 40), /key 'y': local header missing \(truncated or corrupted\)/);
    npzRefused(buildZip(members({ localName: 'q.npy' })).bytes, /key 'x': local header names a different member than the central directory/);
    npzRefused(buildZip(members({ localMethod: 8 })).bytes, /key 'x': local header disagrees with the central directory on compression/);
    npzAccepted(patched(good.bytes, L.central[1] + 42, 4, L.local[1]));
    npzAccepted(buildZip(members({ localName: 'x.npy', localMethod: 0 })).bytes);
  });

  it('member data running into the central directory', () => {
    npzRefused(buildZip([{ name: 'x.npy', content: X, csize: X.length + 100, size: X.length + 100 }]).bytes, /key 'x': data truncated \(needs 244 bytes before the central directory\)/);
    npzAccepted(buildZip([{ name: 'x.npy', content: X }]).bytes);
  });

  it('overlapping members', () => {
    // y's local record copied into x's data, and y's directory entry pointed at that copy
    const yRecord = buildZip([{ name: 'y.npy', content: Y }]).bytes.subarray(0, 30 + 5 + Y.length);
    const z = buildZip([
      { name: 'x.npy', content: yRecord },
      { name: 'y.npy', content: Y },
    ]);
    const crafted = patched(z.bytes, z.layout.central[1] + 42, 4, 30 + 5);
    const e = errorOf(() => listZip(crafted, 'h.npz'));
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toMatch(/^h\.npz: entry 'y\.npy': overlaps the data of another member \(entry 'x\.npy'\) \(corrupted or crafted archive\)/);
    expect(listZip(z.bytes, 'h.npz').map((m) => m.name)).toEqual(['x.npy', 'y.npy']);
  });

  it('a member that is not .npy', () => {
    npzRefused(buildZip([...members(), { name: 'notes.txt', content: latin1('hi') }]).bytes, /^h\.npz: entry 'notes\.txt' is not a \.npy array; write the file with np\.savez or coflow$/);
    npzAccepted(buildZip([...members(), { name: 'notes.npy', content: X }]).bytes);
  });

  it('member names are made message-safe (one line, bounded length)', () => {
    const name = `evil\nname\u0007${'x'.repeat(500)}.npy`;
    const e = npzRefused(buildZip([{ name, content: X, crc: 1 }]).bytes, /key 'evil\\x0aname\\x07x{50}\.\.\. \(510 characters\)': CRC-32 mismatch/);
    expect(e.message.length).toBeLessThan(300);
    expect([...decodeNpz(buildZip([{ name, content: X }]).bytes, 'h.npz').keys()]).toEqual([name.slice(0, -4)]);
  });

  it('corrupted and truncated DEFLATE data', () => {
    const garbage = Uint8Array.from({ length: 64 }, (_, i) => (i * 97 + 13) & 0xff);
    npzRefused(buildZip(members({ method: 8, stored: garbage })).bytes, /key 'x': DEFLATE data is corrupted \(.+\); re-create the file/);
    const X50 = npyImage(npyDict('<f8', [50]), f8(...Array.from({ length: 50 }, (_, i) => i / 3)));
    const full = new Uint8Array(deflateRawSync(X50));
    npzRefused(buildZip(members({ content: X50, method: 8, stored: full.subarray(0, full.length - 3) })).bytes, /key 'x': DEFLATE data is corrupted \(unexpected end of file\)/);
    npzAccepted(buildZip(members({ content: X50, method: 8, stored: full })).bytes);
  });

  it('sizes: directory vs .npy header, and inflated length vs both', () => {
    for (const method of [0, 8]) {
      // header says 2 values (144 bytes), the member holds 3 and the directory says so
      const longer = npyImage(npyDict('<f8', [2]), f8(1, 2, 3));
      npzRefused(buildZip(members({ content: longer }, method)).bytes, /key 'x': its \.npy header declares shape \(2,\) float64 \('<f8'\), 144 bytes in all, but the ZIP directory says 152 bytes; re-create the file/);
    }
    // deflate, directory agreeing with the header, the stream longer / shorter than both
    const longer = npyImage(npyDict('<f8', [2]), f8(1, 2, 3));
    npzRefused(buildZip(members({ content: longer, method: 8, size: 144 })).bytes, /key 'x': inflates to more than the 144 bytes its \.npy header declares \(a decompression bomb or a corrupted file\); inflation stopped there/);
    const shorter = npyImage(npyDict('<f8', [2]), f8(1));
    npzRefused(buildZip(members({ content: shorter, method: 8, size: 144 })).bytes, /key 'x': inflates to 136 bytes, but its \.npy header declares 144/);
    npzAccepted(buildZip(members({}, 8)).bytes);
  });

  it('a DEFLATE member whose first MiB inflates to nothing', () => {
    // empty stored blocks (5 bytes each: not final, type 00, LEN 0, NLEN 0xFFFF) before the data
    const emptyBlocks = (n: number) => {
      const b = new Uint8Array(5 * n);
      for (let i = 0; i < n; i++) b.set([0x00, 0x00, 0x00, 0xff, 0xff], 5 * i);
      return b;
    };
    const stream = (n: number) => concatBytes([emptyBlocks(n), new Uint8Array(deflateRawSync(X))]);
    npzRefused(buildZip(members({ method: 8, stored: stream(220_000) })).bytes, /key 'x': the first 1048576 compressed bytes inflate to only 0 bytes, too few for a \.npy header/);
    npzAccepted(buildZip(members({ method: 8, stored: stream(1000) })).bytes);
  });

  const dir = scratchDir('hostile');
  it('a file over 2 GiB is refused before reading (sparse file)', () => {
    const p = join(dir, 'huge.npz');
    const fd = openSync(p, 'w');
    ftruncateSync(fd, 2 ** 31 + 10);
    closeSync(fd);
    const r = bounded(() => readNpz(p));
    expect(r.error).toBeInstanceOf(UsageError);
    expect((r.error as Error).message).toBe(`cannot read ${p}: the file is larger than 2 GiB, the most coflow reads; save smaller arrays`);
    expect(r.peakRssMB).toBeLessThan(100);
    const small = join(dir, 'small.npz');
    writeFileSync(small, good.bytes);
    expect([...readNpz(small).keys()]).toEqual(['x', 'y']);
  });

  it('an empty archive is a valid, empty .npz; our writer round-trips every readable dtype', () => {
    expect(decodeNpz(buildZip([]).bytes, 'h.npz').size).toBe(0);
    const z = decodeNpz(
      buildZip([
        { name: 'f.npy', content: encodeNpy(f8Array(Float64Array.of(0.5), [])) },
        { name: 'i.npy', content: encodeNpy(i4Array(Int32Array.of(3, 4), [1, 2])) },
      ]).bytes,
      'h.npz',
    );
    expect(z.get('f')!.shape).toEqual([]);
    expect(z.get('i')!.shape).toEqual([1, 2]);
  });
});

import { describe, expect, it } from 'vitest';
import { crc32, crc32Table } from '../../src/io/crc32.js';
import { makeRng } from '../autodiff/fd.js';

/** Independent bit-at-a-time CRC-32 (no table), straight from the definition. */
function crc32Bitwise(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return (c ^ 0xffffffff) >>> 0;
}

describe('crc32', () => {
  it('published check value: crc32("123456789") = 0xCBF43926', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('empty input gives 0; "a" gives 0xE8B7BE43 (published test vector)', () => {
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(new TextEncoder().encode('a'))).toBe(0xe8b7be43);
  });

  it('equals a bitwise implementation on random data, and continues across chunks', () => {
    const rng = makeRng('crc');
    const bytes = Uint8Array.from({ length: 1000 }, () => Math.floor(rng() * 256));
    expect(crc32(bytes)).toBe(crc32Bitwise(bytes));
    expect(crc32(bytes.subarray(300), crc32(bytes.subarray(0, 300)))).toBe(crc32(bytes));
    // negative control: one flipped bit changes the CRC
    const flipped = bytes.slice();
    flipped[500] ^= 1;
    expect(crc32(flipped)).not.toBe(crc32(bytes));
  });

  it('an empty chunk continues the CRC unchanged, also an empty view of an empty buffer (the bytes of a zero-length Float64Array)', () => {
    const head = new TextEncoder().encode('123456789');
    const c = crc32(head);
    expect(crc32(new Uint8Array(0), c)).toBe(c);
    expect(crc32(new Uint8Array(new Float64Array(0).buffer, 0, 0), c)).toBe(c);
    expect(crc32(new Uint8Array(new Float64Array(4).buffer, 32, 0), c)).toBe(c);
  });

  it('the JavaScript table (the fallback on Node < 20.15) equals the bitwise definition and crc32', () => {
    const rng = makeRng('crc-table');
    for (const length of [0, 1, 7, 1000, 65537]) {
      const bytes = Uint8Array.from({ length }, () => Math.floor(rng() * 256));
      expect(crc32Table(bytes)).toBe(crc32Bitwise(bytes));
      expect(crc32Table(bytes)).toBe(crc32(bytes));
      expect(crc32Table(bytes.subarray(length >> 1), crc32Table(bytes.subarray(0, length >> 1)))).toBe(crc32(bytes));
    }
    expect(crc32Table(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });
});

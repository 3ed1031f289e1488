/**
 * CRC-32 as used by ZIP (ISO 3309 / ITU-T V.42): reflected polynomial 0xEDB88320, initial
 * value 0xFFFFFFFF, final XOR 0xFFFFFFFF. Node's native zlib.crc32 when it exists, else
 * table-driven, one byte per step (Sarwate's method). Check value: crc32("123456789") = 0xCBF43926.
 */
import * as zlib from 'node:zlib';

const TABLE: Uint32Array = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    // Eight shifts of the reflected register: the CRC of the single byte n.
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/**
 * Node's native zlib.crc32 (Node >= 20.15 / 22.2) computes the same function about ten times
 * faster, which matters when reading large .npz members; older Nodes use the table below.
 */
const native: ((data: Uint8Array, value?: number) => number) | undefined =
  typeof (zlib as { crc32?: unknown }).crc32 === 'function' ? (zlib as { crc32: (data: Uint8Array, value?: number) => number }).crc32 : undefined;

/** CRC-32 of `bytes`, continuing from a previous `crc` (default: a fresh start). */
export function crc32(bytes: Uint8Array, crc = 0): number {
  // Nothing to add. (Node 20's native crc32 returns 0 instead of `crc` for an empty view of an
  // empty ArrayBuffer, such as the bytes of a zero-length Float64Array: seen on 20.20.)
  if (bytes.length === 0) return crc >>> 0;
  return native ? native(bytes, crc) >>> 0 : crc32Table(bytes, crc);
}

/** The same CRC-32 in plain JavaScript (the fallback; tested against the native one). */
export function crc32Table(bytes: Uint8Array, crc = 0): number {
  let c = (crc ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

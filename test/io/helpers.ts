import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync, constants as zlibConstants } from 'node:zlib';
import { afterAll } from 'vitest';
import { crc32 } from '../../src/io/crc32.js';
import { joinParts } from '../../src/io/zip.js';

/** A fresh temporary directory, removed after the test file. */
export function scratchDir(tag: string): string {
  const dir = mkdtempSync(join(tmpdir(), `coflow-${tag}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function errorOf(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error, none was thrown');
}

/** Offset of the first occurrence of an ASCII string in a byte array (-1 if absent). */
export function indexOfAscii(bytes: Uint8Array, s: string): number {
  const needle = Buffer.from(s, 'latin1');
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).indexOf(needle);
}

// ---------------------------------------------------------------------------------------------
// Hand-built archives for the hostile-input tests: every field can be set to a lie.


export const latin1 = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);

/** Byte arrays joined into one (the library's joinParts: joining is not what these tests probe). */
export const concatBytes = joinParts;

/**
 * A .npy image with an arbitrary header text and payload. The header is padded the NumPy way
 * (spaces and a final '\n' up to a multiple of 64) unless `pad` is false; `headerLen`
 * overrides the length field.
 */
export function npyImage(
  dict: string,
  payload: Uint8Array,
  opts: { version?: number; minor?: number; pad?: boolean; headerLen?: number; utf8?: boolean } = {},
): Uint8Array {
  const version = opts.version ?? 1;
  const prefix = version === 1 ? 10 : 12;
  let header = dict;
  if (opts.pad !== false) header += ' '.repeat(63 - ((prefix + header.length) % 64)) + '\n';
  const headerBytes = opts.utf8 ? new TextEncoder().encode(header) : latin1(header);
  const out = new Uint8Array(prefix + headerBytes.length + payload.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, opts.minor ?? 0]);
  const view = new DataView(out.buffer);
  const len = opts.headerLen ?? headerBytes.length;
  if (version === 1) view.setUint16(8, len, true);
  else view.setUint32(8, len, true);
  out.set(headerBytes, prefix);
  out.set(payload, prefix + headerBytes.length);
  return out;
}

/** The standard header dict for a dtype and shape ("(3,)" style tuples). */
export function npyDict(descr: string, shape: readonly number[], fortran = false): string {
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  return `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${tuple}, }`;
}

/** One member of a hand-built ZIP. Unset fields get the honest value. */
export interface RawMember {
  name: string;
  /** the member's uncompressed content */
  content: Uint8Array;
  /** 0 stored (default), 8 deflate, or any number (stored bytes are then `content` as is) */
  method?: number;
  /** the bytes stored in the archive; default: content (stored) or deflateRaw(content) */
  stored?: Uint8Array;
  crc?: number;
  /** uncompressed size written to the directory and the local header */
  size?: number;
  /** compressed size written to the directory and the local header */
  csize?: number;
  flags?: number;
  /** name written in the local header (default: name) */
  localName?: string;
  /** method written in the local header (default: method) */
  localMethod?: number;
}

export interface ZipLayout {
  /** offset of each local header */
  local: number[];
  /** offset of each central directory entry */
  central: number[];
  cdStart: number;
  end: number;
}

/** A ZIP image of the given members, and where its records are (for targeted corruption). */
export function buildZip(members: readonly RawMember[], opts: { count?: number } = {}): { bytes: Uint8Array; layout: ZipLayout } {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  const local: number[] = [];
  const central: number[] = [];
  const fields = members.map((m) => {
    const method = m.method ?? 0;
    const stored = m.stored ?? (method === 8 ? new Uint8Array(deflateRawSync(m.content)) : m.content);
    return {
      m,
      method,
      stored,
      name: enc.encode(m.name),
      localName: enc.encode(m.localName ?? m.name),
      crc: m.crc ?? crc32(m.content),
      size: m.size ?? m.content.length,
      csize: m.csize ?? stored.length,
    };
  });
  let o = 0;
  for (const f of fields) {
    const h = new Uint8Array(30);
    const v = new DataView(h.buffer);
    v.setUint32(0, 0x04034b50, true);
    v.setUint16(4, 20, true);
    v.setUint16(6, f.m.flags ?? 0, true);
    v.setUint16(8, f.m.localMethod ?? f.method, true);
    v.setUint32(14, f.crc, true);
    v.setUint32(18, f.csize, true);
    v.setUint32(22, f.size, true);
    v.setUint16(26, f.localName.length, true);
    local.push(o);
    parts.push(h, f.localName, f.stored);
    o += 30 + f.localName.length + f.stored.length;
  }
  const cdStart = o;
  fields.forEach((f, i) => {
    const h = new Uint8Array(46);
    const v = new DataView(h.buffer);
    v.setUint32(0, 0x02014b50, true);
    v.setUint16(4, 20, true);
    v.setUint16(6, 20, true);
    v.setUint16(8, f.m.flags ?? 0, true);
    v.setUint16(10, f.method, true);
    v.setUint32(16, f.crc, true);
    v.setUint32(20, f.csize, true);
    v.setUint32(24, f.size, true);
    v.setUint16(28, f.name.length, true);
    v.setUint32(42, local[i], true);
    central.push(o);
    parts.push(h, f.name);
    o += 46 + f.name.length;
  });
  const end = new Uint8Array(22);
  const v = new DataView(end.buffer);
  const count = opts.count ?? members.length;
  v.setUint32(0, 0x06054b50, true);
  v.setUint16(8, count, true);
  v.setUint16(10, count, true);
  v.setUint32(12, o - cdStart, true);
  v.setUint32(16, cdStart, true);
  parts.push(end);
  return { bytes: concatBytes(parts), layout: { local, central, cdStart, end: o } };
}

/** An .npz of DEFLATE members, as numpy.savez_compressed writes them. */
export function deflatedNpz(members: ReadonlyArray<[key: string, npy: Uint8Array]>): Uint8Array {
  return buildZip(members.map(([key, npy]) => ({ name: `${key}.npy`, content: npy, method: 8 }))).bytes;
}

/**
 * A DEFLATE stream that inflates to `head` followed by `zeroMiB` MiB of zeros, built without
 * allocating the output: one 1 MiB zero block compressed with Z_FULL_FLUSH is byte-aligned and
 * refers to nothing before it, so its ~1 KiB of compressed bytes can be repeated; an empty
 * final block (0x03 0x00) ends the stream.
 */
export function zeroBombStream(head: Uint8Array, zeroMiB: number, tailZeros = 0): Uint8Array {
  const flush = { finishFlush: zlibConstants.Z_FULL_FLUSH };
  const parts: Uint8Array[] = [new Uint8Array(deflateRawSync(head, flush))];
  const chunk = new Uint8Array(deflateRawSync(new Uint8Array(1 << 20), flush));
  for (let i = 0; i < zeroMiB; i++) parts.push(chunk);
  if (tailZeros > 0) parts.push(new Uint8Array(deflateRawSync(new Uint8Array(tailZeros), flush)));
  parts.push(Uint8Array.of(0x03, 0x00));
  return concatBytes(parts);
}

/** Runs `f` and reports its time, the growth of peak RSS and of ArrayBuffer memory (MB). */
export function bounded<T>(f: () => T): { ms: number; peakRssMB: number; arrayBuffersMB: number; value?: T; error?: unknown } {
  const rss0 = process.resourceUsage().maxRSS; // KiB, the process's high-water mark
  const ab0 = process.memoryUsage().arrayBuffers;
  const t0 = performance.now();
  let value: T | undefined;
  let error: unknown;
  try {
    value = f();
  } catch (e) {
    error = e;
  }
  const ms = performance.now() - t0;
  const peakRssMB = (process.resourceUsage().maxRSS - rss0) / 1024;
  const arrayBuffersMB = (process.memoryUsage().arrayBuffers - ab0) / 2 ** 20;
  return { ms, peakRssMB, arrayBuffersMB, value, error };
}

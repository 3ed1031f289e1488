/**
 * The subset of ZIP (PKWARE APPNOTE.TXT) that .npz files use.
 *
 * Writer: STORED entries (no compression), each a local file header + data, then the central
 * directory and the end-of-central-directory record. Fixed timestamps (1980-01-01 00:00), so
 * the same arrays always give the same bytes.
 * Reader: STORED and DEFLATE entries (np.savez / np.savez_compressed), located through the
 * central directory, CRC-32 verified. Zip64 archives (> 4 GiB or > 65535 entries) are refused
 * with a clear error; the zip64 extra field NumPy puts in LOCAL headers (force_zip64) is
 * harmless because sizes and offsets are taken from the central directory.
 */
import { inflateRawSync } from 'node:zlib';
import { UsageError } from '../errors.js';
import { crc32 } from './crc32.js';

export interface ZipEntry {
  name: string;
  data: Uint8Array;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_END = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const LOCAL_SIZE = 30;
const CENTRAL_SIZE = 46;
const END_SIZE = 22;
const METHOD_STORED = 0;
const METHOD_DEFLATE = 8;
const FLAG_UTF8 = 0x0800;
const VERSION = 20; // 2.0: the version that introduced DEFLATE; enough for STORED
const DOS_DATE_1980_01_01 = (0 << 9) | (1 << 5) | 1;
const MAX32 = 0xffffffff;

export function buildStoredZip(entries: readonly ZipEntry[]): Uint8Array {
  if (entries.length > 0xfffe) throw new RangeError(`zip: ${entries.length} entries need zip64 (not written)`);
  const encoder = new TextEncoder();
  const names = entries.map((e) => encoder.encode(e.name));
  const localTotal = entries.reduce((acc, e, i) => acc + LOCAL_SIZE + names[i].length + e.data.length, 0);
  const centralTotal = names.reduce((acc, nm) => acc + CENTRAL_SIZE + nm.length, 0);
  const total = localTotal + centralTotal + END_SIZE;
  if (total > MAX32) throw new RangeError(`zip: ${total} bytes need zip64 (not written); split the output`);

  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  const offsets: number[] = [];
  const crcs: number[] = [];
  let o = 0;
  entries.forEach((e, i) => {
    const flags = /^[\x20-\x7e]*$/.test(e.name) ? 0 : FLAG_UTF8;
    const crc = crc32(e.data);
    offsets.push(o);
    crcs.push(crc);
    view.setUint32(o, SIG_LOCAL, true);
    view.setUint16(o + 4, VERSION, true); // version needed to extract
    view.setUint16(o + 6, flags, true);
    view.setUint16(o + 8, METHOD_STORED, true);
    view.setUint16(o + 10, 0, true); // DOS time 00:00:00
    view.setUint16(o + 12, DOS_DATE_1980_01_01, true);
    view.setUint32(o + 14, crc, true);
    view.setUint32(o + 18, e.data.length, true); // compressed size
    view.setUint32(o + 22, e.data.length, true); // uncompressed size
    view.setUint16(o + 26, names[i].length, true);
    view.setUint16(o + 28, 0, true); // extra field length
    out.set(names[i], o + LOCAL_SIZE);
    out.set(e.data, o + LOCAL_SIZE + names[i].length);
    o += LOCAL_SIZE + names[i].length + e.data.length;
  });
  const centralStart = o;
  entries.forEach((e, i) => {
    const flags = /^[\x20-\x7e]*$/.test(e.name) ? 0 : FLAG_UTF8;
    view.setUint32(o, SIG_CENTRAL, true);
    view.setUint16(o + 4, (3 << 8) | VERSION, true); // made by: Unix, 2.0 (so permissions below apply)
    view.setUint16(o + 6, VERSION, true);
    view.setUint16(o + 8, flags, true);
    view.setUint16(o + 10, METHOD_STORED, true);
    view.setUint16(o + 12, 0, true);
    view.setUint16(o + 14, DOS_DATE_1980_01_01, true);
    view.setUint32(o + 16, crcs[i], true);
    view.setUint32(o + 20, e.data.length, true);
    view.setUint32(o + 24, e.data.length, true);
    view.setUint16(o + 28, names[i].length, true);
    view.setUint16(o + 30, 0, true); // extra length
    view.setUint16(o + 32, 0, true); // comment length
    view.setUint16(o + 34, 0, true); // disk number start
    view.setUint16(o + 36, 0, true); // internal attributes
    view.setUint32(o + 38, (0o100644 << 16) >>> 0, true); // external: regular file rw-r--r--
    view.setUint32(o + 42, offsets[i], true);
    out.set(names[i], o + CENTRAL_SIZE);
    o += CENTRAL_SIZE + names[i].length;
  });
  view.setUint32(o, SIG_END, true);
  view.setUint16(o + 4, 0, true); // this disk
  view.setUint16(o + 6, 0, true); // disk with the central directory
  view.setUint16(o + 8, entries.length, true);
  view.setUint16(o + 10, entries.length, true);
  view.setUint32(o + 12, o - centralStart, true);
  view.setUint32(o + 16, centralStart, true);
  view.setUint16(o + 20, 0, true); // comment length
  return out;
}

/**
 * All entries of a ZIP image, in central-directory order. `file` names the source in error
 * messages, `describe` turns an entry name into words for them (e.g. "key 'WQ'"). Every
 * structural problem is a UsageError naming the file (and the entry, when one can be
 * identified) and saying how to fix it.
 */
export function readZip(
  bytes: Uint8Array,
  file: string,
  describe: (name: string) => string = (name) => `entry '${name}'`,
): ZipEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const remake = 're-create the file';
  const fail = (what: string, fix = remake): never => {
    throw new UsageError(`${file}: ${what}; ${fix}`);
  };

  const end = findEndRecord(view);
  if (end < 0) {
    // No end record: usually a truncated file. Walk the local headers to say where it broke.
    return fail(diagnoseTruncation(view, bytes, describe));
  }
  if (end >= 20 && view.getUint32(end - 20, true) === SIG_ZIP64_LOCATOR) {
    fail('zip64 archive (> 4 GiB or > 65535 entries) is not supported', 'write smaller .npz files');
  }
  const count = view.getUint16(end + 10, true);
  const cdSize = view.getUint32(end + 12, true);
  const cdStart = view.getUint32(end + 16, true);
  if (view.getUint16(end + 4, true) !== 0 || view.getUint16(end + 6, true) !== 0 || view.getUint16(end + 8, true) !== count) {
    fail('multi-volume ZIP archives are not supported', 'write a single .npz file');
  }
  if (count === 0xffff || cdSize === MAX32 || cdStart === MAX32) {
    fail('zip64 archive (> 4 GiB or > 65535 entries) is not supported', 'write smaller .npz files');
  }
  if (cdStart + cdSize > end) fail('central directory lies outside the file (truncated or corrupted)');

  const decoder = new TextDecoder('utf-8');
  const entries: ZipEntry[] = [];
  const seen = new Set<string>();
  let o = cdStart;
  for (let i = 0; i < count; i++) {
    if (o + CENTRAL_SIZE > cdStart + cdSize || view.getUint32(o, true) !== SIG_CENTRAL) {
      fail(`central directory entry ${i} is damaged`);
    }
    const flags = view.getUint16(o + 8, true);
    const method = view.getUint16(o + 10, true);
    const crc = view.getUint32(o + 16, true);
    const csize = view.getUint32(o + 20, true);
    const usize = view.getUint32(o + 24, true);
    const nameLen = view.getUint16(o + 28, true);
    const extraLen = view.getUint16(o + 30, true);
    const commentLen = view.getUint16(o + 32, true);
    const localOffset = view.getUint32(o + 42, true);
    const name = decoder.decode(bytes.subarray(o + CENTRAL_SIZE, o + CENTRAL_SIZE + nameLen));
    o += CENTRAL_SIZE + nameLen + extraLen + commentLen;
    const entryFail = (what: string, fix = remake): never => fail(`${describe(name)}: ${what}`, fix);

    if (seen.has(name)) entryFail('appears twice');
    seen.add(name);
    if (csize === MAX32 || usize === MAX32 || localOffset === MAX32) {
      entryFail('zip64 sizes (> 4 GiB) are not supported', 'write smaller .npz files');
    }
    if (flags & 0x0001) entryFail('is encrypted', 'write it without encryption');
    if (method !== METHOD_STORED && method !== METHOD_DEFLATE) {
      entryFail(`compression method ${method} is not supported (only stored and deflate)`, 'use np.savez or np.savez_compressed');
    }
    if (localOffset + LOCAL_SIZE > bytes.length || view.getUint32(localOffset, true) !== SIG_LOCAL) {
      entryFail('local header missing (truncated or corrupted)');
    }
    const dataStart =
      localOffset + LOCAL_SIZE + view.getUint16(localOffset + 26, true) + view.getUint16(localOffset + 28, true);
    if (dataStart + csize > bytes.length) entryFail(`data truncated (needs ${csize} bytes)`);
    const raw = bytes.subarray(dataStart, dataStart + csize);

    let data: Uint8Array;
    if (method === METHOD_STORED) {
      if (csize !== usize) entryFail(`stored entry has compressed size ${csize} != size ${usize}`);
      data = raw;
    } else {
      try {
        data = new Uint8Array(inflateRawSync(raw));
      } catch (e) {
        return entryFail(`DEFLATE data is corrupted (${(e as Error).message})`);
      }
      if (data.length !== usize) entryFail(`inflated to ${data.length} bytes, directory says ${usize}`);
    }
    const actual = crc32(data);
    if (actual !== crc) {
      entryFail(`CRC-32 mismatch (stored 0x${hex(crc)}, computed 0x${hex(actual)}): the data is corrupted`);
    }
    entries.push({ name, data });
  }
  return entries;
}

function hex(x: number): string {
  return x.toString(16).padStart(8, '0');
}

/** Offset of the end-of-central-directory record, searching back over a possible comment. */
function findEndRecord(view: DataView): number {
  const len = view.byteLength;
  for (let o = len - END_SIZE; o >= 0 && o >= len - END_SIZE - 0xffff; o--) {
    if (view.getUint32(o, true) === SIG_END && o + END_SIZE + view.getUint16(o + 20, true) === len) return o;
  }
  return -1;
}

/** Explains a missing end record by walking local headers from the start of the file. */
function diagnoseTruncation(view: DataView, bytes: Uint8Array, describe: (name: string) => string): string {
  const decoder = new TextDecoder('utf-8');
  let o = 0;
  let last: string | null = null;
  while (o + LOCAL_SIZE <= bytes.length && view.getUint32(o, true) === SIG_LOCAL) {
    const flags = view.getUint16(o + 6, true);
    let csize = view.getUint32(o + 18, true);
    const nameLen = view.getUint16(o + 26, true);
    const extraLen = view.getUint16(o + 28, true);
    if (o + LOCAL_SIZE + nameLen > bytes.length) break;
    const name = decoder.decode(bytes.subarray(o + LOCAL_SIZE, o + LOCAL_SIZE + nameLen));
    const extraStart = o + LOCAL_SIZE + nameLen;
    if (csize === MAX32 && extraStart + extraLen <= bytes.length) {
      // NumPy's force_zip64 local headers: sizes are in the zip64 extra field (id 0x0001),
      // uncompressed size first, then compressed size.
      for (let e = extraStart; e + 4 <= extraStart + extraLen; ) {
        const id = view.getUint16(e, true);
        const size = view.getUint16(e + 2, true);
        if (id === 0x0001 && size >= 16) csize = Number(view.getBigUint64(e + 12, true));
        e += 4 + size;
      }
    }
    if (flags & 0x0008 || csize === MAX32) {
      return `ZIP end record missing (file truncated?) after ${describe(name)}`;
    }
    const dataEnd = extraStart + extraLen + csize;
    if (dataEnd > bytes.length) return `file truncated inside ${describe(name)} (ZIP end record missing)`;
    last = name;
    o = dataEnd;
  }
  if (last === null) return 'not a ZIP/.npz archive (no ZIP end record, no entry found)';
  return `file truncated after ${describe(last)} (ZIP central directory / end record missing)`;
}

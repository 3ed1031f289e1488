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
 *
 * The reader treats the archive as hostile. `listZip` checks the whole directory before any
 * member is inflated: member count and declared sizes against ZIP_LIMITS, every member's bytes
 * inside the file, before the directory and not shared with another member, local header
 * agreeing with the directory. Inflation is always bounded: `inflatePrefix` yields the first
 * bytes of a member with bounded output whatever the data, and `extractMember` inflates with
 * zlib's maxOutputLength set to the exact size expected, so a deflate bomb stops after that
 * many bytes instead of filling memory.
 */
import { constants as zlibConstants, inflateRawSync } from 'node:zlib';
import { UsageError } from '../errors.js';
import { crc32 } from './crc32.js';

export interface ZipEntry {
  name: string;
  data: Uint8Array;
}

/** A member as the central directory describes it, checked but not yet extracted. */
export interface ZipMember {
  name: string;
  /** "<file>: <describe(name)>", the start of every message about this member */
  label: string;
  /** 0 = stored, 8 = deflate */
  method: number;
  crc: number;
  /** uncompressed size declared by the central directory */
  size: number;
  /** the member's bytes as stored in the archive (compressed for deflate) */
  raw: Uint8Array;
}

/** Caps checked from the central directory alone, before anything is inflated. */
export interface ZipLimits {
  /** Most members in one archive. */
  maxMembers: number;
  /** Largest uncompressed size of one member, in bytes. */
  maxMemberBytes: number;
  /** Largest sum of the uncompressed sizes of all members, in bytes. */
  maxTotalBytes: number;
}

export const ZIP_LIMITS: Readonly<ZipLimits> = Object.freeze({
  // coflow's busiest archives (run checkpoints: a few arrays plus one per recorded event) hold
  // far fewer; the cap bounds the per-member work (directory checks, header probe) a hostile
  // directory can demand.
  maxMembers: 10_000,
  // 2 GiB: Node's readFileSync refuses larger files, so no stored member can be larger, and a
  // member is held twice while decoding (inflated bytes + typed array).
  maxMemberBytes: 2 ** 31,
  // 4 GiB in all: otherwise many small, honest, highly compressible members could each claim
  // the per-member maximum and together demand far more memory than any machine has.
  maxTotalBytes: 2 ** 32,
});

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_END = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const LOCAL_SIZE = 30;
const CENTRAL_SIZE = 46;
const END_SIZE = 22;
const METHOD_STORED = 0;
const METHOD_DEFLATE = 8;
const FLAG_ENCRYPTED = 0x0001;
const FLAG_UTF8 = 0x0800;
const VERSION = 20; // 2.0: the version that introduced DEFLATE; enough for STORED
const DOS_DATE_1980_01_01 = (0 << 9) | (1 << 5) | 1;
const MAX32 = 0xffffffff;

/** A member to write, its data given in parts (e.g. a .npy header and a view of the array's own bytes). */
export interface ZipPartsEntry {
  name: string;
  parts: readonly Uint8Array[];
}

/**
 * A STORED archive as a list of byte arrays to be written one after the other: each member's
 * local header, then its data parts as given (not copied), then the central directory and the
 * end record. So a writer can stream a large member from where it lies (writeNpz).
 */
export function storedZipParts(entries: readonly ZipPartsEntry[]): Uint8Array[] {
  if (entries.length > 0xfffe) throw new RangeError(`zip: ${entries.length} entries need zip64 (not written)`);
  const encoder = new TextEncoder();
  const names = entries.map((e) => encoder.encode(e.name));
  const sizes = entries.map((e) => e.parts.reduce((acc, p) => acc + p.length, 0));
  const localTotal = entries.reduce((acc, _e, i) => acc + LOCAL_SIZE + names[i].length + sizes[i], 0);
  const centralTotal = names.reduce((acc, nm) => acc + CENTRAL_SIZE + nm.length, 0);
  const total = localTotal + centralTotal + END_SIZE;
  if (total > MAX32) throw new RangeError(`zip: ${total} bytes need zip64 (not written); split the output`);

  const out: Uint8Array[] = [];
  const offsets: number[] = [];
  const crcs: number[] = [];
  let o = 0;
  entries.forEach((e, i) => {
    const flags = /^[\x20-\x7e]*$/.test(e.name) ? 0 : FLAG_UTF8;
    let crc = 0;
    for (const p of e.parts) crc = crc32(p, crc);
    offsets.push(o);
    crcs.push(crc);
    const local = new Uint8Array(LOCAL_SIZE + names[i].length);
    const view = new DataView(local.buffer);
    view.setUint32(0, SIG_LOCAL, true);
    view.setUint16(4, VERSION, true); // version needed to extract
    view.setUint16(6, flags, true);
    view.setUint16(8, METHOD_STORED, true);
    view.setUint16(10, 0, true); // DOS time 00:00:00
    view.setUint16(12, DOS_DATE_1980_01_01, true);
    view.setUint32(14, crc, true);
    view.setUint32(18, sizes[i], true); // compressed size
    view.setUint32(22, sizes[i], true); // uncompressed size
    view.setUint16(26, names[i].length, true);
    view.setUint16(28, 0, true); // extra field length
    local.set(names[i], LOCAL_SIZE);
    out.push(local, ...e.parts);
    o += local.length + sizes[i];
  });
  const centralStart = o;
  const central = new Uint8Array(centralTotal + END_SIZE);
  const view = new DataView(central.buffer);
  let c = 0;
  entries.forEach((e, i) => {
    const flags = /^[\x20-\x7e]*$/.test(e.name) ? 0 : FLAG_UTF8;
    view.setUint32(c, SIG_CENTRAL, true);
    view.setUint16(c + 4, (3 << 8) | VERSION, true); // made by: Unix, 2.0 (so permissions below apply)
    view.setUint16(c + 6, VERSION, true);
    view.setUint16(c + 8, flags, true);
    view.setUint16(c + 10, METHOD_STORED, true);
    view.setUint16(c + 12, 0, true);
    view.setUint16(c + 14, DOS_DATE_1980_01_01, true);
    view.setUint32(c + 16, crcs[i], true);
    view.setUint32(c + 20, sizes[i], true);
    view.setUint32(c + 24, sizes[i], true);
    view.setUint16(c + 28, names[i].length, true);
    view.setUint16(c + 30, 0, true); // extra length
    view.setUint16(c + 32, 0, true); // comment length
    view.setUint16(c + 34, 0, true); // disk number start
    view.setUint16(c + 36, 0, true); // internal attributes
    view.setUint32(c + 38, (0o100644 << 16) >>> 0, true); // external: regular file rw-r--r--
    view.setUint32(c + 42, offsets[i], true);
    central.set(names[i], c + CENTRAL_SIZE);
    c += CENTRAL_SIZE + names[i].length;
  });
  view.setUint32(c, SIG_END, true);
  view.setUint16(c + 4, 0, true); // this disk
  view.setUint16(c + 6, 0, true); // disk with the central directory
  view.setUint16(c + 8, entries.length, true);
  view.setUint16(c + 10, entries.length, true);
  view.setUint32(c + 12, centralTotal, true);
  view.setUint32(c + 16, centralStart, true);
  view.setUint16(c + 20, 0, true); // comment length
  out.push(central);
  return out;
}

/** Byte arrays joined into one. */
export function joinParts(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((acc, p) => acc + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A STORED archive of the entries, as one byte array. */
export function buildStoredZip(entries: readonly ZipEntry[]): Uint8Array {
  return joinParts(storedZipParts(entries.map((e) => ({ name: e.name, parts: [e.data] }))));
}

const REMAKE = 're-create the file';

/** Message-safe member name: control and non-ASCII characters escaped, long names cut. */
function safeName(name: string): string {
  const max = 60;
  const cut = name.length > max ? name.slice(0, max) : name;
  const esc = cut.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return name.length > max ? `${esc}... (${name.length} characters)` : esc;
}

const defaultDescribe = (name: string) => `entry '${safeName(name)}'`;

/**
 * The members of a ZIP image, in central-directory order, with every structural check done
 * and nothing inflated. `file` names the source in error messages, `describe` turns a member
 * name into words for them (e.g. "key 'WQ'"; it must make the name message-safe). Every
 * problem is a UsageError naming the file (and the member, when one can be identified) and
 * saying how to fix it.
 */
export function listZip(
  bytes: Uint8Array,
  file: string,
  describe: (name: string) => string = defaultDescribe,
  limits: ZipLimits = ZIP_LIMITS,
): ZipMember[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (what: string, fix = REMAKE): never => {
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
  if (count > limits.maxMembers) {
    fail(`the archive has ${count} members, more than the ${limits.maxMembers} accepted`, 'store fewer arrays per file');
  }
  if (cdStart + cdSize > end) fail('central directory lies outside the file (truncated or corrupted)');
  if (count * CENTRAL_SIZE > cdSize) fail(`central directory of ${cdSize} bytes is too small for its ${count} entries (corrupted)`);

  const decoder = new TextDecoder('utf-8');
  const members: ZipMember[] = [];
  const spans: Array<[start: number, end: number, label: string]> = [];
  const seen = new Set<string>();
  let total = 0;
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
    const next = o + CENTRAL_SIZE + nameLen + extraLen + commentLen;
    if (next > cdStart + cdSize) fail(`central directory entry ${i} runs past the end of the directory (corrupted)`);
    const nameBytes = bytes.subarray(o + CENTRAL_SIZE, o + CENTRAL_SIZE + nameLen);
    const name = decoder.decode(nameBytes);
    o = next;
    const label = `${file}: ${describe(name)}`;
    const entryFail = (what: string, fix = REMAKE): never => {
      throw new UsageError(`${label}: ${what}; ${fix}`);
    };

    if (seen.has(name)) entryFail('appears twice in the archive', 'write each array once');
    seen.add(name);
    if (csize === MAX32 || usize === MAX32 || localOffset === MAX32) {
      entryFail('zip64 sizes (> 4 GiB) are not supported', 'write smaller .npz files');
    }
    if (flags & FLAG_ENCRYPTED) entryFail('is encrypted', 'write it without encryption');
    if (method !== METHOD_STORED && method !== METHOD_DEFLATE) {
      entryFail(`compression method ${method} is not supported (only stored and deflate)`, 'use np.savez or np.savez_compressed');
    }
    if (method === METHOD_STORED && csize !== usize) {
      entryFail(`stored (uncompressed) member has compressed size ${csize} != size ${usize}`);
    }
    if (usize > limits.maxMemberBytes) {
      entryFail(`declares ${usize} bytes, more than the ${limits.maxMemberBytes} accepted per member`, 'save smaller arrays');
    }
    total += usize;
    if (total > limits.maxTotalBytes) {
      entryFail(`brings the archive's declared size to ${total} bytes, more than the ${limits.maxTotalBytes} accepted in all`, 'split the arrays over several files');
    }

    if (localOffset + LOCAL_SIZE > cdStart || view.getUint32(localOffset, true) !== SIG_LOCAL) {
      entryFail('local header missing (truncated or corrupted)');
    }
    const localNameLen = view.getUint16(localOffset + 26, true);
    const localExtraLen = view.getUint16(localOffset + 28, true);
    const localName = bytes.subarray(localOffset + LOCAL_SIZE, localOffset + LOCAL_SIZE + localNameLen);
    // The directory decides which bytes are which member; a local header that disagrees
    // (another name, another method) means a damaged or crafted archive.
    if (localNameLen !== nameLen || Buffer.compare(localName, nameBytes) !== 0) {
      entryFail('local header names a different member than the central directory (corrupted)');
    }
    if (view.getUint16(localOffset + 8, true) !== method || view.getUint16(localOffset + 6, true) & FLAG_ENCRYPTED) {
      entryFail('local header disagrees with the central directory on compression or encryption (corrupted)');
    }
    const dataStart = localOffset + LOCAL_SIZE + localNameLen + localExtraLen;
    if (dataStart + csize > cdStart) entryFail(`data truncated (needs ${csize} bytes before the central directory)`);
    spans.push([localOffset, dataStart + csize, label]);
    members.push({ name, label, method, crc, size: usize, raw: bytes.subarray(dataStart, dataStart + csize) });
  }

  // The count in the end record must describe the whole directory: an archive whose count
  // was lowered would otherwise lose members silently.
  if (o !== cdStart + cdSize) {
    fail(`central directory has ${cdStart + cdSize - o} bytes beyond its ${count} entries (corrupted: the entry count or directory size is wrong)`);
  }

  // Each byte belongs to one member: overlapping members are how "overlapping file" zip bombs
  // make many large members out of one small compressed stream.
  spans.sort((a, b) => a[0] - b[0]);
  for (let k = 1; k < spans.length; k++) {
    if (spans[k][0] < spans[k - 1][1]) {
      throw new UsageError(`${spans[k][2]}: overlaps the data of another member (${spans[k - 1][2].slice(file.length + 2)}) (corrupted or crafted archive); ${REMAKE}`);
    }
  }
  return members;
}

/** Output cap of one probe in inflatePrefix: far above any .npy header, small enough to be harmless. */
const PROBE_OUTPUT_CAP = 64 * 1024;
/** Compressed bytes inflatePrefix will scan for the start of a member (any real writer needs a few hundred). */
const PROBE_INPUT_CAP = 1024 * 1024;

/**
 * At least the first `want` bytes of a member (all of it if it is shorter; possibly a few more
 * than `want`), without inflating the rest. Work and memory are bounded whatever the data:
 * a deflate stream is inflated from truncated inputs of growing length (zlib accepts a
 * truncated stream with Z_SYNC_FLUSH), each with output capped at PROBE_OUTPUT_CAP; if an input
 * length overshoots the cap, a binary search finds a length whose output lies between `want`
 * and the cap (one compressed byte yields at most ~1 KiB, so one exists). CRC is not checked
 * here: extractMember does that.
 */
export function inflatePrefix(m: ZipMember, want: number): Uint8Array {
  if (m.method === METHOD_STORED) return m.raw.subarray(0, want);
  const cap = Math.max(PROBE_OUTPUT_CAP, 2 * want + 4096);
  const inputCap = Math.min(m.raw.length, PROBE_INPUT_CAP);
  const probe = (n: number): Buffer | null => {
    try {
      return inflateRawSync(m.raw.subarray(0, n), { finishFlush: zlibConstants.Z_SYNC_FLUSH, maxOutputLength: cap });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return null;
      throw new UsageError(`${m.label}: DEFLATE data is corrupted (${(e as Error).message}); ${REMAKE}`);
    }
  };
  let lo = 0; // a length known to give fewer than `want` bytes
  let hi = -1; // a length known to give more than `cap` bytes
  for (let n = Math.min(inputCap, 1024); ; n = Math.min(inputCap, 2 * n)) {
    const out = probe(n);
    if (out === null) {
      hi = n;
      break;
    }
    if (out.length >= want || n === m.raw.length) return out;
    if (n === inputCap) {
      throw new UsageError(`${m.label}: the first ${n} compressed bytes inflate to only ${out.length} bytes, too few for a .npy header (corrupted or crafted data); ${REMAKE}`);
    }
    lo = n;
  }
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const out = probe(mid);
    if (out === null) hi = mid;
    else if (out.length >= want) return out;
    else lo = mid;
  }
  throw new UsageError(`${m.label}: one compressed byte expands to more than DEFLATE allows (corrupted data); ${REMAKE}`);
}

/**
 * The member's bytes, which must be exactly `expected` long (default: the directory's size),
 * CRC-32 verified. A deflate member is inflated with maxOutputLength = expected: zlib stops
 * as soon as the output would exceed it, so a bomb costs at most `expected` bytes (plus one
 * zlib chunk) of memory and the matching time. `source` says where `expected` comes from.
 */
export function extractMember(m: ZipMember, expected: number = m.size, source = 'the ZIP directory declares'): Uint8Array {
  const fail = (what: string): never => {
    throw new UsageError(`${m.label}: ${what}; ${REMAKE}`);
  };
  if (m.size !== expected) fail(`the ZIP directory says ${m.size} bytes, but ${source} ${expected}`);
  let data: Uint8Array;
  if (m.method === METHOD_STORED) {
    if (m.raw.length !== expected) fail(`stored member has ${m.raw.length} bytes, ${source} ${expected}`);
    data = m.raw;
  } else {
    try {
      data = inflateRawSync(m.raw, {
        maxOutputLength: Math.max(1, expected),
        // One chunk for small members; bounded chunks for large ones.
        chunkSize: Math.min(Math.max(expected, 64), 1 << 20),
      });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        return fail(`inflates to more than the ${expected} bytes ${source} (a decompression bomb or a corrupted file); inflation stopped there`);
      }
      return fail(`DEFLATE data is corrupted (${(e as Error).message})`);
    }
    if (data.length !== expected) fail(`inflates to ${data.length} bytes, but ${source} ${expected}`);
  }
  const actual = crc32(data);
  if (actual !== m.crc) {
    fail(`CRC-32 mismatch (stored 0x${hex(m.crc)}, computed 0x${hex(actual)}): the data is corrupted`);
  }
  return data;
}

/**
 * All entries of a ZIP image, in central-directory order, each inflated to exactly the size
 * its directory entry declares (bounded by `limits`). The arguments are listZip's.
 */
export function readZip(...args: Parameters<typeof listZip>): ZipEntry[] {
  return listZip(...args).map((m) => ({ name: m.name, data: extractMember(m) }));
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
        if (id === 0x0001 && size >= 16 && e + 20 <= bytes.length) csize = Number(view.getBigUint64(e + 12, true));
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

/**
 * NumPy .npz archives: a ZIP whose entries are `<key>.npy` images (numpy.savez). Written
 * STORED and atomically; read from STORED or DEFLATE entries (numpy.savez_compressed).
 *
 * Reading treats the file as hostile (docs/files.md). For each member, in order:
 *   1. the ZIP directory is checked as a whole (zip.ts listZip: counts, sizes, offsets, caps);
 *   2. only the first bytes are inflated, enough for the .npy header (zip.ts inflatePrefix);
 *   3. the header is parsed and checked against the limits, and the member's exact size
 *      (header + product(shape) * itemsize, computed in BigInt) must equal the size the ZIP
 *      directory declares;
 *   4. the member is inflated with its output capped at that exact size and CRC-checked
 *      (zip.ts extractMember), then decoded.
 * So no member costs more memory or time than its header declares, and no header can declare
 * more than the limits allow.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { writeAll, writeFileAtomic } from './atomic.js';
import {
  decodeNpyData,
  describeNpyHeader,
  npyParts,
  NPY_LIMITS,
  NPY_PREFIX_BYTES,
  npyHeaderEnd,
  parseNpyHeader,
  printable,
  type NpyArray,
  type NpyLimits,
} from './npy.js';
import { extractMember, inflatePrefix, joinParts, listZip, storedZipParts, ZIP_LIMITS, type ZipLimits } from './zip.js';

/** Keys are also file names inside the archive: keep them portable. */
const KEY_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Arrays by key, in insertion order (the archive's entry order). */
export type NpzEntries = Map<string, NpyArray>;

/** Every cap the .npz reader applies; the per-member byte cap is also the per-array cap. */
export type NpzLimits = ZipLimits & Omit<NpyLimits, 'maxBytes'>;

export const NPZ_LIMITS: Readonly<NpzLimits> = Object.freeze({
  maxMembers: ZIP_LIMITS.maxMembers,
  maxMemberBytes: ZIP_LIMITS.maxMemberBytes,
  maxTotalBytes: ZIP_LIMITS.maxTotalBytes,
  maxHeaderBytes: NPY_LIMITS.maxHeaderBytes,
  maxNdim: NPY_LIMITS.maxNdim,
  maxDim: NPY_LIMITS.maxDim,
});

/** The archive as parts to write one after the other (zip.ts storedZipParts): the arrays' bytes are not copied. */
function npzParts(entries: NpzEntries | Record<string, NpyArray>): Uint8Array[] {
  const list = entries instanceof Map ? [...entries] : Object.entries(entries);
  return storedZipParts(
    list.map(([key, arr]) => {
      if (!KEY_PATTERN.test(key)) {
        throw new RangeError(`npz: key '${key}' must match ${KEY_PATTERN} (letters, digits, _ . -)`);
      }
      return { name: `${key}.npy`, parts: npyParts(arr) };
    }),
  );
}

export function encodeNpz(entries: NpzEntries | Record<string, NpyArray>): Uint8Array {
  return joinParts(npzParts(entries));
}

/** How a member is named in messages: "key 'WQ'" for WQ.npy, else "entry '<name>'". */
function describeMember(name: string): string {
  return name.endsWith('.npy') ? `key '${printable(name.slice(0, -4))}'` : `entry '${printable(name)}'`;
}

/** `file` names the source in error messages; `limits` overrides some of NPZ_LIMITS. */
export function decodeNpz(bytes: Uint8Array, file: string, limits: Partial<NpzLimits> = {}): NpzEntries {
  const lim: NpzLimits = { ...NPZ_LIMITS, ...limits };
  const npyLimits: NpyLimits = {
    maxHeaderBytes: lim.maxHeaderBytes,
    maxNdim: lim.maxNdim,
    maxDim: lim.maxDim,
    maxBytes: lim.maxMemberBytes,
  };
  const out: NpzEntries = new Map();
  for (const m of listZip(bytes, file, describeMember, lim)) {
    if (!m.name.endsWith('.npy')) {
      throw new UsageError(`${m.label} is not a .npy array; write the file with np.savez or coflow`);
    }
    const key = m.name.slice(0, -'.npy'.length);
    // The header first, from a bounded prefix: it fixes the member's exact size.
    let prefix = inflatePrefix(m, NPY_PREFIX_BYTES);
    const headerEnd = npyHeaderEnd(prefix, m.label, npyLimits);
    if (prefix.length < headerEnd) prefix = inflatePrefix(m, headerEnd);
    const header = parseNpyHeader(prefix, m.label, npyLimits);
    if (header.totalBytes !== m.size) {
      throw new UsageError(
        `${m.label}: its .npy header declares ${describeNpyHeader(header)}, ${header.totalBytes} bytes in all, ` +
          `but the ZIP directory says ${m.size} bytes; re-create the file`,
      );
    }
    const data = extractMember(m, header.totalBytes, 'its .npy header declares');
    // The header parsed from the prefix is the header of `data`: both are the start of the
    // same stream, and the CRC-32 has just vouched for all of it.
    out.set(key, decodeNpyData(data, header, m.label));
  }
  return out;
}

/**
 * The archive written atomically, streamed from the arrays where they lie (a large state is not
 * copied into an archive image first): the same bytes as encodeNpz.
 */
export function writeNpz(path: string, entries: NpzEntries | Record<string, NpyArray>): void {
  const parts = npzParts(entries);
  writeFileAtomic(path, (fd) => {
    for (const p of parts) writeAll(fd, p);
  });
}

export function readNpz(path: string, limits: Partial<NpzLimits> = {}): NpzEntries {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ERR_FS_FILE_TOO_LARGE') {
      throw new UsageError(`cannot read ${path}: the file is larger than 2 GiB, the most coflow reads; save smaller arrays`);
    }
    throw new UsageError(`cannot read ${path}: ${err.code ?? err.message}; check the path`);
  }
  return decodeNpz(bytes, path, limits);
}

/**
 * NumPy .npz archives: a ZIP whose entries are `<key>.npy` images (numpy.savez). Written
 * STORED and atomically; read from STORED or DEFLATE entries (numpy.savez_compressed).
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { writeBytesAtomic } from './atomic.js';
import { decodeNpy, encodeNpy, type NpyArray } from './npy.js';
import { buildStoredZip, readZip } from './zip.js';

/** Keys are also file names inside the archive: keep them portable. */
const KEY_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Arrays by key, in insertion order (the archive's entry order). */
export type NpzEntries = Map<string, NpyArray>;

export function encodeNpz(entries: NpzEntries | Record<string, NpyArray>): Uint8Array {
  const list = entries instanceof Map ? [...entries] : Object.entries(entries);
  return buildStoredZip(
    list.map(([key, arr]) => {
      if (!KEY_PATTERN.test(key)) {
        throw new RangeError(`npz: key '${key}' must match ${KEY_PATTERN} (letters, digits, _ . -)`);
      }
      return { name: `${key}.npy`, data: encodeNpy(arr) };
    }),
  );
}

/** `file` names the source in error messages. */
export function decodeNpz(bytes: Uint8Array, file: string): NpzEntries {
  const out: NpzEntries = new Map();
  const describe = (name: string) => (name.endsWith('.npy') ? `key '${name.slice(0, -4)}'` : `entry '${name}'`);
  for (const { name, data } of readZip(bytes, file, describe)) {
    if (!name.endsWith('.npy')) {
      throw new UsageError(`${file}: entry '${name}' is not a .npy array; write the file with np.savez or coflow`);
    }
    const key = name.slice(0, -'.npy'.length);
    out.set(key, decodeNpy(data, `${file}: key '${key}'`));
  }
  return out;
}

export function writeNpz(path: string, entries: NpzEntries | Record<string, NpyArray>): void {
  writeBytesAtomic(path, encodeNpz(entries));
}

export function readNpz(path: string): NpzEntries {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new UsageError(`cannot read ${path}: ${err.code ?? err.message}; check the path`);
  }
  return decodeNpz(bytes, path);
}

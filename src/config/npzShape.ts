/**
 * The array shapes of an .npz file, read from its zip directory and .npy headers only (a few
 * hundred bytes, whatever the file's size), so that `coflow run --data/--params` and `coflow grad`
 * can check their size limits before loading anything. Best effort: any file this cannot read
 * (not a zip, compressed entries, odd headers) gives null, and the full reader in src/io/files.ts
 * then reports the problem properly.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export interface NpzArrayInfo {
  shape: number[];
  descr: string;
  /** the first int32 of the array's data (for the scalar 'd' of a data set), when it is '<i4' */
  firstInt?: number;
}

function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  const got = readSync(fd, buf, 0, length, position);
  return buf.subarray(0, got);
}

export function peekNpz(path: string): Map<string, NpzArrayInfo> | null {
  let fd: number | null = null;
  try {
    fd = openSync(path, 'r');
    const size = fstatSync(fd).size;
    const tailLength = Math.min(size, 22 + 65535);
    const tail = readAt(fd, size - tailLength, tailLength);
    let end = -1;
    for (let o = tail.length - 22; o >= 0; o--) {
      if (tail.readUInt32LE(o) === 0x06054b50) {
        end = o;
        break;
      }
    }
    if (end < 0) return null;
    const count = tail.readUInt16LE(end + 10);
    const cdSize = tail.readUInt32LE(end + 12);
    const cdStart = tail.readUInt32LE(end + 16);
    if (cdSize > 1 << 20 || cdStart + cdSize > size) return null;
    const cd = readAt(fd, cdStart, cdSize);
    const out = new Map<string, NpzArrayInfo>();
    let o = 0;
    for (let i = 0; i < count; i++) {
      if (o + 46 > cd.length || cd.readUInt32LE(o) !== 0x02014b50) return null;
      const method = cd.readUInt16LE(o + 10);
      const nameLen = cd.readUInt16LE(o + 28);
      const extraLen = cd.readUInt16LE(o + 30);
      const commentLen = cd.readUInt16LE(o + 32);
      const local = cd.readUInt32LE(o + 42);
      const name = cd.subarray(o + 46, o + 46 + nameLen).toString('utf8');
      o += 46 + nameLen + extraLen + commentLen;
      if (method !== 0) return null;
      const lh = readAt(fd, local, 30);
      if (lh.length < 30 || lh.readUInt32LE(0) !== 0x04034b50) return null;
      const dataStart = local + 30 + lh.readUInt16LE(26) + lh.readUInt16LE(28);
      const head = readAt(fd, dataStart, 1024);
      if (head.length < 10 || head.toString('latin1', 0, 6) !== '\x93NUMPY') return null;
      const major = head[6];
      const headerLength = major === 1 ? head.readUInt16LE(8) : head.readUInt32LE(8);
      const headerStart = major === 1 ? 10 : 12;
      if (headerStart + headerLength > head.length) return null;
      const header = head.toString('latin1', headerStart, headerStart + headerLength);
      const descr = /'descr':\s*'([^']*)'/.exec(header)?.[1];
      const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
      if (descr === undefined || shapeText === undefined) return null;
      const shape = shapeText
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0)
        .map(Number);
      if (!shape.every((x) => Number.isSafeInteger(x) && x >= 0)) return null;
      const info: NpzArrayInfo = { shape, descr };
      const first = headerStart + headerLength;
      if (descr === '<i4' && first + 4 <= head.length) info.firstInt = head.readInt32LE(first);
      out.set(name.replace(/\.npy$/, ''), info);
    }
    return out;
  } catch {
    return null;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/** n, L, d of a data set file (d: its stored 'd', else unknown), or null. */
export function peekDataDims(path: string): { n: number; L: number; d?: number } | null {
  const a = peekNpz(path);
  const tokens = a?.get('tokens');
  if (!a || !tokens || tokens.shape.length !== 2) return null;
  const d = a.get('d');
  return { n: tokens.shape[0], L: tokens.shape[1], ...(d && d.shape.length === 1 && d.shape[0] === 1 && d.firstInt !== undefined ? { d: d.firstInt } : {}) };
}

/** m, m1, d of a parameter file, or null. */
export function peekParamDims(path: string): { m: number; m1: number; d: number } | null {
  const a = peekNpz(path);
  const WQ = a?.get('WQ');
  const W = a?.get('W');
  if (!WQ || !W || WQ.shape.length !== 2 || W.shape.length !== 2) return null;
  return { m: WQ.shape[0], d: WQ.shape[1], m1: W.shape[0] };
}

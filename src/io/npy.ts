/**
 * NumPy .npy format, version 1.0 (written) and 1.0 / 2.0 / 3.0 (read), for two dtypes:
 * little-endian float64 ('<f8') and int32 ('<i4'); '<i8' is also read and narrowed to int32
 * with a range check (NumPy's default integer dtype on Linux is int64).
 *
 * Layout (NumPy Enhancement Proposal 1, "A simple file format for NumPy arrays"):
 *   "\x93NUMPY", major, minor, header length (uint16 LE for v1; uint32 LE for v2/v3),
 *   header = Python dict literal {'descr': ..., 'fortran_order': ..., 'shape': (...), }
 *   padded with spaces and one final '\n' so that 10 + header length is a multiple of 64,
 *   then the raw C-order data.
 * The writer reproduces numpy.save byte for byte (same key order, same spare spaces after the
 * dict for in-place growth of the first axis, same padding rule), so files are identical to
 * what NumPy itself writes for the same array.
 */
import { UsageError } from '../errors.js';

export type NpyDtype = '<f8' | '<i4';

export interface NpyArray {
  dtype: NpyDtype;
  /** C-order shape; [] for a 0-d array (one element) */
  shape: number[];
  data: Float64Array | Int32Array;
}

export function f8Array(data: Float64Array, shape: number[] = [data.length]): NpyArray {
  return checkedArray({ dtype: '<f8', shape, data });
}

export function i4Array(data: Int32Array, shape: number[] = [data.length]): NpyArray {
  return checkedArray({ dtype: '<i4', shape, data });
}

function checkedArray(a: NpyArray): NpyArray {
  for (const s of a.shape) {
    if (!Number.isInteger(s) || s < 0) throw new RangeError(`npy: bad shape (${a.shape.join(', ')})`);
  }
  const size = a.shape.reduce((acc, s) => acc * s, 1);
  if (size !== a.data.length) {
    throw new RangeError(`npy: shape (${a.shape.join(', ')}) needs ${size} entries, data has ${a.data.length}`);
  }
  return a;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
const ALIGN = 64;
/** numpy leaves room for the first axis to grow to this many digits (numpy.lib.format). */
const GROWTH_AXIS_MAX_DIGITS = 21;

/** Python's repr of a shape tuple: (), (3,), (2, 3). */
function shapeRepr(shape: number[]): string {
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(', ')})`;
}

export function encodeNpy(arr: NpyArray): Uint8Array {
  checkedArray(arr);
  let header = `{'descr': '${arr.dtype}', 'fortran_order': False, 'shape': ${shapeRepr(arr.shape)}, }`;
  if (arr.shape.length > 0) header += ' '.repeat(GROWTH_AXIS_MAX_DIGITS - String(arr.shape[0]).length);
  // hlen counts the final '\n'; numpy pads by a full ALIGN when already aligned.
  const hlen = header.length + 1;
  const pad = ALIGN - ((MAGIC.length + 2 + 2 + hlen) % ALIGN);
  header += ' '.repeat(pad) + '\n';
  if (header.length > 0xffff) throw new RangeError(`npy: header of ${header.length} bytes needs format 2.0 (not written)`);

  const itemSize = arr.dtype === '<f8' ? 8 : 4;
  const prefix = MAGIC.length + 4;
  const out = new Uint8Array(prefix + header.length + itemSize * arr.data.length);
  out.set(MAGIC, 0);
  out[6] = 1; // major version
  out[7] = 0; // minor version
  const view = new DataView(out.buffer);
  view.setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[prefix + i] = header.charCodeAt(i);
  // DataView with littleEndian=true writes '<' data on any host.
  let o = prefix + header.length;
  if (arr.dtype === '<f8') {
    for (const v of arr.data) {
      view.setFloat64(o, v, true);
      o += 8;
    }
  } else {
    for (const v of arr.data) {
      view.setInt32(o, v, true);
      o += 4;
    }
  }
  return out;
}

/**
 * Parses one .npy image. `where` names the source in error messages, e.g.
 * "params.npz: key 'WQ'". All errors are UsageError (bad input file).
 */
export function decodeNpy(bytes: Uint8Array, where: string): NpyArray {
  const fail = (what: string, fix: string): never => {
    throw new UsageError(`${where}: ${what}; ${fix}`);
  };
  const remake = 're-create the file (np.save / np.savez, or coflow)';
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) fail('not a .npy array (bad magic string)', remake);
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerStart: number;
  let headerLen: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) fail('truncated .npy header', remake);
    headerLen = view.getUint32(8, true);
    headerStart = 12;
  } else {
    return fail(`unsupported .npy format version ${major}.${bytes[7]}`, 'save with NumPy format version 1.0 (the default)');
  }
  if (headerStart + headerLen > bytes.length) fail('truncated .npy header', remake);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, headerStart + headerLen));

  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(header)?.[1];
  if (descr === undefined) {
    fail(`unsupported dtype (header ${header.trim()})`, 'save a plain float64 or int32 array');
  }
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header)?.[1];
  if (fortran === undefined) fail('header has no fortran_order', remake);
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (shapeText === undefined) fail('header has no shape', remake);
  const shape = shapeText!
    .split(',')
    .map((s) => s.trim().replace(/L$/, ''))
    .filter((s) => s.length > 0)
    .map((s) => (/^\d+$/.test(s) ? Number(s) : NaN));
  if (shape.some((s) => !Number.isSafeInteger(s))) fail(`bad shape (${shapeText})`, remake);
  if (fortran === 'True') {
    fail('array is stored in Fortran (column-major) order', 'save np.ascontiguousarray(arr) instead');
  }

  const kind = descr!;
  if (kind[0] === '>') fail(`big-endian dtype '${kind}'`, "convert with arr.astype('<f8') or arr.astype('<i4') before saving");
  let itemSize: number;
  if (kind === '<f8') itemSize = 8;
  else if (kind === '<i4') itemSize = 4;
  else if (kind === '<i8') itemSize = 8;
  else return fail(`unsupported dtype '${kind}'`, 'save it as float64 (arr.astype(np.float64)) or int32 (arr.astype(np.int32))');

  const size = shape.reduce((acc, s) => acc * s, 1);
  const dataStart = headerStart + headerLen;
  const available = bytes.length - dataStart;
  if (available < size * itemSize) {
    fail(`data truncated: shape (${shape.join(', ')}) needs ${size * itemSize} bytes, found ${available}`, remake);
  }
  if (available > size * itemSize) {
    fail(`${available - size * itemSize} unexpected bytes after the data of shape (${shape.join(', ')})`, remake);
  }

  if (kind === '<f8') {
    const data = new Float64Array(size);
    for (let i = 0; i < size; i++) data[i] = view.getFloat64(dataStart + 8 * i, true);
    return { dtype: '<f8', shape, data };
  }
  const data = new Int32Array(size);
  if (kind === '<i4') {
    for (let i = 0; i < size; i++) data[i] = view.getInt32(dataStart + 4 * i, true);
  } else {
    for (let i = 0; i < size; i++) {
      const v = view.getBigInt64(dataStart + 8 * i, true);
      if (v < -2147483648n || v > 2147483647n) {
        fail(`int64 entry ${v} at flat index ${i} does not fit in int32`, 'store values in the int32 range');
      }
      data[i] = Number(v);
    }
  }
  return { dtype: '<i4', shape, data };
}

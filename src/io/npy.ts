/**
 * NumPy .npy format, version 1.0 (written) and 1.0 / 2.0 / 3.0 (read).
 *
 * Written: little-endian float64 ('<f8') and int32 ('<i4'), C order.
 * Read: float64 and int32 in either byte order ('<f8', '>f8', '<i4', '>i4'), and int64 ('<i8',
 * '>i8', NumPy's default integer on Linux) narrowed to int32 with a range check; C or Fortran
 * order (Fortran-order data, e.g. what np.save writes for `a.T`, is transposed into C order).
 * Every other dtype is refused by name, with the astype() call that fixes it.
 *
 * Layout (NumPy Enhancement Proposal 1, "A simple file format for NumPy arrays"):
 *   "\x93NUMPY", major, minor, header length (uint16 LE for v1; uint32 LE for v2/v3),
 *   header = Python dict literal {'descr': ..., 'fortran_order': ..., 'shape': (...), }
 *   padded with spaces and one final '\n' so that 10 + header length is a multiple of 64,
 *   then the raw data.
 * The writer reproduces numpy.save byte for byte (same key order, same spare spaces after the
 * dict for in-place growth of the first axis, same padding rule), so files are identical to
 * what NumPy itself writes for the same array.
 *
 * The reader treats the bytes as hostile: the header is parsed by a small bounded parser (no
 * eval, bounded length and nesting), the size the header declares is computed exactly (BigInt)
 * and checked against NPY_LIMITS before anything is allocated, and every problem is a
 * UsageError naming the source. `parseNpyHeader` works on a prefix of the image, so the .npz
 * reader can learn a member's exact size before inflating it (see npz.ts).
 */
import { UsageError } from '../errors.js';

export type NpyDtype = '<f8' | '<i4';

export interface NpyArray {
  dtype: NpyDtype;
  /** C-order shape; [] for a 0-d array (one element) */
  shape: number[];
  data: Float64Array | Int32Array;
  /** The dtype as stored in the file ('>f8', '<i8', ...), set by the reader; absent for arrays built in memory. */
  descr?: string;
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

/** What the reader accepts. Everything is checked from the header, before any allocation. */
export interface NpyLimits {
  /** Longest header (the dict text after the length field), in bytes. */
  maxHeaderBytes: number;
  /** Most dimensions. */
  maxNdim: number;
  /** Longest axis. */
  maxDim: number;
  /** Largest .npy image (header + data), in bytes. */
  maxBytes: number;
}

export const NPY_LIMITS: Readonly<NpyLimits> = Object.freeze({
  // NumPy's own default (numpy.lib.format, max_header_size, since NumPy 1.24): np.load refuses
  // longer headers too, and no array NumPy writes needs more.
  maxHeaderBytes: 10_000,
  // NumPy 2's NPY_MAXDIMS; coflow's own arrays have at most 2.
  maxNdim: 64,
  // Typed-array lengths and coflow's int32 indices: no axis can be longer. Checked even when
  // another axis is 0 (such an array holds nothing but its shape is still nonsense).
  maxDim: 2 ** 31 - 1,
  // 2 GiB: Node's readFileSync refuses larger files (so no stored member can be larger), and a
  // member is held twice while decoding (inflated bytes + typed array). coflow's largest arrays
  // (the n x L token matrix) are far smaller.
  maxBytes: 2 ** 31,
});

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
const ALIGN = 64;
/** numpy leaves room for the first axis to grow to this many digits (numpy.lib.format). */
const GROWTH_AXIS_MAX_DIGITS = 21;
/** Bytes before the header dict: magic, version, and the longest (v2/v3, uint32) length field. */
export const NPY_PREFIX_BYTES = 12;

/** Python's repr of a shape tuple: (), (3,), (2, 3). */
function shapeRepr(shape: readonly number[]): string {
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(', ')})`;
}

/**
 * The two parts of a .npy image: the magic, version and header (a few dozen bytes), and the
 * data, little-endian. On a little-endian host the data part is a view of the array's own bytes
 * (no copy: a Level G state is 24 MiB); on a big-endian host it is a byte-swapped copy.
 */
export function npyParts(arr: NpyArray): [Uint8Array, Uint8Array] {
  checkedArray(arr);
  let header = `{'descr': '${arr.dtype}', 'fortran_order': False, 'shape': ${shapeRepr(arr.shape)}, }`;
  if (arr.shape.length > 0) header += ' '.repeat(GROWTH_AXIS_MAX_DIGITS - String(arr.shape[0]).length);
  // hlen counts the final '\n'; numpy pads by a full ALIGN when already aligned.
  const hlen = header.length + 1;
  const pad = ALIGN - ((MAGIC.length + 2 + 2 + hlen) % ALIGN);
  header += ' '.repeat(pad) + '\n';
  if (header.length > 0xffff) throw new RangeError(`npy: header of ${header.length} bytes needs format 2.0 (not written)`);

  const prefix = MAGIC.length + 4;
  const head = new Uint8Array(prefix + header.length);
  head.set(MAGIC, 0);
  head[6] = 1; // major version
  head[7] = 0; // minor version
  new DataView(head.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) head[prefix + i] = header.charCodeAt(i);
  const { data } = arr;
  if (!HOST_BIG_ENDIAN) return [head, new Uint8Array(data.buffer, data.byteOffset, data.byteLength)];
  // DataView with littleEndian=true writes '<' data on any host.
  const body = new Uint8Array(data.byteLength);
  const view = new DataView(body.buffer);
  if (arr.dtype === '<f8') for (let i = 0; i < data.length; i++) view.setFloat64(8 * i, data[i], true);
  else for (let i = 0; i < data.length; i++) view.setInt32(4 * i, data[i], true);
  return [head, body];
}

/** The .npy image of an array as one byte array (npyParts joined). */
export function encodeNpy(arr: NpyArray): Uint8Array {
  const [head, body] = npyParts(arr);
  const out = new Uint8Array(head.length + body.length);
  out.set(head, 0);
  out.set(body, head.length);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reader

/** A header that passed every check: what the data must look like. */
export interface NpyHeader {
  /** dtype string as written in the file */
  descr: string;
  /** the in-memory dtype after reading ('<i8' becomes '<i4') */
  dtype: NpyDtype;
  itemSize: 4 | 8;
  bigEndian: boolean;
  /** int64 in the file, narrowed to int32 on read */
  int64: boolean;
  fortran: boolean;
  shape: number[];
  /** number of elements */
  count: number;
  /** offset of the data (end of the header) */
  dataStart: number;
  /** exact size of the whole image: dataStart + count * itemSize */
  totalBytes: number;
}

const REMAKE = 're-create the file (np.save / np.savez, or coflow)';

/**
 * Message-safe text: control and non-ASCII characters escaped, long text cut. The CLI prints a
 * UsageError as one line, so a hostile key name or header must not inject newlines or terminal
 * escape sequences, nor make the line arbitrarily long.
 */
export function printable(s: string, max = 60): string {
  const cut = s.length > max ? s.slice(0, max) : s;
  const esc = cut.replace(/[^\x20-\x7e]/g, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
  return s.length > max ? `${esc}... (${s.length} characters)` : esc;
}

function failer(where: string) {
  return (what: string, fix: string = REMAKE): never => {
    throw new UsageError(`${where}: ${what}; ${fix}`);
  };
}

/**
 * Offset where the header ends and the data starts, from the first NPY_PREFIX_BYTES bytes
 * (fewer if the image is shorter). Checks the magic string, the version and the header length
 * limit; does not need the header itself.
 */
export function npyHeaderEnd(bytes: Uint8Array, where: string, limits: NpyLimits = NPY_LIMITS): number {
  const fail = failer(where);
  const magicOk = MAGIC.every((b, i) => i >= bytes.length || bytes[i] === b);
  if (!magicOk) {
    const first = Array.from(bytes.subarray(0, 6), (b) => b.toString(16).padStart(2, '0')).join(' ');
    fail(`not a .npy array (bad magic string: starts with bytes ${first || '(none)'}, expected 93 4e 55 4d 50 59 = "\\x93NUMPY")`);
  }
  if (bytes.length < 10) fail(`truncated .npy header (${bytes.length} bytes, the fixed prefix alone is 10)`);
  const major = bytes[6];
  const minor = bytes[7];
  if ((major !== 1 && major !== 2 && major !== 3) || minor !== 0) {
    fail(`unsupported .npy format version ${major}.${minor} (known: 1.0, 2.0, 3.0)`, 'save with np.save, which writes version 1.0');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerStart = 10;
  let headerLen: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
  } else {
    if (bytes.length < 12) fail(`truncated .npy header (${bytes.length} bytes, the fixed prefix of format ${major}.0 is 12)`);
    headerLen = view.getUint32(8, true);
    headerStart = 12;
  }
  if (headerLen > limits.maxHeaderBytes) {
    fail(`the .npy header claims ${headerLen} bytes, more than the ${limits.maxHeaderBytes} accepted (NumPy's own limit)`);
  }
  return headerStart + headerLen;
}

/**
 * Parses and checks the header of a .npy image; `bytes` may be just a prefix, as long as it
 * holds the whole header. Refuses, from the header alone: bad syntax, wrong keys, unsupported
 * dtypes (named), shapes beyond the limits, and images larger than limits.maxBytes.
 */
export function parseNpyHeader(bytes: Uint8Array, where: string, limits: NpyLimits = NPY_LIMITS): NpyHeader {
  const fail = failer(where);
  const dataStart = npyHeaderEnd(bytes, where, limits);
  if (dataStart > bytes.length) {
    fail(`truncated .npy header (the header ends at byte ${dataStart}, but the array has only ${bytes.length} bytes)`);
  }
  const headerStart = bytes[6] === 1 ? 10 : 12;
  let text: string;
  try {
    // Format 3.0 allows UTF-8 (structured field names); 1.0 / 2.0 are latin1.
    text = new TextDecoder(bytes[6] === 3 ? 'utf-8' : 'latin1', { fatal: true }).decode(bytes.subarray(headerStart, dataStart));
  } catch {
    return fail('the .npy header is not valid UTF-8');
  }
  let dict: Py;
  try {
    dict = new PyParser(text).parseAll();
  } catch (e) {
    if (!(e instanceof HeaderSyntaxError)) throw e;
    return fail(`the .npy header is not a valid Python dict literal (${e.message} at character ${e.pos}: '${printable(text.slice(Math.max(0, e.pos - 20), e.pos + 20))}')`);
  }
  if (dict.t !== 'dict') return fail(`the .npy header is ${pyRepr(dict)}, not a dict`);
  const fields = new Map<string, Py>();
  for (let i = 0; i < dict.keys.length; i++) {
    const k = dict.keys[i];
    if (k.t !== 'str') fail(`the .npy header has a non-string key ${pyRepr(k)}`);
    const name = (k as PyStr).v;
    if (fields.has(name)) fail(`the .npy header has key '${printable(name)}' twice`);
    fields.set(name, dict.values[i]);
  }
  for (const name of fields.keys()) {
    if (name !== 'descr' && name !== 'fortran_order' && name !== 'shape') {
      fail(`the .npy header has an unexpected key '${printable(name)}' (a .npy header has exactly 'descr', 'fortran_order' and 'shape')`);
    }
  }
  for (const name of ['descr', 'fortran_order', 'shape']) {
    if (!fields.has(name)) fail(`the .npy header has no '${name}' (header ${pyRepr(dict)})`);
  }

  const order = fields.get('fortran_order')!;
  if (order.t !== 'bool') return fail(`the .npy header has fortran_order ${pyRepr(order)}, expected True or False`);

  const shapeValue = fields.get('shape')!;
  if (shapeValue.t !== 'tuple') {
    return fail(`the .npy header has shape ${pyRepr(shapeValue)}, expected a tuple of integers such as (3,) or (2, 3)`);
  }
  if (shapeValue.items.length > limits.maxNdim) {
    fail(`shape has ${shapeValue.items.length} dimensions, more than the ${limits.maxNdim} accepted`, 'save arrays with fewer dimensions');
  }
  const bigShape: bigint[] = [];
  for (const s of shapeValue.items) {
    if (s.t !== 'int') return fail(`the .npy header has shape ${pyRepr(shapeValue)}, whose entries must be integers`);
    if (s.v < 0n) fail(`shape ${pyRepr(shapeValue)} has a negative dimension`);
    if (s.v > BigInt(limits.maxDim)) {
      fail(`shape ${pyRepr(shapeValue)} has an axis longer than ${limits.maxDim}`, 'coflow does not read arrays that large; save a smaller array');
    }
    bigShape.push(s.v);
  }
  const shape = bigShape.map(Number);

  const dt = readableDtype(fields.get('descr')!, fail);
  // Exact size in BigInt: a hostile shape such as (2**31 - 1,) * 64 must not overflow to a
  // float that slips under the limit.
  const count = bigShape.reduce((acc, s) => acc * s, 1n);
  const total = BigInt(dataStart) + count * BigInt(dt.itemSize);
  if (total > BigInt(limits.maxBytes)) {
    fail(
      `shape ${pyRepr(shapeValue)} of ${dtypeName(dt.descr)} needs ${bigText(total)} bytes, more than the ${limits.maxBytes} bytes (${formatBytes(limits.maxBytes)}) accepted per array`,
      'coflow does not read arrays that large; save a smaller array',
    );
  }
  return {
    descr: dt.descr,
    dtype: dt.kind === 'f' ? '<f8' : '<i4',
    itemSize: dt.itemSize,
    bigEndian: dt.bigEndian,
    int64: dt.kind === 'i' && dt.itemSize === 8,
    fortran: order.v,
    shape,
    count: Number(count),
    dataStart,
    totalBytes: Number(total),
  };
}

/** Describes a header for messages: "shape (60, 5) float64 ('<f8')". */
export function describeNpyHeader(h: NpyHeader): string {
  return `shape ${shapeRepr(h.shape)} ${dtypeName(h.descr)}${h.fortran ? ' in Fortran order' : ''}`;
}

/**
 * Parses one .npy image. `where` names the source in error messages, e.g.
 * "params.npz: key 'WQ'". All errors are UsageError (bad input file).
 */
export function decodeNpy(bytes: Uint8Array, where: string, limits: NpyLimits = NPY_LIMITS): NpyArray {
  return decodeNpyData(bytes, parseNpyHeader(bytes, where, limits), where);
}

/**
 * The array of a .npy image whose header `h` was parsed (by parseNpyHeader) from the start of
 * these same bytes; the .npz reader has it already from the member's prefix.
 */
export function decodeNpyData(bytes: Uint8Array, h: NpyHeader, where: string): NpyArray {
  const fail = failer(where);
  const { shape, count, itemSize, dataStart } = h;
  const need = count * itemSize;
  const available = bytes.length - dataStart;
  if (available < need) {
    fail(`data truncated: shape (${shape.join(', ')}) needs ${need} bytes, found ${available}`);
  }
  if (available > need) {
    fail(`${available - need} unexpected bytes after the data of shape (${shape.join(', ')})`);
  }

  // One copy into a fresh, aligned buffer (the source may sit at any offset inside a ZIP
  // image), then typed-array views: much faster than a DataView loop, which matters for the
  // n x L token matrices.
  const copy = new Uint8Array(need);
  copy.set(bytes.subarray(dataStart, dataStart + need));
  if (h.bigEndian !== HOST_BIG_ENDIAN) {
    const buf = Buffer.from(copy.buffer, 0, need);
    if (itemSize === 8) buf.swap64();
    else buf.swap32();
  }
  let data: Float64Array | Int32Array;
  if (h.dtype === '<f8') {
    data = new Float64Array(copy.buffer);
  } else if (!h.int64) {
    data = new Int32Array(copy.buffer);
  } else {
    // int64 -> int32: the value fits iff the high word is the sign extension of the low word.
    const words = new Int32Array(copy.buffer);
    const [lo, hi] = HOST_BIG_ENDIAN ? [1, 0] : [0, 1];
    const out = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      const low = words[2 * i + lo];
      const high = words[2 * i + hi];
      if (high !== low >> 31) {
        const value = (BigInt(high) << 32n) | BigInt(low >>> 0);
        fail(
          `has dtype int64 ('${h.descr}') with a value ${value} at flat index ${i} outside int32`,
          'store values in the int32 range [-2147483648, 2147483647] (token ids and types are small integers)',
        );
      }
      out[i] = low;
    }
    data = out;
  }
  if (h.fortran && shape.length > 1) data = fortranToC(data, shape);
  return { dtype: h.dtype, shape, data, descr: h.descr };
}

const HOST_BIG_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 0;

/** Column-major (Fortran) data of the given shape, rearranged into row-major (C) order. */
function fortranToC<T extends Float64Array | Int32Array>(src: T, shape: readonly number[]): T {
  const n = src.length;
  const nd = shape.length;
  const out = (src instanceof Float64Array ? new Float64Array(n) : new Int32Array(n)) as T;
  const cStride = new Array<number>(nd);
  let s = 1;
  for (let k = nd - 1; k >= 0; k--) {
    cStride[k] = s;
    s *= shape[k];
  }
  // Walk the source in its own (Fortran) order, axis 0 fastest, tracking the C offset.
  const idx = new Array<number>(nd).fill(0);
  let c = 0;
  for (let f = 0; f < n; f++) {
    out[c] = src[f];
    for (let k = 0; k < nd; k++) {
      idx[k]++;
      c += cStride[k];
      if (idx[k] < shape[k]) break;
      c -= cStride[k] * shape[k];
      idx[k] = 0;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// dtypes

interface ReadableDtype {
  descr: string;
  kind: 'f' | 'i';
  itemSize: 4 | 8;
  bigEndian: boolean;
}

/** The dtypes the reader converts; everything else is refused by name with a fix. */
function readableDtype(d: Py, fail: (what: string, fix?: string) => never): ReadableDtype {
  if (d.t === 'list') {
    return fail(`unsupported dtype: a structured dtype ${pyRepr(d)}`, 'save each field as its own plain float64 or int32 array');
  }
  if (d.t !== 'str') return fail(`the .npy header has descr ${pyRepr(d)}, which is not a dtype string`);
  const descr = d.v;
  const m = /^([<>])([fi])([48])$/.exec(descr);
  if (m && !(m[2] === 'f' && m[3] === '4')) {
    return { descr, kind: m[2] as 'f' | 'i', itemSize: Number(m[3]) as 4 | 8, bigEndian: m[1] === '>' };
  }
  if (/^[=|]?[fi][48]$/.test(descr)) {
    return fail(
      `unsupported dtype '${descr}' (${dtypeName(descr.replace(/^[=|]/, ''), false)} without an explicit byte order)`,
      "save it with np.save, which writes '<f8' / '<i8' (or '>' for big-endian)",
    );
  }
  const kind = /^[<>|=]?([a-zA-Z?])/.exec(descr)?.[1] ?? '';
  let fix: string;
  if (kind === 'f' || kind === 'e' || kind === 'd' || kind === 'g') fix = 'save it as float64 with a.astype(np.float64)';
  else if (kind === 'c') fix = "coflow's arrays are real: save the real part as float64 with a.real.astype(np.float64)";
  else if (kind === 'i' || kind === 'u' || kind === 'b' || kind === '?') {
    fix = 'save integer ids and types as int32 with a.astype(np.int32), values as float64 with a.astype(np.float64)';
  } else fix = 'coflow reads numeric arrays only: save a float64 (a.astype(np.float64)) or int32 (a.astype(np.int32)) array';
  return fail(`unsupported dtype '${printable(descr)}' (${dtypeName(descr, false)})`, fix);
}

/** "float32 ('<f4')"; with quote=false just "float32". */
export function dtypeName(descr: string, quote = true): string {
  const m = /^([<>|=]?)([a-zA-Z?])(\d*)(.*)$/.exec(descr);
  let name = 'unknown dtype';
  if (m) {
    const [, order, kind, digits, rest] = m;
    const n = digits === '' ? NaN : Number(digits);
    const bits = Number.isFinite(n) ? String(8 * n) : '';
    const numeric: Record<string, string> = { f: 'float', i: 'int', u: 'uint', c: 'complex' };
    if (numeric[kind] && rest === '') name = `${numeric[kind]}${bits}`;
    else if (kind === 'b' || kind === '?') name = 'bool';
    else if (kind === 'O') name = 'pickled Python objects';
    else if (kind === 'U') name = `unicode string${digits ? ` of ${digits} characters` : ''}`;
    else if (kind === 'S' || kind === 'a') name = `byte string${digits ? ` of ${digits} bytes` : ''}`;
    else if (kind === 'V') name = `raw void bytes${digits ? `, ${digits} per item` : ''}`;
    else if (kind === 'M') name = 'datetime64';
    else if (kind === 'm') name = 'timedelta64';
    if (order === '>' && name !== 'unknown dtype') name = `big-endian ${name}`;
  }
  return quote ? `${name} ('${printable(descr)}')` : name;
}

/** A possibly astronomical count, readable: exact up to 20 digits, else "about 1.23e597". */
function bigText(n: bigint): string {
  const s = n.toString();
  return s.length <= 20 ? s : `about ${s[0]}.${s.slice(1, 3)}e${s.length - 1}`;
}

function formatBytes(n: number): string {
  if (n >= 2 ** 30 && n % 2 ** 30 === 0) return `${n / 2 ** 30} GiB`;
  if (n >= 2 ** 20 && n % 2 ** 20 === 0) return `${n / 2 ** 20} MiB`;
  return `${n} bytes`;
}

// ---------------------------------------------------------------------------------------------
// The Python literal subset of .npy headers: dicts, tuples, lists, strings, integers, True,
// False, None. Bounded: the text is at most maxHeaderBytes long and nesting at most MAX_DEPTH,
// so a hostile header can neither recurse the stack away nor take long.

type PyStr = { t: 'str'; v: string };
type Py =
  | PyStr
  | { t: 'int'; v: bigint }
  | { t: 'bool'; v: boolean }
  | { t: 'none' }
  | { t: 'tuple' | 'list'; items: Py[] }
  | { t: 'dict'; keys: Py[]; values: Py[] };

const MAX_DEPTH = 16;

class HeaderSyntaxError extends Error {
  constructor(
    message: string,
    readonly pos: number,
  ) {
    super(message);
  }
}

class PyParser {
  private i = 0;
  constructor(private readonly s: string) {}

  parseAll(): Py {
    const v = this.value(0);
    this.ws();
    if (this.i < this.s.length) this.error('unexpected text after the dict');
    return v;
  }

  private error(what: string): never {
    throw new HeaderSyntaxError(what, this.i);
  }

  private ws(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i])) this.i++;
  }

  private value(depth: number): Py {
    if (depth > MAX_DEPTH) this.error(`nested more than ${MAX_DEPTH} levels`);
    this.ws();
    const c = this.s[this.i];
    if (c === undefined) this.error('unexpected end');
    if (c === '{') return this.dict(depth);
    if (c === '(') return this.seq(depth, ')', 'tuple');
    if (c === '[') return this.seq(depth, ']', 'list');
    if (c === "'" || c === '"') return this.str();
    if (c === '-' || (c >= '0' && c <= '9')) return this.int();
    for (const [word, v] of [
      ['True', { t: 'bool', v: true }],
      ['False', { t: 'bool', v: false }],
      ['None', { t: 'none' }],
    ] as const) {
      if (this.s.startsWith(word, this.i) && !/\w/.test(this.s[this.i + word.length] ?? '')) {
        this.i += word.length;
        return v;
      }
    }
    return this.error(`unexpected character '${printable(c)}'`);
  }

  private dict(depth: number): Py {
    this.i++; // '{'
    const keys: Py[] = [];
    const values: Py[] = [];
    for (;;) {
      this.ws();
      if (this.s[this.i] === '}') break;
      keys.push(this.value(depth + 1));
      this.ws();
      if (this.s[this.i] !== ':') this.error("expected ':'");
      this.i++;
      values.push(this.value(depth + 1));
      this.ws();
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== '}') this.error("expected ',' or '}'");
    }
    this.i++;
    return { t: 'dict', keys, values };
  }

  /** Tuples keep Python's rule: (x) is just x, (x,) and () are tuples. */
  private seq(depth: number, close: string, t: 'tuple' | 'list'): Py {
    this.i++;
    const items: Py[] = [];
    let comma = false;
    for (;;) {
      this.ws();
      if (this.s[this.i] === close) break;
      items.push(this.value(depth + 1));
      this.ws();
      if (this.s[this.i] === ',') {
        this.i++;
        comma = true;
      } else if (this.s[this.i] !== close) this.error(`expected ',' or '${close}'`);
    }
    this.i++;
    if (t === 'tuple' && items.length === 1 && !comma) return items[0];
    return { t, items };
  }

  private str(): Py {
    const quote = this.s[this.i++];
    let v = '';
    for (;;) {
      const c = this.s[this.i++];
      if (c === undefined || c === '\n') this.error('unterminated string');
      if (c === quote) break;
      if (c === '\\') {
        const e = this.s[this.i++];
        if (e === undefined) this.error('unterminated string');
        const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', '\\': '\\', "'": "'", '"': '"' };
        if (simple[e] !== undefined) v += simple[e];
        else if (e === 'x' || e === 'u') {
          const len = e === 'x' ? 2 : 4;
          const hex = this.s.slice(this.i, this.i + len);
          if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) this.error('bad escape in string');
          v += String.fromCharCode(parseInt(hex, 16));
          this.i += len;
        } else v += '\\' + e; // Python keeps unknown escapes as written
      } else v += c;
    }
    return { t: 'str', v };
  }

  private int(): Py {
    const m = /^-?\d+L?/.exec(this.s.slice(this.i, this.i + 64));
    if (!m || !/^-?\d+L?$/.test(m[0]) || /[\w.]/.test(this.s[this.i + m[0].length] ?? '')) {
      // 64 characters is far beyond any real dimension (<= 20 digits); longer runs are refused.
      this.error('malformed integer (or one with more than 60 digits)');
    }
    this.i += m![0].length;
    return { t: 'int', v: BigInt(m![0].replace(/L$/, '')) };
  }
}

/** Python-style repr for messages, cut to a readable length. */
function pyRepr(v: Py, budget = 80): string {
  const full = reprInner(v, 0);
  return printable(full, budget);
}

function reprInner(v: Py, depth: number): string {
  if (depth > 4) return '...';
  switch (v.t) {
    case 'str':
      return `'${v.v.length > 40 ? v.v.slice(0, 40) + '...' : v.v}'`;
    case 'int':
      return v.v.toString().length > 24 ? `${v.v.toString().slice(0, 20)}...(${v.v.toString().length} digits)` : v.v.toString();
    case 'bool':
      return v.v ? 'True' : 'False';
    case 'none':
      return 'None';
    case 'tuple': {
      const parts = v.items.slice(0, 8).map((x) => reprInner(x, depth + 1));
      if (v.items.length > 8) parts.push(`... ${v.items.length} items`);
      return v.items.length === 1 ? `(${parts[0]},)` : `(${parts.join(', ')})`;
    }
    case 'list': {
      const parts = v.items.slice(0, 8).map((x) => reprInner(x, depth + 1));
      if (v.items.length > 8) parts.push(`... ${v.items.length} items`);
      return `[${parts.join(', ')}]`;
    }
    case 'dict': {
      const parts = v.keys.slice(0, 6).map((k, i) => `${reprInner(k, depth + 1)}: ${reprInner(v.values[i], depth + 1)}`);
      if (v.keys.length > 6) parts.push(`... ${v.keys.length} keys`);
      return `{${parts.join(', ')}}`;
    }
  }
}

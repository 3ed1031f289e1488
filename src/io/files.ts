/**
 * coflow's .npz schemas (keys, dtypes, shapes) for parameters, data sets and gradients, with
 * validating readers: every problem is a UsageError naming the file, the key and the fix.
 *
 *   params:  WQ, WK, WV (m x d), W (m1 x m), a (m1, entries +-1)          float64
 *   dataset: tokens (n x L, 0-based ids) int32, y (n, +-1) float64, type (n, 1..4) int32,
 *            d (shape (1,)) int32 -- written by coflow, optional on read (default max token + 1)
 *   grad:    loss (1,), F (n), dWQ, dWK, dWV (m x d), dW (m1 x m)          float64
 *
 * The bytes are read by readNpz (npz.ts), which bounds every member by what its .npy header
 * declares and refuses hostile archives; the checks here are about meaning: keys present,
 * dtypes (named as the file stored them, e.g. int64 ('<i8')), shapes consistent with each
 * other, every float finite (key and index named), labels, types and token ids in range.
 * docs/files.md lists every check.
 */
import { UsageError } from '../errors.js';
import { MU1, MU2, type Dataset } from '../data/dataset.js';
import type { ParamGrad, Params } from '../model/params.js';
import { dtypeName, f8Array, i4Array, type NpyArray } from './npy.js';
import { readNpz, writeNpz, type NpzEntries } from './npz.js';

export interface Dims {
  m: number;
  m1: number;
  d: number;
}

export interface GradRecord {
  loss: number;
  F: Float64Array;
  grad: ParamGrad;
}

// ---------------------------------------------------------------------------------------------
// Writers. Inputs come from our own code, so inconsistencies are programming errors (RangeError).

export function writeParamsNpz(path: string, p: Params): void {
  const { m, m1, d } = p;
  requireLength('params.WQ', p.WQ, m * d);
  requireLength('params.WK', p.WK, m * d);
  requireLength('params.WV', p.WV, m * d);
  requireLength('params.W', p.W, m1 * m);
  requireLength('params.a', p.a, m1);
  writeNpz(path, {
    WQ: f8Array(p.WQ, [m, d]),
    WK: f8Array(p.WK, [m, d]),
    WV: f8Array(p.WV, [m, d]),
    W: f8Array(p.W, [m1, m]),
    a: f8Array(p.a, [m1]),
  });
}

export function writeDatasetNpz(path: string, data: Dataset): void {
  const { n, L, d } = data;
  requireLength('data.tokens', data.tokens, n * L);
  requireLength('data.y', data.y, n);
  requireLength('data.type', data.type, n);
  writeNpz(path, {
    tokens: i4Array(data.tokens, [n, L]),
    y: f8Array(data.y, [n]),
    type: i4Array(data.type, [n]),
    d: i4Array(Int32Array.of(d), [1]),
  });
}

/** `dims` gives the matrix shapes (a Params object will do): the gradient alone does not fix them. */
export function writeGradNpz(path: string, r: GradRecord, dims: Dims): void {
  const { m, m1, d } = dims;
  requireLength('grad.dWQ', r.grad.dWQ, m * d);
  requireLength('grad.dWK', r.grad.dWK, m * d);
  requireLength('grad.dWV', r.grad.dWV, m * d);
  requireLength('grad.dW', r.grad.dW, m1 * m);
  writeNpz(path, {
    loss: f8Array(Float64Array.of(r.loss), [1]),
    F: f8Array(r.F, [r.F.length]),
    dWQ: f8Array(r.grad.dWQ, [m, d]),
    dWK: f8Array(r.grad.dWK, [m, d]),
    dWV: f8Array(r.grad.dWV, [m, d]),
    dW: f8Array(r.grad.dW, [m1, m]),
  });
}

function requireLength(name: string, v: ArrayLike<number>, n: number): void {
  if (v.length !== n) throw new RangeError(`${name} has ${v.length} entries, expected ${n}`);
}

// ---------------------------------------------------------------------------------------------
// Readers.

/** The dtype as the file stored it ("int64 ('<i8')"), or the in-memory one for built arrays. */
function storedDtype(a: NpyArray): string {
  return a.descr !== undefined ? dtypeName(a.descr) : a.dtype === '<f8' ? 'float64' : 'int32';
}

/** Accessor for one file's entries that phrases every failure as "<file>: key '<key>' ...". */
class Reader {
  constructor(
    readonly file: string,
    readonly entries: NpzEntries,
  ) {}

  fail(key: string, what: string, fix: string): never {
    throw new UsageError(`${this.file}: key '${key}' ${what}; ${fix}`);
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** A float64 array of the given number of dimensions, all entries finite. */
  f8(key: string, ndim: number, meaning: string): NpyArray & { data: Float64Array } {
    const a = this.get(key, ndim, meaning);
    if (a.dtype !== '<f8') this.fail(key, `has dtype ${storedDtype(a)}, expected float64 (${meaning})`, 'save it with arr.astype(np.float64)');
    const data = a.data as Float64Array;
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) {
        const at = a.shape.length === 2 ? ` (row ${Math.floor(i / a.shape[1])}, column ${i % a.shape[1]})` : '';
        this.fail(key, `has a non-finite entry ${data[i]} at flat index ${i}${at}`, 'the file must hold finite numbers');
      }
    }
    return a as NpyArray & { data: Float64Array };
  }

  /** An integer array (int32, or int64 narrowed by the .npy reader). */
  i4(key: string, ndim: number, meaning: string): NpyArray & { data: Int32Array } {
    const a = this.get(key, ndim, meaning);
    if (a.dtype !== '<i4') this.fail(key, `has dtype ${storedDtype(a)}, expected an integer array (${meaning})`, 'save it with arr.astype(np.int32)');
    return a as NpyArray & { data: Int32Array };
  }

  /**
   * Float64 matrices, given as [key, meaning], that must have the shape (m, d) of the matrix
   * `from` (the key and value matrices of the query matrix's shape, or their gradients). All are
   * read before any shape is checked.
   */
  sameShapeAs(from: string, m: number, d: number, ...matrices: (readonly [key: string, meaning: string])[]): (NpyArray & { data: Float64Array })[] {
    const arrays = matrices.map(([key, meaning]) => this.f8(key, 2, meaning));
    arrays.forEach((a, i) => {
      this.dim(matrices[i][0], a, 0, m, `m, from ${from}`);
      this.dim(matrices[i][0], a, 1, d, `d, from ${from}`);
    });
    return arrays;
  }

  /** Requires shape[axis] === size; `why` says where the size comes from. */
  dim(key: string, a: NpyArray, axis: number, size: number, why: string): void {
    if (a.shape[axis] !== size) {
      this.fail(key, `has shape (${a.shape.join(', ')}) but axis ${axis} must be ${size} (${why})`, 'save arrays of matching shapes');
    }
  }

  private get(key: string, ndim: number, meaning: string): NpyArray {
    const a = this.entries.get(key);
    if (a === undefined) {
      const present = [...this.entries.keys()].join(', ') || 'none';
      return this.fail(key, `is missing (expected ${meaning}; keys present: ${present})`, `add it, e.g. np.savez(path, ${key}=...)`);
    }
    if (a.shape.length !== ndim) {
      this.fail(key, `has shape (${a.shape.join(', ')}), expected ${ndim} dimension(s) (${meaning})`, 'reshape it before saving');
    }
    return a;
  }
}

export function readParamsNpz(path: string): Params {
  const r = new Reader(path, readNpz(path));
  const WQ = r.f8('WQ', 2, 'the m x d query matrix');
  const [m, d] = WQ.shape;
  if (m < 1 || d < 1) r.fail('WQ', `has an empty shape (${m}, ${d})`, 'save non-empty matrices');
  const [WK, WV] = r.sameShapeAs('WQ', m, d, ['WK', 'the m x d key matrix'], ['WV', 'the m x d value matrix']);
  const W = r.f8('W', 2, 'the m1 x m MLP matrix');
  r.dim('W', W, 1, m, 'm, from WQ');
  const m1 = W.shape[0];
  if (m1 < 1) r.fail('W', 'has no rows', 'save at least one neuron');
  const a = r.f8('a', 1, 'the m1 fixed output signs');
  r.dim('a', a, 0, m1, 'm1, the number of rows of W');
  for (let j = 0; j < m1; j++) {
    if (a.data[j] !== 1 && a.data[j] !== -1) r.fail('a', `entry ${j} is ${a.data[j]}, but a must be +1 or -1`, 'save the fixed signs a in {+1, -1}');
  }
  return { m, m1, d, WQ: WQ.data, WK: WK.data, WV: WV.data, W: W.data, a: a.data };
}

export function readDatasetNpz(path: string): Dataset {
  const r = new Reader(path, readNpz(path));
  const tokens = r.i4('tokens', 2, 'the n x L 0-based token ids');
  const [n, L] = tokens.shape;
  if (n < 1 || L < 1) r.fail('tokens', `has an empty shape (${n}, ${L})`, 'save at least one sample of length >= 1');
  const y = r.f8('y', 1, 'the n labels +1/-1');
  r.dim('y', y, 0, n, 'n, the number of rows of tokens');
  const type = r.i4('type', 1, 'the n sample types 1..4 (I1..I4)');
  r.dim('type', type, 0, n, 'n, the number of rows of tokens');

  let maxToken = -1;
  for (let i = 0; i < tokens.data.length; i++) {
    const t = tokens.data[i];
    if (t < 0) r.fail('tokens', `has a negative id ${t} (sample ${Math.floor(i / L)}, position ${i % L})`, 'token ids are 0-based');
    if (t > maxToken) maxToken = t;
  }
  let d = maxToken + 1;
  if (r.has('d')) {
    const dArr = r.i4('d', 1, 'the vocabulary size, shape (1,)');
    r.dim('d', dArr, 0, 1, 'd is one number');
    d = dArr.data[0];
    if (d < 1) r.fail('d', `is ${d}, but the vocabulary size must be >= 1`, "save the vocabulary size d, e.g. np.savez(path, d=np.array([d], dtype=np.int32), ...)");
    if (d <= maxToken) {
      const i = tokens.data.findIndex((t) => t >= d);
      r.fail(
        'tokens',
        `has id ${tokens.data[i]} at sample ${Math.floor(i / L)}, position ${i % L}, outside [0, d=${d}) (largest id ${maxToken})`,
        "fix the token ids or the stored 'd'",
      );
    }
  }

  for (let i = 0; i < n; i++) {
    const label = y.data[i];
    if (label !== 1 && label !== -1) r.fail('y', `entry ${i} is ${label}, but labels must be +1 or -1`, 'save y in {+1, -1}');
    const t = type.data[i];
    if (t < 1 || t > 4) r.fail('type', `entry ${i} is ${t}, but types are 1..4 (I1..I4)`, 'save type in 1..4');
    // Def. 2.1: y = +1 exactly for I1 (both target words present).
    if ((t === 1) !== (label === 1)) {
      r.fail('y', `entry ${i} is ${label} but the sample has type ${t}`, 'I1 samples have y=+1 and I2..I4 samples y=-1');
    }
    let has1 = false;
    let has2 = false;
    for (let l = 0; l < L; l++) {
      const tok = tokens.data[i * L + l];
      if (tok === MU1) has1 = true;
      if (tok === MU2) has2 = true;
    }
    const expected1 = t === 1 || t === 2;
    const expected2 = t === 1 || t === 3;
    if (has1 !== expected1 || has2 !== expected2) {
      const says = `${expected1 ? 'contains' : 'lacks'} mu_1 (token 0) and ${expected2 ? 'contains' : 'lacks'} mu_2 (token 1)`;
      const found = `${has1 ? 'contain' : 'lack'} mu_1 and ${has2 ? 'contain' : 'lack'} mu_2`;
      r.fail('type', `entry ${i} is ${t}, so the sample ${says}, but its tokens ${found}`, 'fix the types or the tokens (I1 both, I2 mu_1 only, I3 mu_2 only, I4 neither)');
    }
  }
  return { n, L, d, tokens: tokens.data, y: y.data, type: type.data };
}

export function readGradNpz(path: string): GradRecord & Dims {
  const r = new Reader(path, readNpz(path));
  const loss = r.f8('loss', 1, 'the mean loss, shape (1,)');
  r.dim('loss', loss, 0, 1, 'the loss is one number');
  const F = r.f8('F', 1, 'the n per-sample outputs');
  const dWQ = r.f8('dWQ', 2, 'dL/dW_Q, m x d');
  const [m, d] = dWQ.shape;
  const [dWK, dWV] = r.sameShapeAs('dWQ', m, d, ['dWK', 'dL/dW_K, m x d'], ['dWV', 'dL/dW_V, m x d']);
  const dW = r.f8('dW', 2, 'dL/dW, m1 x m');
  r.dim('dW', dW, 1, m, 'm, from dWQ');
  return {
    loss: loss.data[0],
    F: F.data,
    grad: { dWQ: dWQ.data, dWK: dWK.data, dWV: dWV.data, dW: dW.data },
    m,
    m1: dW.shape[0],
    d,
  };
}

/**
 * Numeric evaluation of a matrix polynomial with concrete matrices: the bridge that lets tests
 * compare a derived equation with the same quantity computed directly from weight matrices.
 * Plain dense loops; not for hot paths.
 */
import { Dim, Factor, Poly, ScalarFactor, Word } from './ncpoly.js';

export interface DenseMatrix {
  readonly rows: number;
  readonly cols: number;
  /** row-major */
  readonly data: Float64Array;
}

/** Values of the named dimensions, e.g. { k: 4, m: 7, m1: 5 }. */
export type DimValues = Readonly<Record<Exclude<Dim, 1>, number>>;

export type Env = ReadonlyMap<string, DenseMatrix>;

function dimValue(d: Dim, dims: DimValues): number {
  return d === 1 ? 1 : dims[d];
}

export function matmul(a: DenseMatrix, b: DenseMatrix): DenseMatrix {
  if (a.cols !== b.rows) throw new Error(`matmul: ${a.rows}x${a.cols} times ${b.rows}x${b.cols}`);
  const out = new Float64Array(a.rows * b.cols);
  for (let i = 0; i < a.rows; i++) {
    for (let l = 0; l < a.cols; l++) {
      const x = a.data[i * a.cols + l];
      if (x === 0) continue;
      for (let j = 0; j < b.cols; j++) out[i * b.cols + j] += x * b.data[l * b.cols + j];
    }
  }
  return { rows: a.rows, cols: b.cols, data: out };
}

export function transposeMatrix(a: DenseMatrix): DenseMatrix {
  const out = new Float64Array(a.rows * a.cols);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) out[j * a.rows + i] = a.data[i * a.cols + j];
  return { rows: a.cols, cols: a.rows, data: out };
}

function factorValue(f: Factor, env: Env): DenseMatrix {
  const v = env.get(f.sym);
  if (!v) throw new Error(`evaluatePoly: no value for '${f.sym}'`);
  return f.t ? transposeMatrix(v) : v;
}

function wordValue(w: Word, env: Env, rows: number, cols: number): DenseMatrix {
  if (w.length === 0) {
    // the empty word is the 1 x 1 identity (a pure scalar term)
    if (rows !== 1 || cols !== 1) throw new Error('evaluatePoly: empty word in a non-scalar polynomial');
    return { rows: 1, cols: 1, data: Float64Array.of(1) };
  }
  let acc = factorValue(w[0], env);
  for (let i = 1; i < w.length; i++) acc = matmul(acc, factorValue(w[i], env));
  return acc;
}

function scalarValue(s: ScalarFactor, env: Env): number {
  if (s.kind === 'word') {
    const v = wordValue(s.word, env, 1, 1);
    if (v.rows !== 1 || v.cols !== 1) throw new Error('evaluatePoly: scalar factor is not 1 x 1');
    return v.data[0];
  }
  const v = wordValue(s.word, env, -1, -1);
  let tr = 0;
  for (let i = 0; i < v.rows; i++) tr += v.data[i * v.cols + i];
  return tr;
}

export function evaluatePoly(p: Poly, env: Env, dims: DimValues): DenseMatrix {
  const rows = dimValue(p.rows, dims);
  const cols = dimValue(p.cols, dims);
  const out = new Float64Array(rows * cols);
  for (const t of p.terms) {
    let c = t.coef.toNumber();
    for (const s of t.scalars) c *= scalarValue(s, env);
    const w = wordValue(t.word, env, rows, cols);
    if (w.rows !== rows || w.cols !== cols) {
      throw new Error(`evaluatePoly: term is ${w.rows}x${w.cols}, polynomial is ${rows}x${cols}`);
    }
    for (let i = 0; i < out.length; i++) out[i] += c * w.data[i];
  }
  return { rows, cols, data: out };
}

/**
 * Level F -> Level G: the Gram state of given weights. With one-hot embeddings Q = W_Q M is the
 * column gather of W_Q at the k tracked tokens (M = [mu_t for those tokens]), likewise K, V;
 * r = W^T a. Then S = K^T Q, A = Q^T Q, B = K^T K, C = V^T V, u = V^T r, s = r^T r.
 * Cost O(m k^2 + m1 m).
 */
import { Dataset } from '../data/dataset.js';
import { UsageError } from '../errors.js';
import { Params } from '../model/params.js';
import { ExtraTokens, gramLayout, tokenIndex } from './layout.js';

function checkParams(p: Params, data: Dataset): void {
  const { m, m1, d } = p;
  if (d !== data.d) throw new UsageError(`params.d = ${d} but the data set has d = ${data.d}; use weights built for this vocabulary`);
  const expect: [string, Float64Array, number][] = [
    ['WQ', p.WQ, m * d],
    ['WK', p.WK, m * d],
    ['WV', p.WV, m * d],
    ['W', p.W, m1 * m],
    ['a', p.a, m1],
  ];
  for (const [name, arr, len] of expect) {
    if (arr.length !== len) throw new UsageError(`params.${name} has length ${arr.length}, expected ${len} for (m, m1, d) = (${m}, ${m1}, ${d})`);
  }
}

/**
 * The Level G state of the weights p on the data set's tokens and any extra tokens (the same
 * tracked set as GramModel(data, m, m1, { extraTokens })).
 */
export function liftParams(p: Params, data: Dataset, extraTokens?: ExtraTokens): Float64Array {
  checkParams(p, data);
  const { m, m1, d } = p;
  const { k, globalOf } = tokenIndex(data, extraTokens);
  const lay = gramLayout(k);
  // token-major gathers: q[a*m + c] = W_Q[c, token a]
  const gather = (Wx: Float64Array): Float64Array => {
    const out = new Float64Array(k * m);
    for (let a = 0; a < k; a++) {
      const t = globalOf[a];
      for (let c = 0; c < m; c++) out[a * m + c] = Wx[c * d + t];
    }
    return out;
  };
  const q = gather(p.WQ);
  const kk = gather(p.WK);
  const v = gather(p.WV);
  const r = new Float64Array(m);
  for (let j = 0; j < m1; j++) {
    const aj = p.a[j];
    for (let c = 0; c < m; c++) r[c] += aj * p.W[j * m + c];
  }
  const dot = (x: Float64Array, xo: number, z: Float64Array, zo: number): number => {
    let s = 0;
    for (let c = 0; c < m; c++) s += x[xo + c] * z[zo + c];
    return s;
  };
  const y = new Float64Array(lay.size);
  for (let b = 0; b < k; b++) {
    for (let a = 0; a < k; a++) {
      y[lay.S + b * k + a] = dot(kk, b * m, q, a * m);
      y[lay.A + b * k + a] = dot(q, b * m, q, a * m);
      y[lay.B + b * k + a] = dot(kk, b * m, kk, a * m);
      y[lay.C + b * k + a] = dot(v, b * m, v, a * m);
    }
    y[lay.u + b] = dot(v, b * m, r, 0);
  }
  y[lay.s] = dot(r, 0, r, 0);
  return y;
}

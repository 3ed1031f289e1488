/**
 * Independent plain-loop references for the Level G tests: the chain-rule image of a Level F
 * gradient in the Gram variables, block-wise relative errors, and small data sets (including
 * one with tokens repeated inside a sample, which the paper's generator never produces).
 */
import { Dataset } from '../../src/data/dataset.js';
import { GramLayout, gramLayout, tokenIndex } from '../../src/gram/layout.js';
import { ParamGrad, Params } from '../../src/model/params.js';

export const BLOCKS = ['S', 'A', 'B', 'C', 'u', 's'] as const;
export type Block = (typeof BLOCKS)[number];

function blockRange(lay: GramLayout, b: Block): [number, number] {
  const k = lay.k;
  const len = b === 's' ? 1 : b === 'u' ? k : k * k;
  return [lay[b], lay[b] + len];
}

/** max |x - ref| / max |ref| per block (max |x - ref| if the block of ref is all zero). */
export function blockRelErrors(x: Float64Array, ref: Float64Array, lay: GramLayout): Record<Block, number> {
  const out = {} as Record<Block, number>;
  for (const b of BLOCKS) {
    const [lo, hi] = blockRange(lay, b);
    let diff = 0;
    let scale = 0;
    for (let i = lo; i < hi; i++) {
      diff = Math.max(diff, Math.abs(x[i] - ref[i]));
      scale = Math.max(scale, Math.abs(ref[i]));
    }
    out[b] = scale > 0 ? diff / scale : diff;
  }
  return out;
}

export function maxOf(r: Record<string, number>): number {
  return Math.max(...Object.values(r));
}

export interface ChainRuleOptions {
  /** negative control: leave out the K^T dQ term of dS */
  readonly dropKtdQ?: boolean;
}

/**
 * d/dt of the Gram state under the Level F gradient flow dW_x/dt = -grad_x, by the product rule
 * on the gathered weight columns: Qdot = -dWQ M, ..., rdot = -(dW)^T a, then
 * dS = Kdot^T Q + K^T Qdot, dA = Qdot^T Q + Q^T Qdot, ..., du = Vdot^T r + V^T rdot, ds = 2 r.rdot.
 */
export function chainRuleImage(p: Params, g: ParamGrad, data: Dataset, opts: ChainRuleOptions = {}): Float64Array {
  const { m, m1, d } = p;
  const { k, globalOf } = tokenIndex(data);
  const lay = gramLayout(k);
  const col = (X: Float64Array, a: number, c: number): number => X[c * d + globalOf[a]];
  const r = new Float64Array(m);
  const rdot = new Float64Array(m);
  for (let j = 0; j < m1; j++) {
    for (let c = 0; c < m; c++) {
      r[c] += p.a[j] * p.W[j * m + c];
      rdot[c] -= p.a[j] * g.dW[j * m + c];
    }
  }
  const y = new Float64Array(lay.size);
  for (let b = 0; b < k; b++) {
    for (let a = 0; a < k; a++) {
      let dS = 0;
      let dA = 0;
      let dB = 0;
      let dC = 0;
      for (let c = 0; c < m; c++) {
        const Qa = col(p.WQ, a, c);
        const Qb = col(p.WQ, b, c);
        const Ka = col(p.WK, a, c);
        const Kb = col(p.WK, b, c);
        const Va = col(p.WV, a, c);
        const Vb = col(p.WV, b, c);
        const dQa = -col(g.dWQ, a, c);
        const dQb = -col(g.dWQ, b, c);
        const dKa = -col(g.dWK, a, c);
        const dKb = -col(g.dWK, b, c);
        const dVa = -col(g.dWV, a, c);
        const dVb = -col(g.dWV, b, c);
        dS += dKb * Qa + (opts.dropKtdQ ? 0 : Kb * dQa);
        dA += dQb * Qa + Qb * dQa;
        dB += dKb * Ka + Kb * dKa;
        dC += dVb * Va + Vb * dVa;
      }
      y[lay.S + b * k + a] = dS;
      y[lay.A + b * k + a] = dA;
      y[lay.B + b * k + a] = dB;
      y[lay.C + b * k + a] = dC;
    }
    let du = 0;
    for (let c = 0; c < m; c++) du += -col(g.dWV, b, c) * r[c] + col(p.WV, b, c) * rdot[c];
    y[lay.u + b] = du;
  }
  let ds = 0;
  for (let c = 0; c < m; c++) ds += 2 * r[c] * rdot[c];
  y[lay.s] = ds;
  return y;
}

/** Squared Frobenius norm of a Level F gradient. */
export function gradNormSq(g: ParamGrad): number {
  let s = 0;
  for (const arr of [g.dWQ, g.dWK, g.dWV, g.dW]) for (let i = 0; i < arr.length; i++) s += arr[i] * arr[i];
  return s;
}

/**
 * A data set with tokens repeated INSIDE samples (token 5 twice in sample 0, mu_3 twice in
 * sample 3), unused vocabulary ids (d = 12, ids 9..11 never occur), and all four types.
 */
export function repeatedTokenDataset(): Dataset {
  const L = 4;
  const rows = [
    [0, 5, 2, 5], // I1 would need mu_2; this is a hand-made bag, labels follow the AND rule
    [1, 2, 0, 6],
    [2, 7, 1, 3],
    [2, 4, 2, 8],
    [0, 2, 3, 4],
    [6, 2, 7, 1],
  ];
  const tokens = Int32Array.from(rows.flat());
  const y = new Float64Array(rows.length);
  const type = new Int32Array(rows.length);
  rows.forEach((r, i) => {
    const has1 = r.includes(0);
    const has2 = r.includes(1);
    type[i] = has1 && has2 ? 1 : has1 ? 2 : has2 ? 3 : 4;
    y[i] = type[i] === 1 ? 1 : -1;
  });
  return { n: rows.length, L, d: 12, tokens, y, type };
}

/** The full-batch GD step written out on the weights: W <- W - eta dL/dW for W_Q, W_K, W_V, W. */
export function gdUpdate(p: Params, g: ParamGrad, eta: number): void {
  for (const [W, dW] of [
    [p.WQ, g.dWQ],
    [p.WK, g.dWK],
    [p.WV, g.dWV],
    [p.W, g.dW],
  ] as const) {
    for (let i = 0; i < W.length; i++) W[i] -= eta * dW[i];
  }
}

/** A small deterministic uniform [0, 1) generator for the kernel tests' random inputs. */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Index of the first entry whose bits differ (Object.is: +0 and -0 differ), or -1 when equal. */
export function firstDiff(a: Float64Array, b: Float64Array): number {
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return a.length === b.length ? -1 : a.length;
}

/**
 * The gradient ORACLE: the paper's forward pass (Eq. 1) written once, literally, on the
 * reverse-mode tape of src/autodiff, and differentiated by it.
 *
 *   F(X) = sum_l sum_j a_j w_j^T W_V X softmax( X^T W_K^T W_Q x_l / sqrt(m) )
 *
 * Deliberately NOT the fast code's formulation: no r = W^T a folding, no score tables over the
 * vocabulary, no hand-derived adjoints. Shared structure between this and the analytic
 * gradient (src/model/gradient.ts) is only the mathematics, so agreement is evidence.
 */
import {
  Tensor,
  concat,
  constant,
  gatherColumns,
  leaf,
  logisticLoss,
  matmul,
  mul,
  scale,
  scalarValue,
  softmax,
  sum,
  transpose,
} from '../autodiff/index.js';
import { UsageError } from '../errors.js';
import type { Dataset } from '../data/dataset.js';
import type { ParamGrad, Params } from './params.js';

export interface OracleResult {
  /** mean logistic loss (1/n) sum_i l(y_i F(X_i)) */
  loss: number;
  /** per-sample outputs F(X_i) */
  F: Float64Array;
  /** gradient of the mean loss w.r.t. WQ, WK, WV, W */
  grad: ParamGrad;
}

export function oracleLossAndGrad(p: Params, data: Dataset): OracleResult {
  checkShapes(p, data);
  const { m, m1, d } = p;
  const { n, L } = data;

  const WQ = leaf(p.WQ, [m, d]);
  const WK = leaf(p.WK, [m, d]);
  const WV = leaf(p.WV, [m, d]);
  const W = leaf(p.W, [m1, m]);
  // a is fixed (not trained), so it enters as data; a^T as a 1 x m1 row.
  const aRow = constant(p.a, [1, m1]);
  const invSqrtM = 1 / Math.sqrt(m);

  const outputs: Tensor[] = [];
  for (let i = 0; i < n; i++) {
    // X = [mu_{t_1} .. mu_{t_L}] is one-hot, so W X is a column gather of W.
    const idx = data.tokens.subarray(i * L, (i + 1) * L);
    const Q = gatherColumns(WQ, idx); // m x L, column l = W_Q x_l
    const K = gatherColumns(WK, idx); // m x L
    const V = gatherColumns(WV, idx); // m x L
    // scores[p, l] = <W_K x_p, W_Q x_l> / sqrt(m): rows are keys p, columns are queries l.
    const scores = scale(matmul(transpose(K), Q), invSqrtM);
    // Softmax over the key positions p for each query l (Eq. 1): axis 0, columns sum to 1.
    const P = softmax(scores, 0);
    // H[j, l] = w_j^T W_V X softmax(...)_l, then sum_j a_j H[j, l], then the sum over queries l.
    const H = matmul(W, matmul(V, P)); // m1 x L
    outputs.push(sum(matmul(aRow, H)));
  }
  const F = concat(outputs); // n
  const yF = mul(constant(data.y, [n]), F);
  const loss = scale(sum(logisticLoss(yF)), 1 / n);
  loss.backward();

  return {
    loss: scalarValue(loss),
    F: Float64Array.from(F.data),
    grad: {
      dWQ: Float64Array.from(WQ.grad),
      dWK: Float64Array.from(WK.grad),
      dWV: Float64Array.from(WV.grad),
      dW: Float64Array.from(W.grad),
    },
  };
}

function checkShapes(p: Params, data: Dataset): void {
  const { m, m1, d } = p;
  const expect = (ok: boolean, msg: string) => {
    if (!ok) throw new UsageError(msg);
  };
  expect(p.WQ.length === m * d, `params.WQ: length ${p.WQ.length}, expected m*d = ${m * d}; fix the parameter shapes`);
  expect(p.WK.length === m * d, `params.WK: length ${p.WK.length}, expected m*d = ${m * d}; fix the parameter shapes`);
  expect(p.WV.length === m * d, `params.WV: length ${p.WV.length}, expected m*d = ${m * d}; fix the parameter shapes`);
  expect(p.W.length === m1 * m, `params.W: length ${p.W.length}, expected m1*m = ${m1 * m}; fix the parameter shapes`);
  expect(p.a.length === m1, `params.a: length ${p.a.length}, expected m1 = ${m1}; fix the parameter shapes`);
  expect(data.d === d, `data.d = ${data.d} differs from params.d = ${d}; use parameters made for this vocabulary`);
  expect(data.tokens.length === data.n * data.L, `data.tokens: length ${data.tokens.length}, expected n*L = ${data.n * data.L}`);
  expect(data.y.length === data.n, `data.y: length ${data.y.length}, expected n = ${data.n}`);
}

import { Dataset } from '../data/dataset.js';
import { LossGrad } from './gradient.js';
import { Params } from './params.js';

/** Per-sample outputs F_i (Eq. 1) and the mean logistic loss, without the gradient. */
export function forwardAll(p: Params, data: Dataset): { F: Float64Array; loss: number } {
  const lg = new LossGrad(data, p.m, p.m1);
  const loss = lg.loss(p);
  return { F: lg.F.slice(), loss };
}

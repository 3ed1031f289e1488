/**
 * What a trajectory records, computed from a Level G state alone: the same quantities as Level F
 * (src/model/observables.ts) plus the two invariants of every gradient flow of the model.
 * - loss, mean loss per type I1..I4 (paper Fig. 1(b));
 * - G(mu_i) = u[mu_i] for i = 1..3 (Lemma 4.1, Thm 3.1);
 * - unscaled scores score_k{i}_q{j} = mu_i^T W_K^T W_Q mu_j = S[mu_i, mu_j] (key i, query j;
 *   Fig. 1(a), Thm 3.2);
 * - min margin min_i y_i F_i (> 0 iff every sample is classified correctly);
 * - tr A - tr B and tr C - s/m1: conserved by the flow because W_Q W_Q^T - W_K W_K^T and
 *   W^T W - W_V W_V^T are (derivations/gram-flow.md); their drift measures integration error.
 * A token among mu_1..mu_3 that does not occur in the data has no Gram entries: its G and
 * scores are NaN.
 */
import type { Observation } from '../model/observables.js';
import type { GramModel } from './flow.js';
import { GramLayout } from './layout.js';

export interface GramObservation extends Observation {
  /** tr A - tr B */
  readonly invariantQK: number;
  /** tr C - s / m1 */
  readonly invariantV: number;
  /** the same numbers under their column names (loss, loss_I1.., G1.., score_k1_q1.., ...) */
  readonly named: Readonly<Record<string, number>>;
}

export function scoreName(keyToken: number, queryToken: number): string {
  return `score_k${keyToken}_q${queryToken}`;
}

export function gramInvariants(y: Float64Array, lay: GramLayout, m1: number): { QK: number; V: number } {
  const k = lay.k;
  let trA = 0;
  let trB = 0;
  let trC = 0;
  for (let i = 0; i < k; i++) {
    trA += y[lay.A + i * k + i];
    trB += y[lay.B + i * k + i];
    trC += y[lay.C + i * k + i];
  }
  return { QK: trA - trB, V: trC - y[lay.s] / m1 };
}

export function observeGram(model: GramModel, y: Float64Array): GramObservation {
  const out = model.outputs(y);
  const { layout: lay, k } = model;
  const local = model.index.localOf;
  const loc = (mu: number): number => (mu < local.length ? local[mu] : -1);
  const G: [number, number, number] = [0, 1, 2].map((i) => (loc(i) >= 0 ? y[lay.u + loc(i)] : NaN)) as [number, number, number];
  const scores = new Float64Array(9);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      scores[3 * i + j] = loc(i) >= 0 && loc(j) >= 0 ? y[lay.S + loc(i) * k + loc(j)] : NaN;
    }
  }
  let minMargin = Infinity;
  for (let i = 0; i < out.margins.length; i++) minMargin = Math.min(minMargin, out.margins[i]);
  const inv = gramInvariants(y, lay, model.m1);
  const named: Record<string, number> = { loss: out.loss };
  out.lossByType.forEach((v, t) => (named[`loss_I${t + 1}`] = v));
  G.forEach((v, i) => (named[`G${i + 1}`] = v));
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) named[scoreName(i + 1, j + 1)] = scores[3 * i + j];
  named.min_margin = minMargin;
  named.inv_trA_minus_trB = inv.QK;
  named.inv_trC_minus_s_over_m1 = inv.V;
  return {
    loss: out.loss,
    lossByType: out.lossByType,
    G,
    scores,
    minMargin,
    invariantQK: inv.QK,
    invariantV: inv.V,
    named,
  };
}

/**
 * The two invariants of every gradient flow of the model, written in Level G variables:
 * tr A - tr B and tr C - s/m1 (W_Q W_Q^T - W_K W_K^T and W^T W - W_V W_V^T are conserved,
 * derivations/gram-flow.md). Both are LINEAR in the Level G state, and every Runge-Kutta step
 * conserves linear invariants exactly, so here their drift shows round-off, not integration
 * error (at Level F the conserved matrices are quadratic and their drift does measure it; the
 * accuracy of a Level G flow is checked against Level F instead). The observables of a run
 * are computed in src/observe.
 */
import { GramLayout } from './layout.js';

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

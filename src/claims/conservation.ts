/**
 * The balancedness invariants every gradient flow of this model conserves (W_Q W_Q^T - W_K W_K^T
 * and W^T W - W_V W_V^T; at Level G/T their traces), recorded as relative drifts since t = 0 in
 * drift_QK, drift_VW (docs/observables.md). On a flow their size is integration error,
 * bounded by 100 x rtol; GD breaks them by O(lr^2) per step, so for GD the claim is outside its
 * hypothesis and `holds` says whether the drift is still below DRIFT_GD_MAX.
 */
import { DRIFT_GD_MAX, DRIFT_RTOL_FACTOR } from './bands.js';
import { maxOf, type RunView } from './series.js';
import type { Measurement } from './verdict.js';

function drift(v: RunView, column: 'drift_QK' | 'drift_VW'): Measurement {
  const pre = v.needColumns([column]);
  if (pre) return pre;
  const gd = v.settings.method === 'gd';
  const max = gd ? DRIFT_GD_MAX : DRIFT_RTOL_FACTOR * v.settings.rtol;
  return {
    kind: 'measured',
    checks: [{ name: `max ${column}`, value: maxOf(v.col(column)), band: { min: 0, max } }],
    context: gd ? `GD: band ${DRIFT_GD_MAX} (no tolerance)` : `band ${DRIFT_RTOL_FACTOR} x rtol = ${DRIFT_RTOL_FACTOR} x ${v.settings.rtol}`,
  };
}

export const conservationQK = (v: RunView) => drift(v, 'drift_QK');
export const conservationVW = (v: RunView) => drift(v, 'drift_VW');

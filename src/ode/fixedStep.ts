/**
 * A plain explicit Runge-Kutta integrator with constant steps and a chosen weight vector, kept
 * deliberately simple (no FSAL, no control): it propagates either the 5th-order weights b or
 * the embedded 4th-order weights bHat of a tableau, which the adaptive solver cannot do, and it
 * is an independent implementation to compare the adaptive solver's kernel against.
 */
import { UsageError } from '../errors.js';
import type { ButcherTableau } from './tableau.js';
import type { VectorField } from './types.js';

/** Which weights to propagate: b ('propagated', order p) or bHat ('embedded', order p-1). */
export type WeightChoice = 'propagated' | 'embedded';

/** Integrate from t0 to tEnd in exactly nSteps equal steps; returns y(tEnd) (a new array). */
export function integrateFixedSteps(
  tab: ButcherTableau,
  weights: WeightChoice,
  f: VectorField,
  t0: number,
  y0: Float64Array,
  tEnd: number,
  nSteps: number,
): Float64Array {
  if (!Number.isInteger(nSteps) || nSteps < 1) throw new UsageError(`nSteps must be an integer >= 1, got ${nSteps}`);
  const w = weights === 'propagated' ? tab.b : tab.bHat;
  const n = y0.length;
  const s = tab.stages;
  const y = Float64Array.from(y0);
  const yStage = new Float64Array(n);
  const K: Float64Array[] = [];
  for (let j = 0; j < s; j++) K.push(new Float64Array(n));
  const h = (tEnd - t0) / nSteps;
  for (let step = 0; step < nSteps; step++) {
    // t from the step index, not by accumulation, so rounding does not drift.
    const t = t0 + step * h;
    for (let st = 0; st < s; st++) {
      const a = tab.a[st];
      for (let i = 0; i < n; i++) {
        let acc = 0;
        for (let j = 0; j < st; j++) acc += a[j] * K[j][i];
        yStage[i] = y[i] + h * acc;
      }
      f(t + tab.c[st] * h, yStage, K[st]);
    }
    for (let i = 0; i < n; i++) {
      let acc = 0;
      for (let j = 0; j < s; j++) acc += w[j] * K[j][i];
      y[i] += h * acc;
    }
  }
  return y;
}

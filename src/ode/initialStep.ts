/**
 * Starting step size, Hairer-Norsett-Wanner I, Sect. II.4 ("Starting step size"), as in
 * Hairer's HINIT routine and scipy's select_initial_step, with the RMS norm weighted by
 * sc_i = atol_i + rtol |y0_i|:
 *   d0 = ||y0||, d1 = ||f0||; h0 = 0.01 d0/d1 (1e-6 if either is < 1e-5);
 *   y1 = y0 + h0 f0, d2 = ||f(t0 + h0, y1) - f0|| / h0;
 *   h1 = (0.01 / max(d1, d2))^(1/(q+1)) (or max(1e-6, 1e-3 h0) if max(d1, d2) <= 1e-15);
 *   h = min(100 h0, h1), then clipped to hMax and to |tEnd - t0|.
 * q = 4 is the order of the embedded error estimate, so the exponent is 1/5.
 */
import type { VectorField } from './types.js';

/**
 * Returns |h| for the first step. Costs one evaluation of f (the caller counts it). yWork and
 * fWork are scratch buffers of length n (no allocation).
 */
export function selectInitialStep(
  f: VectorField,
  t0: number,
  y0: Float64Array,
  f0: Float64Array,
  direction: number,
  rtol: number,
  atol: Float64Array,
  hMax: number,
  span: number,
  errorOrder: number,
  yWork: Float64Array,
  fWork: Float64Array,
): number {
  const n = y0.length;
  let d0 = 0;
  let d1 = 0;
  for (let i = 0; i < n; i++) {
    const sc = atol[i] + rtol * Math.abs(y0[i]);
    d0 += (y0[i] / sc) ** 2;
    d1 += (f0[i] / sc) ** 2;
  }
  d0 = Math.sqrt(d0 / n);
  d1 = Math.sqrt(d1 / n);
  let h0 = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : 0.01 * (d0 / d1);
  h0 = Math.min(h0, hMax, span);
  for (let i = 0; i < n; i++) yWork[i] = y0[i] + direction * h0 * f0[i];
  f(t0 + direction * h0, yWork, fWork);
  let d2 = 0;
  for (let i = 0; i < n; i++) {
    const sc = atol[i] + rtol * Math.abs(y0[i]);
    d2 += ((fWork[i] - f0[i]) / sc) ** 2;
  }
  d2 = Math.sqrt(d2 / n) / h0;
  const dMax = Math.max(d1, d2);
  const h1 = dMax <= 1e-15 ? Math.max(1e-6, h0 * 1e-3) : Math.pow(0.01 / dMax, 1 / (errorOrder + 1));
  const h = Math.min(100 * h0, h1, hMax, span);
  // A non-finite probe (e.g. f blows up right away) yields NaN here; fall back to h0 so the
  // first real step reports the non-finite value instead of a meaningless step size.
  return Number.isFinite(h) && h > 0 ? h : h0;
}

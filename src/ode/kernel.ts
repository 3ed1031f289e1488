/**
 * The one hot loop of an explicit Runge-Kutta step: out_i = base_i + h * sum_q coef_q K[cols_q]_i.
 * Written out for up to 7 terms so each stage is a single pass over memory with the stage rows
 * held in locals (a generic inner loop over K[cols[q]][i] measured about 10x slower at 57,344
 * components). The coefficients still come from the tableau data; only the term count is fixed
 * per case. Also returns sum_i (K[probeRow]_i * 0), which is 0 iff that row is finite (NaN/Inf
 * detection folded into a pass that reads it anyway).
 */
export function linearCombination(
  out: Float64Array,
  base: Float64Array,
  h: number,
  cols: Int32Array,
  coef: Float64Array,
  K: readonly Float64Array[],
  probeRow: Float64Array,
): number {
  const n = out.length;
  const m = cols.length;
  let probe = 0;
  switch (m) {
    case 1: {
      const c0 = coef[0];
      const k0 = K[cols[0]];
      for (let i = 0; i < n; i++) {
        out[i] = base[i] + h * (c0 * k0[i]);
        probe += probeRow[i] * 0;
      }
      return probe;
    }
    case 2: {
      const c0 = coef[0], c1 = coef[1];
      const k0 = K[cols[0]], k1 = K[cols[1]];
      for (let i = 0; i < n; i++) {
        out[i] = base[i] + h * (c0 * k0[i] + c1 * k1[i]);
        probe += probeRow[i] * 0;
      }
      return probe;
    }
    case 3: {
      const c0 = coef[0], c1 = coef[1], c2 = coef[2];
      const k0 = K[cols[0]], k1 = K[cols[1]], k2 = K[cols[2]];
      for (let i = 0; i < n; i++) {
        out[i] = base[i] + h * (c0 * k0[i] + c1 * k1[i] + c2 * k2[i]);
        probe += probeRow[i] * 0;
      }
      return probe;
    }
    case 4: {
      const c0 = coef[0], c1 = coef[1], c2 = coef[2], c3 = coef[3];
      const k0 = K[cols[0]], k1 = K[cols[1]], k2 = K[cols[2]], k3 = K[cols[3]];
      for (let i = 0; i < n; i++) {
        out[i] = base[i] + h * (c0 * k0[i] + c1 * k1[i] + c2 * k2[i] + c3 * k3[i]);
        probe += probeRow[i] * 0;
      }
      return probe;
    }
    case 5: {
      const c0 = coef[0], c1 = coef[1], c2 = coef[2], c3 = coef[3], c4 = coef[4];
      const k0 = K[cols[0]], k1 = K[cols[1]], k2 = K[cols[2]], k3 = K[cols[3]], k4 = K[cols[4]];
      for (let i = 0; i < n; i++) {
        out[i] = base[i] + h * (c0 * k0[i] + c1 * k1[i] + c2 * k2[i] + c3 * k3[i] + c4 * k4[i]);
        probe += probeRow[i] * 0;
      }
      return probe;
    }
    case 6: {
      const c0 = coef[0], c1 = coef[1], c2 = coef[2], c3 = coef[3], c4 = coef[4], c5 = coef[5];
      const k0 = K[cols[0]], k1 = K[cols[1]], k2 = K[cols[2]], k3 = K[cols[3]], k4 = K[cols[4]], k5 = K[cols[5]];
      for (let i = 0; i < n; i++) {
        out[i] = base[i] + h * (c0 * k0[i] + c1 * k1[i] + c2 * k2[i] + c3 * k3[i] + c4 * k4[i] + c5 * k5[i]);
        probe += probeRow[i] * 0;
      }
      return probe;
    }
    case 7: {
      const c0 = coef[0], c1 = coef[1], c2 = coef[2], c3 = coef[3], c4 = coef[4], c5 = coef[5], c6 = coef[6];
      const k0 = K[cols[0]], k1 = K[cols[1]], k2 = K[cols[2]], k3 = K[cols[3]], k4 = K[cols[4]], k5 = K[cols[5]], k6 = K[cols[6]];
      for (let i = 0; i < n; i++) {
        out[i] = base[i] + h * (c0 * k0[i] + c1 * k1[i] + c2 * k2[i] + c3 * k3[i] + c4 * k4[i] + c5 * k5[i] + c6 * k6[i]);
        probe += probeRow[i] * 0;
      }
      return probe;
    }
    default: {
      // Generic path (more than 7 nonzero terms, or none); same arithmetic order as the cases.
      for (let i = 0; i < n; i++) {
        let acc = 0;
        for (let q = 0; q < m; q++) acc += coef[q] * K[cols[q]][i];
        out[i] = base[i] + h * acc;
        probe += probeRow[i] * 0;
      }
      return probe;
    }
  }
}

/**
 * The step's error norm without storing the error vector: sum_i (err_i / w_i)^2 with
 * err_i = h sum_q coef_q K[cols_q]_i and w_i = atol_i + rtol max(|y_i|, |yNew_i|) (HNW I,
 * Eq. (4.11)). Fusing the error combination with the norm saves writing and re-reading one state
 * vector per step, which matters because these passes are memory-bound. Also probes yNew for
 * NaN/Inf like linearCombination (returns the probe in `probe[0]`). A NaN in any stage derivative
 * reaches the sum, so the caller's isNaN(err) check catches it.
 */
export function errorNormSq(
  h: number,
  cols: Int32Array,
  coef: Float64Array,
  K: readonly Float64Array[],
  y: Float64Array,
  yNew: Float64Array,
  atol: Float64Array,
  rtol: number,
  probe: Float64Array,
): number {
  const n = y.length;
  let sum = 0;
  let p = 0;
  if (cols.length === 6) {
    const c0 = coef[0], c1 = coef[1], c2 = coef[2], c3 = coef[3], c4 = coef[4], c5 = coef[5];
    const k0 = K[cols[0]], k1 = K[cols[1]], k2 = K[cols[2]], k3 = K[cols[3]], k4 = K[cols[4]], k5 = K[cols[5]];
    for (let i = 0; i < n; i++) {
      const yn = yNew[i];
      const e = h * (c0 * k0[i] + c1 * k1[i] + c2 * k2[i] + c3 * k3[i] + c4 * k4[i] + c5 * k5[i]);
      const r = e / (atol[i] + rtol * Math.max(Math.abs(y[i]), Math.abs(yn)));
      sum += r * r;
      p += yn * 0;
    }
  } else {
    // Generic path (the DOPRI5 error weights have 6 nonzero terms; other tableaux land here).
    const m = cols.length;
    for (let i = 0; i < n; i++) {
      const yn = yNew[i];
      let acc = 0;
      for (let q = 0; q < m; q++) acc += coef[q] * K[cols[q]][i];
      const r = (h * acc) / (atol[i] + rtol * Math.max(Math.abs(y[i]), Math.abs(yn)));
      sum += r * r;
      p += yn * 0;
    }
  }
  probe[0] = p;
  return sum;
}

/**
 * The logistic loss l(x) = log(1 + exp(-x)) and its gradient weight, computed without overflow
 * for any |x| (paper Sec. 2: g_i = 1 / (1 + exp(y_i F_i)) = -l'(y_i F_i)).
 */
export function logisticLoss(x: number): number {
  // log(1 + e^-x) = max(-x, 0) + log1p(e^-|x|)
  return Math.max(-x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

/** g(x) = 1 / (1 + e^x) = -dl/dx. */
export function logisticWeight(x: number): number {
  if (x >= 0) {
    const e = Math.exp(-x);
    return e / (1 + e);
  }
  return 1 / (1 + Math.exp(x));
}

/**
 * min_i y_i F_i over the first n samples (> 0 iff every sample is classified correctly, Thm 3.1);
 * NaN if some margin is NaN, so that a blow-up is seen whatever the level.
 */
export function minMargin(F: Float64Array, y: Float64Array, n = F.length): number {
  let min = Infinity;
  for (let i = 0; i < n; i++) min = Math.min(min, y[i] * F[i]);
  // Math.min ranks -0 below +0; a margin of exactly 0 is reported as +0 whatever the label's sign.
  return min === 0 ? 0 : min;
}

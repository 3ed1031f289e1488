/**
 * Parameters of the paper's model (Eq. 1). All matrices are row-major Float64Array.
 *
 *   F(X) = sum_l sum_j a_j w_j^T W_V X softmax( X^T W_K^T W_Q x_l / sqrt(m) )
 */
export interface Params {
  /** attention / value width */
  readonly m: number;
  /** MLP width (number of neurons) */
  readonly m1: number;
  /** vocabulary size */
  readonly d: number;
  /** m x d, row-major: WQ[r * d + c] */
  readonly WQ: Float64Array;
  /** m x d */
  readonly WK: Float64Array;
  /** m x d */
  readonly WV: Float64Array;
  /** m1 x m, rows are the neurons w_j^T */
  readonly W: Float64Array;
  /** m1, entries +1/-1, fixed (not trained) */
  readonly a: Float64Array;
}

/** Gradient of the mean loss with respect to the trainable matrices (same shapes as Params). */
export interface ParamGrad {
  readonly dWQ: Float64Array;
  readonly dWK: Float64Array;
  readonly dWV: Float64Array;
  readonly dW: Float64Array;
}

/**
 * Level P state layout: C = V^T V (k x k, row-major, symmetric, stored in full), u = V^T r (k),
 * s = r^T r (1), over the same k local tokens as Level G (src/gram/layout.ts). These are exactly
 * the last k^2 + k + 1 entries of a Level G state, so a Level G start becomes a Level P start by
 * one slice (paperStateOfGram).
 */
import { GramLayout } from '../gram/layout.js';

export interface PaperLayout {
  readonly k: number;
  /** k^2 + k + 1 */
  readonly size: number;
  readonly C: number;
  readonly u: number;
  readonly s: number;
}

export function paperLayout(k: number): PaperLayout {
  return { k, size: k * k + k + 1, C: 0, u: k * k, s: k * k + k };
}

/** The (C, u, s) part of a Level G state, as a Level P state. */
export function paperStateOfGram(yG: Float64Array, g: GramLayout): Float64Array {
  return yG.slice(g.C, g.s + 1);
}

/** The buffers the generated Level P code (./generated/paperField.ts) works in; allocated once. */
export interface PaperWorkspace {
  /** samples, bag length, tracked tokens, MLP width */
  readonly n: number;
  readonly L: number;
  readonly k: number;
  readonly m1: number;
  /** the data's tokens as local ids (n x L) */
  readonly tokens: Int32Array;
  /** labels +1/-1 (n) */
  readonly labels: Float64Array;
  /** per-sample outputs and losses of the last kernel call (n) */
  readonly F: Float64Array;
  readonly sampleLoss: Float64Array;
  /** dL/du of the last kernel call with wantGrad (k) */
  readonly gu: Float64Array;
}

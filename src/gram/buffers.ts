import type { GramKernels } from './kernels.js';
import type { GramLayout } from './layout.js';

/**
 * The buffers the generated Level G code (./generated/gramField.ts) works in. GramModel
 * (./flow.ts) allocates them once; the generated functions allocate nothing.
 */
export interface GramWorkspace {
  /** samples, bag length, distinct tokens, MLP width */
  readonly n: number;
  readonly L: number;
  readonly k: number;
  readonly m1: number;
  /** the offsets of the blocks of a state (./layout.ts) */
  readonly layout: GramLayout;
  /** 1/sqrt(m): the softmax temperature of Eq. 1 */
  readonly invSqrtM: number;
  /** the data's tokens as local ids (n x L) */
  readonly tokens: Int32Array;
  /** labels +1/-1 (n) */
  readonly labels: Float64Array;
  /**
   * Nonzero pattern of Gam = dL/dS: (b, a) such that b is a key and a a query token of one
   * sample. Gam is zero elsewhere for every state, so products with Gam loop over this list.
   */
  readonly nzRow: Int32Array;
  readonly nzCol: Int32Array;
  readonly nnz: number;
  /**
   * dL/dS (k x k, dense storage, zero off the pattern: only the pattern entries are ever written)
   * and dL/du (k) of the last kernel call
   */
  readonly Gam: Float64Array;
  readonly gu: Float64Array;
  /** per-sample scratch: attention weights P[p*L + l] and query outputs F_l */
  readonly P: Float64Array;
  readonly Fl: Float64Array;
  /** per-sample outputs F_i and losses of the last kernel call (n) */
  readonly F: Float64Array;
  readonly sampleLoss: Float64Array;
  /** scratch vector (k) for intermediate vector products (e.g. gu^T C of gu^T C gu) */
  readonly V1: Float64Array;
  /**
   * The k x k kernels and their memory (./kernels.ts): a copy of the state, of gu, and the
   * scratch matrices the generated code names (GRAM_KERNEL_SLOTS), with Gam's nonzero pattern
   * grouped by rows and by columns.
   */
  readonly km: GramKernels;
}

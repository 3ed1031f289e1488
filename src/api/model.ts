/**
 * The model as library functions: files in and out, a training set, initial weights, and the
 * loss with its analytic gradient (paper Eq. 1 and the logistic loss). Each is the code the
 * commands `coflow data`, `coflow init` and `coflow grad` run, without printing anything.
 */
import type { Dataset } from '../data/dataset.js';
import { generateDataset, type DataConfig } from '../data/generate.js';
import { UsageError } from '../errors.js';
import { readDatasetNpz, readParamsNpz, writeDatasetNpz, writeParamsNpz } from '../io/files.js';
import { allocGrad, LossGrad } from '../model/gradient.js';
import { initParams, type InitConfig } from '../model/init.js';
import type { Params } from '../model/params.js';

/**
 * Reads initial or trained weights from a NumPy .npz file (arrays WQ, WK, WV, W, a; float64, or
 * int arrays converted; see docs/files.md). Every problem is a UsageError naming the file and the fix.
 *
 * @param path - the .npz file, e.g. written by `coflow init` or by NumPy's `np.savez`
 * @returns the weights: m x d matrices WQ, WK, WV and the m1 x m matrix W, row-major, and the signs a
 * @example
 * ```ts
 * import { readParams } from 'coflow';
 * const p = readParams('initial.npz');
 * console.log(p.m, p.m1, p.d);
 * ```
 */
export function readParams(path: string): Params {
  return readParamsNpz(path);
}

/**
 * Reads a training set from a NumPy .npz file (arrays tokens (n x L int), y (n, +1/-1), type
 * (n, 1..4), d; see docs/files.md).
 *
 * @param path - the .npz file, e.g. written by `coflow data`
 * @returns the data set: n, L, d, the tokens row-major, the labels and the sample types
 * @example
 * ```ts
 * import { readDataset } from 'coflow';
 * const data = readDataset('data.npz');
 * console.log(data.n, data.L, data.d);
 * ```
 */
export function readDataset(path: string): Dataset {
  return readDatasetNpz(path);
}

/**
 * Writes weights as a .npz file NumPy reads with `np.load` (atomically: a reader never sees half a file).
 *
 * @param path - the file to write
 * @param params - the weights
 * @returns nothing; the file is in place when it returns
 * @example
 * ```ts
 * import { makeParams, writeParams } from 'coflow';
 * writeParams('w.npz', makeParams({ m: 16, m1: 8, d: 10, s0: 0.1, s1: 0.1, seed: 0 }));
 * ```
 */
export function writeParams(path: string, params: Params): void {
  writeParamsNpz(path, params);
}

/**
 * Writes a training set as a .npz file NumPy reads with `np.load` (atomically).
 *
 * @param path - the file to write
 * @param data - the data set
 * @returns nothing; the file is in place when it returns
 * @example
 * ```ts
 * import { makeDataset, writeDataset } from 'coflow';
 * writeDataset('d.npz', makeDataset({ n: 12, L: 4, d: 20, seed: 0, fillers: 'distinct' }));
 * ```
 */
export function writeDataset(path: string, data: Dataset): void {
  writeDatasetNpz(path, data);
}

/** The settings of a training set (paper Def. 2.1): n, L, d, seed, fillers. */
export type DatasetOptions = DataConfig;

/**
 * A training set as `coflow data` builds it (the same seed gives the same set).
 *
 * @param options - n, L, d, seed, fillers
 * @returns the data set
 * @example
 * ```ts
 * import { makeDataset } from 'coflow';
 * const data = makeDataset({ n: 60, L: 5, d: 64, seed: 0, fillers: 'repeat' });
 * ```
 */
export function makeDataset(options: DatasetOptions): Dataset {
  return generateDataset(options);
}

/** The settings of the paper's Gaussian initialisation: m, m1, d, s0, s1, seed. */
export type ParamsOptions = InitConfig;

/**
 * Initial weights as `coflow init` draws them: Gaussian W_Q, W_K, W_V (std s0), W (std s1), and
 * fixed signs a, each +1 or -1 with probability 1/2.
 *
 * @param options - m, m1, d, s0, s1, seed
 * @returns the weights
 * @example
 * ```ts
 * import { makeParams } from 'coflow';
 * const p = makeParams({ m: 128, m1: 256, d: 64, s0: 0.177, s1: 0.125, seed: 0 });
 * ```
 */
export function makeParams(options: ParamsOptions): Params {
  return initParams(options);
}

/** The loss, the per-sample outputs and the gradient, as `coflow grad` writes them. */
export interface LossAndGradient {
  /** the mean logistic loss (1/n) sum_i log(1 + exp(-y_i F(X_i))) */
  loss: number;
  /** the n per-sample outputs F(X_i) */
  F: Float64Array;
  /** dL/dW_Q, m x d row-major */
  dWQ: Float64Array;
  /** dL/dW_K, m x d */
  dWK: Float64Array;
  /** dL/dW_V, m x d */
  dWV: Float64Array;
  /** dL/dW, m1 x m */
  dW: Float64Array;
}

/**
 * The loss and its analytic gradient at `params` on `data`: the code of `coflow grad` (equal to
 * reverse-mode autodiff and to PyTorch to about 1e-15, docs/checks.md). The data's tokens must
 * lie below the weights' d.
 *
 * @param params - the weights
 * @param data - the training set
 * @returns loss, F and the four gradient blocks (fresh arrays)
 * @example
 * ```ts
 * import { lossAndGradient, readDataset, readParams } from 'coflow';
 * const { loss, dWQ } = lossAndGradient(readParams('initial.npz'), readDataset('data.npz'));
 * ```
 */
export function lossAndGradient(params: Params, data: Dataset): LossAndGradient {
  if (data.d > params.d) throw new UsageError(`data has d = ${data.d} but params has d = ${params.d} (W_Q is ${params.m} x ${params.d}); use weights and data built with the same d`);
  for (let i = 0; i < data.tokens.length; i++) {
    if (data.tokens[i] < 0 || data.tokens[i] >= params.d) throw new UsageError(`data token ${data.tokens[i]} (at index ${i}) is outside [0, ${params.d}) of params' d; use weights and data built with the same d`);
  }
  const lg = new LossGrad({ ...data, d: params.d }, params.m, params.m1);
  const grad = allocGrad(params);
  const loss = lg.lossAndGrad(params, grad);
  return { loss, F: Float64Array.from(lg.F), dWQ: grad.dWQ, dWK: grad.dWK, dWV: grad.dWV, dW: grad.dW };
}

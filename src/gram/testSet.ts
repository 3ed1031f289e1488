/**
 * Test-set outputs from a Level G state (paper Thm 3.3 speaks of the test loss).
 *
 * F of a sample depends on the weights only through the scores S[key, query] and u of its own
 * tokens, so a test sample can be evaluated from the Gram state as soon as the model tracks all
 * of its tokens. Tokens that no training sample holds must therefore be passed to the model as
 * extra tokens; their Gram entries with the training tokens evolve with training (./layout.ts).
 * The forward pass is the one of the training kernel: z_pl = S[x_p, x_l] / sqrt(m), softmax
 * over the keys p for each query l, F_l = sum_p P_pl u[x_p], F = sum_l F_l (Eq. 1).
 */
import { Dataset } from '../data/dataset.js';
import { UsageError } from '../errors.js';
import { logisticLoss } from '../model/logistic.js';
import type { GramModel } from './flow.js';
import { checkDataset } from './layout.js';

export interface GramTestEvaluation {
  /** per-sample outputs F_i of the test set; a view overwritten by the next evaluate call */
  readonly F: Float64Array;
  /** mean logistic loss (1/n) sum_i l(y_i F_i) */
  readonly loss: number;
  /** fraction of test samples with y_i F_i <= 0 (a NaN output counts as an error) */
  readonly error: number;
}

export class GramTestSet {
  /** number of test samples */
  readonly n: number;
  /** the test set's tokens as the model's local ids (n x L) */
  private readonly local: Int32Array;
  private readonly labels: Float64Array;
  private readonly invSqrtM: number;
  /** attention weights of one query over the L keys (scratch) */
  private readonly P: Float64Array;
  private readonly result: { F: Float64Array; loss: number; error: number };

  constructor(
    readonly model: GramModel,
    readonly test: Dataset,
  ) {
    checkDataset(test);
    const trainD = model.data.d;
    if (test.d !== trainD) {
      throw new UsageError(`the test set has vocabulary size d = ${test.d} but the model was built for d = ${trainD}; draw the test set with the training set's d`);
    }
    const localOf = model.index.localOf;
    this.local = new Int32Array(test.tokens.length);
    let missing = 0;
    let firstMissing = -1;
    for (let i = 0; i < test.tokens.length; i++) {
      const a = localOf[test.tokens[i]];
      if (a < 0) {
        if (firstMissing < 0) firstMissing = test.tokens[i];
        missing++;
      }
      this.local[i] = a;
    }
    if (missing > 0) {
      throw new UsageError(
        `the test set holds ${missing} token occurrence(s) the Gram model does not track (first: vocabulary id ${firstMissing}); pass the test tokens as extraTokens: new GramModel(train, m, m1, { extraTokens: test.tokens })`,
      );
    }
    this.n = test.n;
    this.labels = Float64Array.from(test.y);
    this.invSqrtM = 1 / Math.sqrt(model.m);
    this.P = new Float64Array(test.L);
    this.result = { F: new Float64Array(test.n), loss: NaN, error: NaN };
  }

  /**
   * Outputs, mean loss and error rate of the test set at the Level G state y. Allocation-free:
   * the returned object and its F are reused by the next call (copy what you keep).
   */
  evaluate(y: Float64Array): GramTestEvaluation {
    const { model, local, labels, invSqrtM, P, n } = this;
    if (y.length !== model.size) {
      throw new UsageError(`Level G state has length ${y.length}, expected 4k^2 + k + 1 = ${model.size} for k = ${model.k} tokens`);
    }
    const { k, layout } = model;
    const oS = layout.S;
    const oU = layout.u;
    const L = this.test.L;
    const F = this.result.F;
    let total = 0;
    let wrong = 0;
    for (let i = 0; i < n; i++) {
      const base = i * L;
      let Fi = 0;
      for (let l = 0; l < L; l++) {
        const query = local[base + l];
        // softmax over keys, shifted by the largest score (shift invariant, no overflow)
        let zmax = -Infinity;
        for (let p = 0; p < L; p++) {
          const z = y[oS + local[base + p] * k + query] * invSqrtM;
          P[p] = z;
          if (z > zmax) zmax = z;
        }
        let Z = 0;
        for (let p = 0; p < L; p++) {
          const e = Math.exp(P[p] - zmax);
          P[p] = e;
          Z += e;
        }
        // normalise then sum, in the training kernel's order, so that a test set equal to the
        // training set reproduces the model's own outputs bit for bit
        const invZ = 1 / Z;
        let Fl = 0;
        for (let p = 0; p < L; p++) Fl += P[p] * invZ * y[oU + local[base + p]];
        Fi += Fl;
      }
      F[i] = Fi;
      const margin = labels[i] * Fi;
      total += logisticLoss(margin);
      // !(margin > 0) rather than margin <= 0: a NaN output is not a correct classification
      if (!(margin > 0)) wrong++;
    }
    this.result.loss = total / n;
    this.result.error = wrong / n;
    return this.result;
  }
}

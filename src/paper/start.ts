/**
 * A Level P start from a Level G start (`--level paper` takes every start Level G takes, built
 * exactly as Level G builds it, src/run/levels.ts): the (C, u, s) part of the Level G state, and
 * its attention blocks S, A, B, which Level P keeps frozen and reports unchanged.
 */
import { Dataset } from '../data/dataset.js';
import { GramModel } from '../gram/flow.js';
import { tokenIndex } from '../gram/layout.js';
import { PairTable } from '../model/pairTable.js';
import { FrozenAttention, PaperModel } from './model.js';
import { paperStateOfGram } from './layout.js';

/** The frozen attention of a Level G state: the 3 x 3 blocks on mu_1..3 and the co-occurring pair scores (src/observe order). */
export function frozenAttentionOf(model: GramModel, yG: Float64Array): FrozenAttention {
  const { layout: lay, k } = model;
  const li = model.index.localOf;
  const block = (off: number) => {
    const b = new Float64Array(9);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) b[3 * i + j] = li[i] >= 0 && li[j] >= 0 ? yG[off + li[i] * k + li[j]] : NaN;
    return b;
  };
  const pairs = new PairTable(model.data);
  const pairScores = Float64Array.from(pairs.key, (key, e) => yG[lay.S + li[key] * k + li[pairs.query[e]]]);
  return { S: block(lay.S), A: block(lay.A), B: block(lay.B), pairScores };
}

/** The Level P model and starting state from a Level G model and starting state on the same data. */
export function paperFromGram(data: Dataset, model: GramModel, yG: Float64Array): { model: PaperModel; y0: Float64Array } {
  if (model.k !== tokenIndex(data).k) throw new Error('Level P: the Level G start tracks other tokens than the training set (a test set?)');
  const paper = new PaperModel(data, model.m, model.m1, { frozen: frozenAttentionOf(model, yG) });
  return { model: paper, y0: paperStateOfGram(yG, model.layout) };
}

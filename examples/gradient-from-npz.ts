/**
 * The loss and its gradient from .npz files, as `coflow grad` computes them.
 *
 *   node dist-examples/gradient-from-npz.js PARAMS.npz DATA.npz
 *
 * Without arguments it first writes a small data set and initial weights (data.npz, initial.npz
 * in the current directory) with makeDataset / makeParams, as `coflow data` and `coflow init` would.
 * It prints one JSON line: the loss, the number of samples, and the norm of each gradient block.
 */
import { lossAndGradient, makeDataset, makeParams, readDataset, readParams, writeDataset, writeParams } from 'coflow';

let [paramsPath, dataPath] = process.argv.slice(2);
if (paramsPath === undefined || dataPath === undefined) {
  paramsPath = 'initial.npz';
  dataPath = 'data.npz';
  writeDataset(dataPath, makeDataset({ n: 60, L: 5, d: 64, seed: 0, fillers: 'repeat' }));
  writeParams(paramsPath, makeParams({ m: 32, m1: 16, d: 64, s0: 0.1, s1: 0.125, seed: 0 }));
}

const params = readParams(paramsPath);
const data = readDataset(dataPath);
const g = lossAndGradient(params, data);

const norm = (x: Float64Array): number => Math.sqrt(x.reduce((s, v) => s + v * v, 0));
console.log(JSON.stringify({ loss: g.loss, n: g.F.length, norms: { dWQ: norm(g.dWQ), dWK: norm(g.dWK), dWV: norm(g.dWV), dW: norm(g.dW) } }));

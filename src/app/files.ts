import { ResolvedSettings } from '../config/resolve.js';
import { generateDataset } from '../data/generate.js';
import { UsageError } from '../errors.js';
import { readDatasetNpz, readParamsNpz, writeDatasetNpz, writeGradNpz, writeParamsNpz } from '../io/files.js';
import { allocGrad, LossGrad } from '../model/gradient.js';
import { compareGrads } from '../model/gradcheck.js';
import { initParams } from '../model/init.js';
import { oracleLossAndGrad } from '../model/oracle.js';
import { Dataset } from '../data/dataset.js';
import { Params } from '../model/params.js';

/** `coflow data`: the preset's data set, written as .npz. */
export function dataCommand(s: ResolvedSettings, out: string): void {
  const data = generateDataset({ n: s.n, L: s.L, d: s.d, seed: s.seed, fillers: s.fillers });
  writeDatasetNpz(out, data);
  process.stdout.write(`wrote ${out}: n=${data.n} L=${data.L} d=${data.d} fillers=${s.fillers} seed=${s.seed}\n`);
}

/** `coflow init`: the preset's initial parameters, written as .npz. */
export function initCommand(s: ResolvedSettings, out: string): void {
  const p = initParams({ m: s.m, m1: s.m1, d: s.d, s0: s.s0, s1: s.s1, seed: s.seed });
  writeParamsNpz(out, p);
  process.stdout.write(`wrote ${out}: m=${p.m} m1=${p.m1} d=${p.d} s0=${s.s0} s1=${s.s1} seed=${s.seed}\n`);
}

/** Checks that a parameter file and a data file belong together. */
export function checkCompatible(p: Params, data: Dataset, paramsPath: string, dataPath: string): void {
  if (data.d > p.d) {
    throw new UsageError(`${dataPath}: d=${data.d} but ${paramsPath} has d=${p.d} (WQ is ${p.m} x ${p.d}); use files built with the same --d`);
  }
  for (let i = 0; i < data.tokens.length; i++) {
    if (data.tokens[i] >= p.d) {
      throw new UsageError(`${dataPath}: key 'tokens' has token ${data.tokens[i]} >= d=${p.d} of ${paramsPath}; use files built with the same --d`);
    }
  }
}

/** Analytic vs autodiff: both are exact float64 computations of the same function. */
export const GRAD_CHECK_TOL = 1e-10;

/** `coflow grad`: loss, F and the analytic gradient; optionally checked against autodiff. */
export function gradCommand(paramsPath: string, dataPath: string, out: string, check: boolean): void {
  const p = readParamsNpz(paramsPath);
  const file = readDatasetNpz(dataPath);
  checkCompatible(p, file, paramsPath, dataPath);
  const data: Dataset = { ...file, d: p.d };
  const lg = new LossGrad(data, p.m, p.m1);
  const grad = allocGrad(p);
  const loss = lg.lossAndGrad(p, grad);
  if (check) {
    const oracle = oracleLossAndGrad(p, data);
    const cmp = compareGrads(grad, oracle.grad);
    const lossRel = Math.abs(loss - oracle.loss) / Math.max(Math.abs(oracle.loss), Number.MIN_VALUE);
    const ok = cmp.maxRel <= GRAD_CHECK_TOL && lossRel <= GRAD_CHECK_TOL;
    process.stdout.write(
      `autodiff check: max relative gradient difference ${cmp.maxRel.toExponential(3)} (worst: ${cmp.worst}), loss difference ${lossRel.toExponential(3)}: ${ok ? 'ok' : 'FAILED'} (tolerance ${GRAD_CHECK_TOL})\n`,
    );
    if (!ok) process.exitCode = 1;
  }
  writeGradNpz(out, { loss, F: lg.F, grad }, { m: p.m, m1: p.m1, d: p.d });
  process.stdout.write(`wrote ${out}: loss=${loss}\n`);
}

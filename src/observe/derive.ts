/**
 * Every trajectory column, derived from a level's primitives (src/observe/primitives.ts) in one
 * place, with one set of names (docs/observables.md). Levels F, G and T differ only in how they
 * compute the primitives; the definitions below are shared, so a column means the same at every
 * level and runs of different levels can be compared column by column.
 */
import { logisticLoss, logisticWeight } from '../model/logistic.js';
import { PAIR_FILLER_FILLER, PAIR_SPECIAL_FILLER, PAIR_TARGET_TARGET, Primitives, Probe } from './primitives.js';

/** score_k{i}_q{j} = mu_i^T W_K^T W_Q mu_j (key i, query j), unscaled (Fig. 1(a), Thm 3.2). */
export const SCORE_COLUMNS: readonly string[] = [1, 2, 3].flatMap((i) => [1, 2, 3].map((j) => `score_k${i}_q${j}`));

const TYPES = [1, 2, 3, 4];
const perType = (name: string) => TYPES.map((t) => `${name}_I${t}`);

/** The value-correlation entries reported (C is symmetric): mu_i^T W_V^T W_V mu_j. */
const C_ENTRIES: readonly [number, number][] = [
  [0, 0],
  [0, 1],
  [0, 2],
  [1, 1],
  [1, 2],
  [2, 2],
];

/** Column names in file order; the first ones are the columns coflow has always written. */
export function observationColumns(withStep: boolean, withTest: boolean): string[] {
  return [
    't',
    ...(withStep ? ['step'] : []),
    'loss',
    ...perType('loss'),
    'G1',
    'G2',
    'G3',
    ...SCORE_COLUMNS,
    'minMargin',
    'drift_QK',
    'drift_VW',
    'maxAbsF',
    ...perType('margin'),
    ...perType('sumg'),
    'balance44',
    'R45',
    ...C_ENTRIES.map(([i, j]) => `C${i + 1}${j + 1}`),
    's',
    'move_A',
    'move_B',
    'move_C',
    'move_S_tt',
    'move_S_sf',
    'move_S_ff',
    'dG1',
    'dG2',
    'dG3',
    'lemma43_max',
    'lemma43_sum',
    'attn_dev_uniform',
    'attn_dev_init',
    ...perType('fillerF'),
    'Gfiller_max',
    ...(withTest ? ['test_loss', 'test_error'] : []),
  ];
}

function maxAbsDiff(x: Float64Array, x0: Float64Array): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) {
    const d = Math.abs(x[i] - x0[i]);
    if (d > m || Number.isNaN(d)) m = d;
  }
  return m;
}

/**
 * Turns primitives into rows. It keeps the primitives at t = 0 (from the run's starting state),
 * against which the movement columns (Thm 3.1's "barely move") and attn_dev_init are measured.
 */
export class Observer {
  readonly columns: string[];
  private readonly A0: Float64Array;
  private readonly B0: Float64Array;
  private readonly C0: Float64Array;
  private readonly pair0: Float64Array;
  private readonly attn0: Float64Array;

  constructor(
    readonly source: Probe,
    y0: Float64Array,
    readonly withStep: boolean,
  ) {
    this.columns = observationColumns(withStep, source.hasTest);
    const p = source.probe(y0);
    this.A0 = p.A.slice();
    this.B0 = p.B.slice();
    this.C0 = p.C.slice();
    this.pair0 = p.pairScores.slice();
    this.attn0 = p.attention.slice();
  }

  /** The row at state y (flow time t, GD step or null) with the conserved quantities' drifts. */
  row(t: number, step: number | null, y: Float64Array, drift: readonly [number, number]): number[] {
    return this.fromPrimitives(t, step, this.source.probe(y), drift);
  }

  fromPrimitives(t: number, step: number | null, p: Primitives, drift: readonly [number, number]): number[] {
    const { n, L } = p;
    // Per type: summed loss, summed g, sample count, min margin, summed filler part of F.
    const lossSum = [0, 0, 0, 0];
    const gSum = [0, 0, 0, 0];
    const count = [0, 0, 0, 0];
    const margin = [Infinity, Infinity, Infinity, Infinity];
    const fillerSum = [0, 0, 0, 0];
    let maxAbsF = 0;
    for (let g = 0; g < p.F.length; g++) {
      const t4 = p.groupType[g] - 1;
      const c = p.groupCount[g];
      const mg = p.groupLabel[g] * p.F[g];
      lossSum[t4] += c * logisticLoss(mg);
      gSum[t4] += c * logisticWeight(mg);
      count[t4] += c;
      fillerSum[t4] += c * p.fillerF[g];
      if (!(mg >= margin[t4])) margin[t4] = mg;
      const a = Math.abs(p.F[g]);
      if (!(a <= maxAbsF)) maxAbsF = a;
    }
    const loss = (lossSum[0] + lossSum[1] + lossSum[2] + lossSum[3]) / n;
    const lossByType = TYPES.map((_, t4) => lossSum[t4] / count[t4]);
    const sumg = gSum.map((x) => x / n);
    // Lemma 4.4: |sum_I2 g - sum_I3 g| / min(sum_I2 g, sum_I3 g); Lemma 4.5's R(t).
    const balance44 = Math.abs(sumg[1] - sumg[2]) / Math.min(sumg[1], sumg[2]);
    const R45 = (sumg[1] + sumg[2] + sumg[3] - sumg[0]) / (sumg[0] - sumg[1]);
    const minMargin = Math.min(...margin);
    // Lemma 4.3: (1 + C) max(G1', G2') <= -G3' <= (1 - C)(G1' + G2').
    const [d1, d2, d3] = p.dG;
    const lemma43Max = -d3 / Math.max(d1, d2);
    const lemma43Sum = -d3 / (d1 + d2);

    // Movement of the co-occurring pair scores since t = 0, by class (Lemma 4.7, Thm 3.3).
    const move = [0, 0, 0];
    for (let e = 0; e < p.pairScores.length; e++) {
      const cls = p.pairClass[e];
      if (cls > PAIR_FILLER_FILLER) continue;
      const dlt = Math.abs(p.pairScores[e] - this.pair0[e]);
      if (!(dlt <= move[cls])) move[cls] = dlt;
    }
    let devUniform = 0;
    const uniform = 1 / L;
    for (let e = 0; e < p.attention.length; e++) {
      const dlt = Math.abs(p.attention[e] - uniform);
      if (!(dlt <= devUniform)) devUniform = dlt;
    }

    const row: number[] = [t];
    if (this.withStep) row.push(step ?? NaN);
    row.push(loss, ...lossByType, p.G[0], p.G[1], p.G[2], ...p.S, minMargin, drift[0], drift[1]);
    row.push(maxAbsF, ...margin, ...sumg, balance44, R45);
    for (const [i, j] of C_ENTRIES) row.push(p.C[3 * i + j]);
    row.push(p.s, maxAbsDiff(p.A, this.A0), maxAbsDiff(p.B, this.B0), maxAbsDiff(p.C, this.C0));
    row.push(move[PAIR_TARGET_TARGET], move[PAIR_SPECIAL_FILLER], move[PAIR_FILLER_FILLER]);
    row.push(d1, d2, d3, lemma43Max, lemma43Sum, devUniform, maxAbsDiff(p.attention, this.attn0));
    row.push(...fillerSum.map((x, t4) => x / count[t4]), p.GfillerMaxAbs);
    if (this.source.hasTest) row.push(p.test ? p.test.loss : NaN, p.test ? p.test.error : NaN);
    return row;
  }
}

/**
 * d(loss_It)/dt for t = 1..4 along the flow, from the outputs and their rates dF/dt per group
 * (Probe.outputRates): d l(yF)/dt = -g y dF/dt with g = 1/(1 + exp(yF)). The maxima of loss_I2 and
 * loss_I3 (Phase 1's one-target rise, Thm 3.1) are where these cross zero downward.
 */
export function typeLossRates(p: Primitives, Fdot: Float64Array, out: Float64Array): Float64Array {
  const count = [0, 0, 0, 0];
  out.fill(0);
  for (let g = 0; g < p.F.length; g++) {
    const t4 = p.groupType[g] - 1;
    const yl = p.groupLabel[g];
    out[t4] += -p.groupCount[g] * logisticWeight(yl * p.F[g]) * yl * Fdot[g];
    count[t4] += p.groupCount[g];
  }
  for (let t4 = 0; t4 < 4; t4++) out[t4] /= count[t4];
  return out;
}

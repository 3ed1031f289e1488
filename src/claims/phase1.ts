/**
 * Claims about t = 0 and Phase 1 (up to T1, the first time every training sample is classified
 * correctly): Thm 3.1, Lemma 4.1 with Lemma 4.2, Lemma 4.3, and the rise-then-fall of the
 * one-target losses (paper Sec. 4.1, Fig. 1(b)). Bands: ./bands.ts; docs/claims.md.
 */
import {
  BARELY_MOVE_FRACTION,
  BARELY_MOVE_MAX,
  G_OMEGA,
  LEMMA41_RATIO_BAND,
  LEMMA42_MAX_RATIO,
  LEMMA43_FALLBACK_ROWS,
  LEMMA43_MIN_FRACTION,
  LEMMA43_WINDOW_START,
  LOSS_T1_MIN_FRACTION,
  ONE_TARGET_MIN_REL_CHANGE,
  T1_SCALED_BAND,
} from './bands.js';
import { firstMissing, maxOf, type RunView } from './series.js';
import { fmt, notEvaluable, type Check, type Measurement } from './verdict.js';

const MOVE_S = ['move_S_tt', 'move_S_sf', 'move_S_ff'];

/**
 * Thm 3.1 at T1: G(mu_1), G(mu_2) >= Omega(1), G(mu_3) <= -Omega(1); loss still Theta(1);
 * correlations, scores and attention barely moved; T1 = C / (s1^2 m m1) (Thm E.26).
 */
export function thm31(v: RunView): Measurement {
  const cols = ['loss', 'G1', 'G2', 'G3', 'move_A', 'move_B', 'move_C', 's', ...MOVE_S, 'attn_dev_init'];
  const pre = firstMissing(v.needColumns(cols), v.needT1());
  if (pre) return pre;
  const { s1, m, m1, L } = v.settings;
  const T1 = v.T1 as number;
  // Thm 3.1's rates up to T1, each with one log factor (bands.ts, BARELY_MOVE_MAX).
  const log = Math.max(Math.log(m), 1);
  const corrRate = log / (m * m); // entries of W_Q^T W_Q, W_K^T W_K
  const valueRate = log / m; // value correlations
  const scoreRate = log * m ** -1.5 * (1 / L + 1 / Math.sqrt(m));
  const attnRate = log * (1 / (Math.sqrt(m) * L) + L / m);
  const s0v = v.first('s');
  const moveS = Math.max(...MOVE_S.map((c) => v.atT1(c)));
  const barely = { min: 0, max: BARELY_MOVE_MAX };
  const checks: Check[] = [
    { name: 'G1(T1)', value: v.atT1('G1'), band: { min: G_OMEGA } },
    { name: 'G2(T1)', value: v.atT1('G2'), band: { min: G_OMEGA } },
    { name: 'G3(T1)', value: v.atT1('G3'), band: { max: -G_OMEGA } },
    { name: 'loss(T1)/loss(0)', value: v.atT1('loss') / v.first('loss'), band: { min: LOSS_T1_MIN_FRACTION } },
    { name: 'move_A(T1) / (ln m / m^2)', value: v.atT1('move_A') / corrRate, band: barely },
    { name: 'move_B(T1) / (ln m / m^2)', value: v.atT1('move_B') / corrRate, band: barely },
    { name: 'move_C(T1) / (ln m / m)', value: v.atT1('move_C') / valueRate, band: barely },
    { name: '|s(T1)-s(0)|/s(0)', value: Math.abs(v.atT1('s') - s0v) / s0v, band: { min: 0, max: BARELY_MOVE_FRACTION } },
    { name: 'max move_S(T1) / (ln m m^-3/2 (1/L + m^-1/2))', value: moveS / scoreRate, band: barely },
    { name: 'attn_dev_init(T1) / (ln m (1/(sqrt(m) L) + L/m))', value: v.atT1('attn_dev_init') / attnRate, band: barely },
    { name: 'T1 s1^2 m m1', value: T1 * s1 * s1 * m * m1, band: { min: T1_SCALED_BAND[0], max: T1_SCALED_BAND[1] } },
  ];
  return { kind: 'measured', checks, context: `T1 = ${fmt(T1)}${v.run.summary.allCorrectRow ? '' : ' (values at T1 interpolated between rows)'}` };
}

/**
 * Lemma 4.1: dG(mu_1,2)/dt(0) = Theta((s0^2 + s1^2) m m1). Lemma 4.2: |dG(mu_3)/dt(0)| is small
 * next to them. Read from the first row (t = 0).
 */
export function lemma41(v: RunView): Measurement {
  const pre = v.needColumns(['dG1', 'dG2', 'dG3']);
  if (pre) return pre;
  const { s0, s1, m, m1 } = v.settings;
  const scale = (s0 * s0 + s1 * s1) * m * m1;
  const d1 = v.first('dG1');
  const d2 = v.first('dG2');
  const d3 = v.first('dG3');
  const band = { min: LEMMA41_RATIO_BAND[0], max: LEMMA41_RATIO_BAND[1] };
  return {
    kind: 'measured',
    checks: [
      { name: 'dG1(0)/((s0^2+s1^2) m m1)', value: d1 / scale, band },
      { name: 'dG2(0)/((s0^2+s1^2) m m1)', value: d2 / scale, band },
      // min(dG1, dG2) in the denominator: a negative or zero target rate makes the ratio fail.
      { name: '|dG3(0)|/min(dG1(0), dG2(0))', value: Math.abs(d3) / Math.min(d1, d2), band: { min: 0, max: LEMMA42_MAX_RATIO } },
    ],
  };
}

/**
 * Lemma 4.3 on late Phase 1 (rows with t in [T1/2, T1], and the exact row at T1 when recorded):
 * (1+C) max(G1', G2') <= -G3' <= (1-C)(G1' + G2'), tested with C -> 0 as lemma43_max >= 1 (with
 * G1', G2' > 0) and 0 < lemma43_sum <= 1; the checks are the fractions of rows satisfying each.
 */
export function lemma43(v: RunView): Measurement {
  const cols = ['dG1', 'dG2', 'dG3', 'lemma43_max', 'lemma43_sum'];
  const pre = firstMissing(v.needColumns(cols), v.needT1());
  if (pre) return pre;
  const T1 = v.T1 as number;
  type Row = { d1: number; d2: number; d3: number; mx: number; sm: number };
  const rowAt = (i: number): Row => ({ d1: v.col('dG1')[i], d2: v.col('dG2')[i], d3: v.col('dG3')[i], mx: v.col('lemma43_max')[i], sm: v.col('lemma43_sum')[i] });
  const window: Row[] = [];
  let source = `rows with t in [${LEMMA43_WINDOW_START} T1, T1]`;
  for (let i = 1; i < v.rows; i++) if (v.t[i] >= LEMMA43_WINDOW_START * T1 && v.t[i] <= T1) window.push(rowAt(i));
  const exact = v.run.summary.allCorrectRow;
  if (exact && cols.every((c) => exact.has(c)) && !v.t.includes(T1)) {
    window.push({ d1: exact.get('dG1')!, d2: exact.get('dG2')!, d3: exact.get('dG3')!, mx: exact.get('lemma43_max')!, sm: exact.get('lemma43_sum')! });
  }
  if (window.length === 0) {
    const before: number[] = [];
    for (let i = 1; i < v.rows; i++) if (v.t[i] < T1) before.push(i);
    for (const i of before.slice(-LEMMA43_FALLBACK_ROWS)) window.push(rowAt(i));
    source = `the last ${window.length} rows before T1 (none in [${LEMMA43_WINDOW_START} T1, T1])`;
  }
  if (window.length === 0) return notEvaluable(`no recorded row between t = 0 and T1 = ${fmt(T1)}, so late Phase 1 was not observed`);
  const upper = window.filter((r) => r.d1 > 0 && r.d2 > 0 && r.mx >= 1).length / window.length;
  const lower = window.filter((r) => r.d3 < 0 && r.sm > 0 && r.sm <= 1).length / window.length;
  const band = { min: LEMMA43_MIN_FRACTION };
  return {
    kind: 'measured',
    checks: [
      { name: 'fraction of rows with lemma43_max >= 1', value: upper, band },
      { name: 'fraction of rows with lemma43_sum <= 1', value: lower, band },
    ],
    context: `${window.length} ${source}; lemma43_max min ${fmt(Math.min(...window.map((r) => r.mx)))}, lemma43_sum max ${fmt(maxOf(window.map((r) => r.sm)))}`,
  };
}

/**
 * Phase 1's one-target losses (I2, I3) first rise above their t = 0 value, then fall. The
 * peak must come no later than T1: at T1 every I2/I3 sample has y F > 0, i.e. a loss below
 * log 2, the t = 0 value of a near-zero start, so the fall has begun by then.
 */
export function oneTargetRise(v: RunView): Measurement {
  const pre = firstMissing(v.needColumns(['loss_I2', 'loss_I3']), v.needT1());
  if (pre) return pre;
  const T1 = v.T1 as number;
  const checks: Check[] = [];
  const context: string[] = [];
  for (const k of [2, 3]) {
    const name = `loss_I${k}`;
    const c = v.col(name);
    let iPeak = 0;
    for (let i = 1; i < c.length; i++) if (c[i] > c[iPeak]) iPeak = i;
    const peak = maxOf(c);
    const start = c[0];
    // The run's peak event is the exact time of the maximum; the argmax row is the fallback.
    const tPeak = v.eventT(`peak-${name}`) ?? v.t[iPeak];
    checks.push(
      { name: `rise of ${name}: (peak - start)/start`, value: (peak - start) / start, band: { min: ONE_TARGET_MIN_REL_CHANGE } },
      { name: `fall of ${name}: (peak - final)/peak`, value: (peak - v.last(name)) / peak, band: { min: ONE_TARGET_MIN_REL_CHANGE } },
      { name: `t(peak ${name})/T1`, value: tPeak / T1, band: { min: 0, max: 1 } },
    );
    context.push(`${name} peak ${fmt(peak)} at t = ${fmt(tPeak)}`);
  }
  const g3 = v.eventT('G3-negative');
  context.push(`T1 = ${fmt(T1)}`, `G3-negative at ${g3 === null ? 'no event' : `t = ${fmt(g3)}`}`);
  return { kind: 'measured', checks, context: context.join(', ') };
}

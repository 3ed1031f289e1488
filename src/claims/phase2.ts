/**
 * Claims about Phase 2 (from T1, the first all-correct event, to the end of the run): Thm 3.2
 * (scores, value correlations, sums of G), Def. F.1's invariants (fillers, near-uniform
 * attention), Lemma 4.4, Lemma 4.5, Thm F.8 (loss rate), Lemma 4.7 and Thm 3.3 (end state).
 * Phase 2 values are taken at T1 (exact row or interpolation, see RunView.atT1) and at every
 * recorded row after it. Bands: ./bands.ts; docs/claims.md.
 */
import {
  ATTN_UNIFORM_C,
  BALANCE44_MAX,
  FILLER_F_MAX,
  FILLER_G_LOG_FACTOR,
  FILLER_MOVE_MAX_FRACTION,
  FINAL_LOSS_POWER,
  G_OMEGA,
  LEMMA47_MIN_RATIO_OVER_N,
  LEMMA47_MU3_RATIO_BAND,
  LOSS_FIT_MIN_R2,
  LOSS_RATE_BAND,
  MONOTONE_MIN_FRACTION,
  R45_BOUND,
  R45_LATE_BAND,
  R45_T1_BAND,
} from './bands.js';
import { firstMissing, fractionMoving, linearFit, maxOf, type RunView } from './series.js';
import { fmt, type Check, type Measurement } from './verdict.js';

/**
 * Monotone in Phase 2: for each column, the fraction of consecutive intervals (from T1 on) in
 * which it moves the claimed way, and the sign of its net change over Phase 2.
 */
function monotone(v: RunView, series: readonly [string, 1 | -1][]): Measurement {
  const pre = firstMissing(v.needColumns(series.map(([c]) => c)), v.needPhase2());
  if (pre) return pre;
  const checks: Check[] = [];
  for (const [c, dir] of series) {
    const s = v.phase2Series(c).v;
    checks.push({ name: `fraction of intervals with ${c} ${dir > 0 ? 'rising' : 'falling'}`, value: fractionMoving(s, dir), band: { min: MONOTONE_MIN_FRACTION } });
  }
  for (const [c, dir] of series) {
    const s = v.phase2Series(c).v;
    const net = s[s.length - 1] - s[0];
    checks.push({ name: `net change of ${c}`, value: net, band: dir > 0 ? { min: 0, minOpen: true } : { max: 0, maxOpen: true } });
  }
  return { kind: 'measured', checks, context: `${v.phase2Rows().length} rows after T1 = ${fmt(v.T1 as number)}` };
}

/** Thm 3.2: scores mu_2->mu_1, mu_1->mu_2 (key->query) rise; mu_3 as key for mu_1, mu_2 falls. */
export function thm32Scores(v: RunView): Measurement {
  return monotone(v, [
    ['score_k2_q1', 1],
    ['score_k1_q2', 1],
    ['score_k3_q1', -1],
    ['score_k3_q2', -1],
  ]);
}

/** Thm 3.2: value correlation mu_1^T W_V^T W_V mu_2 rises; those of mu_1, mu_2 with mu_3 fall. */
export function thm32Values(v: RunView): Measurement {
  return monotone(v, [
    ['C12', 1],
    ['C13', -1],
    ['C23', -1],
  ]);
}

/** Thm 3.2: G1+G2+G3 >= Omega(1), G1+G3 <= -Omega(1), G2+G3 <= -Omega(1), read at the end of the run. */
export function thm32G(v: RunView): Measurement {
  const pre = firstMissing(v.needColumns(['G1', 'G2', 'G3']), v.needPhase2());
  if (pre) return pre;
  const [g1, g2, g3] = ['G1', 'G2', 'G3'].map((c) => v.last(c));
  return {
    kind: 'measured',
    checks: [
      { name: 'G1+G2+G3 (end)', value: g1 + g2 + g3, band: { min: G_OMEGA } },
      { name: 'G1+G3 (end)', value: g1 + g3, band: { max: -G_OMEGA } },
      { name: 'G2+G3 (end)', value: g2 + g3, band: { max: -G_OMEGA } },
    ],
    context: `t = ${fmt(v.tEnd)}`,
  };
}

/** Def. F.1: in Phase 2 the filler part of F stays O(1) and |G(filler)| <= O(log m). */
export function defF1Fillers(v: RunView): Measurement {
  const fcols = [1, 2, 3, 4].map((k) => `fillerF_I${k}`);
  const pre = firstMissing(v.needColumns([...fcols, 'Gfiller_max']), v.needPhase2());
  if (pre) return pre;
  const maxAbs = maxOf(fcols.flatMap((c) => v.phase2Series(c).v.map(Math.abs)));
  const logM = Math.max(Math.log(v.settings.m), 1);
  return {
    kind: 'measured',
    checks: [
      { name: 'max |fillerF_It| (Phase 2)', value: maxAbs, band: { min: 0, max: FILLER_F_MAX } },
      { name: 'max Gfiller_max (Phase 2)', value: maxOf(v.phase2Series('Gfiller_max').v), band: { min: 0, max: FILLER_G_LOG_FACTOR * logM } },
    ],
  };
}

/** Thm 3.2 / Def. F.1: attention within O(1/L^2) of uniform throughout Phase 2. */
export function attentionUniform(v: RunView): Measurement {
  const pre = firstMissing(v.needColumns(['attn_dev_uniform']), v.needPhase2());
  if (pre) return pre;
  const L = v.settings.L;
  const dev = maxOf(v.phase2Series('attn_dev_uniform').v);
  return {
    kind: 'measured',
    checks: [{ name: 'max attn_dev_uniform (Phase 2)', value: dev, band: { min: 0, max: ATTN_UNIFORM_C / (L * L) } }],
    context: `L^2 x max deviation = ${fmt(dev * L * L)}`,
  };
}

/** Lemma 4.4: the I2 and I3 gradient weights stay balanced in Phase 2. */
export function lemma44(v: RunView): Measurement {
  const pre = firstMissing(v.needColumns(['balance44']), v.needPhase2());
  if (pre) return pre;
  return {
    kind: 'measured',
    checks: [{ name: 'max balance44 (Phase 2)', value: maxOf(v.phase2Series('balance44').v), band: { min: 0, max: BALANCE44_MAX } }],
    context: `final balance44 = ${fmt(v.last('balance44'))}`,
  };
}

/** Lemma 4.5: R(t) stays O(1) in Phase 2, R(T1) in [1, 3], and R tends to R* in (1, 2). */
export function lemma45(v: RunView): Measurement {
  const pre = firstMissing(v.needColumns(['R45']), v.needPhase2());
  if (pre) return pre;
  return {
    kind: 'measured',
    checks: [
      { name: 'max |R45| (Phase 2)', value: maxOf(v.phase2Series('R45').v.map(Math.abs)), band: { min: 0, max: R45_BOUND } },
      { name: 'R45(T1)', value: v.atT1('R45'), band: { min: R45_T1_BAND[0], max: R45_T1_BAND[1] } },
      { name: 'R45 (end)', value: v.last('R45'), band: { min: R45_LATE_BAND[0], max: R45_LATE_BAND[1] } },
    ],
  };
}

/**
 * Thm F.8: 1/L(t) = c (t - T1) + 1/L(T1) with c = Theta(s1^2 m m1). Least squares of 1/L
 * against t - T1 over Phase 2 (T1 and every later row).
 */
export function thmF8(v: RunView): Measurement {
  const pre = firstMissing(v.needColumns(['loss']), v.needPhase2());
  if (pre) return pre;
  const { t, v: loss } = v.phase2Series('loss');
  const T1 = v.T1 as number;
  const fit = linearFit(
    t.map((x) => x - T1),
    loss.map((x) => 1 / x),
  );
  const { s1, m, m1 } = v.settings;
  return {
    kind: 'measured',
    checks: [
      { name: 'c/(s1^2 m m1)', value: fit.b / (s1 * s1 * m * m1), band: { min: LOSS_RATE_BAND[0], max: LOSS_RATE_BAND[1] } },
      { name: 'R^2 of 1/L vs t', value: fit.r2, band: { min: LOSS_FIT_MIN_R2 } },
    ],
    context: `c = ${fmt(fit.b)}, intercept ${fmt(fit.a)} vs 1/L(T1) = ${fmt(1 / loss[0])}, ${t.length} points`,
  };
}

/**
 * Lemma 4.7 at the end of the run: target-target scores moved about n times more than
 * filler-involving ones, and the key-mu_3 scores moved opposite to the target-target ones at a
 * comparable rate.
 */
export function lemma47(v: RunView): Measurement {
  const cols = ['move_S_tt', 'move_S_sf', 'move_S_ff', 'score_k2_q1', 'score_k1_q2', 'score_k3_q1', 'score_k3_q2'];
  const pre = firstMissing(v.needColumns(cols), v.needPhase2());
  if (pre) return pre;
  const n = v.settings.n;
  const tt = v.last('move_S_tt');
  const delta = (c: string) => v.last(c) - v.first(c);
  const d21 = delta('score_k2_q1');
  const d12 = delta('score_k1_q2');
  const d31 = delta('score_k3_q1');
  const d32 = delta('score_k3_q2');
  const ratioBand = { min: LEMMA47_MU3_RATIO_BAND[0], max: LEMMA47_MU3_RATIO_BAND[1] };
  return {
    kind: 'measured',
    checks: [
      { name: '(move_S_tt/move_S_sf)/n', value: tt / v.last('move_S_sf') / n, band: { min: LEMMA47_MIN_RATIO_OVER_N } },
      { name: '(move_S_tt/move_S_ff)/n', value: tt / v.last('move_S_ff') / n, band: { min: LEMMA47_MIN_RATIO_OVER_N } },
      { name: 'Delta score_k2_q1', value: d21, band: { min: 0, minOpen: true } },
      { name: 'Delta score_k1_q2', value: d12, band: { min: 0, minOpen: true } },
      { name: 'Delta score_k3_q1', value: d31, band: { max: 0, maxOpen: true } },
      { name: 'Delta score_k3_q2', value: d32, band: { max: 0, maxOpen: true } },
      { name: '|Delta score_k3_q1|/Delta score_k2_q1', value: Math.abs(d31) / d21, band: ratioBand },
      { name: '|Delta score_k3_q2|/Delta score_k1_q2', value: Math.abs(d32) / d12, band: ratioBand },
    ],
    context: `n = ${n}, Delta = value at t = ${fmt(v.tEnd)} minus value at t = 0`,
  };
}

/**
 * Thm 3.3 at the end of the run: training (and, with a test set, test) loss <= m^(-1/2);
 * W_K^T W_Q - W_K^T W_Q(0) has C12, C21 > 0 and C31, C32 < 0 (C_ij = Delta score_k{i}_q{j});
 * filler-involving scores moved much less than target-target ones.
 */
export function thm33(v: RunView): Measurement {
  const cols = ['loss', 'score_k1_q2', 'score_k2_q1', 'score_k3_q1', 'score_k3_q2', 'move_S_tt', 'move_S_sf', 'move_S_ff'];
  const pre = firstMissing(v.needColumns(cols), v.needPhase2());
  if (pre) return pre;
  const lossMax = Math.pow(v.settings.m, -FINAL_LOSS_POWER);
  const delta = (c: string) => v.last(c) - v.first(c);
  const tt = v.last('move_S_tt');
  const checks: Check[] = [{ name: 'training loss (end)', value: v.last('loss'), band: { min: 0, max: lossMax } }];
  let notEvaluated: string | undefined;
  const context: string[] = [`t = ${fmt(v.tEnd)}`];
  if (v.has('test_loss')) {
    checks.push({ name: 'test loss (end)', value: v.last('test_loss'), band: { min: 0, max: lossMax } });
    if (v.has('test_error')) context.push(`test error ${fmt(v.last('test_error'))}`);
  } else {
    notEvaluated = v.settings.testN > 0 ? 'the test loss (trajectory.csv has no test_loss column)' : 'the test loss (the run has no test set; coflow run --test-n N adds one)';
  }
  checks.push(
    { name: 'C12', value: delta('score_k1_q2'), band: { min: 0, minOpen: true } },
    { name: 'C21', value: delta('score_k2_q1'), band: { min: 0, minOpen: true } },
    { name: 'C31', value: delta('score_k3_q1'), band: { max: 0, maxOpen: true } },
    { name: 'C32', value: delta('score_k3_q2'), band: { max: 0, maxOpen: true } },
    { name: 'move_S_sf/move_S_tt', value: v.last('move_S_sf') / tt, band: { min: 0, max: FILLER_MOVE_MAX_FRACTION } },
    { name: 'move_S_ff/move_S_tt', value: v.last('move_S_ff') / tt, band: { min: 0, max: FILLER_MOVE_MAX_FRACTION } },
  );
  return { kind: 'measured', checks, context: context.join(', '), notEvaluated };
}

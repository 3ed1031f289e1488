/**
 * The paper's claims as checkable statements: for each, what it says, which hypotheses its proof
 * uses, and its evaluator (./phase1.ts, ./phase2.ts, ./conservation.ts). `checkRun` reads a run
 * directory, evaluates the hypotheses (./hypotheses.ts) and every claim, and decides the verdicts
 * with the single rule of ./verdict.ts. docs/claims.md explains each claim, band and verdict.
 */
import {
  ATTN_UNIFORM_C,
  BALANCE44_MAX,
  BARELY_MOVE_FRACTION,
  DRIFT_GD_MAX,
  DRIFT_RTOL_FACTOR,
  FILLER_F_MAX,
  FILLER_MOVE_MAX_FRACTION,
  G_OMEGA,
  LEMMA41_RATIO_BAND,
  LEMMA42_MAX_RATIO,
  LEMMA43_MIN_FRACTION,
  LEMMA47_MIN_RATIO_OVER_N,
  LOSS_FIT_MIN_R2,
  LOSS_RATE_BAND,
  LOSS_T1_MIN_FRACTION,
  MONOTONE_MIN_FRACTION,
  ONE_TARGET_MIN_REL_CHANGE,
  R45_BOUND,
  T1_SCALED_BAND,
} from './bands.js';
import { conservationQK, conservationVW } from './conservation.js';
import { evaluateHypotheses, type Hypothesis, type HypothesisId } from './hypotheses.js';
import { lemma41, lemma43, oneTargetRise, thm31 } from './phase1.js';
import { attentionUniform, defF1Fillers, lemma44, lemma45, lemma47, thm32G, thm32Scores, thm32Values, thm33, thmF8 } from './phase2.js';
import { readRunDir, type RunDir } from './runDir.js';
import { levelPMeasurement } from './paper.js';
import { RunView } from './series.js';
import { decide, type ClaimResult, type ClaimSpec, type Measurement } from './verdict.js';

/**
 * Every hypothesis: the Phase 1 and Phase 2 theorems are proved under Condition 1 (m, n, the
 * scales), Assumption 2.3 (exact proportions, distinct fillers), a near-zero start and gradient
 * flow, and each of their lemmas is a step of those proofs.
 */
const ALL: HypothesisId[] = ['condition1-m', 'n-ge-L2', 'distinct-fillers', 'exact-proportions', 'small-F0', 'theory-scales', 'gradient-flow'];

interface ClaimDef extends ClaimSpec {
  evaluate: (v: RunView) => Measurement;
}

export const CLAIMS: readonly ClaimDef[] = [
  {
    id: 'thm3.1',
    statement: 'Thm 3.1: by T1 = C/(s1^2 m m1) every sample is classified correctly with G(mu_1), G(mu_2) >= Omega(1), G(mu_3) <= -Omega(1), the loss still Theta(1), and correlations, scores and attention barely moved',
    needs: ALL,
    threshold: `G1, G2 >= ${G_OMEGA}, G3 <= -${G_OMEGA}, loss(T1) >= ${LOSS_T1_MIN_FRACTION} loss(0), moves <= ${BARELY_MOVE_FRACTION} of their t = 0 scale, T1 s1^2 m m1 in [${T1_SCALED_BAND.join(', ')}]`,
    evaluate: thm31,
  },
  {
    id: 'lemma4.1',
    statement: 'Lemma 4.1 and 4.2: at t = 0, dG(mu_1)/dt and dG(mu_2)/dt are Theta((s0^2 + s1^2) m m1) while |dG(mu_3)/dt| is small next to them',
    // Eq. (4) at t = 0 with every g_i = 1/2 (small F(0)), the 1/2, 1/6 proportions (the 1/6
    // constant, and the cancellation for mu_3) and m large (concentration of s(0) and C(0)).
    needs: ['condition1-m', 'exact-proportions', 'small-F0'],
    threshold: `dG1(0), dG2(0) / ((s0^2+s1^2) m m1) in [${LEMMA41_RATIO_BAND.join(', ')}], |dG3(0)|/min(dG1, dG2) <= ${LEMMA42_MAX_RATIO}`,
    evaluate: lemma41,
  },
  {
    id: 'lemma4.3',
    statement: 'Lemma 4.3: late in Phase 1, (1+C) max(G1\', G2\') <= -G3\' <= (1-C)(G1\' + G2\')',
    needs: ALL,
    threshold: `fraction of late-Phase-1 rows with lemma43_max >= 1 and with lemma43_sum <= 1: each >= ${LEMMA43_MIN_FRACTION}`,
    evaluate: lemma43,
  },
  {
    id: 'one-target-rise',
    statement: 'Phase 1 (Sec. 4.1, Fig. 1(b)): the losses of the one-target samples I2 and I3 first rise, then fall once G(mu_3) has turned negative enough',
    needs: ALL,
    threshold: `rise and fall each >= ${ONE_TARGET_MIN_REL_CHANGE} relative, peak no later than T1`,
    evaluate: oneTargetRise,
  },
  {
    id: 'thm3.2-scores',
    statement: 'Thm 3.2: in Phase 2 the scores mu_2^T W_K^T W_Q mu_1 and mu_1^T W_K^T W_Q mu_2 increase, mu_3^T W_K^T W_Q mu_1 and mu_3^T W_K^T W_Q mu_2 decrease',
    needs: ALL,
    threshold: `fraction of Phase 2 intervals moving the claimed way >= ${MONOTONE_MIN_FRACTION}, net change of the claimed sign`,
    evaluate: thm32Scores,
  },
  {
    id: 'thm3.2-values',
    statement: 'Thm 3.2: in Phase 2 the value correlation mu_1^T W_V^T W_V mu_2 increases, mu_1^T W_V^T W_V mu_3 and mu_2^T W_V^T W_V mu_3 decrease',
    needs: ALL,
    threshold: `fraction of Phase 2 intervals moving the claimed way >= ${MONOTONE_MIN_FRACTION}, net change of the claimed sign`,
    evaluate: thm32Values,
  },
  {
    id: 'thm3.2-G',
    statement: 'Thm 3.2: in Phase 2, G1+G2+G3 >= Omega(1), G1+G3 <= -Omega(1), G2+G3 <= -Omega(1)',
    needs: ALL,
    threshold: `G1+G2+G3 >= ${G_OMEGA}, G1+G3 <= -${G_OMEGA}, G2+G3 <= -${G_OMEGA} at the end of the run`,
    evaluate: thm32G,
  },
  {
    id: 'defF.1-fillers',
    statement: 'Def. F.1: in Phase 2 the filler tokens\' contribution to F stays O(1) and |G(filler)| <= O(log m)',
    needs: ALL,
    threshold: `|fillerF_It| <= ${FILLER_F_MAX}, Gfiller_max <= max(ln m, 1) at every Phase 2 row`,
    evaluate: defF1Fillers,
  },
  {
    id: 'attention-uniform',
    statement: 'Thm 3.2, Def. F.1: in Phase 2 every attention weight stays within O(1/L^2) of uniform',
    needs: ALL,
    threshold: `attn_dev_uniform <= ${ATTN_UNIFORM_C}/L^2 at every Phase 2 row`,
    evaluate: attentionUniform,
  },
  {
    id: 'lemma4.4',
    statement: 'Lemma 4.4: in Phase 2, |sum_I2 g - sum_I3 g| / min(sum_I2 g, sum_I3 g) <= C, a small constant',
    needs: ALL,
    threshold: `balance44 <= ${BALANCE44_MAX} at every Phase 2 row`,
    evaluate: lemma44,
  },
  {
    id: 'lemma4.5',
    statement: 'Lemma 4.5: R(t) stays O(1) in Phase 2, R(T1) is in [1, 3], and R tends to a fixed point R* in (1, 2)',
    needs: ALL,
    threshold: `|R45| <= ${R45_BOUND}; R45(T1) in [1, 3] and R45(end) in [1, 2], both widened by 0.1`,
    evaluate: lemma45,
  },
  {
    id: 'thmF.8',
    statement: 'Thm F.8: in Phase 2, dL/dt = -Theta(s1^2 m m1) L^2, i.e. L(t) = 1/(c (t - T1) + 1/L(T1)) with c = Theta(s1^2 m m1)',
    needs: ALL,
    threshold: `least-squares c/(s1^2 m m1) in [${LOSS_RATE_BAND.join(', ')}], R^2 >= ${LOSS_FIT_MIN_R2}`,
    evaluate: thmF8,
  },
  {
    id: 'lemma4.7',
    statement: 'Lemma 4.7: target-target scores move fastest, key-mu_3 scores at minus that rate, and scores involving a filler token about n times slower',
    needs: ALL,
    threshold: `move_S_tt/move_S_sf and move_S_tt/move_S_ff >= ${LEMMA47_MIN_RATIO_OVER_N} n; target-target up, key-mu_3 down, ratio in [1/3, 3]`,
    evaluate: lemma47,
  },
  {
    id: 'thm3.3',
    statement: 'Thm 3.3: at T* = poly(m) the training and test losses are <= 1/poly(m), and W_K^T W_Q has moved by C_12, C_21 > 0, C_31, C_32 < 0 with much smaller filler entries',
    needs: ALL,
    threshold: `loss <= m^-1/2 (training; test when recorded), C12, C21 > 0, C31, C32 < 0, move_S_sf, move_S_ff <= ${FILLER_MOVE_MAX_FRACTION} move_S_tt, at the end of the run`,
    evaluate: thm33,
  },
  {
    id: 'conservation-QK',
    statement: 'Balancedness (exact for any gradient flow of this model): W_Q W_Q^T - W_K W_K^T is conserved',
    needs: ['gradient-flow'],
    threshold: `max drift_QK <= ${DRIFT_RTOL_FACTOR} x rtol (flows; GD: <= ${DRIFT_GD_MAX})`,
    evaluate: conservationQK,
  },
  {
    id: 'conservation-VW',
    statement: 'Balancedness (exact for any gradient flow of this model): W^T W - W_V W_V^T is conserved',
    needs: ['gradient-flow'],
    threshold: `max drift_VW <= ${DRIFT_RTOL_FACTOR} x rtol (flows; GD: <= ${DRIFT_GD_MAX})`,
    evaluate: conservationVW,
  },
];

export interface RunCheck {
  hypotheses: Hypothesis[];
  claims: ClaimResult[];
  /** run status and end time, for the report header */
  status: string;
  tEnd: number;
}

/** The hypotheses of a run: its settings, its training set, and max |F| at t = 0 (the first row's maxAbsF). */
export function runHypotheses(run: RunDir): Hypothesis[] {
  const maxAbsF = run.columns.get('maxAbsF');
  return evaluateHypotheses({ settings: run.settings, data: run.data, maxAbsF0: maxAbsF ? maxAbsF[0] : NaN });
}

/** Every claim's verdict for a run, given the hypotheses' states. */
export function evaluateClaims(run: RunDir, hypotheses: readonly Hypothesis[]): ClaimResult[] {
  const view = new RunView(run);
  // Level P freezes attention (and C in Phase 2): those claims cannot be tested there (src/claims/paper.ts).
  const paper = run.settings.level === 'paper';
  return CLAIMS.map((c) => decide(c, paper ? levelPMeasurement(c.id, c.evaluate(view)) : c.evaluate(view), hypotheses));
}

/** Reads RUN_DIR and checks it (UsageError on bad input, before anything is evaluated). */
export function checkRun(dir: string): RunCheck {
  const run = readRunDir(dir);
  const hypotheses = runHypotheses(run);
  const view = new RunView(run);
  return { hypotheses, claims: evaluateClaims(run, hypotheses), status: run.summary.status, tEnd: view.tEnd };
}

/**
 * Every verdict of every claim on synthetic runs (test/claims/synth.ts) whose columns are
 * closed-form functions of t: the base run meets every hypothesis and every claim (PASS); one
 * overridden formula breaks one claim (FAIL, with the measured value checked against the formula
 * that built it); a missing event, column or Phase 2 makes it NOT-EVALUABLE; gradient descent
 * (or a large F(0) for Lemma 4.1) takes it OUTSIDE-HYPOTHESES, with holds true on the base
 * formulas and false on the breaking ones.
 */
import { describe, expect, it } from 'vitest';
import { checkRun, CLAIMS, type RunCheck } from '../../src/claims/claims.js';
import type { ClaimId, ClaimResult } from '../../src/claims/verdict.js';
import { A_S, B_C, BASE, baseLoss, C_F8, DG3_0, K, LOSS0, LOSS1, S0, S1, SIGMA, synthRun, T1_BASE, type SynthOptions } from './synth.js';

const u = (t: number) => Math.log1p(K * t);
const T_END = 100;

function run(o: Partial<SynthOptions> = {}): RunCheck {
  return checkRun(synthRun(o).dir);
}

function claim(r: RunCheck, id: ClaimId): ClaimResult {
  const c = r.claims.find((x) => x.id === id);
  if (!c) throw new Error(`no claim ${id}`);
  return c;
}

/** The measured value of the check whose name starts with `name`. */
function value(c: ClaimResult, name: string): number {
  const k = c.checks.find((x) => x.name.startsWith(name));
  if (!k) throw new Error(`claim ${c.id} has no check '${name}': ${c.checks.map((x) => x.name).join(' | ')}`);
  return typeof k.value === 'number' ? k.value : Number(k.value.replace('inf', 'Infinity'));
}

function merge(...os: Partial<SynthOptions>[]): Partial<SynthOptions> {
  const out: Partial<SynthOptions> = {};
  for (const o of os) Object.assign(out, o, { override: { ...(out.override ?? {}), ...(o.override ?? {}) } });
  return out;
}

const GD: Partial<SynthOptions> = { method: 'gd' };
const NO_T1: Partial<SynthOptions> = { T1: null };
/** all-correct just before the end: one recorded row after T1, too few for Phase 2 */
const SHORT_PHASE2: Partial<SynthOptions> = { T1: 0.999 * T_END };

interface Case {
  /** options breaking the claim, the check that breaks, and its value from the formulas */
  fail: Partial<SynthOptions>;
  check: string;
  expected: number;
  notEvaluable: Partial<SynthOptions>;
  /** options making a needed hypothesis fail (default: gradient descent) */
  outside?: Partial<SynthOptions>;
  /** options for OUTSIDE-HYPOTHESES with holds = false (default: outside + fail) */
  outsideFail?: Partial<SynthOptions>;
}

const CASES: Record<ClaimId, Case> = {
  'thm3.1': {
    // G3 only reaches -0.05 by T1
    fail: { override: { G3: (t, b, { T1 }) => (t <= T1 ? -(0.05 / T1) * t : b) } },
    check: 'G3(T1)',
    expected: -0.05,
    notEvaluable: NO_T1,
  },
  'lemma4.1': {
    // dG3(0) = -5: |dG3(0)| / dG1(0) = 5 / (K/6)
    fail: { override: { dG3: (t, b) => (t === 0 ? -5 : b) } },
    check: '|dG3(0)|',
    expected: 5 / (K / 6),
    notEvaluable: { drop: ['dG1'] },
    outside: { maxAbsF0: 0.5 },
  },
  'lemma4.3': {
    // -dG3 = 0.8 dG1 through Phase 1: lemma43_max = 0.8 < 1 at every late-Phase-1 row
    fail: { override: { dG3: (t, b, { T1 }) => (t > 0 && t <= T1 ? -0.8 * (K / 6) : b) } },
    check: 'fraction of rows with lemma43_max',
    expected: 0,
    notEvaluable: NO_T1,
  },
  'one-target-rise': {
    // loss_I2 without the Phase 1 bump: its maximum is its start, no rise
    fail: { override: { loss_I2: (t, _b, { T1 }) => baseLoss(t, T1) } },
    check: 'rise of loss_I2',
    expected: 0,
    notEvaluable: NO_T1,
  },
  'thm3.2-scores': {
    // score_k3_q1 rises instead of falling
    fail: { override: { score_k3_q1: (t) => SIGMA(3, 1) + A_S * u(t) } },
    check: 'net change of score_k3_q1',
    expected: A_S * (u(T_END) - u(T1_BASE)),
    notEvaluable: SHORT_PHASE2,
  },
  'thm3.2-values': {
    // C12 falls instead of rising
    fail: { override: { C12: (t) => 0.01 - B_C * u(t) } },
    check: 'net change of C12',
    expected: -B_C * (u(T_END) - u(T1_BASE)),
    notEvaluable: SHORT_PHASE2,
  },
  'thm3.2-G': {
    // G3 falls only 0.9 per unit of Phase 2 progress: G1 + G3 ends positive
    fail: { override: { G3: (t, b, { T1 }) => (t <= T1 ? b : -0.4 - 0.9 * Math.log1p(K * (t - T1))) } },
    check: 'G1+G3',
    expected: (K / 6) * T1_BASE - 0.4 + 0.1 * Math.log1p(K * (T_END - T1_BASE)),
    notEvaluable: SHORT_PHASE2,
  },
  'defF.1-fillers': {
    fail: { override: { fillerF_I3: (t) => -2 * Math.tanh(u(t)) } },
    check: 'max |fillerF_It|',
    expected: 2 * Math.tanh(u(T_END)),
    notEvaluable: SHORT_PHASE2,
  },
  'attention-uniform': {
    fail: { override: { attn_dev_uniform: () => 0.05 } },
    check: 'max attn_dev_uniform',
    expected: 0.05,
    notEvaluable: SHORT_PHASE2,
  },
  'lemma4.4': {
    fail: { override: { balance44: () => 0.8 } },
    check: 'max balance44',
    expected: 0.8,
    notEvaluable: SHORT_PHASE2,
  },
  'lemma4.5': {
    // R stays at 2.5 after T1: outside the late band [0.9, 2.1]
    fail: { override: { R45: (t, b, { T1 }) => (t <= T1 ? b : 2.5) } },
    check: 'R45 (end)',
    expected: 2.5,
    notEvaluable: SHORT_PHASE2,
  },
  'thmF.8': {
    // 1/L grows at c = 0.001 K: a hundred times too slow for the band
    fail: { override: { loss: (t, b, { T1 }) => (t <= T1 ? b : 1 / (0.001 * K * (t - T1) + 1 / LOSS1)) } },
    check: 'c/(s1^2 m m1)',
    expected: 0.001,
    notEvaluable: SHORT_PHASE2,
  },
  'lemma4.7': {
    // special-filler scores move half as fast as target-target ones, not n times slower
    fail: { override: { move_S_sf: (t) => (A_S * u(t)) / 2 } },
    check: '(move_S_tt/move_S_sf)/n',
    expected: 2 / BASE.n,
    notEvaluable: SHORT_PHASE2,
  },
  'thm3.3': {
    // the test loss stays at 0.5
    fail: { testN: 36, override: { test_loss: () => 0.5 } },
    check: 'test loss',
    expected: 0.5,
    notEvaluable: NO_T1,
  },
  'conservation-QK': {
    fail: { override: { drift_QK: (t) => (t === 0 ? 0 : 1e-5) } },
    check: 'max drift_QK',
    expected: 1e-5,
    notEvaluable: { drop: ['drift_QK'] },
    // GD's own band (1e-3) is exceeded
    outsideFail: { method: 'gd', override: { drift_QK: (t) => (t === 0 ? 0 : 0.01) } },
  },
  'conservation-VW': {
    fail: { override: { drift_VW: (t) => (t === 0 ? 0 : 1e-5) } },
    check: 'max drift_VW',
    expected: 1e-5,
    notEvaluable: { drop: ['drift_VW'] },
    outsideFail: { method: 'gd', override: { drift_VW: (t) => (t === 0 ? 0 : 0.01) } },
  },
};

describe('the base synthetic run', () => {
  const r = run();

  it('meets every hypothesis and every claim', () => {
    expect(r.hypotheses.map((h) => [h.id, h.holds])).toEqual(r.hypotheses.map((h) => [h.id, true]));
    expect(r.claims.map((c) => c.id)).toEqual(Object.keys(CASES));
    for (const c of r.claims) expect([c.id, c.verdict, c.holds], c.reason).toEqual([c.id, 'PASS', true]);
  });

  it('measures the values the formulas put in', () => {
    const t31 = claim(r, 'thm3.1');
    expect(value(t31, 'G1(T1)')).toBeCloseTo((K / 6) * T1_BASE, 12);
    expect(value(t31, 'G3(T1)')).toBeCloseTo(-0.4, 12);
    expect(value(t31, 'loss(T1)/loss(0)')).toBeCloseTo(LOSS1 / LOSS0, 12);
    expect(value(t31, 'T1 s1^2 m m1')).toBeCloseTo(2, 12);
    const lnm = Math.log(BASE.m);
    expect(value(t31, 'move_C(T1)')).toBeCloseTo((B_C * u(T1_BASE)) / (lnm / BASE.m), 12);
    expect(value(t31, 'max move_S(T1)')).toBeCloseTo((A_S * u(T1_BASE)) / (lnm * BASE.m ** -1.5 * (1 / BASE.L + 1 / Math.sqrt(BASE.m))), 12);
    const l41 = claim(r, 'lemma4.1');
    expect(value(l41, 'dG1(0)')).toBeCloseTo(K / 6 / ((S0 * S0 + S1 * S1) * BASE.m * BASE.m1), 12);
    expect(value(l41, '|dG3(0)|')).toBeCloseTo(-DG3_0 / (K / 6), 12);
    expect(value(claim(r, 'lemma4.3'), 'fraction of rows with lemma43_max')).toBe(1);
    const f8 = claim(r, 'thmF.8');
    expect(value(f8, 'c/(s1^2 m m1)')).toBeCloseTo(C_F8, 9);
    expect(value(f8, 'R^2')).toBeCloseTo(1, 12);
    const l47 = claim(r, 'lemma4.7');
    expect(value(l47, '(move_S_tt/move_S_sf)/n')).toBeCloseTo(1, 12);
    expect(value(l47, '(move_S_tt/move_S_ff)/n')).toBeCloseTo(BASE.n, 9);
    expect(value(l47, '|Delta score_k3_q2|')).toBeCloseTo(1.2, 12);
    const l45 = claim(r, 'lemma4.5');
    expect(value(l45, 'R45(T1)')).toBe(2);
    expect(value(l45, 'R45 (end)')).toBeCloseTo(1.5, 12);
    expect(value(claim(r, 'thm3.2-scores'), 'fraction of intervals with score_k2_q1 rising')).toBe(1);
    expect(value(claim(r, 'thm3.2-G'), 'G1+G2+G3')).toBeCloseTo(2 * (K / 6) * T1_BASE - 0.4 + 0.5 * Math.log1p(K * (T_END - T1_BASE)), 9);
    const t33 = claim(r, 'thm3.3');
    expect(value(t33, 'training loss')).toBeCloseTo(baseLoss(T_END, T1_BASE), 15);
    expect(value(t33, 'C32')).toBeCloseTo(-1.2 * A_S * u(T_END), 15);
    expect(value(claim(r, 'attention-uniform'), 'max attn_dev_uniform')).toBeCloseTo(1e-4 * (1 + u(T_END) / 10), 15);
  });
});

describe.each(CLAIMS.map((c) => c.id))('claim %s reaches every verdict', (id) => {
  const k = CASES[id];
  const needsFlow = CLAIMS.find((c) => c.id === id)!.needs.includes('gradient-flow');
  const outside = k.outside ?? GD;

  it('FAIL on the breaking formula, with the value that formula gives', () => {
    const c = claim(run(k.fail), id);
    expect(c.verdict, c.reason).toBe('FAIL');
    expect(c.holds).toBe(false);
    const v = value(c, k.check);
    if (k.expected === 0) expect(v).toBe(0);
    else expect(v / k.expected).toBeCloseTo(1, 9);
    expect(c.checks.find((x) => x.name.startsWith(k.check))!.ok).toBe(false);
  });

  it('NOT-EVALUABLE when the run lacks what the claim needs', () => {
    const c = claim(run(k.notEvaluable), id);
    expect(c.verdict).toBe('NOT-EVALUABLE');
    expect(c.holds).toBeNull();
    expect(c.checks).toEqual([]);
  });

  it('OUTSIDE-HYPOTHESES with holds = true on the base formulas', () => {
    const r = run(outside);
    const c = claim(r, id);
    expect(c.verdict).toBe('OUTSIDE-HYPOTHESES');
    expect(c.holds, c.reason).toBe(true);
    // the GD run is outside the hypotheses only of claims that need a gradient flow
    expect(outside !== GD || needsFlow).toBe(true);
  });

  it('OUTSIDE-HYPOTHESES with holds = false on the breaking formula', () => {
    const c = claim(run(k.outsideFail ?? merge(outside, k.fail)), id);
    expect(c.verdict).toBe('OUTSIDE-HYPOTHESES');
    expect(c.holds).toBe(false);
  });
});

describe('details', () => {
  it('thm3.1 interpolates values at T1 when summary.json has no allCorrectRow', () => {
    // G1 = 5 t at every row: linear interpolation is exact
    const c = claim(run({ allCorrectRow: false, override: { G1: (t) => 5 * t } }), 'thm3.1');
    expect(value(c, 'G1(T1)')).toBeCloseTo(5 * T1_BASE, 12);
    expect(c.measured).toMatch(/interpolated/);
  });

  it('thm3.1 fails when Phase 1 visibly moves attention, or T1 is far from C/(s1^2 m m1)', () => {
    const a = claim(run({ override: { attn_dev_init: (t) => 0.5 * u(t) } }), 'thm3.1');
    expect(a.verdict).toBe('FAIL');
    const attnRate = Math.log(BASE.m) * (1 / (Math.sqrt(BASE.m) * BASE.L) + BASE.L / BASE.m);
    expect(value(a, 'attn_dev_init(T1)')).toBeCloseTo((0.5 * u(T1_BASE)) / attnRate, 12);
    const T1 = 100 / K;
    const b = claim(run({ T1 }), 'thm3.1');
    expect(value(b, 'T1 s1^2 m m1')).toBeCloseTo(100, 9);
    expect(b.verdict).toBe('FAIL');
  });

  it('lemma4.3 falls back to the last rows before T1 when none lies in [T1/2, T1]', () => {
    const c = claim(run({ rows: 8, allCorrectRow: false }), 'lemma4.3');
    expect(c.measured).toMatch(/the last 3 rows before T1/);
    // those rows are early in Phase 1, where -dG3 < dG1 (the ramp of the base dG3)
    expect(value(c, 'fraction of rows with lemma43_max')).toBe(0);
    expect(c.verdict).toBe('FAIL');
  });

  it('one-target-rise fails when the peak comes after T1', () => {
    // no peak event: the argmax row is used, and it lies after T1
    const d = claim(run({ peakEvents: false, override: { loss_I3: (t, b, { T1 }) => (t > T1 && t < 3 * T1 ? 0.9 : b) } }), 'one-target-rise');
    expect(d.verdict).toBe('FAIL');
    expect(value(d, 't(peak loss_I3)/T1')).toBeGreaterThan(1);
  });

  it('thm3.2 counts the fraction of intervals moving the right way', () => {
    // score_k2_q1 frozen from t = 1 on: the intervals after t = 1 do not rise
    const s = synthRun({ override: { score_k2_q1: (t) => SIGMA(2, 1) + A_S * u(Math.min(t, 1)) } });
    const c = claim(checkRun(s.dir), 'thm3.2-scores');
    const ts = s.columns.get('t')!;
    const after = ts.filter((t) => t > T1_BASE);
    // the points are T1 and every row after it; an interval rises iff it starts before t = 1
    const rising = 1 + after.filter((t) => t < 1).length;
    expect(value(c, 'fraction of intervals with score_k2_q1 rising')).toBeCloseTo(rising / after.length, 12);
    expect(c.verdict).toBe('FAIL');
  });

  it('thmF.8: a loss that is not 1/(c t + b) has a poor fit', () => {
    // 1/L = 2 (1 + ln(1 + K (t - T1))): logarithmic, not linear, in t
    const c = claim(run({ override: { loss: (t, b, { T1 }) => (t <= T1 ? b : LOSS1 / (1 + Math.log1p(K * (t - T1)))) } }), 'thmF.8');
    expect(value(c, 'R^2')).toBeLessThan(0.9);
    expect(c.verdict).toBe('FAIL');
  });

  it('a non-finite loss is never a PASS', () => {
    const r = run({ status: 'non-finite', override: { loss: (t, b) => (t === T_END ? NaN : b) } });
    expect(claim(r, 'thmF.8').verdict).toBe('FAIL');
    expect(claim(r, 'thmF.8').checks.map((x) => x.value)).toEqual(['nan', 'nan']);
    expect(claim(r, 'thm3.3').verdict).toBe('FAIL');
  });

  it('thm3.3 without a test set: the test part is said to be unevaluated, never passed', () => {
    const c = claim(run(), 'thm3.3');
    expect(c.verdict).toBe('PASS');
    expect(c.checks.some((x) => /test/.test(x.name))).toBe(false);
    expect(c.reason).toMatch(/not evaluated: the test loss \(the run has no test set/);
    const w = claim(run({ testN: 36 }), 'thm3.3');
    expect(w.verdict).toBe('PASS');
    expect(value(w, 'test loss')).toBeCloseTo(1.5 * baseLoss(T_END, T1_BASE), 15);
    expect(w.reason).not.toMatch(/not evaluated/);
  });

  it('thm3.3 fails when a key-mu_3 score rises (C31 > 0)', () => {
    const c = claim(run({ override: { score_k3_q1: (t) => SIGMA(3, 1) + A_S * u(t) } }), 'thm3.3');
    expect(c.verdict).toBe('FAIL');
    expect(value(c, 'C31')).toBeCloseTo(A_S * u(T_END), 15);
  });

  it('the conservation band is 100 x rtol on a flow', () => {
    const r = run({ rtol: 1e-13 }); // drift 1e-10 > 100 x 1e-13
    expect(claim(r, 'conservation-QK').verdict).toBe('FAIL');
    expect(claim(r, 'conservation-QK').threshold).toBe('max drift_QK [0, 1.000e-11]');
  });
});

/**
 * The one place where a claim's verdict is decided. An evaluator only measures: it returns
 * either "not evaluable, because ..." or a list of checks (a measured number and the band it must
 * lie in). `decide` turns that and the states of the hypotheses the claim needs into the verdict,
 * so every claim follows the same rules:
 *
 * - NOT-EVALUABLE: the run lacks what the claim needs; holds = null.
 * - otherwise holds = every check's value lies in its band (NaN never does; +-Infinity is
 *   compared like any number, so "ratio >= 2" holds for an infinite ratio and "<= 1" does not);
 * - OUTSIDE-HYPOTHESES if a needed hypothesis fails (or was not evaluated), with holds as measured;
 * - else PASS if holds, FAIL if not. A claim with no checks cannot PASS (programming error).
 */
import type { Hypothesis, HypothesisId } from './hypotheses.js';

export type Verdict = 'PASS' | 'FAIL' | 'OUTSIDE-HYPOTHESES' | 'NOT-EVALUABLE';

export type ClaimId =
  | 'thm3.1'
  | 'lemma4.1'
  | 'lemma4.3'
  | 'one-target-rise'
  | 'thm3.2-scores'
  | 'thm3.2-values'
  | 'thm3.2-G'
  | 'defF.1-fillers'
  | 'attention-uniform'
  | 'lemma4.4'
  | 'lemma4.5'
  | 'thmF.8'
  | 'lemma4.7'
  | 'thm3.3'
  | 'conservation-QK'
  | 'conservation-VW';

/** A closed or open interval; a missing end is unbounded. */
export interface Band {
  min?: number;
  max?: number;
  /** the ends are excluded (e.g. "> 0") */
  minOpen?: boolean;
  maxOpen?: boolean;
}

export interface Check {
  /** what was measured, e.g. "G1(T1)" or "c/(s1^2 m m1)" */
  name: string;
  value: number;
  band: Band;
}

/** A check as reported: the value as a JSON-safe number or 'nan' / 'inf' / '-inf'. */
export interface CheckResult {
  name: string;
  value: number | string;
  band: string;
  ok: boolean;
}

export interface ClaimResult {
  id: ClaimId;
  statement: string;
  needs: HypothesisId[];
  measured: string;
  threshold: string;
  verdict: Verdict;
  holds: boolean | null;
  reason: string;
  checks: CheckResult[];
}

/** What an evaluator returns. */
export type Measurement =
  | { kind: 'not-evaluable'; why: string }
  | {
      kind: 'measured';
      checks: Check[];
      /** extra measured context for the report (e.g. "T1 = 0.017"), not tested */
      context?: string;
      /** parts of the claim that were not evaluated, said in the reason (never counted as passed) */
      notEvaluated?: string;
    };

export interface ClaimSpec {
  id: ClaimId;
  statement: string;
  needs: HypothesisId[];
  /** the bands in words, reported when the claim cannot be measured */
  threshold: string;
}

export function notEvaluable(why: string): Measurement {
  return { kind: 'not-evaluable', why };
}

export function inBand(x: number, b: Band): boolean {
  if (Number.isNaN(x)) return false;
  if (b.min !== undefined && !(b.minOpen ? x > b.min : x >= b.min)) return false;
  if (b.max !== undefined && !(b.maxOpen ? x < b.max : x <= b.max)) return false;
  return true;
}

/** Short, deterministic number text: 4 significant digits, exponent form outside [1e-3, 1e6). */
export function fmt(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e-3 && a < 1e6) return String(Number(x.toPrecision(4)));
  return x.toExponential(3);
}

export function bandText(b: Band): string {
  const lo = b.min;
  const hi = b.max;
  if (lo !== undefined && hi !== undefined) return `${b.minOpen ? '(' : '['}${fmt(lo)}, ${fmt(hi)}${b.maxOpen ? ')' : ']'}`;
  if (lo !== undefined) return `${b.minOpen ? '>' : '>='} ${fmt(lo)}`;
  if (hi !== undefined) return `${b.maxOpen ? '<' : '<='} ${fmt(hi)}`;
  return 'any';
}

function jsonValue(x: number): number | string {
  if (x === 0) return 0; // no -0 in JSON
  return Number.isFinite(x) ? x : fmt(x);
}

/** The verdict rules of this module's header comment. */
export function decide(spec: ClaimSpec, m: Measurement, hypotheses: readonly Hypothesis[]): ClaimResult {
  const base = { id: spec.id, statement: spec.statement, needs: [...spec.needs] };
  const failed = spec.needs.filter((id) => !hypotheses.some((h) => h.id === id && h.holds === true));
  if (m.kind === 'not-evaluable') {
    return { ...base, measured: 'not measured', threshold: spec.threshold, verdict: 'NOT-EVALUABLE', holds: null, reason: `${capitalise(m.why)}.`, checks: [] };
  }
  if (m.checks.length === 0) throw new Error(`claim ${spec.id}: an evaluator returned no checks; a claim cannot pass without a measurement`);
  const checks: CheckResult[] = m.checks.map((c) => ({ name: c.name, value: jsonValue(c.value), band: bandText(c.band), ok: inBand(c.value, c.band) }));
  const holds = checks.every((c) => c.ok);
  const measured = [...m.checks.map((c) => `${c.name} = ${fmt(c.value)}`), ...(m.context ? [m.context] : [])].join('; ');
  const threshold = m.checks.map((c) => `${c.name} ${bandText(c.band)}`).join('; ');
  const bad = checks.filter((c) => !c.ok);
  const behaviour = holds
    ? checks.length === 1
      ? 'the one check is within its band'
      : `all ${checks.length} checks are within their bands`
    : `check ${bad[0].name} = ${fmt(m.checks[checks.indexOf(bad[0])].value)} is outside ${bad[0].band}${bad.length > 1 ? ` (and ${bad.length - 1} more check${bad.length > 2 ? 's' : ''})` : ''}`;
  const untested = m.notEvaluated ? `; not evaluated: ${m.notEvaluated}` : '';
  let verdict: Verdict;
  let reason: string;
  if (failed.length > 0) {
    verdict = 'OUTSIDE-HYPOTHESES';
    reason = `Hypothes${failed.length > 1 ? 'es' : 'is'} ${failed.join(', ')} ${failed.length > 1 ? 'do' : 'does'} not hold, so the claim is not asserted; measured anyway, the behaviour ${holds ? 'matches' : 'does not match'} it: ${behaviour}${untested}.`;
  } else {
    verdict = holds ? 'PASS' : 'FAIL';
    reason = `${capitalise(behaviour)}${untested}.`;
  }
  return { ...base, measured, threshold, verdict, holds, reason, checks };
}

function capitalise(s: string): string {
  return s.length > 0 ? s[0].toUpperCase() + s.slice(1) : s;
}

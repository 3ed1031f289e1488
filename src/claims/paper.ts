/**
 * What `coflow check` may conclude from a Level P run (src/claims). Level P freezes the attention
 * (every weight exactly 1/L, S, A, B at their initial values) and, in Phase 2, the value
 * correlations C; it is not the model's gradient flow. A claim about those quantities measured on
 * such a run would PASS or FAIL by construction, so it is NOT-EVALUABLE here, and the frozen
 * parts of a mixed claim are dropped from its checks and named as not evaluated.
 */
import { notEvaluable, type ClaimId, type Measurement } from './verdict.js';

const FROZEN = 'Level P freezes the attention (every weight 1/L; S, A, B stay at their initial values)';

/** Claims entirely about frozen quantities, with the reason. */
const NOT_EVALUABLE: Partial<Record<ClaimId, string>> = {
  'thm3.2-scores': `${FROZEN}, so its scores cannot move`,
  'attention-uniform': `${FROZEN}, so its attention is uniform by construction`,
  'lemma4.7': `${FROZEN}, so its scores cannot move`,
  'conservation-QK': `${FROZEN}, so tr A - tr B cannot drift`,
  'thm3.2-values': 'Level P freezes the value correlations C in Phase 2 (Def. F.1 drops their term), so they cannot move there',
  'conservation-VW':
    "Level P is not the model's gradient flow: Phase 2 drops the term that conserves tr C - s/m1 (derivations/paper-system.md, section 5); test/paper checks Level P's own conserved quantities",
};

/** Checks of mixed claims that read frozen quantities (Thm 3.1's movements, Thm 3.3's score changes). */
const FROZEN_CHECK = /move_A|move_B|move_S|attn_dev|^C(12|21|31|32)$/;

/** The measurement of claim `id` as it stands for a Level P run. */
export function levelPMeasurement(id: ClaimId, m: Measurement): Measurement {
  const why = NOT_EVALUABLE[id];
  if (why) return notEvaluable(why);
  if (m.kind !== 'measured') return m;
  const kept = m.checks.filter((c) => !FROZEN_CHECK.test(c.name));
  if (kept.length === m.checks.length) return m;
  const dropped = m.checks.filter((c) => FROZEN_CHECK.test(c.name)).map((c) => c.name);
  if (kept.length === 0) return notEvaluable(`${FROZEN}: every check of this claim reads a frozen quantity`);
  const frozen = `${dropped.join(', ')} (frozen at Level P)`;
  return { ...m, checks: kept, notEvaluated: m.notEvaluated ? `${m.notEvaluated}; ${frozen}` : frozen };
}

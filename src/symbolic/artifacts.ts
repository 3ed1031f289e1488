/**
 * The generated files of Level G (and Level T's field, printed from the same polynomials), for
 * `coflow derive` and for the golden test:
 *   src/gram/generated/gramField.ts   the vector field, GD map and per-sample kernel
 *   src/reduced/generated/typeField.ts Level T's field and GD map (orbit-product backend)
 *   src/gram/generated/sampleLoss.ts  the per-sample loss and its derivative (Level P's kernel imports it too)
 *   derivations/model.md              the model, the loss, the Gram variables
 *   derivations/gram-flow.md          the derived flow and GD equations, invariants, derivatives
 * Generation first re-runs the checks the text relies on: the per-sample closed forms against
 * mathjs's derivatives (throws on a mismatch), closure of every derived equation (throws inside
 * deriveGramSystem), and exact conservation of the two invariants by the flow.
 */
import { deriveGramSystem } from './derivation/gramSystem.js';
import { generateGramFlowDoc, generateModelDoc } from './emit/docs.js';
import { GRAM_FIELD_PATH, generateGramFieldSource } from './emit/gramCode.js';
import { SAMPLE_LOSS_PATH, sampleLossModule } from './emit/sampleTemplates.js';
import { TYPE_FIELD_PATH, generateTypeFieldSource } from './emit/typeCode.js';
import { assertSampleFormulas } from './sample/verify.js';

export const GRAM_ARTIFACT_PATHS = [GRAM_FIELD_PATH, SAMPLE_LOSS_PATH, TYPE_FIELD_PATH, 'derivations/model.md', 'derivations/gram-flow.md'] as const;

/** Pure: returns relative path -> file contents; writes nothing. */
export function generateGramArtifacts(): Map<string, string> {
  assertSampleFormulas();
  const sys = deriveGramSystem();
  if (!sys.flowInvariantRates.QK.isZero() || !sys.flowInvariantRates.V.isZero()) {
    throw new Error(
      `Gram derivation: invariants not conserved: d/dt(trA - trB) = ${sys.flowInvariantRates.QK}, d/dt(m1 trC - s) = ${sys.flowInvariantRates.V}`,
    );
  }
  return new Map<string, string>([
    [GRAM_FIELD_PATH, generateGramFieldSource(sys)],
    [SAMPLE_LOSS_PATH, sampleLossModule()],
    [TYPE_FIELD_PATH, generateTypeFieldSource(sys)],
    ['derivations/model.md', generateModelDoc()],
    ['derivations/gram-flow.md', generateGramFlowDoc(sys)],
  ]);
}

/**
 * The generated files of Level P, for `coflow derive` (src/app/derive.ts) and the golden test:
 *   src/paper/generated/paperField.ts   the per-sample kernel and the vector field of both phases
 *   derivations/paper-system.md         which terms of Level G each phase drops, and the result
 * Both come from one derivation (./derivation.ts), which throws if a check fails.
 */
import { derivePaperSystem } from './derivation.js';
import { generatePaperDoc, generatePaperFieldSource } from './emit.js';

export const PAPER_ARTIFACT_PATHS = ['src/paper/generated/paperField.ts', 'derivations/paper-system.md'] as const;

/** Pure: relative path -> contents; writes nothing. */
export function generatePaperArtifacts(): Map<string, string> {
  const sys = derivePaperSystem();
  return new Map<string, string>([
    [PAPER_ARTIFACT_PATHS[0], generatePaperFieldSource(sys)],
    [PAPER_ARTIFACT_PATHS[1], generatePaperDoc(sys)],
  ]);
}

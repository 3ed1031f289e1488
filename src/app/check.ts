import { checkRun } from '../claims/claims.js';
import { claimsText, writeClaimsReports } from '../claims/report.js';

/**
 * `coflow check RUN_DIR`: checks the paper's claims on a finished (or stopped) run and writes
 * RUN_DIR/claims.json and RUN_DIR/claims.md. Returns the exit code: 0 whatever the verdicts; with
 * `strict`, 1 if some claim whose hypotheses all hold FAILs. Bad input throws UsageError (exit 2)
 * before anything is written.
 */
export function checkCommand(dir: string, strict: boolean): number {
  const result = checkRun(dir);
  const files = writeClaimsReports(dir, result);
  process.stdout.write(claimsText(result));
  process.stdout.write(`wrote ${files.json} and ${files.md}\n`);
  // FAIL is only ever given when every needed hypothesis holds (src/claims/verdict.ts).
  const failed = result.claims.filter((c) => c.verdict === 'FAIL');
  if (strict && failed.length > 0) {
    process.stderr.write(`coflow check --strict: ${failed.length} claim${failed.length > 1 ? 's' : ''} failed within the hypotheses: ${failed.map((c) => c.id).join(', ')}\n`);
    return 1;
  }
  return 0;
}

/**
 * A Level T run (the symmetry-reduced system, exact from the mean start) and the paper's claims
 * checked on it, from code: what `coflow run --preset theory --level type --init mean` and
 * `coflow check` do.
 *
 *   node dist-examples/level-t-run-and-check.js [OUT_DIR]
 *
 * Prints one JSON line: the run's status and end time, the number of accepted steps, and the
 * verdict of every claim.
 */
import { check, run } from 'coflow';

const out = process.argv[2] ?? 'runs/level-t';
const result = await run({ preset: 'theory', level: 'type', init: 'mean', tEnd: 200, out, force: true, noPlots: true });
const claims = await check(out, { write: true });
console.log(
  JSON.stringify({
    status: result.status,
    t: result.t,
    naccepted: result.stats.naccepted,
    verdicts: Object.fromEntries(claims.claims.map((c) => [c.id, c.verdict])),
  }),
);

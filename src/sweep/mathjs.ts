/**
 * mathjs for the expressions of a sweep spec (./spec.ts), loaded from the package's single-file
 * build (mathjs/lib/browser/math.js, in the installed package, listed in its "exports") instead of
 * its graph of ES modules: the same library at the same version, loaded in about 0.09 s instead
 * of about 0.9 s (measured on the development machine; most of the difference is resolving and
 * linking several hundred module files). A sweep resolves every point before its first run
 * starts, so this load is a serial part of every sweep, whatever the number of workers; it was
 * most of that part (docs/performance.md). test/sweep/mathjs.test.ts checks that both builds
 * evaluate the spec expressions to the same numbers and refuse the same inputs.
 */
import { createRequire } from 'node:module';

type MathJs = typeof import('mathjs');

let loaded: MathJs | null = null;

/** The mathjs instance of the single-file build (loaded on first use). */
export function loadMathjs(): MathJs {
  loaded ??= createRequire(import.meta.url)('mathjs/lib/browser/math.js') as MathJs;
  return loaded;
}

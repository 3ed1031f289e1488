/**
 * The sweep spec's mathjs (src/sweep/mathjs.ts: the package's single-file build, loaded for its
 * speed) is the mathjs of the package's ES modules: the same version, the same numbers for
 * expressions of the kinds a spec holds, bit for bit, and the same refusals with the same
 * messages. The oracle is the ES module build, loaded here independently.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import * as esm from 'mathjs';
import { loadMathjs } from '../../src/sweep/mathjs.js';

const EXPRESSIONS = [
  '50 / m', '0.02 / m', '20000 / m', '100 / m', '2 * sqrt(m)', 'log(m)', 'log(m, 2)', 'log10(m) + log2(m)', 'exp(-3 / m)',
  '2^10', 'm ^ 0.5 * 1e-3', 'pi * e', 'min(1, m / 7)', 'max(m, 3)', '(m + 1) / (m - 1)', 'm mod 7', 'abs(-2.5 * m)',
  'floor(m / 3)', 'ceil(m / 3)', 'round(2.5)', 'round(m / 7, 3)', '-m', '1 / 3 + 1 / 7', 'sin(pi / 6) + cos(m)', 'tanh(m / 100)',
  '0.1 + 0.2', '3 * m * m / (2 * m)', 'm == 8 ? 1 : 2', 'cbrt(m)', 'nthRoot(m, 4)', 'hypot(3, m)',
];

describe('the single-file mathjs = the ES module mathjs', () => {
  const bundle = loadMathjs();

  test('the same version, the installed one', () => {
    const installed = (JSON.parse(readFileSync(new URL('../../node_modules/mathjs/package.json', import.meta.url), 'utf8')) as { version: string }).version;
    expect(bundle.version).toBe(installed);
    expect(esm.version).toBe(installed);
    expect(loadMathjs()).toBe(bundle); // loaded once
  });

  for (const m of [8, 128, 1048576, 0.75]) {
    test(`the same bits for ${EXPRESSIONS.length} expressions at m = ${m}`, () => {
      for (const text of EXPRESSIONS) {
        const a = bundle.parse(text).compile().evaluate(new Map([['m', m]])) as number;
        const b = esm.parse(text).compile().evaluate(new Map([['m', m]])) as number;
        expect(typeof a, text).toBe('number');
        expect(Object.is(a, b), `${text}: ${a} vs ${b}`).toBe(true);
      }
    });
  }

  test('the same refusals, with the same messages', () => {
    for (const text of ['50 / ', '(m', 'm +* 2', '2 m m)', 'f(', '"unterminated', '2 +', 'm ? 1']) {
      const messageOf = (f: () => unknown) => {
        try {
          f();
          return null;
        } catch (e) {
          return (e as Error).message;
        }
      };
      const a = messageOf(() => bundle.parse(text));
      expect(a, text).not.toBeNull();
      expect(a).toBe(messageOf(() => esm.parse(text)));
    }
  });
});

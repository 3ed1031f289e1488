/**
 * Golden test: derivations/type-level.md is exactly what generateTypeLevelDoc() produces. If the
 * derivation changes, regenerate the file with `coflow derive` and review the diff.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { generateTypeLevelDoc } from '../../src/reduced/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('derivations/type-level.md', () => {
  it('matches the generator byte for byte', () => {
    const committed = readFileSync(`${ROOT}derivations/type-level.md`, 'utf8');
    const generated = generateTypeLevelDoc();
    expect(generated === committed).toBe(true);
  });

  it('is deterministic and states the key facts', () => {
    const doc = generateTypeLevelDoc();
    expect(generateTypeLevelDoc()).toBe(doc);
    expect(doc).toContain('| total | | | 173 |');
    // A multiplicity that must appear: the I1 fillers in other samples, (n/2 - 1)(L - 3).
    expect(doc).toContain('(\\tfrac{n}{2}-1)(L-3)');
    // Per-type output of I4 (only mu_3 and L - 1 fillers).
    expect(doc).toContain('F_{I_4} = F^{I_4}_{\\mu_3} + (L-1)F^{I_4}_{f_4}');
    // Markdown tables must not contain a bare | inside math.
    for (const line of doc.split('\n').filter((l) => l.startsWith('|'))) {
      for (const cell of line.split('|')) expect((cell.match(/\$/g) ?? []).length % 2).toBe(0);
    }
  });
});

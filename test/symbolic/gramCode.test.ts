/**
 * Structure of the emitted Level G code (src/symbolic/emit/gramCode.ts): the k x k blocks go
 * through the kernels of src/gram/kernels.ts (no scalar loop over Gam's nonzeros or down a
 * column is left), each block is written to out exactly once, the state is copied into kernel
 * memory once and before it is read there, and the list of kernel matrices matches their use.
 * (That the calls compute the same bits as the scalar loops is test/gram/kernelField.test.ts.)
 */
import { describe, expect, test } from 'vitest';
import { deriveGramSystem } from '../../src/symbolic/derivation/gramSystem.js';
import { generateGramFieldSource } from '../../src/symbolic/emit/gramCode.js';

const source = generateGramFieldSource(deriveGramSystem());

/** The body of an exported function of the generated file. */
function body(name: string): string {
  const start = source.indexOf(`export function ${name}(`);
  expect(start).toBeGreaterThanOrEqual(0);
  const end = source.indexOf('\n}\n', start);
  return source.slice(start, end);
}

describe('emitted Level G code', () => {
  for (const fn of ['gramField', 'gramGdMap']) {
    test(`${fn}: k x k products are kernel calls`, () => {
      const b = body(fn);
      expect(b).not.toMatch(/e < nnz/);
      // no k x k loop nest (the scalar code's transposed reads and scatters lived in those)
      expect(b).not.toMatch(/for \(let i = 0; i < k; i\+\+\) \{\s*for \(let j = 0; j < k; j\+\+\)/);
      expect(b).toMatch(/km\.gamRows\(/);
      expect(b).toMatch(/km\.gamCols\(/);
    });

    test(`${fn}: every k x k block gets one destination and is written to out once; the state is bound once, first`, () => {
      const b = body(fn);
      for (const v of ['S', 'A', 'B', 'C']) {
        // built where km.target says (in out itself, or in O), every kernel call of the block there
        expect(b.split(`const d_${v} = km.target(out, o_${v}, O);`).length - 1).toBe(1);
        expect(b.split(`km.store(out, o_${v}, d_${v});`).length - 1).toBe(1);
        expect(b.indexOf(`const d_${v} =`)).toBeLessThan(b.indexOf(`km.store(out, o_${v}, d_${v});`));
      }
      expect(b).not.toMatch(/km\.\w+\(O[,)]/);
      expect(b.split('km.bindState(y);').length - 1).toBe(1);
      expect(b).not.toMatch(/km\.loadState/);
      expect(b.indexOf('km.bindState(y);')).toBeLessThan(b.indexOf('km.state'));
      expect(b.indexOf('km.bindState(y);')).toBeLessThan(b.indexOf('km.target('));
      expect(b.split('km.loadGu(gu);').length - 1).toBe(1);
      expect(b.indexOf('km.loadGu(gu);')).toBeLessThan(b.indexOf('km.gu'));
      // the vector and scalar blocks are accumulated from +0, the k x k blocks stored whole
      expect(b).toMatch(/out\.fill\(0, o_u, o_end\);/);
    });
  }

  test('GRAM_KERNEL_SLOTS lists exactly the kernel matrices the functions use', () => {
    const m = /export const GRAM_KERNEL_SLOTS = \[([^\]]*)\] as const;/.exec(source);
    expect(m).not.toBeNull();
    const listed = m![1].split(',').map((s) => s.trim().replace(/'/g, '')).sort();
    const used = new Set<string>();
    for (const fn of ['gramField', 'gramGdMap']) {
      const d = /const \{ ([^}]*) \} = km\.slots;/.exec(body(fn));
      expect(d).not.toBeNull();
      for (const s of d![1].split(',')) used.add(s.trim());
    }
    expect(listed).toEqual([...used].sort());
    expect(listed).toContain('O');
  });
});

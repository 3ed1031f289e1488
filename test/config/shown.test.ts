/**
 * shown(): how a user's value appears in a one-line error message. The oracle is the value
 * itself: short values whole, long ones cut in the middle so that a path keeps its file name.
 */
import { describe, expect, it } from 'vitest';
import { shown, SHOWN_MAX } from '../../src/config/keys.js';

describe('shown', () => {
  it('a value of at most SHOWN_MAX characters is printed whole, escaped to one line', () => {
    expect(shown('runs/a.json')).toBe('runs/a.json');
    expect(shown('a\nb')).toBe('a\\nb');
    expect(shown('x'.repeat(SHOWN_MAX))).toBe('x'.repeat(SHOWN_MAX));
  });

  it("a longer one keeps its start and its end (a path's file name), SHOWN_MAX characters in all", () => {
    const path = '/var/folders/zz/zyxvpxvq6csfxvn_n0000000000000/T/coflow-config-Ab12Cd/w.json';
    const s = shown(path);
    expect(s.length).toBe(SHOWN_MAX);
    expect(s.startsWith('/var/folders/zz/zyxv')).toBe(true);
    expect(s.endsWith('/T/coflow-config-Ab12Cd/w.json')).toBe(true);
    expect(s).toContain('...');
    // negative control: the cut is in the middle, not at the end (the old form lost the name)
    expect(shown('a'.repeat(100) + 'NAME').endsWith('NAME')).toBe(true);
  });
});

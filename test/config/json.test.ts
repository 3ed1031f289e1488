/** The strict JSON reader of --config files against JSON.parse (fuzz, fixed seed) and its own refusals. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_DEPTH, parseJson } from '../../src/config/json.js';
import { UsageError } from '../../src/errors.js';

const SEED = 977;

describe('parseJson', () => {
  it('agrees with JSON.parse on every JSON text (values; numbers keep their literal text)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.boolean(), (v, pretty) => {
        const text = pretty ? JSON.stringify(v, null, 2) : JSON.stringify(v);
        const r = parseJson(text, 'f.json');
        expect(r.value).toStrictEqual(JSON.parse(text));
        for (const literal of r.numbers.values()) expect(text).toContain(literal);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it('accepts only what JSON.parse accepts (random text): otherwise a one-line UsageError naming the file, line and column', () => {
    const texts = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 20 }),
      fc.string({ unit: fc.constantFrom(...'{}[]":,0123456789.eE+- \ntruefalsn\\u'.split('')), maxLength: 24 }),
      fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)).chain((t) => fc.nat(t.length).map((i) => t.slice(0, i))),
    );
    let valid = 0;
    fc.assert(
      fc.property(texts, (text) => {
        let expected: unknown;
        let ok = true;
        try {
          expected = JSON.parse(text.replace(/^\ufeff/, '')); // a leading byte-order mark is skipped
        } catch {
          ok = false;
        }
        try {
          const r = parseJson(text, 'f.json');
          // Accepted: JSON.parse accepts it too and agrees (our reader adds refusals, never acceptances).
          expect(ok, text).toBe(true);
          expect(r.value).toStrictEqual(expected);
          valid++;
        } catch (e) {
          expect(e).toBeInstanceOf(UsageError);
          expect((e as Error).message).toMatch(/^f\.json: not valid JSON: .* at line \d+, column \d+$/);
          // Refused although JSON.parse accepts: only duplicate keys do that here.
          if (ok) expect((e as Error).message).toMatch(/appears twice/);
        }
      }),
      { seed: SEED, numRuns: 4000 },
    );
    expect(valid).toBeGreaterThan(100);
  });

  it('keeps number literals exactly, refuses duplicate keys and deep nesting, takes __proto__ as a plain key', () => {
    const r = parseJson('{"seed": 9007199254740993, "a": [5.0, 1e3, -0]}', 'f.json');
    expect(r.numbers.get('/seed')).toBe('9007199254740993');
    expect(r.numbers.get('/a/0')).toBe('5.0');
    expect(r.numbers.get('/a/1')).toBe('1e3');
    expect(r.numbers.get('/a/2')).toBe('-0');
    expect(() => parseJson('{"a": 1, "a": 2}', 'f.json')).toThrow(/^f\.json: not valid JSON: key 'a' appears twice at line 1, column 10$/);
    expect(() => parseJson('{"a":\n 1,\n "a": 2}', 'f.json')).toThrow(/line 3, column 2/);
    const deep = (k: number) => '['.repeat(k) + ']'.repeat(k);
    expect(() => parseJson(deep(MAX_DEPTH + 2), 'f.json')).toThrow(/nested more than 32 deep/);
    expect(parseJson(deep(MAX_DEPTH), 'f.json').value).toBeDefined(); // negative control
    expect(() => parseJson(deep(100000), 'f.json')).toThrow(UsageError); // no stack overflow
    const p = parseJson('{"__proto__": {"x": 1}}', 'f.json').value as Record<string, unknown>;
    expect(Object.keys(p)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(p)).toBe(Object.prototype);
    expect(parseJson('\ufeff{"a": 1}', 'f.json').value).toEqual({ a: 1 });
  });
});

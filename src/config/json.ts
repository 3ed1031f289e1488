/**
 * A strict JSON reader (RFC 8259) for config files that also keeps the text of every number, so
 * that an integer setting can require a JSON integer (5, not 5.0 or 5e0) and a seed beyond 2^53
 * is refused instead of rounded. It also refuses duplicate keys (JSON.parse keeps the last one
 * silently) and nesting deeper than MAX_DEPTH. Every problem is a one-line UsageError with the
 * line and column.
 */
import { UsageError } from '../errors.js';

export interface ParsedJson {
  value: unknown;
  /** the literal text of each number, by JSON pointer ("/settings/seed"), as ajv's instancePath */
  numbers: Map<string, string>;
}

/** Config files are flat (a run's config.json has depth 3); deeper nesting is junk. */
export const MAX_DEPTH = 32;

const NUMBER = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;

/** A JSON pointer segment (RFC 6901). */
export function pointerSegment(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

export function parseJson(text: string, file: string): ParsedJson {
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // a byte-order mark is allowed and skipped
  const numbers = new Map<string, string>();

  const where = (at: number) => {
    const before = text.slice(0, at);
    const line = before.split('\n').length;
    const column = at - before.lastIndexOf('\n');
    return `line ${line}, column ${column}`;
  };
  const fail = (what: string, at = i): never => {
    throw new UsageError(`${file}: not valid JSON: ${what} at ${where(at)}`);
  };
  const describe = (at: number) => (at >= text.length ? 'end of file' : `${JSON.stringify(text[at])}`);
  const skip = () => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else break;
    }
  };
  const expect = (ch: string) => {
    if (text[i] !== ch) fail(`expected '${ch}', found ${describe(i)}`);
    i++;
  };

  const parseString = (): string => {
    const start = i;
    expect('"');
    let out = '';
    for (;;) {
      if (i >= text.length) fail('unterminated string', start);
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return out;
      }
      if (c < 0x20) fail('control character in a string (escape it)');
      if (c === 0x5c) {
        const e = text[i + 1];
        const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (e !== undefined && e in simple) {
          out += simple[e];
          i += 2;
        } else if (e === 'u') {
          const hex = text.slice(i + 2, i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('bad \\u escape');
          out += String.fromCharCode(parseInt(hex, 16));
          i += 6;
        } else {
          fail(`bad escape '\\${e ?? ''}'`);
        }
      } else {
        out += text[i];
        i++;
      }
    }
  };

  /** Just after the opening bracket of an object or array: true (and past it) at its closing `close`. */
  const emptyUntil = (close: '}' | ']'): boolean => {
    skip();
    if (text[i] !== close) return false;
    i++;
    return true;
  };
  /** After a member or element: true (and past it) at the closing `close`, false past a comma. */
  const endsAt = (close: '}' | ']'): boolean => {
    skip();
    if (text[i] === ',') {
      i++;
      return false;
    }
    if (text[i] === close) {
      i++;
      return true;
    }
    return fail(`expected ',' or '${close}', found ${describe(i)}`);
  };

  const parseValue = (pointer: string, depth: number): unknown => {
    if (depth > MAX_DEPTH) fail(`nested more than ${MAX_DEPTH} deep`);
    skip();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: Record<string, unknown> = {};
      const seen = new Set<string>();
      if (emptyUntil('}')) return obj;
      for (;;) {
        skip();
        const keyAt = i;
        const key = parseString();
        if (seen.has(key)) fail(`key '${key}' appears twice`, keyAt);
        seen.add(key);
        skip();
        expect(':');
        const v = parseValue(`${pointer}/${pointerSegment(key)}`, depth + 1);
        // defineProperty: a key "__proto__" is an ordinary (unknown) key, not a prototype.
        Object.defineProperty(obj, key, { value: v, enumerable: true, writable: true, configurable: true });
        if (endsAt('}')) return obj;
      }
    }
    if (c === '[') {
      i++;
      const arr: unknown[] = [];
      if (emptyUntil(']')) return arr;
      for (;;) {
        arr.push(parseValue(`${pointer}/${arr.length}`, depth + 1));
        if (endsAt(']')) return arr;
      }
    }
    if (c === '"') return parseString();
    for (const [word, value] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return value;
      }
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (m && m[0].length > 0) {
      i += m[0].length;
      numbers.set(pointer, m[0]);
      return Number(m[0]);
    }
    return fail(`unexpected ${describe(i)}`);
  };

  const value = parseValue('', 0);
  skip();
  if (i < text.length) fail(`unexpected ${describe(i)} after the value`);
  return { value, numbers };
}

import { UsageError } from '../errors.js';
import { allowedText, flagOf, IntRule, Key, Rule, RULES, shown } from '../config/keys.js';
import { presetNames } from '../config/presets.js';

/**
 * Flag parsers. Each failure is a UsageError naming the flag, the value given and what is
 * allowed (the rules of src/config/keys.ts, shared with --config files).
 *
 * - Integers are plain decimal digits: no sign other than a leading '-', no exponent, no decimal
 *   point, no hex/binary/octal prefix, no leading zeros, no spaces. The value is read from the
 *   digits exactly (BigInt), so a number beyond 2^53 never rounds into the allowed range.
 * - Numbers are JavaScript decimal literals (1, -2.5, .5, 5., 1e-3, +1E+3) that are finite; no
 *   hex/binary/octal, no Infinity, no spaces.
 */

const INTEGER = /^-?(0|[1-9][0-9]*)$/;
const DECIMAL = /^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/;

/** The integer a string denotes, if it is a plain decimal integer within [min, max]; else undefined. */
export function parseIntText(raw: string, rule: Pick<IntRule, 'min' | 'max'>): number | undefined {
  if (!INTEGER.test(raw) || raw === '-0') return undefined;
  const v = BigInt(raw);
  if (v < BigInt(rule.min) || v > BigInt(rule.max)) return undefined;
  return Number(v);
}

/** The float64 a decimal literal denotes if it is finite and within the rule's bound; else undefined. */
export function parseNumberText(raw: string, rule: { gt?: number; min?: number }): number | undefined {
  if (!DECIMAL.test(raw)) return undefined;
  const v = Number(raw);
  if (!Number.isFinite(v)) return undefined;
  if (rule.gt !== undefined && !(v > rule.gt)) return undefined;
  if (rule.min !== undefined && !(v >= rule.min)) return undefined;
  return v;
}

function refuse(flag: string, raw: string, rule: Rule): never {
  let note = '';
  if (rule.kind === 'number' && DECIMAL.test(raw)) {
    const v = Number(raw);
    if (!Number.isFinite(v)) note = ', which overflows float64';
    else if (v === 0 && /[1-9]/.test(raw.split(/[eE]/)[0])) note = ', which underflows to 0 in float64';
  }
  throw new UsageError(`${flag} must be ${allowedText(rule)} (got '${shown(raw)}'${note})`);
}

/** The parser of a config key's flag: the value, exactly as the rule accepts it, or a UsageError. */
export function keyParser(key: Key, flag = flagOf(key)): (raw: string) => number | string {
  if (key === 'preset') return parsePresetFlag(flag);
  const rule: Rule = RULES[key];
  switch (rule.kind) {
    case 'int':
      return (raw) => parseIntText(raw, rule) ?? refuse(flag, raw, rule);
    case 'number':
      return (raw) => parseNumberText(raw, rule) ?? refuse(flag, raw, rule);
    case 'choice':
      return parseChoiceFlag(flag, rule.choices);
    default:
      return (raw) => {
        if (raw === '') throw new UsageError(`${flag} must be ${allowedText(rule)} (got '')`);
        return raw;
      };
  }
}

/** An integer flag: plain decimal digits within [min, max] (default: any safe integer). */
export function parseIntFlag(flag: string, range: Partial<Pick<IntRule, 'min' | 'max'>> = {}) {
  const rule: IntRule = { kind: 'int', min: range.min ?? -Number.MAX_SAFE_INTEGER, max: range.max ?? Number.MAX_SAFE_INTEGER };
  return (raw: string): number => parseIntText(raw, rule) ?? refuse(flag, raw, rule);
}

/** A number flag: a finite decimal literal (optionally > gt or >= min). */
export function parseNumberFlag(flag: string, bound: { gt?: number; min?: number } = {}) {
  const rule: Rule = { kind: 'number', ...bound };
  return (raw: string): number => {
    const v = parseNumberText(raw, bound);
    if (v !== undefined) return v;
    if (bound.gt === undefined && bound.min === undefined) {
      let note = '';
      if (DECIMAL.test(raw)) note = ', which overflows float64';
      throw new UsageError(`${flag} must be a finite number (got '${shown(raw)}'${note})`);
    }
    return refuse(flag, raw, rule);
  };
}

export function parseChoiceFlag<T extends string>(flag: string, choices: readonly T[]) {
  return (raw: string): T => {
    if (!(choices as readonly string[]).includes(raw)) {
      throw new UsageError(`${flag} must be one of ${choices.join('|')} (got '${shown(raw)}')`);
    }
    return raw as T;
  };
}

export function parsePresetFlag(flag = '--preset') {
  return (raw: string): string => {
    if (!presetNames().includes(raw)) throw new UsageError(`${flag}: unknown preset '${shown(raw)}'; choose one of: ${presetNames().join(', ')}`);
    return raw;
  };
}

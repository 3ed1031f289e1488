/**
 * Fuzz tests (fast-check, fixed seeds) of the flag parsers and the --config validator, in process.
 * Property: a value is either accepted, and then it is exactly what the text denotes (checked by
 * an independent oracle written here), or refused with a UsageError whose one-line message names
 * the flag or the key; never another exception. The completeness direction is checked too: what
 * the oracle accepts, the parser accepts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gatherFrom, planRun } from '../../src/config/gather.js';
import { keyParser } from '../../src/cli/parse.js';
import { interpretConfig } from '../../src/config/configFile.js';
import { COMMAND_KEYS, CommandName, flagOf, Key, Rule, RULES } from '../../src/config/keys.js';
import { checkRunLimits } from '../../src/config/limits.js';
import { UsageError } from '../../src/errors.js';

const SEED = 20240611;

/** Independent oracle: the integer a string denotes if it is plain decimal digits (no sign, no leading zero) within [min, max]. */
function oracleInt(raw: string, min: number, max: number): number | undefined {
  if (raw.length === 0 || raw.length > 40) return undefined;
  let v = 0n;
  for (const ch of raw) {
    const c = ch.charCodeAt(0) - 48;
    if (c < 0 || c > 9) return undefined;
    v = v * 10n + BigInt(c);
  }
  if (raw.length > 1 && raw[0] === '0') return undefined;
  if (v < BigInt(min) || v > BigInt(max)) return undefined;
  return Number(v);
}

/** Independent oracle for a decimal number: sign, digits, optional point, optional exponent; parseFloat gives its value. */
function oracleNumber(raw: string, rule: { gt?: number; min?: number }): number | undefined {
  let i = 0;
  const digits = () => {
    const s = i;
    while (i < raw.length && raw[i] >= '0' && raw[i] <= '9') i++;
    return i - s;
  };
  if (raw[i] === '+' || raw[i] === '-') i++;
  let mantissa = digits();
  if (raw[i] === '.') {
    i++;
    mantissa += digits();
  }
  if (mantissa === 0) return undefined;
  if (raw[i] === 'e' || raw[i] === 'E') {
    i++;
    if (raw[i] === '+' || raw[i] === '-') i++;
    if (digits() === 0) return undefined;
  }
  if (i !== raw.length) return undefined;
  const v = parseFloat(raw);
  if (!Number.isFinite(v)) return undefined;
  if (rule.gt !== undefined && !(v > rule.gt)) return undefined;
  if (rule.min !== undefined && !(v >= rule.min)) return undefined;
  return v;
}

function oracle(rule: Rule, raw: string): unknown {
  switch (rule.kind) {
    case 'int':
      return oracleInt(raw, rule.min, rule.max);
    case 'number':
      return oracleNumber(raw, rule);
    case 'choice':
      return rule.choices.includes(raw) ? raw : undefined;
    default:
      return raw === '' ? undefined : raw;
  }
}

/** Strings near the interesting cases: numbers in every notation, spaces, signs, prefixes, junk. */
const numberish = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.string({ unit: fc.constantFrom(...'0123456789+-.eExXbBoO _'.split('')), maxLength: 14 }),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
  fc.integer().map(String),
  fc.double().map(String),
  fc.double({ noNaN: true }).map((x) => x.toExponential()),
  fc.integer({ min: 0, max: 2 ** 31 }).map((x) => `0x${x.toString(16)}`),
  fc.integer({ min: 0, max: 2 ** 31 }).map((x) => `0b${x.toString(2)}`),
  fc.integer({ min: 0, max: 2 ** 31 }).map((x) => `0o${x.toString(8)}`),
  fc.tuple(fc.constantFrom(' ', '\t', '\n', '+', '0', '00', '-'), fc.nat(1000).map(String), fc.constantFrom('', ' ', '.0', 'e0', '\n')).map(([a, b, c]) => a + b + c),
  fc.constantFrom('', '0', '-0', '5.0', '1e3', '+5', ' 5 ', 'Infinity', '-Infinity', 'NaN', '1e400', '1e-400', '9007199254740991', '9007199254740992', '9007199254740993', '2147483647', '2147483648', '.5', '5.', '1_000', '١٢', '５'),
);

const FLAG_KEYS = (Object.keys(RULES) as Key[]).filter((k) => RULES[k].kind !== 'boolean');

describe('flag parsers (fuzz)', () => {
  for (const key of FLAG_KEYS) {
    const rule: Rule = RULES[key];
    it(`${flagOf(key)}: accepted exactly as the oracle says, or a UsageError naming the flag`, () => {
      const parse = keyParser(key);
      const raws = rule.kind === 'choice' ? fc.oneof(numberish, fc.constantFrom(...rule.choices), fc.constantFrom(...rule.choices).map((c) => ` ${c}`)) : numberish;
      fc.assert(
        fc.property(raws, (raw) => {
          const expected = oracle(rule, raw);
          let got: unknown;
          try {
            got = parse(raw);
          } catch (e) {
            expect(e).toBeInstanceOf(UsageError);
            const msg = (e as Error).message;
            expect(msg.startsWith(flagOf(key))).toBe(true);
            expect(msg).not.toMatch(/\n/);
            expect(expected, `refused '${raw}' that the oracle accepts`).toBeUndefined();
            return;
          }
          expect(got, `accepted '${raw}'`).toBe(expected);
        }),
        { seed: SEED, numRuns: 600 },
      );
    });
  }

  it('the cases the brief names', () => {
    const m = keyParser('m');
    for (const bad of ['0x3C', '0b101', ' 5 ', '1e3', '5.0', '+5', '']) expect(() => m(bad), bad).toThrow(/^--m must be an integer >= 1 /);
    expect(m('60')).toBe(60); // negative control
    const seed = keyParser('seed');
    expect(() => seed('9007199254740993')).toThrow(/--seed must be an integer >= 0 and <= 9007199254740991/);
    expect(() => seed('-1')).toThrow(/--seed/);
    expect(seed('9007199254740991')).toBe(9007199254740991);
    expect(seed('0')).toBe(0);
    const tEnd = keyParser('tEnd');
    for (const bad of ['0x10', '0b1', '0o7', 'Infinity', '1e400', 'ten', '', ' 5', '0']) expect(() => tEnd(bad), bad).toThrow(/^--t-end must be a finite number > 0/);
    for (const [ok, v] of [['5', 5], ['1e-3', 1e-3], ['.5', 0.5], ['5.', 5], ['+2.5E+1', 25]] as const) expect(tEnd(ok)).toBe(v);
  });
});

// ---------------------------------------------------------------------------------------------
// --config files

/** A JSON value's text, sometimes with a number written in another notation (5.0, 5e0, 9007199254740993, 1e400). */
const numberLiteral = fc.oneof(
  fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }).map(String),
  fc.integer({ min: -5, max: 300000 }).map(String),
  fc.integer({ min: 0, max: 1000 }).map((x) => `${x}.0`),
  fc.integer({ min: 0, max: 1000 }).map((x) => `${x}e0`),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => JSON.stringify(x)),
  fc.constantFrom('9007199254740993', '9007199254740991', '1e400', '-1e400', '1e-400', '-0', '0.0', '2147483648', '100001', '1000'),
);
const valueText: fc.Arbitrary<string> = fc.oneof(
  numberLiteral,
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.constantFrom('"NaN"', '"Infinity"', '"ten"', '"5"', 'true', 'false', 'null', '[]', '{}', '""', '"dopri5"', '"gd"', '"odex"', '"full"', '"gram"', '"type"', '"mean"', '"wishart"', '"theory"', '"kaiming"', '"explicit"', '"repeat"', '"distinct"', '"I"', '"PI"', '"paper-fig1"', '"theory-strict"', '{"source": "generated"}', '{"source": "file"}', '{"source": "file", "path": "x.npz"}', '{"source": "mean"}', '{"n": 1}', '[[[[[[1]]]]]]', '"a\\nb"'),
);

function keyArb(command: CommandName) {
  const known = [...(COMMAND_KEYS[command] as readonly string[]), 'settings', 'coflow', 'rng', 'files', 'data', 'params'];
  return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...known) }, fc.string({ maxLength: 8 }), fc.constantFrom('t_end', 'T_END', '__proto__', 'constructor', 'checkpoint-every', 'tend', 'resume', 'config'));
}

interface ConfigCase {
  text: string;
  /** the top-level pairs as written (key, value text), when the text is an object of them */
  pairs?: [string, string][];
}

/** A value's text near the key's rule: inside, at and beyond its bounds, in several notations. */
function ruleValue(rule: Rule): fc.Arbitrary<string> {
  switch (rule.kind) {
    case 'int': {
      const near = fc.oneof(fc.integer({ min: rule.min, max: Math.min(rule.min + 30, rule.max) }), fc.constantFrom(rule.min, rule.max, rule.min - 1), fc.integer({ min: Math.max(rule.min, 2), max: 400 }));
      return fc.oneof(
        { weight: 6, arbitrary: near.map(String) },
        near.map((x) => `${x}.0`),
        near.map((x) => `${x}e0`),
        fc.constantFrom(`${BigInt(rule.max) + 1n}`, `${BigInt(rule.max) + 2n}`, '1e400', '-0'),
      );
    }
    case 'number':
      return fc.oneof(
        { weight: 6, arbitrary: fc.double({ min: 1e-12, max: 1e4, noNaN: true }).map((x) => JSON.stringify(x)) },
        fc.constantFrom('0', '-1', '1e400', '1e-400', '1e-20', '"5"', '1e-14', '1e-8'),
      );
    case 'choice':
      return fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...rule.choices).map((c) => JSON.stringify(c)) }, fc.constantFrom('"bogus"', '5', '"explicit"'));
    case 'string':
      return fc.constantFrom('"x.npz"', '"out"', '""', '5');
    case 'boolean':
      return fc.constantFrom('true', 'false', '"yes"', '1');
  }
}

function configCase(command: CommandName): fc.Arbitrary<ConfigCase> {
  const keys = COMMAND_KEYS[command] as readonly Key[];
  const nearValid = fc
    .uniqueArray(fc.constantFrom(...keys), { maxLength: 8 })
    .chain((ks) => fc.tuple(...ks.map((k) => ruleValue(RULES[k]).map((v): [string, string] => [k, v]))))
    .map((pairs) => ({ text: `{${pairs.map(([k, v]) => `${JSON.stringify(k)}: ${v}`).join(', ')}}`, pairs }));
  return fc.oneof(
    { weight: 8, arbitrary: nearValid },
    {
      weight: 6,
      arbitrary: fc.array(fc.tuple(keyArb(command), valueText), { maxLength: 6 }).map((pairs) => ({ text: `{${pairs.map(([k, v]) => `${JSON.stringify(k)}: ${v}`).join(', ')}}`, pairs })),
    },
    valueText.map((text) => ({ text })),
    fc.string({ unit: 'binary', maxLength: 30 }).map((text) => ({ text })),
  );
}

/** The oracle for one accepted key of a flat config: the JSON value, as written, satisfies the key's rule. */
function acceptedByRule(rule: Rule, value: unknown, literal: string): boolean {
  switch (rule.kind) {
    case 'int':
      return oracleInt(literal, rule.min, rule.max) === value;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) && (rule.gt === undefined || value > rule.gt) && (rule.min === undefined || value >= rule.min);
    case 'choice':
      return typeof value === 'string' && rule.choices.includes(value);
    case 'string':
      return typeof value === 'string' && value.length > 0;
    case 'boolean':
      return typeof value === 'boolean';
  }
}

const COMMANDS: CommandName[] = ['data', 'init', 'grad', 'derive', 'check', 'presets', 'run'];

describe('--config validator (fuzz)', () => {
  for (const command of COMMANDS) {
    it(`${command}: a config is accepted with values that meet their rules, or refused by a one-line UsageError naming the file and the key`, () => {
      let accepted = 0;
      let refused = 0;
      fc.assert(
        fc.property(configCase(command), ({ text, pairs }) => {
          let loaded;
          try {
            loaded = interpretConfig('cfg.json', command, text);
          } catch (e) {
            if (!(e instanceof UsageError)) throw e;
            expect(e.message.startsWith('cfg.json: ')).toBe(true);
            expect(e.message).not.toMatch(/\n/);
            refused++;
            return;
          }
          if (Object.keys(loaded.values).length > 0) accepted++;
          // Accepted: an object of distinct known keys, each value meeting its rule as written.
          // (a text from JSON.stringify has its numbers in canonical notation, so re-stringifying gives the text)
          const list = pairs ?? Object.entries(JSON.parse(text) as Record<string, unknown>).map(([k, v]): [string, string] => [k, JSON.stringify(v)]);
          const written = new Map(list);
          expect(written.size).toBe(list.length);
          for (const [key, value] of Object.entries(loaded.values)) {
            const raw = JSON.parse(written.get(key)!) as unknown;
            if (key === 'data' || key === 'params') {
              expect(typeof raw === 'string' ? raw : (raw as { path: string }).path).toBe(value);
              continue;
            }
            expect(value).toStrictEqual(raw);
            expect(acceptedByRule(RULES[key as Key], value, written.get(key)!), `${key}: ${text}`).toBe(true);
          }
          for (const key of written.keys()) {
            expect([...(COMMAND_KEYS[command] as readonly string[]), 'settings', 'coflow', 'rng', 'files', 'data', 'params']).toContain(key);
          }
        }),
        { seed: SEED, numRuns: 1500 },
      );
      // Not vacuous: both outcomes occur often.
      expect(accepted).toBeGreaterThan(100);
      expect(refused).toBeGreaterThan(300);
    });
  }

  it('run: a config that passes the schema either resolves to settings within every limit or is refused by a UsageError naming a flag or key', () => {
    let planned = 0;
    let refused = 0;
    fc.assert(
      fc.property(configCase('run'), fc.boolean(), ({ text }, withOut) => {
        let loaded;
        try {
          loaded = interpretConfig('cfg.json', 'run', text);
        } catch (e) {
          if (!(e instanceof UsageError)) throw e;
          return;
        }
        try {
          const g = gatherFrom('run', withOut ? { out: 'o' } : {}, loaded);
          const { s, dataPath, paramsPath } = planRun(g);
          checkRunLimits({ ...s, dataFromFile: dataPath !== undefined, paramsFromFile: paramsPath !== undefined });
          planned++;
        } catch (e) {
          if (!(e instanceof UsageError)) throw e;
          refused++;
          expect(e.message).toMatch(/--[a-zA-Z]|'[A-Za-z0-9.]+' in cfg\.json|cfg\.json/);
          expect(e.message).not.toMatch(/\n/);
        }
      }),
      { seed: SEED, numRuns: 3000 },
    );
    expect(planned).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(100);
  });

  it('the cases the brief names', () => {
    const refuse = (text: string, message: RegExp) => expect(() => interpretConfig('config.json', 'run', text), text).toThrow(message);
    refuse('{"tEnd": "ten"}', /^config\.json: key 'tEnd' must be a finite number > 0 \(got "ten"\)$/);
    refuse('{"seed": 9007199254740993}', /key 'seed' must be an integer >= 0 and <= 9007199254740991 .*\(got 9007199254740993\)/);
    refuse('{"seed": -1}', /key 'seed'/);
    refuse('{"m": 5.0}', /key 'm' must be an integer .*\(got 5\.0\); write it as a JSON integer/);
    refuse('{"m": 5e0}', /key 'm' .*\(got 5e0\)/);
    refuse('{"steps": 1e3}', /key 'steps' .*\(got 1e3\)/);
    refuse('{"tEnd": 1e400}', /key 'tEnd' must be a finite number > 0 \(got 1e400\)/);
    refuse('{"t_end": 1}', /unknown key 't_end' \(did you mean 'tEnd'\?\)/);
    refuse('{"tEnd": 1, "tEnd": 2}', /key 'tEnd' appears twice/);
    refuse('{"settings": {"n": 6}}', /key 'settings\.L' is missing/);
    refuse('{"data": {"source": "file"}}', /key 'data\.path' is missing/);
    refuse('{"level": {"nested": [1, 2]}}', /key 'level' must be one of full\|gram\|type\|paper \(got \{"nested":\[1,2\]\}\)/);
    refuse('[' .repeat(100) + ']'.repeat(100), /nested more than 32 deep/);
    // negative controls
    expect(interpretConfig('config.json', 'run', '{"tEnd": 10, "seed": 9007199254740991, "m": 5}').values).toEqual({ tEnd: 10, seed: 9007199254740991, m: 5 });
    expect(interpretConfig('config.json', 'run', '{"tEnd": 1e3}').values).toEqual({ tEnd: 1000 });
  });
});

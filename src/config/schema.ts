/**
 * The JSON schema of a --config file for each command, built from the value rules of
 * src/config/keys.ts, and its validation (ajv) with one-line messages: the file, the key, what it
 * must be and the value given, e.g. `c.json: key 'tEnd' must be a finite number > 0 (got "ten")`.
 *
 * Two shapes are accepted:
 * - flat: the command's flags in camelCase, e.g. {"preset": "theory", "tEnd": 10, "out": "runs/a"};
 * - a run's config.json (data, init, run): {"coflow", "rng", "settings": {every resolved setting},
 *   "data": {"source": ...}, "params": {"source": ...}, "files"}; coflow, rng, files and the sha256
 *   fields are accepted and ignored.
 * JSON integers are required where a flag takes an integer (5, not 5.0 or 5e0), read exactly from
 * their digits (src/config/json.ts), so a seed above 2^53 - 1 is refused rather than rounded.
 */
import { Ajv, ErrorObject, ValidateFunction } from 'ajv';
import { UsageError } from '../errors.js';
import { allowedText, CommandName, COMMAND_KEYS, IntRule, Key, Rule, RULES, RUN_CONFIG_COMMANDS, SETTING_KEYS, shown } from './keys.js';
import { pointerSegment } from './json.js';
import { RESOLVED_KEYS } from './resolve.js';

type Schema = Record<string, unknown>;

function ruleSchema(rule: Rule): Schema {
  const description = allowedText(rule);
  switch (rule.kind) {
    case 'int':
      return { type: 'integer', minimum: rule.min, maximum: rule.max, description };
    case 'number':
      return rule.gt !== undefined ? { type: 'number', exclusiveMinimum: rule.gt, description } : { type: 'number', minimum: rule.min, description };
    case 'choice':
      return { type: 'string', enum: [...rule.choices], description };
    case 'string':
      return { type: 'string', minLength: 1, description };
    case 'boolean':
      return { type: 'boolean', description };
  }
}

/** `settings` of a run's config.json: every resolved setting (testN and snapshots may be absent in older runs). */
function settingsSchema(): Schema {
  const properties: Record<string, Schema> = {};
  for (const key of RESOLVED_KEYS) {
    if (key === 'preset') properties.preset = { type: 'string', minLength: 1, description: 'the name of a preset' };
    else if (key === 'scale') properties.scale = ruleSchema({ kind: 'choice', choices: [...RULES.scale.choices, 'explicit'] });
    else properties[key] = ruleSchema(RULES[key]);
  }
  return {
    type: 'object',
    description: "an object of every setting (a run's config.json)",
    properties,
    required: RESOLVED_KEYS.filter((k) => k !== 'testN' && k !== 'snapshots'),
    additionalProperties: false,
  };
}

function sourceSchema(sources: readonly string[], pathAllowed: boolean): Schema {
  const object = {
    properties: {
      source: { type: 'string', enum: [...sources], description: `one of ${sources.join('|')}` },
      path: { type: 'string', minLength: 1, description: 'a non-empty string (a path)' },
      sha256: { type: 'string', description: 'a string' },
    },
    required: ['source'],
    additionalProperties: false,
  };
  return pathAllowed
    ? { type: ['string', 'object'], description: 'a path, or an object {"source": ..., "path": ...}', minLength: 1, ...object }
    : { type: 'object', description: 'an object {"source": ..., "path": ...}', ...object };
}

export function configSchema(command: CommandName): Schema {
  const properties: Record<string, Schema> = {};
  for (const key of COMMAND_KEYS[command]) properties[key] = ruleSchema(RULES[key]);
  if (RUN_CONFIG_COMMANDS.includes(command)) {
    properties.coflow = { type: 'string', description: 'a string (the coflow version that wrote the run)' };
    properties.rng = { type: 'string', description: 'a string (the generator that run used)' };
    properties.files = { type: 'object', description: 'an object (SHA-256 of the run\'s files)' };
    properties.settings = settingsSchema();
    const run = command === 'run';
    properties.data = sourceSchema(['generated', 'file'], run);
    properties.params = sourceSchema(['gaussian', 'wishart', 'orthogonal', 'mean', 'file'], run);
  }
  return { type: 'object', properties, additionalProperties: false };
}

let ajv: Ajv | null = null;
const compiled = new Map<CommandName, ValidateFunction>();

function validatorFor(command: CommandName): ValidateFunction {
  let v = compiled.get(command);
  if (!v) {
    ajv ??= new Ajv({ allErrors: false, verbose: true, strict: true, allowUnionTypes: true });
    v = ajv.compile(configSchema(command));
    compiled.set(command, v);
  }
  return v;
}

/** "/settings/tEnd" -> "settings.tEnd" */
export function dotted(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
}

/** A value as a message shows it: a number as written in the file, anything else as JSON, on one line, at most 60 characters. */
function showValue(value: unknown, pointer: string, numbers: Map<string, string>): string {
  const literal = numbers.get(pointer);
  if (literal !== undefined) return shown(literal);
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

const normal = (k: string) => k.toLowerCase().replace(/[^a-z0-9]/g, '');

function unknownKeyMessage(file: string, e: ErrorObject, numbers: Map<string, string>): string {
  const key = (e.params as { additionalProperty: string }).additionalProperty;
  const path = dotted(`${e.instancePath}/${pointerSegment(key)}`);
  const allowed = Object.keys((e.parentSchema as { properties: Record<string, unknown> }).properties);
  const near = allowed.find((a) => normal(a) === normal(key));
  void numbers;
  return `${file}: unknown key '${shown(path)}'${near ? ` (did you mean '${near}'?)` : ''}; allowed keys${e.instancePath ? ` in '${dotted(e.instancePath)}'` : ''}: ${allowed.join(', ')}`;
}

function errorMessage(file: string, e: ErrorObject, numbers: Map<string, string>): string {
  if (e.keyword === 'additionalProperties') return unknownKeyMessage(file, e, numbers);
  if (e.keyword === 'required') {
    const missing = (e.params as { missingProperty: string }).missingProperty;
    const context = e.instancePath === '/settings' ? " (a run's config.json lists every setting)" : '';
    return `${file}: key '${dotted(`${e.instancePath}/${pointerSegment(missing)}`)}' is missing${context}`;
  }
  const got = showValue(e.data, e.instancePath, numbers);
  if (e.instancePath === '') return `${file}: must be a JSON object of settings, like {"preset": "theory", "seed": 1} (got ${got})`;
  const description = (e.parentSchema as { description?: string }).description ?? e.message ?? 'valid';
  return `${file}: key '${shown(dotted(e.instancePath))}' must be ${description} (got ${got})`;
}

const INTEGER = /^-?(0|[1-9][0-9]*)$/;

/** JSON integers only, read exactly from their digits (ajv sees 5.0 and 9007199254740993 as numbers already rounded). */
function checkIntegerLiterals(file: string, value: Record<string, unknown>, numbers: Map<string, string>, prefix: string): void {
  for (const [key, v] of Object.entries(value)) {
    const rule = (RULES as Record<string, Rule>)[key];
    if (rule?.kind !== 'int' || typeof v !== 'number') continue;
    const pointer = `${prefix}/${pointerSegment(key)}`;
    const literal = numbers.get(pointer) ?? String(v);
    const r = rule as IntRule;
    const exact = INTEGER.test(literal) && literal !== '-0' ? BigInt(literal) : null;
    if (exact === null || exact < BigInt(r.min) || exact > BigInt(r.max)) {
      const hint = exact === null ? '; write it as a JSON integer (digits only, no fraction or exponent)' : '';
      throw new UsageError(`${file}: key '${dotted(pointer)}' must be ${allowedText(r)} (got ${shown(literal)})${hint}`);
    }
  }
}

/**
 * Validates a parsed config file against the command's schema; throws a one-line UsageError for
 * the first problem. Returns the value, now known to have the schema's shape.
 */
export function validateConfig(file: string, command: CommandName, value: unknown, numbers: Map<string, string>): Record<string, unknown> {
  const validate = validatorFor(command);
  if (!validate(value)) throw new UsageError(errorMessage(file, validate.errors![0], numbers));
  const obj = value as Record<string, unknown>;
  checkIntegerLiterals(file, obj, numbers, '');
  if (obj.settings !== undefined) checkIntegerLiterals(file, obj.settings as Record<string, unknown>, numbers, '/settings');
  return obj;
}

export { SETTING_KEYS, type Key };

/**
 * A sweep's spec file, and its plan: every grid point (and reference) as the resolved settings of
 * an ordinary `coflow run`, each checked by the same code as `coflow run` (src/cli/commands.ts:
 * gatherFrom, planRun, runShape; the limits of src/config/limits.ts; the --config schema of
 * src/config/schema.ts) before anything is run or written. docs/sweeps.md describes the format.
 *
 *   { "base": { "preset": "theory", "level": "gram", "t-end": "50 / m", ... },
 *     "grid": { "m": [128, 256], "seed": [0, 1, 2] },
 *     "reference": { "level": "type", "init": "mean", "seed": 0 } }
 *
 * Settings are named by their flags without the dashes ("t-end", "max-steps", "L"). A string
 * value of a numeric setting in `base` (or `reference`) is a mathjs expression in the other
 * numeric settings, named in camelCase (tEnd, maxSteps, m1, L, ...): the grid values, base
 * numbers, the preset's values and other expressions, evaluated in dependency order.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Ajv, ErrorObject } from 'ajv';
import { UsageError } from '../errors.js';
import { flagOf, RULES, SETTING_KEYS, SettingKey, shown } from '../config/keys.js';
import { parseJson, pointerSegment } from '../config/json.js';
import { getPreset, ResolvedSettings } from '../config/resolve.js';
import { dotted, validateConfig } from '../config/schema.js';
import { checkRunLimits } from '../config/limits.js';
import { Gathered, gatherFrom, planRun, runShape } from '../config/gather.js';
import { recordedRowCount } from '../app/run.js';
import { loadMathjs } from './mathjs.js';

/** The preset `coflow run` uses when none is given (src/cli/commands.ts). */
const DEFAULT_PRESET = 'paper-fig1';

/** A sweep of more points than this is refused: each point is a run directory on disk. */
export const MAX_POINTS = 100_000;

type SpecKey = 'preset' | SettingKey;
const SPEC_KEYS: readonly SpecKey[] = ['preset', ...SETTING_KEYS];

/** "t-end" for tEnd: the flag without its dashes, as the spec names a setting. */
export function specName(key: string): string {
  return flagOf(key).slice(2);
}

const KEY_OF_NAME = new Map<string, SpecKey>(SPEC_KEYS.map((k) => [specName(k), k]));

function isNumeric(key: SpecKey): boolean {
  const kind = (RULES as Record<string, { kind: string }>)[key].kind;
  return kind === 'int' || kind === 'number';
}
const isInteger = (key: SpecKey) => (RULES as Record<string, { kind: string }>)[key].kind === 'int';

const NUMERIC_KEYS = SPEC_KEYS.filter(isNumeric);

export type Value = number | string;

export interface SweepSpec {
  /** how messages name the file */
  file: string;
  base: Map<SpecKey, Value>;
  grid: { key: SpecKey; values: Value[] }[];
  reference?: Map<SpecKey, Value>;
  /** literal text of each number, by JSON pointer (integers must be JSON integers) */
  numbers: Map<string, string>;
  /** the spec as stored in sweep.json (base and reference keys sorted, grid order kept) */
  canonical: { base: Record<string, Value>; grid: Record<string, Value[]>; reference?: Record<string, Value> };
  /** SHA-256 of the canonical spec's JSON: shards of one spec share it */
  hash: string;
}

// ---------------------------------------------------------------- the file's shape (ajv)

function settingsObjectSchema(what: string, minProperties: number): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const k of SPEC_KEYS) {
    properties[specName(k)] = isNumeric(k)
      ? { type: ['number', 'string'], minLength: 1, description: 'a number, or a non-empty string (a mathjs expression)' }
      : { type: 'string', description: 'a string (one of the choices of the flag)' };
  }
  return { type: 'object', properties, additionalProperties: false, minProperties, description: what };
}

function gridSchema(): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const k of SPEC_KEYS) {
    properties[specName(k)] = {
      type: 'array',
      minItems: 1,
      items: isNumeric(k) ? { type: 'number', description: 'a number' } : { type: 'string', description: 'a string' },
      description: isNumeric(k) ? 'a non-empty array of numbers' : 'a non-empty array of strings',
    };
  }
  return { type: 'object', properties, additionalProperties: false, minProperties: 1, description: 'an object of setting -> array of values, with at least one setting' };
}

const SPEC_SCHEMA = {
  type: 'object',
  description: 'a JSON object {"base": {...}, "grid": {...}, "reference": {...}}',
  properties: {
    base: settingsObjectSchema('an object of settings', 0),
    grid: gridSchema(),
    reference: settingsObjectSchema('an object of settings (at least one)', 1),
  },
  required: ['grid'],
  additionalProperties: false,
};

let validator: ReturnType<Ajv['compile']> | null = null;


/** Edit distance, for "did you mean" (keys are short). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  }
  return d[a.length][b.length];
}

/** The allowed key nearest to `key`: equal up to case and punctuation (t_end, tEnd -> t-end), else within 2 edits. */
export function nearestKey(key: string, allowed: readonly string[]): string | undefined {
  const normal = (k: string) => k.toLowerCase().replace(/[^a-z0-9]/g, '');
  const same = allowed.find((a) => normal(a) === normal(key));
  if (same) return same;
  let best: string | undefined;
  let bestD = 3;
  for (const a of allowed) {
    const d = editDistance(key.toLowerCase(), a.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = a;
    }
  }
  return best;
}

function shapeMessage(file: string, e: ErrorObject): string {
  if (e.keyword === 'additionalProperties') {
    const key = (e.params as { additionalProperty: string }).additionalProperty;
    const allowed = Object.keys((e.parentSchema as { properties: Record<string, unknown> }).properties);
    const near = nearestKey(key, allowed);
    const where = e.instancePath ? ` in '${dotted(e.instancePath)}'` : '';
    return `${file}: unknown key '${shown(dotted(`${e.instancePath}/${pointerSegment(key)}`))}'${near ? ` (did you mean '${near}'?)` : ''}; allowed keys${where}: ${allowed.join(', ')}`;
  }
  if (e.keyword === 'required') return `${file}: key '${(e.params as { missingProperty: string }).missingProperty}' is missing (the settings to vary, e.g. "grid": {"m": [128, 256]})`;
  const got = JSON.stringify(e.data) ?? String(e.data);
  const shownGot = got.length > 60 ? `${got.slice(0, 57)}...` : got;
  const description = (e.parentSchema as { description?: string }).description ?? e.message ?? 'valid';
  if (e.instancePath === '') return `${file}: must be ${description} (got ${shownGot})`;
  return `${file}: key '${shown(dotted(e.instancePath))}' must be ${description} (got ${shownGot})`;
}

/** Parses and checks a spec file's text: its JSON (strict, src/config/json.ts) and shape (ajv). */
export function parseSpec(file: string, text: string): SweepSpec {
  const label = shown(file);
  const { value, numbers } = parseJson(text, label);
  validator ??= new Ajv({ allErrors: false, verbose: true, strict: true, allowUnionTypes: true }).compile(SPEC_SCHEMA);
  if (!validator(value)) throw new UsageError(shapeMessage(label, validator.errors![0]));
  const obj = value as { base?: Record<string, Value>; grid: Record<string, Value[]>; reference?: Record<string, Value> };
  const toMap = (o: Record<string, Value> | undefined) => new Map(Object.entries(o ?? {}).map(([n, v]) => [KEY_OF_NAME.get(n)!, v] as [SpecKey, Value]));
  const base = toMap(obj.base);
  const grid = Object.entries(obj.grid).map(([n, values]) => ({ key: KEY_OF_NAME.get(n)!, values }));
  const reference = obj.reference ? toMap(obj.reference) : undefined;

  let points = 1;
  for (const { key, values } of grid) {
    if (base.has(key)) throw new UsageError(`${label}: '${specName(key)}' is given in both 'base' and 'grid'; keep it in one of them`);
    const seen = new Set<Value>();
    for (const v of values) {
      if (seen.has(v)) throw new UsageError(`${label}: 'grid.${specName(key)}' lists ${JSON.stringify(v)} twice; each grid value must be distinct`);
      seen.add(v);
    }
    points *= values.length;
  }
  if (points > MAX_POINTS) throw new UsageError(`${label}: the grid has ${points} points, above the ${MAX_POINTS} a sweep allows (one run directory each); split it into several specs`);
  for (const [key, v] of base) {
    if (typeof v === 'number') checkIntegerLiteral(label, `/base/${pointerSegment(specName(key))}`, key, v, numbers);
  }
  for (const { key, values } of grid) {
    values.forEach((v, j) => typeof v === 'number' && checkIntegerLiteral(label, `/grid/${pointerSegment(specName(key))}/${j}`, key, v, numbers));
  }
  for (const [key, v] of reference ?? []) {
    if (typeof v === 'number') checkIntegerLiteral(label, `/reference/${pointerSegment(specName(key))}`, key, v, numbers);
  }
  const sorted = (m: Map<SpecKey, Value>) => Object.fromEntries([...m].map(([k, v]) => [specName(k), v] as [string, Value]).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const canonical = {
    base: sorted(base),
    grid: Object.fromEntries(grid.map(({ key, values }) => [specName(key), values])),
    ...(reference ? { reference: sorted(reference) } : {}),
  };
  const hash = createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
  return { file: label, base, grid, reference, numbers, canonical, hash };
}

/** The spec as stored in a sweep directory's sweep.json, read back (merges compare its hash). */
export function specFromCanonical(file: string, canonical: unknown): SweepSpec {
  return parseSpec(file, JSON.stringify(canonical));
}

/** An integer setting must be written as a JSON integer (5, not 5.0 or 5e0), as in a --config file. */
function checkIntegerLiteral(file: string, pointer: string, key: SpecKey, v: number, numbers: Map<string, string>): void {
  if (!isInteger(key)) return;
  const literal = numbers.get(pointer) ?? String(v);
  if (!/^-?(0|[1-9][0-9]*)$/.test(literal)) {
    throw new UsageError(`${file}: '${dotted(pointer)}' must be an integer (got ${shown(literal)}); write it as a JSON integer (digits only, no fraction or exponent)`);
  }
}

// ---------------------------------------------------------------- expressions (mathjs)

type MathJs = typeof import('mathjs');

interface Expression {
  key: SpecKey;
  text: string;
  compiled: { evaluate(scope: Map<string, unknown>): unknown };
  /** the numeric settings it names */
  names: string[];
}

/** Names an expression may use besides the numeric settings. */
const CONSTANTS = new Set(['pi', 'e']);

function compileExpression(math: MathJs, file: string, where: string, key: SpecKey, text: string): Expression {
  const label = `${file}: '${where}.${specName(key)}' = ${JSON.stringify(text)}`;
  let node: import('mathjs').MathNode;
  try {
    node = math.parse(text);
  } catch (e) {
    throw new UsageError(`${label} is not a valid expression (${(e as Error).message})`);
  }
  const names = new Set<string>();
  node.traverse((n, path, parent) => {
    if ((n as { isSymbolNode?: boolean }).isSymbolNode && !((parent as { isFunctionNode?: boolean } | null)?.isFunctionNode && path === 'fn')) {
      names.add((n as unknown as { name: string }).name);
    }
    if ((n as { isAssignmentNode?: boolean }).isAssignmentNode || (n as { isFunctionAssignmentNode?: boolean }).isFunctionAssignmentNode) {
      throw new UsageError(`${label}: assignments are not allowed; write an expression such as "20000 / m"`);
    }
  });
  const numeric = new Set<string>(NUMERIC_KEYS);
  for (const name of names) {
    if (numeric.has(name) || CONSTANTS.has(name)) continue;
    const asSetting = KEY_OF_NAME.get(name);
    const near = nearestKey(name, [...NUMERIC_KEYS]);
    const hyphen = /[a-zA-Z0-9]-[a-zA-Z]/.test(text) ? '; settings with a dash are written in camelCase here (t-end -> tEnd, max-steps -> maxSteps)' : '';
    let hint = '';
    if (asSetting && !isNumeric(asSetting)) hint = ` ('${name}' is a choice setting, not a number)`;
    else if (near && !hyphen) hint = ` (did you mean '${near}'?)`;
    throw new UsageError(`${label}: unknown name '${shown(name)}'${hint}; an expression may use the numeric settings ${NUMERIC_KEYS.join(', ')} and pi, e${hyphen}`);
  }
  return { key, text, compiled: node.compile() as Expression['compiled'], names: [...names].filter((n) => numeric.has(n)) };
}

/** The expressions in dependency order; a cycle is refused, naming it. */
function orderExpressions(file: string, where: string, exprs: Expression[]): Expression[] {
  const byKey = new Map(exprs.map((e) => [e.key as string, e]));
  const order: Expression[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (e: Expression, stack: string[]) => {
    if (state.get(e.key) === 'done') return;
    if (state.get(e.key) === 'visiting') {
      const cycle = [...stack.slice(stack.indexOf(e.key)), e.key].map(specName).join(' -> ');
      throw new UsageError(`${file}: the expressions in '${where}' refer to each other in a cycle (${cycle}); give one of them a number`);
    }
    state.set(e.key, 'visiting');
    for (const n of e.names) {
      const dep = byKey.get(n);
      if (dep) visit(dep, [...stack, e.key]);
    }
    state.set(e.key, 'done');
    order.push(e);
  };
  for (const e of exprs) visit(e, []);
  return order;
}

function evaluateInto(file: string, where: string, pointName: string, e: Expression, scope: Map<string, unknown>): number {
  const label = `${file}: '${where}.${specName(e.key)}' = ${JSON.stringify(e.text)} at point ${pointName}`;
  for (const n of e.names) {
    if (!scope.has(n)) throw new UsageError(`${label}: '${n}' has no value here (neither the grid, 'base' nor the preset sets it); give it in 'base'`);
  }
  let v: unknown;
  try {
    v = e.compiled.evaluate(new Map([...scope, ['pi', Math.PI], ['e', Math.E]]));
  } catch (err) {
    throw new UsageError(`${label} cannot be evaluated (${(err as Error).message})`);
  }
  if (typeof v !== 'number') throw new UsageError(`${label} gives ${shown(String(v))}, not a real number`);
  if (!Number.isFinite(v)) throw new UsageError(`${label} gives ${v}, not a finite number`);
  if (isInteger(e.key) && !Number.isInteger(v)) throw new UsageError(`${label} gives ${v}, not an integer ('${specName(e.key)}' is an integer setting; wrap it in round(...), floor(...) or ceil(...))`);
  scope.set(e.key, v);
  return v;
}

// ---------------------------------------------------------------- the plan

export interface PlannedRun {
  /** directory name under runs/ or refs/ */
  name: string;
  /** the run directory */
  out: string;
  settings: ResolvedSettings;
}

export interface PlannedPoint extends PlannedRun {
  index: number;
  /** the grid values of this point, by spec name, in grid order */
  grid: Record<string, Value>;
  /** the name of its reference run under refs/ */
  ref?: string;
}

export interface SweepPlan {
  spec: SweepSpec;
  points: PlannedPoint[];
  /** reference runs by name, each run once however many points share it */
  refs: Map<string, PlannedRun>;
}

function valueText(v: Value): string {
  return typeof v === 'number' ? String(v) : v;
}

/** The directory name of a point: its grid values, e.g. "m=128,seed=0". */
export function pointName(values: readonly [SpecKey, Value][]): string {
  return values.map(([k, v]) => `${specName(k)}=${valueText(v)}`).join(',');
}

/**
 * Checks one run's flat settings (camelCase keys, as a --config file or the flags would give them)
 * with exactly the checks of `coflow run`: the settings resolved over the preset and their rules
 * (planRun), the limits (runShape, checkRunLimits), the --config schema of `run` (ajv), and the
 * snapshot count against the rows the run records (as runCommand checks it).
 */
async function checkRunSettings(label: string, flat: Record<string, unknown>, numbers: Map<string, string>): Promise<ResolvedSettings> {
  const g0 = gatherFrom('run', flat);
  const g: Gathered = { ...g0, given: { has: g0.given.has, name: (k) => `'${specName(k)}'` } };
  let s: ResolvedSettings;
  try {
    s = planRun(g).s;
    const shape = await runShape(s, undefined, undefined);
    if (shape) checkRunLimits(shape);
    const rows = recordedRowCount(s);
    if (s.snapshots > rows - 1) throw new UsageError(`'snapshots' ${s.snapshots} is more than the ${rows - 1} rows this run records after t = 0; lower it or raise 'samples'`);
  } catch (e) {
    if (e instanceof UsageError) throw new UsageError(`${label}: ${e.message}`);
    throw e;
  }
  validateConfig(label, 'run', flat, numbers);
  return s;
}

/**
 * Every grid point of the spec (and its reference), resolved and checked, in grid order (the first
 * grid key varies slowest). Throws a one-line UsageError for the first bad point; nothing is
 * written here.
 */
export async function planSweep(spec: SweepSpec, dir: string): Promise<SweepPlan> {
  const math = loadMathjs();
  const exprs = (where: string, m: Map<SpecKey, Value>) =>
    [...m].filter(([k, v]) => typeof v === 'string' && isNumeric(k)).map(([k, v]) => compileExpression(math, spec.file, where, k, v as string));
  const baseExprs = orderExpressions(spec.file, 'base', exprs('base', spec.base));
  const refExprs = spec.reference ? exprs('reference', spec.reference) : [];

  const combos: [SpecKey, Value][][] = [[]];
  for (const { key, values } of spec.grid) {
    const next: [SpecKey, Value][][] = [];
    for (const c of combos) for (const v of values) next.push([...c, [key, v]]);
    combos.splice(0, combos.length, ...next);
  }

  const points: PlannedPoint[] = [];
  const refs = new Map<string, PlannedRun>();
  const refByConfig = new Map<string, string>();
  for (let index = 0; index < combos.length; index++) {
    const combo = combos[index];
    const name = pointName(combo);
    const label = `${spec.file} point ${name}`;
    const gridValues = new Map(combo);
    const flat: Record<string, unknown> = {};
    const numbers = new Map<string, string>();
    const literal = (key: SpecKey, v: Value, pointer: string) => {
      flat[key] = v;
      if (typeof v === 'number') numbers.set(`/${pointerSegment(key)}`, spec.numbers.get(pointer) ?? String(v));
    };
    for (const [k, v] of spec.base) if (!(typeof v === 'string' && isNumeric(k))) literal(k, v, `/base/${pointerSegment(specName(k))}`);
    for (const [k, v] of gridValues) {
      const j = spec.grid.find((gk) => gk.key === k)!.values.indexOf(v);
      literal(k, v, `/grid/${pointerSegment(specName(k))}/${j}`);
    }
    const preset = typeof flat.preset === 'string' ? flat.preset : DEFAULT_PRESET;
    const scope = new Map<string, unknown>();
    let presetValues: Record<string, unknown> = {};
    try {
      presetValues = getPreset(preset) as unknown as Record<string, unknown>;
    } catch (e) {
      if (e instanceof UsageError) throw new UsageError(`${label}: ${e.message}`);
      throw e;
    }
    for (const k of NUMERIC_KEYS) if (typeof presetValues[k] === 'number') scope.set(k, presetValues[k]);
    for (const k of NUMERIC_KEYS) if (typeof flat[k] === 'number') scope.set(k, flat[k]);
    for (const e of baseExprs) {
      const v = evaluateInto(spec.file, 'base', name, e, scope);
      flat[e.key] = v;
      numbers.set(`/${pointerSegment(e.key)}`, String(v));
    }
    const settings = await checkRunSettings(label, { ...flat, out: join(dir, 'runs', name) }, numbers);
    const point: PlannedPoint = { index, name, out: join(dir, 'runs', name), settings, grid: Object.fromEntries(combo.map(([k, v]) => [specName(k), v])) };

    if (spec.reference) {
      const rflat: Record<string, unknown> = { ...flat };
      const rnumbers = new Map(numbers);
      for (const [k, v] of spec.reference) {
        if (typeof v === 'string' && isNumeric(k)) continue;
        rflat[k] = v;
        if (typeof v === 'number') rnumbers.set(`/${pointerSegment(k)}`, spec.numbers.get(`/reference/${pointerSegment(specName(k))}`) ?? String(v));
        else rnumbers.delete(`/${pointerSegment(k)}`);
      }
      // Reference expressions see the point's values (not each other's results).
      const pointScope = new Map(scope);
      for (const e of refExprs) {
        const v = evaluateInto(spec.file, 'reference', name, e, new Map(pointScope));
        rflat[e.key] = v;
        rnumbers.set(`/${pointerSegment(e.key)}`, String(v));
      }
      const refCombo = combo.map(([k, v]) => [k, (rflat[k] as Value | undefined) ?? v] as [SpecKey, Value]);
      let refName = pointName(refCombo);
      const rsettings0 = await checkRunSettings(`${spec.file} reference of point ${name}`, { ...rflat, out: join(dir, 'refs', refName) }, rnumbers);
      const key = JSON.stringify(rsettings0);
      const known = refByConfig.get(key);
      if (known !== undefined) refName = known;
      else {
        // Two different reference configs with one name (possible when an expression depends on an overridden grid key): number them.
        for (let k = 2; refs.has(refName); k++) refName = `${pointName(refCombo)}~${k}`;
        refByConfig.set(key, refName);
        refs.set(refName, { name: refName, out: join(dir, 'refs', refName), settings: rsettings0 });
      }
      point.ref = refName;
    }
    points.push(point);
  }
  return { spec, points, refs };
}

import { UsageError } from '../errors.js';
import { validateDataConfig } from '../data/generate.js';
import { initScales } from '../model/init.js';
import { allowedText, flagOf, RULES, Rule } from './keys.js';
import { Level, PRESETS, RunSettings, Start, presetNames } from './presets.js';

/** Settings with s0 and s1 resolved to numbers. */
export type ResolvedSettings = RunSettings & { s0: number; s1: number; preset: string; testN: number; snapshots: number };

/** How a message names a setting: `--n` for a flag (the default), `'n' in FILE` for a config key. */
export type Namer = (key: string) => string;

export interface ResolveOptions {
  /** names the settings in messages (default: their flags) */
  name?: Namer;
  /**
   * What the settings are for: 'run' and 'data' check everything; 'init' (weights only) skips
   * the data set's own checks (multiple of 6, room for the fillers), which do not concern it.
   */
  scope?: 'run' | 'data' | 'init';
  /** n, L, d come from a data file: the generated data set's checks do not apply */
  dataFromFile?: boolean;
}

/** The starts each level can begin from (src/run/levels.ts applies the same table). */
export const STARTS_BY_LEVEL: Record<Level, readonly Start[]> = {
  full: ['gaussian', 'orthogonal'],
  gram: ['gaussian', 'wishart', 'orthogonal', 'mean'],
  type: ['mean'],
  // Level P starts from every Level G start (src/paper/start.ts)
  paper: ['gaussian', 'wishart', 'orthogonal', 'mean'],
};

/** The order of ResolvedSettings' keys, as written in a run's config.json. */
export const RESOLVED_KEYS = [
  'n', 'L', 'd', 'fillers', 'm', 'm1', 'scale', 'seed', 'level', 'init', 'method', 'tEnd', 'rtol', 'atol', 'maxSteps',
  'controller', 'lr', 'steps', 'samples', 's0', 's1', 'preset', 'testN', 'snapshots',
] as const satisfies readonly (keyof ResolvedSettings)[];

export function getPreset(name: string): RunSettings {
  const p = Object.prototype.hasOwnProperty.call(PRESETS, name) ? PRESETS[name] : undefined;
  if (!p) throw new UsageError(`unknown preset '${name}'; choose one of: ${presetNames().join(', ')}`);
  return { ...p };
}

const defaultName: Namer = flagOf;

function fail(name: Namer, key: keyof typeof RULES, value: unknown, rule: Rule = RULES[key]): never {
  throw new UsageError(`${name(key)} must be ${allowedText(rule)} (got ${typeof value === 'string' ? `'${value}'` : String(value)})`);
}

/** A value against its rule of src/config/keys.ts (the same rule its flag and config key apply). */
function checkRule(name: Namer, key: keyof typeof RULES, value: unknown, rule: Rule = RULES[key]): void {
  switch (rule.kind) {
    case 'int':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < rule.min || value > rule.max) fail(name, key, value, rule);
      return;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) fail(name, key, value, rule);
      if (rule.gt !== undefined && !(value > rule.gt)) fail(name, key, value, rule);
      if (rule.min !== undefined && !(value >= rule.min)) fail(name, key, value, rule);
      return;
    case 'choice':
      if (typeof value !== 'string' || !rule.choices.includes(value)) fail(name, key, value, rule);
      return;
    default:
      return;
  }
}

/**
 * Applies overrides to a preset and checks every field; errors name the flag (or config key) and
 * the fix. Giving s0 or s1 switches the scale to 'explicit' (the other one then comes from the
 * preset's scheme, so `--s0 0.1` alone keeps the preset's s1).
 */
export function resolveSettings(preset: string, overrides: Partial<RunSettings>, options: ResolveOptions = {}): ResolvedSettings {
  return resolveOver(getPreset(preset), false, preset, overrides, options);
}

/**
 * The settings of a run's config.json (complete and resolved: s0, s1 numbers, the scale possibly
 * 'explicit', n, L, d possibly a data file's), with optional overrides. Without overrides the
 * result equals `settings` key for key, so the run can be repeated exactly. s0 and s1 are kept
 * unless an override changes what they derive from (--scale, or --m, --m1, --d, --L under a named
 * scale), as with a preset.
 */
export function resolveRunSettings(settings: ResolvedSettings, overrides: Partial<RunSettings>, options: ResolveOptions = {}): ResolvedSettings {
  const { preset, ...base } = settings;
  return resolveOver(base, true, preset, overrides, options);
}

function resolveOver(base: RunSettings, baseResolved: boolean, preset: string, overrides: Partial<RunSettings>, options: ResolveOptions): ResolvedSettings {
  const name = options.name ?? defaultName;
  const scope = options.scope ?? 'run';
  const s: RunSettings = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    if (value !== undefined) (s as unknown as Record<string, unknown>)[key] = value;
  }
  checkRule(name, 'level', s.level);
  checkRule(name, 'method', s.method);
  checkRule(name, 'controller', s.controller);
  checkRule(name, 'init', s.init);
  // 'explicit' is a resolved scale (given s0 and s1), not a scheme one chooses.
  checkRule(name, 'scale', s.scale, { kind: 'choice', choices: [...RULES.scale.choices, 'explicit'] });
  checkRule(name, 'fillers', s.fillers);
  checkRule(name, 'seed', s.seed);
  if (scope === 'init' || options.dataFromFile) {
    // The weights only need L (theory scales) and d (their shape); a data file brings its own n, L, d.
    for (const key of ['n', 'L', 'd'] as const) checkRule(name, key, s[key], { ...RULES[key], max: Number.MAX_SAFE_INTEGER });
  } else {
    validateDataConfig({ n: s.n, L: s.L, d: s.d, seed: s.seed, fillers: s.fillers }, name);
    checkRule(name, 'n', s.n);
    checkRule(name, 'L', s.L);
    checkRule(name, 'd', s.d);
  }
  for (const key of ['m', 'm1', 'samples', 'steps', 'maxSteps', 'lr', 'atol', 'tEnd'] as const) checkRule(name, key, s[key]);
  if (typeof s.rtol !== 'number' || !Number.isFinite(s.rtol) || s.rtol <= 0) fail(name, 'rtol', s.rtol);
  if (s.rtol < RULES.rtol.min) throw new UsageError(`${name('rtol')} ${s.rtol} is below float64 resolution; use ${name('rtol')} >= ${RULES.rtol.min}`);

  const explicitGiven = overrides.s0 !== undefined || overrides.s1 !== undefined;
  const derivesFrom = ['m', 'm1', 'd', 'L', 'scale'] as const;
  const changed = derivesFrom.some((k) => overrides[k] !== undefined && overrides[k] !== base[k]);
  let fromScheme: { s0: number; s1: number };
  if (baseResolved && !changed) fromScheme = { s0: base.s0 as number, s1: base.s1 as number };
  else if (s.scale === 'explicit') fromScheme = initScales('explicit', s, { s0: s.s0, s1: s.s1 });
  else fromScheme = initScales(s.scale, s);
  const s0 = overrides.s0 ?? fromScheme.s0;
  const s1 = overrides.s1 ?? fromScheme.s1;
  checkRule(name, 's0', s0);
  checkRule(name, 's1', s1);
  const testN = s.testN ?? 0;
  const snapshots = s.snapshots ?? 0;
  checkRule(name, 'testN', testN);
  if (testN > 0 && s.level === 'type') {
    throw new UsageError(`${name('testN')} is not available at --level type: Level T represents only the training set's symmetry orbits, and a test set's tokens break that symmetry; use --level gram or full`);
  }
  if (!Number.isInteger(snapshots) || snapshots < 0 || snapshots > s.samples - 1 || snapshots > RULES.snapshots.max) {
    throw new UsageError(
      `${name('snapshots')} must be an integer in [0, samples - 1 = ${Math.min(s.samples - 1, RULES.snapshots.max)}] (snapshots are taken at recorded rows, at most ${RULES.snapshots.max}; got ${snapshots})`,
    );
  }
  if (scope === 'run') {
    const allowed = STARTS_BY_LEVEL[s.level];
    if (!allowed.includes(s.init)) throw new UsageError(`--init ${s.init} is not available at --level ${s.level}; use --init ${allowed.join('|')}`);
  }
  const out: Record<string, unknown> = { ...s, scale: explicitGiven ? 'explicit' : s.scale, s0, s1, preset, testN, snapshots };
  // One key order whatever the overrides were, so that equal settings are written as equal bytes.
  return Object.fromEntries(RESOLVED_KEYS.map((k) => [k, out[k]])) as unknown as ResolvedSettings;
}

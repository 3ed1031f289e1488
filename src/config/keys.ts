/**
 * Every option coflow reads from a flag or a --config file, with its value rule. One table, so
 * that a flag (src/cli/parse.ts) and a config key (src/config/schema.ts) accept exactly the same
 * values and say the same thing when they refuse one: "<flag or key> must be <allowed>".
 *
 * Config keys are the flag names in camelCase (--t-end -> tEnd), as in the `settings` object of a
 * run's config.json.
 */
import { MAX_ARRAY_ENTRIES, MAX_SAMPLES, MAX_SEED, MAX_SNAPSHOTS, MAX_STEPS, MAX_TEST_N, MAX_VOCAB, MIN_RTOL } from './limits.js';
import { presetNames } from './presets.js';

export type Rule =
  /** a whole number: plain decimal digits on the command line, a JSON integer in a file */
  | { kind: 'int'; min: number; max: number; note?: string }
  /** a finite decimal number (no hex, binary, octal), > gt or >= min */
  | { kind: 'number'; gt?: number; min?: number; note?: string }
  | { kind: 'choice'; choices: readonly string[] }
  | { kind: 'string' }
  | { kind: 'boolean' };

export interface KeySpec {
  key: string;
  flag: string;
  rule: Rule;
}

export type IntRule = Extract<Rule, { kind: 'int' }>;
const int = (min: number, max: number, note?: string): IntRule => ({ kind: 'int', min, max, ...(note ? { note } : {}) });
const positive = { kind: 'number', gt: 0 } as const;
const path = { kind: 'string' } as const;
const bool = { kind: 'boolean' } as const;

/** The value rule of every key. */
export const RULES = {
  preset: { kind: 'choice', choices: presetNames() },
  seed: int(0, MAX_SEED),
  n: int(6, MAX_ARRAY_ENTRIES, 'and a multiple of 6'),
  L: int(3, MAX_ARRAY_ENTRIES),
  d: int(4, MAX_VOCAB),
  fillers: { kind: 'choice', choices: ['distinct', 'repeat'] },
  m: int(1, MAX_ARRAY_ENTRIES),
  m1: int(1, MAX_ARRAY_ENTRIES),
  scale: { kind: 'choice', choices: ['theory', 'theory-small', 'kaiming'] },
  s0: positive,
  s1: positive,
  level: { kind: 'choice', choices: ['full', 'gram', 'type', 'paper'] },
  init: { kind: 'choice', choices: ['gaussian', 'wishart', 'orthogonal', 'mean'] },
  method: { kind: 'choice', choices: ['dopri5', 'gd', 'odex'] },
  tEnd: positive,
  rtol: { kind: 'number', min: MIN_RTOL, note: 'float64 resolution' },
  atol: positive,
  maxSteps: int(1, MAX_STEPS),
  controller: { kind: 'choice', choices: ['I', 'PI'] },
  lr: positive,
  steps: int(1, MAX_STEPS),
  samples: int(2, MAX_SAMPLES, '(t = 0 and the end at least)'),
  testN: int(0, MAX_TEST_N, '(0: no test set)'),
  snapshots: int(0, MAX_SNAPSHOTS, 'and <= samples - 1'),
  checkpointEvery: positive,
  params: path,
  data: path,
  out: path,
  code: path,
  quiet: bool,
  force: bool,
  check: bool,
  strict: bool,
  json: bool,
  noPlots: bool,
  spec: path,
  workers: int(1, 256),
  shard: { kind: 'string' },
} as const satisfies Record<string, Rule>;

export type Key = keyof typeof RULES;

/** The command-line flag of a config key: camelCase -> --kebab-case (tEnd -> --t-end; L stays --L). */
export function flagOf(key: string): string {
  if (key === 'L') return '--L';
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

function num(x: number): string {
  if (x === MAX_SEED) return `${x} (2^53 - 1)`;
  if (x === MAX_ARRAY_ENTRIES) return `${x} (2^31 - 1)`;
  if (x === MAX_VOCAB) return `${x} (2^24)`;
  return String(x);
}

/** What a key accepts, as the end of "<name> must be ...". */
export function allowedText(rule: Rule): string {
  switch (rule.kind) {
    case 'int':
      return `an integer >= ${rule.min} and <= ${num(rule.max)}${rule.note ? ` ${rule.note}` : ''}`;
    case 'number': {
      const bound = rule.gt !== undefined ? `> ${rule.gt}` : `>= ${rule.min}`;
      return `a finite number ${bound}${rule.note ? ` (${rule.note})` : ''}`;
    }
    case 'choice':
      return `one of ${rule.choices.join('|')}`;
    case 'string':
      return 'a non-empty string (a path)';
    case 'boolean':
      return 'true or false';
  }
}

/** The most characters shown() prints of a value. */
export const SHOWN_MAX = 60;

/** A user-given text as it may appear inside a one-line message: escaped, at most SHOWN_MAX characters. */
export function shown(raw: string): string {
  const escaped = JSON.stringify(raw).slice(1, -1).replace(/\\"/g, '"');
  // A long value keeps its start and its end: for a path, the end is the file's name, which the
  // message is about (a temporary directory of 50 characters, as on macOS, would push it out).
  return escaped.length > SHOWN_MAX ? `${escaped.slice(0, 20)}...${escaped.slice(-(SHOWN_MAX - 23))}` : escaped;
}

/** The keys whose values are settings of a run (RunSettings / ResolvedSettings). */
export const SETTING_KEYS = [
  'n', 'L', 'd', 'fillers', 'm', 'm1', 'scale', 's0', 's1', 'seed', 'level', 'init', 'method',
  'tEnd', 'rtol', 'atol', 'maxSteps', 'controller', 'lr', 'steps', 'samples', 'testN', 'snapshots',
] as const;
export type SettingKey = (typeof SETTING_KEYS)[number];

/** The keys each command reads (from flags or --config), besides --config itself. */
export const COMMAND_KEYS = {
  data: ['preset', 'seed', 'n', 'L', 'd', 'fillers', 'out'],
  init: ['preset', 'seed', 'L', 'd', 'm', 'm1', 'scale', 's0', 's1', 'out'],
  grad: ['params', 'data', 'out', 'check'],
  derive: ['out', 'code'],
  check: ['strict'],
  presets: ['json'],
  plot: ['out'],
  compare: ['out', 'force'],
  report: ['out'],
  sweep: ['spec', 'workers', 'shard', 'out', 'quiet', 'noPlots'],
  run: [
    'preset', 'seed', 'n', 'L', 'd', 'fillers', 'm', 'm1', 'scale', 's0', 's1',
    'params', 'data', 'level', 'init', 'method', 'tEnd', 'rtol', 'atol', 'maxSteps', 'controller',
    'lr', 'steps', 'samples', 'testN', 'snapshots', 'out', 'checkpointEvery', 'quiet', 'force', 'noPlots',
  ],
} as const satisfies Record<string, readonly Key[]>;
export type CommandName = keyof typeof COMMAND_KEYS;

/** Commands that also accept a run's config.json (its complete `settings`) as --config. */
export const RUN_CONFIG_COMMANDS: readonly CommandName[] = ['data', 'init', 'run'];

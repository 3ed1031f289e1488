/**
 * A command's options as gathered from its flags and its --config file, and the checks of
 * `coflow run`'s settings. Pure functions of the gathered values (no commander, no files but the
 * input headers runShape reads), so that the CLI (src/cli/commands.ts) and `coflow sweep`'s
 * validation of every grid point (src/sweep/spec.ts) apply the very same rules.
 */
import { CommandName, COMMAND_KEYS, flagOf, Key, SETTING_KEYS, shown } from './keys.js';
import type { LoadedConfig } from './configFile.js';
import type { RunShape } from './limits.js';
import type { RunSettings } from './presets.js';
import { ResolvedSettings, resolveRunSettings, resolveSettings } from './resolve.js';
import { checkRunApplicable, Given } from './rules.js';
import { UsageError } from '../errors.js';

/** The preset of a command that names none. */
export const DEFAULT_PRESET = 'paper-fig1';

export interface Gathered {
  /** the options given: --config's keys, then the flags over them */
  values: Partial<Record<Key, unknown>>;
  given: Given;
  config?: LoadedConfig;
}

/**
 * The options of a command from its parsed flags and its loaded --config: the flags over the
 * file's keys, which of them were given explicitly, and how messages name each one (--lr for a
 * flag, 'lr' in FILE for a config key, 'settings.lr' in FILE for a run config's setting).
 */
export function gatherFrom(command: CommandName, opts: Record<string, unknown>, config?: LoadedConfig): Gathered {
  const flags: Partial<Record<Key, unknown>> = {};
  for (const key of COMMAND_KEYS[command] as readonly Key[]) if (opts[key] !== undefined) flags[key] = opts[key];
  const fromFile = config?.values ?? {};
  const values = { ...fromFile, ...flags };
  const name = (key: string) => {
    if (key in flags || !config) return flagOf(key);
    if (key in fromFile) return `'${key}' in ${shown(config.file)}`;
    return config.run && (SETTING_KEYS as readonly string[]).includes(key) ? `'settings.${key}' in ${shown(config.file)}` : flagOf(key);
  };
  return { values, given: { has: (key) => key in values, name }, config };
}

export function required(g: Gathered, key: Key, arg: string, what: string): string {
  const v = g.values[key];
  if (typeof v !== 'string') throw new UsageError(`${flagOf(key)} <${arg}> is required (${what}); give it as a flag or as key '${key}' in --config`);
  return v;
}

/** The settings: a preset with the given settings over it, or a run's config.json with the flags over it. */
export function settingsOf(g: Gathered, scope: 'run' | 'data' | 'init', dataFromFile: boolean): ResolvedSettings {
  const overrides: Partial<RunSettings> = {};
  for (const key of SETTING_KEYS) if (g.values[key] !== undefined) (overrides as Record<string, unknown>)[key] = g.values[key];
  const options = { name: g.given.name, scope, dataFromFile };
  const run = g.config?.run;
  if (run) {
    if (g.given.has('preset')) {
      throw new UsageError(`${g.given.name('preset')} does not apply with a run's config.json (${shown(g.config!.file)}), whose settings are complete; drop it (flags override single settings)`);
    }
    return resolveRunSettings(run.settings, overrides, options);
  }
  return resolveSettings((g.values.preset as string | undefined) ?? DEFAULT_PRESET, overrides, options);
}

/** How rule messages name an input file: "--data D.npz", or "the data file D.npz ('data' in c.json)". */
export function inputName(g: Gathered, key: 'data' | 'params', path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  const name = g.given.name(key);
  return name.startsWith('--') ? `${name} ${shown(path)}` : `the ${key} file ${shown(path)} (${name})`;
}

/** The sizes a run's limits depend on, with n, L, d, m, m1 read from the input files' headers; null when a file's header cannot be read (its reader then reports the problem). */
export async function runShape(s: ResolvedSettings, dataPath: string | undefined, paramsPath: string | undefined): Promise<RunShape | null> {
  let { n, L, d, m, m1 } = s;
  if (dataPath !== undefined || paramsPath !== undefined) {
    const { peekDataDims, peekParamDims } = await import('../config/npzShape.js');
    if (paramsPath !== undefined) {
      const p = peekParamDims(paramsPath);
      if (!p) return null;
      ({ m, m1, d } = p);
    }
    if (dataPath !== undefined) {
      const x = peekDataDims(dataPath);
      if (!x) return null;
      ({ n, L } = x);
      if (paramsPath === undefined) {
        if (x.d === undefined) return null;
        d = x.d;
      }
    }
  }
  return {
    n, L, d, m, m1,
    fillers: s.fillers,
    level: s.level,
    init: s.init,
    method: s.method,
    samples: s.samples,
    testN: s.testN,
    snapshots: s.snapshots,
    dataFromFile: dataPath !== undefined,
    paramsFromFile: paramsPath !== undefined,
  };
}

/** `coflow run` from its gathered options: the settings, checked against every rule (no file is read). */
export function planRun(g: Gathered): { s: ResolvedSettings; dataPath?: string; paramsPath?: string; out: string } {
  const dataPath = g.values.data as string | undefined;
  const paramsPath = g.values.params as string | undefined;
  const s = settingsOf(g, 'run', dataPath !== undefined);
  checkRunApplicable(s, g.given, { data: inputName(g, 'data', dataPath), params: inputName(g, 'params', paramsPath) });
  const out = required(g, 'out', 'dir', 'the directory for config.json, trajectory.csv, final.npz');
  return { s, dataPath, paramsPath, out };
}


/**
 * `--config FILE.json`: reads, validates (src/config/schema.ts) and interprets a config file for
 * one command. Flags given on the command line override what it says (src/cli/commands.ts).
 */
import { UsageError } from '../errors.js';
import { readSmallText } from '../io/smallText.js';
import { CommandName, COMMAND_KEYS, flagOf, Key, shown, SETTING_KEYS } from './keys.js';
import { parseJson } from './json.js';
import { ResolvedSettings, RESOLVED_KEYS } from './resolve.js';
import { validateConfig } from './schema.js';

/** A config file is a few hundred bytes; anything above this is not one. */
export const MAX_CONFIG_BYTES = 1 << 20;

export interface LoadedConfig {
  /** the path as given (messages name it) */
  file: string;
  /** the flag-like keys it gives (data and params as paths) */
  values: Partial<Record<Key, unknown>>;
  /** when the file is a run's config.json: its complete settings */
  run?: { settings: ResolvedSettings };
}

interface SourceObject {
  source: string;
  path?: string;
}

/** A run config's data / params object: the path of a file source (checked to be there), else undefined. */
function sourcePath(file: string, key: 'data' | 'params', v: SourceObject): string | undefined {
  if (v.source === 'file') {
    if (v.path === undefined) throw new UsageError(`${file}: key '${key}.path' is missing (${key}.source is 'file')`);
    return v.path;
  }
  if (v.path !== undefined) throw new UsageError(`${file}: key '${key}.path' is only allowed with ${key}.source 'file' (got source '${v.source}')`);
  return undefined;
}

/** Reads FILE as the --config of `command`; every problem is a one-line UsageError naming the file and the key. */
export function readConfigFile(path: string, command: CommandName): LoadedConfig {
  return interpretConfig(path, command, readSmallText(path, `--config ${shown(path)}`, 'a config file', MAX_CONFIG_BYTES));
}

/** The same, from the file's text (the fuzz tests call this directly). */
export function interpretConfig(file: string, command: CommandName, text: string): LoadedConfig {
  const label = shown(file);
  const parsed = parseJson(text, label);
  const obj = validateConfig(label, command, parsed.value, parsed.numbers);
  const values: Partial<Record<Key, unknown>> = {};
  for (const key of COMMAND_KEYS[command] as readonly Key[]) {
    if (obj[key] !== undefined && key !== 'data' && key !== 'params') values[key] = obj[key];
  }
  for (const key of ['data', 'params'] as const) {
    const v = obj[key];
    if (typeof v === 'string') values[key] = v;
    else if (v !== undefined) {
      const p = sourcePath(label, key, v as SourceObject);
      if (p !== undefined) values[key] = p;
    }
  }
  const settings = obj.settings as Record<string, unknown> | undefined;
  if (settings === undefined) return { file, values };

  // A run's config.json: its settings are complete; the rest of the run's options come from flags.
  const mixed = [...SETTING_KEYS, 'preset'].filter((k) => obj[k] !== undefined);
  if (mixed.length > 0) {
    throw new UsageError(
      `${label}: key '${mixed[0]}' is given both at the top level and (as a run's config.json) in 'settings'; give it as the flag ${flagOf(mixed[0])}, which overrides the file`,
    );
  }
  const init = settings.init as string;
  const params = obj.params as SourceObject | string | undefined;
  if (params !== undefined && typeof params !== 'string' && params.source !== 'file' && params.source !== init) {
    throw new UsageError(`${label}: key 'params.source' is '${params.source}' but settings.init is '${init}'; they must agree (or params.source is 'file')`);
  }
  if (command === 'data' && typeof obj.data === 'object' && (obj.data as SourceObject).source === 'file') {
    throw new UsageError(`${label}: the run's data came from the file ${shown(String(values.data))}, which coflow data cannot regenerate; use that file`);
  }
  if (command === 'init' && typeof obj.params === 'object' && (obj.params as SourceObject).source === 'file') {
    throw new UsageError(`${label}: the run's weights came from the file ${shown(String(values.params))}, which coflow init cannot regenerate; use that file`);
  }
  if (command !== 'run') {
    delete values.data;
    delete values.params;
  }
  const complete = Object.fromEntries(RESOLVED_KEYS.map((k) => [k, settings[k] ?? (k === 'testN' || k === 'snapshots' ? 0 : undefined)]));
  return { file, values, run: { settings: complete as unknown as ResolvedSettings } };
}

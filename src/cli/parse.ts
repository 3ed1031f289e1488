import { UsageError } from '../errors.js';

/** Flag parsers: each failure names the flag and the expected form. */
export function parseIntFlag(flag: string) {
  return (raw: string): number => {
    const v = Number(raw);
    if (raw.trim() === '' || !Number.isInteger(v)) throw new UsageError(`${flag} must be an integer (got '${raw}')`);
    return v;
  };
}

export function parseNumberFlag(flag: string) {
  return (raw: string): number => {
    const v = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(v)) throw new UsageError(`${flag} must be a finite number (got '${raw}')`);
    return v;
  };
}

export function parseChoiceFlag<T extends string>(flag: string, choices: readonly T[]) {
  return (raw: string): T => {
    if (!(choices as readonly string[]).includes(raw)) {
      throw new UsageError(`${flag} must be one of ${choices.join('|')} (got '${raw}')`);
    }
    return raw as T;
  };
}

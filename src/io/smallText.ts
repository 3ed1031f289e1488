/**
 * Reads a small text file named on the command line (a --config file, a --spec sweep spec):
 * its size is checked before it is read, and every failure is a one-line UsageError.
 */
import { readFileSync, statSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { fsUsageError } from './atomic.js';

/**
 * The text of `path`; `label` starts every message (e.g. "--config FILE"), `kind` names what a
 * larger file is not (e.g. "a config file").
 */
export function readSmallText(path: string, label: string, kind: string, maxBytes: number): string {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (e) {
    throw fsUsageError(e, `${label}: cannot read it`);
  }
  if (size > maxBytes) throw new UsageError(`${label}: ${size} bytes is not ${kind} (at most ${maxBytes} bytes)`);
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw fsUsageError(e, `${label}: cannot read it`);
  }
}

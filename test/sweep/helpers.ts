/** Small sweeps through the built CLI (test/cli/helpers.ts), and independent readers of their files. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { coflow, tmp } from '../cli/helpers.js';

/** Tiny Level G runs (about 0.1-0.3 s each): T1 is reached well before t-end = 50 / m. */
export const SMALL_SPEC = {
  base: { preset: 'theory', level: 'gram', init: 'wishart', 't-end': '50 / m', samples: 30, rtol: 1e-6 },
  grid: { m: [128, 256, 512], seed: [0, 1] },
  reference: { level: 'type', init: 'mean', seed: 0 },
};

export function writeSpec(spec: unknown, dir = tmp('coflow-sweep-spec-')): string {
  const path = join(dir, 'spec.json');
  writeFileSync(path, JSON.stringify(spec, null, 2));
  return path;
}

export function sweep(args: string[]) {
  return coflow(['sweep', '--quiet', ...args]);
}

export const read = (dir: string, file: string) => readFileSync(join(dir, file));

/** A plain CSV reader for the tests (quoted fields with commas, no embedded newlines). */
export function parseCsv(text: string): Record<string, string>[] {
  const lines = text.trimEnd().split('\n');
  const split = (line: string) => {
    const out: string[] = [];
    let cur = '';
    let quoted = false;
    for (let i = 0; i < line.length; i++) {
      const c = line[i];
      if (quoted) {
        if (c === '"' && line[i + 1] === '"') {
          cur += '"';
          i++;
        } else if (c === '"') quoted = false;
        else cur += c;
      } else if (c === '"') quoted = true;
      else if (c === ',') {
        out.push(cur);
        cur = '';
      } else cur += c;
    }
    out.push(cur);
    return out;
  };
  const head = split(lines[0]);
  return lines.slice(1).map((l) => Object.fromEntries(split(l).map((v, i) => [head[i], v])));
}

export function jsonl(dir: string): Record<string, unknown>[] {
  return read(dir, 'results.jsonl').toString().trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

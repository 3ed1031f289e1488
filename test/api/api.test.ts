/**
 * The library's surface: what src/index.ts exports is what docs/api.md documents (no more, no
 * less), every exported function carries TSDoc with @param for each parameter, @returns and
 * @example, and the command functions validate and behave as the command line does.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test, vi } from 'vitest';
import * as coflow from '../../src/index.js';
import { UsageError } from '../../src/errors.js';
import { tmp } from '../cli/helpers.js';

const ROOT = process.cwd();
const index = readFileSync(join(ROOT, 'src/index.ts'), 'utf8');
const apiDoc = readFileSync(join(ROOT, 'docs/api.md'), 'utf8');

/** Type-only exports of src/index.ts: the names inside `export type { ... }`. */
function typeExports(): string[] {
  return [...index.matchAll(/export type \{([^}]*)\}/g)].flatMap((m) => m[1].split(',').map((s) => s.trim()).filter(Boolean));
}

/** Names docs/api.md documents: `### \`name\`` headings, and the names listed in `### Types: ...` headings. */
function documented(): string[] {
  const names: string[] = [];
  for (const m of apiDoc.matchAll(/^### (.*)$/gm)) names.push(...[...m[1].matchAll(/`([A-Za-z0-9_]+)`/g)].map((x) => x[1]));
  return names;
}

/** A parameter list split at its top-level commas (not those inside [], {}, () or <>). */
function topLevelParts(list: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of list) {
    if ('[{(<'.includes(ch)) depth++;
    if (']})>'.includes(ch)) depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  return parts;
}

describe('the exports and docs/api.md', () => {
  test('every export, value or type, is documented, and every documented name is exported', () => {
    const values = Object.keys(coflow).sort();
    const types = typeExports();
    expect(values.length).toBeGreaterThanOrEqual(13);
    expect(types.length).toBeGreaterThanOrEqual(10);
    expect([...documented()].sort()).toEqual([...values, ...types].sort());
  });

  test('the exports the issue names are there, with these shapes', () => {
    for (const name of ['solve', 'readParams', 'readDataset', 'lossAndGradient', 'makeDataset', 'makeParams', 'run', 'check', 'compare', 'sweep', 'report']) {
      expect(typeof (coflow as Record<string, unknown>)[name], name).toBe('function');
    }
  });

  test('every exported function has TSDoc with @param for each parameter, @returns and @example', () => {
    const sources = ['src/api/model.ts', 'src/api/commands.ts', 'src/ode/solve.ts'].map((f) => readFileSync(join(ROOT, f), 'utf8'));
    const fns = Object.entries(coflow).filter(([, v]) => typeof v === 'function').map(([k]) => k);
    for (const name of fns) {
      const src = sources.find((s) => new RegExp(`export (async )?function ${name}\\(`).test(s));
      expect(src, `${name}: no source among src/api and src/ode/solve.ts`).toBeDefined();
      const m = new RegExp(`/\\*\\*((?:(?!\\*/)[\\s\\S])*)\\*/\\s*export (?:async )?function ${name}\\(([^)]*)\\)`).exec(src!);
      expect(m, `${name}: no TSDoc block right before it`).not.toBeNull();
      const [doc, params] = [m![1], m![2]];
      const names = topLevelParts(params).map((p) => p.trim().split(/[:=?]/)[0].trim()).filter(Boolean);
      for (const p of names) expect(doc, `${name}: @param ${p}`).toMatch(new RegExp(`@param ${p}\\b`));
      expect(doc, `${name}: @returns`).toMatch(/@returns /);
      expect(doc, `${name}: @example`).toMatch(/@example/);
    }
  });
});

describe('the command functions', () => {
  test('run refuses a bad option as the CLI does: a UsageError naming the key, nothing written', async () => {
    const out = join(tmp('coflow-api-'), 'r');
    await expect(coflow.run({ preset: 'theory', level: 'type', init: 'mean', out, tEnd: -1 })).rejects.toThrow(/tEnd/);
    await expect(coflow.run({ preset: 'theory', level: 'type', init: 'mean', out, lr: 0.1 })).rejects.toThrow(UsageError);
    // a key that is not an option: refused with a suggestion
    await expect(coflow.run({ preset: 'theory', out, t_end: 3 } as unknown as coflow.RunOptions)).rejects.toThrow(/t_end/);
    expect(existsSync(out)).toBe(false);
    // negative control: the same run with good options succeeds and writes the run
    const r = await coflow.run({ preset: 'theory', level: 'type', init: 'mean', out, tEnd: 50, noPlots: true });
    expect(r.status).toBe('success');
    expect(r.t).toBe(50);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { t: number; stats: { nfev: number } };
    expect(summary.t).toBe(50);
    expect(summary.stats.nfev).toBe(r.stats.nfev);
  });

  test('check, compare and report work on run directories and print nothing', async () => {
    const dir = tmp('coflow-api-');
    const T = join(dir, 'T');
    const P = join(dir, 'P');
    await coflow.run({ preset: 'theory', level: 'type', init: 'mean', out: T, tEnd: 50, noPlots: true });
    await coflow.run({ preset: 'theory', level: 'paper', init: 'mean', out: P, tEnd: 50, noPlots: true });
    const write = vi.spyOn(process.stdout, 'write');
    try {
      const c = await coflow.check(T, { write: true });
      const onDisk = JSON.parse(readFileSync(join(T, 'claims.json'), 'utf8')) as { claims: { id: string; verdict: string }[] };
      expect(c.claims.map((x) => [x.id, x.verdict])).toEqual(onDisk.claims.map((x) => [x.id, x.verdict]));
      await coflow.compare([T, P], { out: join(dir, 'cmp') });
      expect(readdirSync(join(dir, 'cmp')).sort()).toEqual(['compare.csv', 'compare.json', 'compare.png', 'compare.svg']);
      const r = await coflow.report([T, P], join(dir, 'report.html'));
      expect(r.out).toBe(join(dir, 'report.html'));
      expect(r.summary).toHaveLength(2);
      expect(existsSync(join(dir, 'report.html'))).toBe(true);
      expect(write).not.toHaveBeenCalled();
    } finally {
      write.mockRestore();
    }
  }, 60_000);
});

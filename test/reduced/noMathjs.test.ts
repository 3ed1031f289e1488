/**
 * A Level T run does not load mathjs (its counts are evaluated in TypeScript,
 * src/reduced/derive.ts; docs/performance.md): a child process builds a Level T start and runs it
 * with a module resolve hook that reports every ES module resolved, and at its end lists every
 * CommonJS module loaded (require's cache: mathjs's single-file build is loaded that way).
 * Negative control: the same process sees mathjs when a sweep spec, which evaluates mathjs
 * expressions (src/sweep/mathjs.ts), is planned.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, test } from 'vitest';
import { tmp } from '../cli/helpers.js';

const DIST = join(process.cwd(), 'dist/src');

function modulesLoadedBy(script: string): string[] {
  const dir = tmp('coflow-nomathjs-');
  const hooks = join(dir, 'hooks.mjs');
  writeFileSync(hooks, `export async function resolve(s, c, next) { const r = await next(s, c); process.stderr.write('MODULE ' + r.url + '\\n'); return r; }\n`);
  const register = join(dir, 'register.mjs');
  writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
  const main = join(dir, 'main.mjs');
  writeFileSync(main, script);
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(register).href, main], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stderr.split('\n').filter((l) => l.startsWith('MODULE ')).map((l) => l.slice(7));
}

const levelT = (extra: string) => `
const { resolveSettings } = await import(${JSON.stringify(pathToFileURL(join(DIST, 'config/resolve.js')).href)});
const { generateDataset } = await import(${JSON.stringify(pathToFileURL(join(DIST, 'data/generate.js')).href)});
const { buildStart } = await import(${JSON.stringify(pathToFileURL(join(DIST, 'run/levels.js')).href)});
const { runDynamics } = await import(${JSON.stringify(pathToFileURL(join(DIST, 'run/run.js')).href)});
${extra}
const s = resolveSettings('theory', { level: 'type', init: 'mean' });
const data = generateDataset({ n: s.n, L: s.L, d: s.d, seed: s.seed, fillers: s.fillers });
const start = await buildStart(s, data);
const r = runDynamics(start.dynamics, start.y0, { ...s, tEnd: 1, samples: 5 }, {}, undefined, start.probe);
if (r.status !== 'success') throw new Error(r.message);
const { createRequire } = await import('node:module');
for (const path of Object.keys(createRequire(import.meta.url).cache)) process.stderr.write('MODULE file://' + path + '\\n');
`;

describe('Level T without mathjs', () => {
  test('building and running a Level T start resolves no mathjs module', () => {
    const mods = modulesLoadedBy(levelT(''));
    expect(mods.some((u) => u.includes('/reduced/typeSystem.js'))).toBe(true); // the hook saw the run
    expect(mods.filter((u) => u.includes('/node_modules/mathjs/')).join(' ')).toBe('');
  });

  test('negative control: planning a sweep spec loads mathjs', () => {
    const mods = modulesLoadedBy(levelT(`await (await import(${JSON.stringify(pathToFileURL(join(DIST, 'sweep/spec.js')).href)})).planSweep({ canonical: { base: { 't-end': '1 / m' }, grid: { m: [128] } }, hash: 'x' }, '/tmp/none').catch(() => {});`));
    expect(mods.some((u) => u.includes('/node_modules/mathjs/'))).toBe(true);
  });
});

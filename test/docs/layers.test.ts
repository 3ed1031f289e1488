/**
 * The dependency rules of docs/design.md, enforced: every import between the folders of src/
 * (static `import ... from`, `export ... from`, and dynamic `import('...')`) must point the allowed
 * way. The integrator knows nothing of transformers, the levels know nothing of runs or commands,
 * and the CLI only parses and calls the library.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, test } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const SRC = join(ROOT, 'src');

/** For each folder (or top-level file) of src/, the folders it may never import. */
const FORBIDDEN: Record<string, readonly string[]> = {};
const LEVELS = ['model', 'gram', 'reduced', 'paper', 'symbolic'];
const ABOVE_LEVELS = ['run', 'app', 'cli', 'api', 'observe', 'claims', 'report', 'sweep', 'compare', 'plot', 'index'];
for (const level of LEVELS) FORBIDDEN[level] = ABOVE_LEVELS;
FORBIDDEN.run = ['app', 'cli', 'api', 'report', 'sweep', 'compare', 'plot', 'claims', 'index'];
for (const f of ['claims', 'plot', 'report', 'compare', 'observe', 'analysis']) FORBIDDEN[f] = ['run', 'app', 'cli', 'api', 'sweep', 'index'];
FORBIDDEN.app = ['cli', 'index'];
FORBIDDEN.sweep = ['cli', 'index'];
FORBIDDEN.api = ['cli'];

/** The integrator may import only these (the ODE layer is generic: Float64Array states). */
const ODE_ALLOWED = ['ode', 'errors', 'exact', 'wasm'];
/** The CLI parses and calls the library: it may import only these. */
const CLI_ALLOWED = ['cli', 'app', 'config', 'errors', 'io'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** The top folder of src/ that a path is in ('errors' for src/errors.ts). */
function topOf(path: string): string {
  return relative(SRC, path).split('/')[0].replace(/\.(ts|js)$/, '');
}

/** Relative module specifiers of the real imports of a source text (not of strings that generated code prints). */
export function importsOf(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s+'(\.[^']+)'/gms)) out.push(m[1]);
  for (const m of text.matchAll(/\bimport\('(\.[^']+)'\)/g)) out.push(m[1]);
  return out;
}

interface Edge {
  file: string;
  from: string;
  to: string;
}

function edgesOf(files: { path: string; text: string }[]): Edge[] {
  const edges: Edge[] = [];
  for (const { path, text } of files) {
    const from = topOf(path);
    for (const spec of importsOf(text)) {
      const to = topOf(normalize(join(dirname(path), spec)));
      if (to !== from) edges.push({ file: relative(ROOT, path), from, to });
    }
  }
  return edges;
}

/** The edges that break a rule, as readable lines. */
function violations(edges: Edge[]): string[] {
  const bad: string[] = [];
  for (const e of edges) {
    if (e.to === 'cli') bad.push(`${e.file}: only src/cli may import src/cli (imports ${e.to})`);
    else if (e.from === 'ode' && !ODE_ALLOWED.includes(e.to)) bad.push(`${e.file}: the integrator imports src/${e.to}`);
    else if (e.from === 'cli' && !CLI_ALLOWED.includes(e.to)) bad.push(`${e.file}: the CLI imports src/${e.to}`);
    else if (FORBIDDEN[e.from]?.includes(e.to)) bad.push(`${e.file}: src/${e.from} imports src/${e.to}`);
  }
  return bad;
}

describe('dependencies point one way', () => {
  const files = sourceFiles(SRC).map((path) => ({ path, text: readFileSync(path, 'utf8') }));
  const edges = edgesOf(files);

  test('no import in src/ breaks a rule', () => {
    expect(edges.length).toBeGreaterThan(100); // the parser sees the imports at all
    expect(violations(edges)).toEqual([]);
  });

  test('negative controls: a planted upward import is reported, for each kind of rule', () => {
    const plant = (file: string, spec: string) => [{ path: join(SRC, file), text: `import { x } from '${spec}';\n` }];
    expect(violations(edgesOf(plant('ode/dopri5.ts', '../model/gradient.js')))).toEqual(['src/ode/dopri5.ts: the integrator imports src/model']);
    expect(violations(edgesOf(plant('gram/flow.ts', '../run/run.js')))).toEqual(['src/gram/flow.ts: src/gram imports src/run']);
    expect(violations(edgesOf(plant('run/run.ts', '../app/run.js')))).toEqual(['src/run/run.ts: src/run imports src/app']);
    expect(violations(edgesOf(plant('cli/main.ts', '../run/run.js')))).toEqual(['src/cli/main.ts: the CLI imports src/run']);
    expect(violations(edgesOf(plant('app/run.ts', '../cli/parse.js')))).toEqual(['src/app/run.ts: only src/cli may import src/cli (imports cli)']);
    // dynamic imports count too; a string that generated code prints does not
    expect(importsOf("const m = await import('../app/report.js');")).toEqual(['../app/report.js']);
    expect(importsOf("lines.push(\"import { a } from '../run/run.js';\")")).toEqual([]);
  });
});

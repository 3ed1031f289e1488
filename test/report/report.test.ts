/**
 * `coflow report` through the built CLI, as a user runs it. Every number and verdict on the page
 * is compared with an independent source: the claims with claims.json written by `coflow check`,
 * the figures with the SVG files `coflow run` drew (their paths, point for point), the settings
 * with config.json, the solver statistics with summary.json, the timings with timing.json, the
 * equations with the $$ blocks of the committed derivations, and a sweep's table and fits with
 * results.csv and fits.json.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { CLAIMS } from '../../src/claims/claims.js';
import { FIGURE_NAMES } from '../../src/plot/figures.js';
import { SWEEP_COLUMNS } from '../../src/report/pages.js';
import { coflow, tmp } from '../cli/helpers.js';

const root = tmp('coflow-report-');
const T = join(root, 'T');
const GD = join(root, 'gd');

function displayBlocks(file: string): number {
  return (readFileSync(join(process.cwd(), 'derivations', file), 'utf8').match(/\$\$[\s\S]+?\$\$/g) ?? []).length;
}

/** The claim rows of a page: id and the verdict badge's text, in order. */
function claimRows(html: string): { id: string; verdict: string }[] {
  return [...html.matchAll(/<tr data-claim="([^"]+)">[\s\S]*?<span class="verdict v-[A-Z-]+">([A-Z-]+)<\/span>/g)].map((m) => ({ id: m[1], verdict: m[2] }));
}

function claimsJson(dir: string): { id: string; verdict: string }[] {
  return (JSON.parse(readFileSync(join(dir, 'claims.json'), 'utf8')) as { claims: { id: string; verdict: string }[] }).claims.map((c) => ({ id: c.id, verdict: c.verdict }));
}

/** The drawn paths of an SVG, in document order: what the figure shows, whatever its ids and size. */
function paths(svg: string): string[] {
  return [...svg.matchAll(/\sd="([^"]*)"/g)].map((m) => m[1]);
}

/** Inline SVGs of the page's figures, by data-figure name. */
function inlineFigures(html: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of html.matchAll(/<figure[^>]*data-figure="([^"]+)"[^>]*>\n(<svg[\s\S]*?<\/svg>)/g)) out.set(m[1], m[2]);
  return out;
}

function ok(args: string[], cwd?: string) {
  const r = coflow(args, cwd);
  expect(r.code, r.stderr).toBe(0);
  return r;
}

beforeAll(() => {
  ok(['run', '--preset', 'theory', '--level', 'type', '--init', 'mean', '--t-end', '200', '--samples', '40', '--out', T]);
  ok(['run', '--preset', 'paper-fig1', '--steps', '600', '--samples', '30', '--out', GD]);
  ok(['check', T]);
  ok(['check', GD]);
}, 120_000);

describe('coflow report RUN_DIR', () => {
  test('writes RUN_DIR/report.html and report.md, prints the claim counts and the path last', () => {
    const r = ok(['report', GD]);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[lines.length - 1]).toBe(`report: ${join(GD, 'report.html')}`);
    const v = claimsJson(GD).map((c) => c.verdict);
    const n = (x: string) => v.filter((y) => y === x).length;
    expect(lines).toContain(`gd: ${n('PASS')} passed, ${n('FAIL')} failed, ${n('OUTSIDE-HYPOTHESES')} outside the hypotheses, ${n('NOT-EVALUABLE')} not evaluable`);
    expect(existsSync(join(GD, 'report.md'))).toBe(true);
  });

  test('the claims: every claim of the registry, with the verdicts coflow check wrote', () => {
    for (const dir of [GD, T]) {
      ok(['report', dir]);
      const rows = claimRows(readFileSync(join(dir, 'report.html'), 'utf8'));
      expect(rows.map((r) => r.id)).toEqual(CLAIMS.map((c) => c.id));
      expect(rows).toEqual(claimsJson(dir));
      // report.md lists the same verdicts.
      const md = readFileSync(join(dir, 'report.md'), 'utf8');
      for (const c of claimsJson(dir)) expect(md).toMatch(new RegExp(`\\| ${c.id.replace(/\./g, '\\.')} \\| ${c.verdict} \\|`));
    }
  });

  test('the hypotheses: each with the holds and measured of claims.json', () => {
    const html = readFileSync(join(GD, 'report.html'), 'utf8');
    const hyps = (JSON.parse(readFileSync(join(GD, 'claims.json'), 'utf8')) as { hypotheses: { id: string; holds: boolean; measured: string }[] }).hypotheses;
    expect(hyps.length).toBe(7);
    for (const h of hyps) {
      const row = new RegExp(`<td><code>${h.id}</code></td><td><span class="holds-${h.holds ? 'yes' : 'no'}">${h.holds ? 'yes' : 'no'}</span></td><td>([^<]*)</td>`).exec(html);
      expect(row, h.id).not.toBeNull();
      expect(row![1].replace(/&#39;/g, "'").replace(/&amp;/g, '&')).toBe(h.measured);
    }
  });

  test('the figures: the five the run drew, inline, path for path, with ids made unique in the page', () => {
    const html = readFileSync(join(GD, 'report.html'), 'utf8');
    const figs = inlineFigures(html);
    expect([...figs.keys()]).toEqual([...FIGURE_NAMES]);
    for (const name of FIGURE_NAMES) {
      const file = readFileSync(join(GD, 'figures', `${name}.svg`), 'utf8');
      expect(paths(figs.get(name)!), name).toEqual(paths(file));
      expect(paths(file).length).toBeGreaterThan(10);
    }
    // Vega names its clip paths clip1, clip2, ... in every file: in one page each id is unique.
    const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
    // report.md links to the figure files, which exist.
    const md = readFileSync(join(GD, 'report.md'), 'utf8');
    const links = [...md.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1]);
    expect(links.length).toBe(FIGURE_NAMES.length);
    for (const l of links) expect(existsSync(resolve(GD, l)), l).toBe(true);
  });

  test('configuration, solver statistics and timings: the values of config.json, summary.json, timing.json', () => {
    const html = readFileSync(join(GD, 'report.html'), 'utf8');
    const settings = (JSON.parse(readFileSync(join(GD, 'config.json'), 'utf8')) as { settings: Record<string, unknown> }).settings;
    for (const [k, v] of Object.entries(settings)) {
      const shown = JSON.stringify(v).replace(/&/g, '&amp;').replace(/"/g, '&quot;');
      expect(html.includes(`<td><code>${k}</code></td><td>${shown}</td>`), `<td><code>${k}</code></td><td>${shown}</td>`).toBe(true);
    }
    const summary = JSON.parse(readFileSync(join(GD, 'summary.json'), 'utf8')) as { stats: Record<string, number>; step: number };
    for (const [k, v] of Object.entries(summary.stats)) expect(html.includes(`<td>${k}</td><td>${v}</td>`), `<td>${k}</td><td>${v}</td>`).toBe(true);
    expect(summary.stats.nfev).toBe(600);
    const timing = JSON.parse(readFileSync(join(GD, 'timing.json'), 'utf8')) as { wallSeconds: number; peakRssBytes: number };
    expect(html.includes(`<td>wall time</td><td>${timing.wallSeconds.toFixed(3)} s</td>`), `<td>wall time</td><td>${timing.wallSeconds.toFixed(3)} s</td>`).toBe(true);
    expect(html.includes(`<td>peak memory (RSS)</td><td>${(timing.peakRssBytes / 2 ** 20).toFixed(0)} MiB</td>`), `<td>peak memory (RSS)</td><td>${(timing.peakRssBytes / 2 ** 20).toFixed(0)} MiB</td>`).toBe(true);
  });

  test('the derivations of the run\'s level, every displayed equation typeset by KaTeX', () => {
    ok(['report', GD]);
    const full = readFileSync(join(GD, 'report.html'), 'utf8');
    expect(full.match(/class="katex-display"/g)?.length).toBe(displayBlocks('model.md'));
    expect(full.includes('data-derivation="model.md"'), 'data-derivation="model.md"').toBe(true);
    const type = readFileSync(join(T, 'report.html'), 'utf8');
    expect(type.match(/class="katex-display"/g)?.length).toBe(displayBlocks('type-level.md'));
    expect(type.includes('data-derivation="type-level.md"'), 'data-derivation="type-level.md"').toBe(true);
    expect(type.includes('data-derivation="model.md"'), 'data-derivation="model.md"').toBe(false);
  });

  test('self-contained: no script, no external URL, KaTeX fonts inlined', () => {
    const html = readFileSync(join(GD, 'report.html'), 'utf8');
    expect(/<script/i.test(html), String(/<script/i)).toBe(false);
    expect(/(src|href)="(https?:)?\/\//i.test(html), String(/(src|href)="(https?:)?\/\//i)).toBe(false);
    expect(/url\((?!data:|#)/.test(html), String(/url\((?!data:|#)/)).toBe(false);
    expect(html.match(/data:font\/woff2;base64,/g)?.length).toBeGreaterThanOrEqual(20);
  });

  test('deterministic: the same runs give the same bytes', () => {
    ok(['report', GD, '--out', join(root, 'a.html')]);
    ok(['report', GD, '--out', join(root, 'b.html')]);
    expect(readFileSync(join(root, 'a.html'))).toEqual(readFileSync(join(root, 'b.html')));
  });
});

describe('coflow report RUN_A RUN_B --out FILE.html', () => {
  test('one page over both runs, linking to each run\'s own page, which is written too', () => {
    const out = join(root, 'both', 'report.html');
    const r = ok(['report', GD, T, '--out', out]);
    expect(r.stdout.trimEnd().split('\n').pop()).toBe(`report: ${out}`);
    const html = readFileSync(out, 'utf8');
    for (const dir of [GD, T]) {
      expect(html.includes(`href="../${dir.split('/').pop()}/report.html"`), `href="../${dir.split('/').pop()}/report.html"`).toBe(true);
      expect(existsSync(join(dir, 'report.html'))).toBe(true);
      const section = new RegExp(`<section class="run" data-run="${dir.split('/').pop()}">([\\s\\S]*?)</section>\\n(?:<section class="run"|<h2)`).exec(html);
      expect(section).not.toBeNull();
      expect(claimRows(section![1])).toEqual(claimsJson(dir));
    }
    // Derivations once per document: model.md (Level F) and type-level.md (Level T).
    expect(html.match(/class="katex-display"/g)?.length).toBe(displayBlocks('model.md') + displayBlocks('type-level.md'));
    expect(existsSync(join(root, 'both', 'report.md'))).toBe(true);
  });
});

describe('bad input: exit 2, one line, nothing written', () => {
  const cases: [string, () => string[]][] = [
    ['no such directory', () => ['report', join(root, 'missing')]],
    ['not a run directory', () => {
      const d = join(root, 'empty');
      mkdirSync(d, { recursive: true });
      return ['report', d];
    }],
    ['--out not .html', () => ['report', GD, '--out', join(root, 'x', 'report.txt')]],
    ['several runs without --out', () => ['report', GD, T]],
    ['the same run twice', () => ['report', GD, GD, '--out', join(root, 'x', 'r.html')]],
    ["--out is a run's own page", () => ['report', GD, T, '--out', join(GD, 'report.html')]],
  ];
  for (const [what, args] of cases) {
    test(what, () => {
      const a = args();
      const before = existsSync(join(root, 'x')) ? readdirSync(join(root, 'x')) : [];
      const r = coflow(a);
      expect(r.code, r.stdout).toBe(2);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^coflow: /);
      expect(existsSync(join(root, 'x')) ? readdirSync(join(root, 'x')) : []).toEqual(before);
      expect(existsSync(join(root, 'empty', 'report.html'))).toBe(false);
    });
  }
});

describe('coflow report SWEEP_DIR', () => {
  const sweep = join(root, 'sweep');
  beforeAll(() => {
    // 12 Level G runs and a Level T reference, about 3 s.
    ok(['sweep', '--spec', join(process.cwd(), 'examples/sweeps/small.json'), '--workers', '2', '--quiet', '--out', sweep]);
  }, 120_000);

  test('the fits of fits.json, the fit figures, and one table row per results.csv row', () => {
    const r = ok(['report', sweep]);
    expect(r.stdout.trimEnd().split('\n').pop()).toBe(`report: ${join(sweep, 'report.html')}`);
    const html = readFileSync(join(sweep, 'report.html'), 'utf8');
    const fits = JSON.parse(readFileSync(join(sweep, 'fits.json'), 'utf8')) as Record<string, { exponent: number }>;
    expect(Object.keys(fits).length).toBeGreaterThan(0);
    for (const [name, f] of Object.entries(fits)) expect(html.includes(`<td><code>${name}</code></td><td>${f.exponent.toPrecision(6)}</td>`), `<td><code>${name}</code></td><td>${f.exponent.toPrecision(6)}</td>`).toBe(true);
    const svgs = readdirSync(sweep).filter((f) => /^fit_.*\.svg$/.test(f));
    expect(svgs.length).toBeGreaterThan(0);
    for (const f of svgs) {
      const inline = new RegExp(`data-figure="${f.slice(0, -4)}">\\n(<svg[\\s\\S]*?</svg>)`).exec(html);
      expect(inline, f).not.toBeNull();
      expect(paths(inline![1])).toEqual(paths(readFileSync(join(sweep, f), 'utf8')));
    }
    const csv = readFileSync(join(sweep, 'results.csv'), 'utf8').trimEnd().split('\n');
    const header = csv[0].split(',');
    const table = /<table class="results">([\s\S]*?)<\/table>/.exec(html)![1];
    const rows = [...table.matchAll(/<tr><td>([^<]*)<\/td><td>([^<]*)<\/td><td>([^<]*)<\/td>/g)];
    expect(rows.length).toBe(csv.length - 1);
    // index, name and status of each row as results.csv has them (name is quoted there: it holds commas).
    const iName = header.indexOf('name');
    expect(iName).toBe(1);
    rows.forEach((m, i) => {
      expect(m[1]).toBe(String(i));
      expect(csv[i + 1]).toContain(`"${m[2]}"`);
    });
    expect(SWEEP_COLUMNS.slice(0, 3)).toEqual(['index', 'name', 'status']);
    // report.md's figure links resolve.
    const md = readFileSync(join(sweep, 'report.md'), 'utf8');
    for (const m of md.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)) expect(existsSync(resolve(dirname(join(sweep, 'report.md')), m[1])), m[1]).toBe(true);
  });
});

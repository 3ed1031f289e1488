/**
 * `npm start` as a new user runs it, and its report opened in a real browser.
 *
 * scripts/start.sh (what `npm start` runs) is started in an empty directory: it runs paper-fig1
 * (GD) and theory-strict (flow), checks both and writes runs/report.html. Then headless Chromium
 * (Debian's /usr/bin/chromium, driven by playwright-core) opens the combined page and each run's
 * page, and the test checks what a reader needs:
 *   - no console error, no page error, no request that leaves the file (nothing from the network);
 *   - the math renders: one KaTeX display node per $$...$$ block of the derivations shown
 *     (counted in the committed derivations/*.md, an independent count), each with a non-zero
 *     height, and KaTeX's inlined fonts actually load;
 *   - every figure has a non-zero size;
 *   - each run's claims table lists every claim of the registry, with the verdicts `coflow check`
 *     wrote to that run's claims.json.
 * Every one of these checks has a negative control: a copy of the page broken in that one way,
 * which the same inspection must flag. Screenshots go to test-artifacts/ (kept by CI as artifacts).
 *
 * Outside CI the browser part is skipped when Chromium is missing (a skip is never a pass); in CI
 * (CI=true, as .ci/run sets, and .ci/run installs chromium) a missing browser fails.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CLAIMS } from '../../src/claims/claims.js';
import { FIGURE_NAMES } from '../../src/plot/figures.js';
import { tmp } from '../cli/helpers.js';
import { fencedLines, readmeSection } from './readme.js';

const CHROMIUM = process.env.COFLOW_CHROMIUM ?? '/usr/bin/chromium';
const IN_CI = /^(true|1)$/i.test(process.env.CI ?? '');
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const RUNS = ['paper-fig1', 'theory-strict'] as const;

/** $$...$$ blocks of a derivation document, counted on the committed source. */
function displayBlocks(file: string): number {
  return (readFileSync(join(process.cwd(), 'derivations', file), 'utf8').match(/\$\$[\s\S]+?\$\$/g) ?? []).length;
}

interface Findings {
  errors: string[];
  external: string[];
  displays: number;
  emptyDisplays: number;
  katexFontsLoaded: number;
  figures: { name: string; run: string | null; w: number; h: number }[];
  claims: { id: string; verdict: string; run: string | null }[];
}

/** Opens `file` and collects everything the checks look at. */
async function inspect(browser: Browser, file: string, screenshot?: string): Promise<Findings> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  const external: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
  page.on('request', (r) => {
    if (!/^(file|data):/.test(r.url())) external.push(r.url());
  });
  try {
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    await page.evaluate(() => document.fonts.ready.then(() => undefined));
    const found = await page.evaluate(() => {
      const displays = [...document.querySelectorAll('.katex-display')];
      return {
        displays: displays.length,
        emptyDisplays: displays.filter((e) => e.getBoundingClientRect().height <= 0).length,
        katexFontsLoaded: [...document.fonts].filter((f) => f.family.replace(/"/g, '').startsWith('KaTeX_') && f.status === 'loaded').length,
        figures: [...document.querySelectorAll('figure[data-figure]')].map((f) => {
          // The drawing area inside the border (a 1 px border alone would give a 2 x 2 box).
          const s = f.querySelector('svg');
          return { name: f.getAttribute('data-figure') ?? '', run: f.closest('[data-run]')?.getAttribute('data-run') ?? null, w: s?.clientWidth ?? 0, h: s?.clientHeight ?? 0 };
        }),
        claims: [...document.querySelectorAll('tr[data-claim]')].map((tr) => ({
          id: tr.getAttribute('data-claim') ?? '',
          verdict: tr.querySelector('.verdict')?.textContent ?? '',
          run: tr.closest('[data-run]')?.getAttribute('data-run') ?? null,
        })),
      };
    });
    if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
    return { errors, external, ...found };
  } finally {
    await page.close();
  }
}

/** claims.json of a run directory (written by `coflow check` in scripts/start.sh). */
function checkedVerdicts(dir: string): { id: string; verdict: string }[] {
  const j = JSON.parse(readFileSync(join(dir, 'claims.json'), 'utf8')) as { claims: { id: string; verdict: string }[] };
  return j.claims.map((c) => ({ id: c.id, verdict: c.verdict }));
}

/** The problems a reader would see; empty when the page is right. */
function problems(f: Findings, expect: { displays: number; runs: readonly { name: string | null; dir: string }[] }): string[] {
  const out = [...f.errors, ...f.external.map((u) => `network request: ${u}`)];
  if (f.displays < expect.displays) out.push(`math: ${f.displays} KaTeX displays for ${expect.displays} displayed equations`);
  if (f.emptyDisplays > 0) out.push(`math: ${f.emptyDisplays} KaTeX displays of zero height`);
  if (f.katexFontsLoaded === 0) out.push('math: no KaTeX font loaded');
  for (const run of expect.runs) {
    const figs = f.figures.filter((x) => x.run === run.name);
    const names = figs.map((x) => x.name);
    if (names.join() !== FIGURE_NAMES.join()) out.push(`figures of ${run.name}: ${names.join(', ')}`);
    for (const x of figs) if (!(x.w > 0 && x.h > 0)) out.push(`figure ${x.name} of ${run.name}: ${x.w} x ${x.h}`);
    const rows = f.claims.filter((c) => c.run === run.name).map((c) => ({ id: c.id, verdict: c.verdict }));
    if (rows.map((r) => r.id).join() !== CLAIMS.map((c) => c.id).join()) out.push(`claims of ${run.name}: ${rows.map((r) => r.id).join(', ')}`);
    else if (JSON.stringify(rows) !== JSON.stringify(checkedVerdicts(run.dir))) out.push(`verdicts of ${run.name} differ from its claims.json`);
  }
  return out;
}

const cwd = tmp('coflow-start-');
const runsDir = join(cwd, 'runs');
let start: { status: number | null; stdout: string; stderr: string; seconds: number };
let browser: Browser | undefined;

beforeAll(() => {
  const t0 = performance.now();
  const r = spawnSync('sh', [join(process.cwd(), 'scripts/start.sh')], { cwd, encoding: 'utf8' });
  start = { status: r.status, stdout: r.stdout, stderr: r.stderr, seconds: (performance.now() - t0) / 1000 };
}, 300_000);

afterAll(async () => {
  await browser?.close();
});

describe('npm start (scripts/start.sh)', () => {
  test('runs both experiments, checks them, writes runs/report.html and ends with the summary and its path', () => {
    expect(start.status, start.stderr).toBe(0);
    const lines = start.stdout.trimEnd().split('\n');
    expect(lines[lines.length - 1]).toBe('report: runs/report.html');
    // The per-run summary: counted again from each run's claims.json, written by coflow check.
    for (const name of RUNS) {
      const v = checkedVerdicts(join(runsDir, name)).map((c) => c.verdict);
      const n = (x: string) => v.filter((y) => y === x).length;
      const line = `${name}: ${n('PASS')} passed, ${n('FAIL')} failed, ${n('OUTSIDE-HYPOTHESES')} outside the hypotheses, ${n('NOT-EVALUABLE')} not evaluable`;
      expect(lines.slice(-3, -1)).toContain(line);
      expect(v.length).toBe(CLAIMS.length);
    }
    for (const f of ['report.html', 'report.md', 'paper-fig1/report.html', 'paper-fig1/report.md', 'theory-strict/report.html', 'theory-strict/report.md']) {
      expect(existsSync(join(runsDir, f)), f).toBe(true);
    }
    process.stdout.write(`scripts/start.sh took ${start.seconds.toFixed(1)} s\n`);
  });

  test("README's tour shows what npm start prints, and its figure is the one npm start draws", () => {
    const tour = readmeSection('A five-minute tour');
    const shown = fencedLines(tour, 'text');
    expect(shown.length).toBe(3);
    expect(start.stdout.trimEnd().split('\n').slice(-3)).toEqual(shown);
    // The figures are deterministic (docs/figures.md): the committed picture is npm start's, byte for byte.
    const img = /!\[[^\]]*\]\((docs\/img\/tour-figure1b\.png)\)/.exec(tour);
    expect(img).not.toBeNull();
    expect(readFileSync(join(process.cwd(), img![1])).equals(readFileSync(join(runsDir, 'paper-fig1/figures/figure1b.png')))).toBe(true);
  });

  test('the report step of a second npm start rewrites the report over the existing runs', () => {
    // Only the report step is repeated here (the runs are the expensive part; that run --force
    // replaces an earlier run's files is tested in test/run).
    const r = spawnSync(process.execPath, [join(process.cwd(), 'dist/src/cli/main.js'), 'report', 'runs/paper-fig1', 'runs/theory-strict', '--out', 'runs/report.html'], { cwd, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(runsDir, 'report.html'), 'utf8').length).toBeGreaterThan(100_000);
  });
});

describe.runIf(HAVE_CHROMIUM || IN_CI)('the report in headless Chromium', () => {
  const combined = () => join(runsDir, 'report.html');
  const runs = RUNS.map((name) => ({ name, dir: join(runsDir, name) }));
  // Both runs are Level F: the combined page shows derivations/model.md once.
  const displays = () => displayBlocks('model.md');

  beforeAll(async () => {
    if (!HAVE_CHROMIUM) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium), as .ci/run does, or set COFLOW_CHROMIUM`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], headless: true });
    mkdirSync(ARTIFACTS, { recursive: true });
  }, 60_000);

  test('the combined page: no console error, nothing from the network, math rendered, figures shown, every claim of both runs listed', async () => {
    expect(displays()).toBeGreaterThan(0);
    const f = await inspect(browser!, combined(), join(ARTIFACTS, 'report.png'));
    expect(problems(f, { displays: displays(), runs })).toEqual([]);
    expect(f.displays).toBe(displays());
  });

  test('each run page: the same checks, with its own level\'s derivations', async () => {
    for (const run of runs) {
      const f = await inspect(browser!, join(run.dir, 'report.html'), join(ARTIFACTS, `report-${run.name}.png`));
      // A run's own page has no data-run sections: its figures and claims belong to the page.
      expect(problems(f, { displays: displays(), runs: [{ name: null, dir: run.dir }] })).toEqual([]);
    }
  });

  test('negative controls: each check flags a page broken in its one way', async () => {
    const html = readFileSync(combined(), 'utf8');
    const dir = tmp('coflow-report-broken-');
    const broken: [string, string, RegExp][] = [
      ['console error', html.replace('</main>', '<script>console.error("planted")</script></main>'), /console: planted/],
      ['script error', html.replace('</main>', '<script>undefinedFunction()</script></main>'), /page error/],
      ['network', html.replace('</main>', '<img src="http://127.0.0.1:9/x.png" alt=""></main>'), /network request: http:\/\/127\.0\.0\.1:9/],
      // Without KaTeX's stylesheet (the first <style>), its fonts never load.
      ['KaTeX CSS', html.replace(/<style>[\s\S]*?<\/style>/, ''), /no KaTeX font loaded/],
      ['math missing', html.replace(/class="katex-display"/, 'class="x-display"'), /KaTeX displays for/],
      ['figure hidden', html.replace('style="width:100%;height:auto"', 'style="width:0;height:0"'), /figure figure1a of paper-fig1: 0 x 0/],
      ['claim dropped', html.replace(/<tr data-claim="lemma4\.4">[\s\S]*?<\/tr>/, ''), /claims of paper-fig1/],
      ['verdict changed', html.replace(/(<tr data-claim="thm3\.1">[\s\S]*?<span class="verdict v-)([A-Z-]+)(">)([A-Z-]+)/, '$1PASS$3FAIL'), /verdicts of paper-fig1 differ/],
    ];
    for (const [what, text, flag] of broken) {
      expect(text, what).not.toBe(html);
      const file = join(dir, `${what.replace(/\W/g, '-')}.html`);
      writeFileSync(file, text);
      const p = problems(await inspect(browser!, file), { displays: displays(), runs });
      expect(p.some((x) => flag.test(x)), `${what}: ${JSON.stringify(p)}`).toBe(true);
    }
  });
});

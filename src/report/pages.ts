/**
 * The pages `coflow report` writes: one run's page, the combined page over several runs (which
 * links to each run's own page), and a sweep's page. Each comes as HTML (self-contained,
 * ./html.ts) and as Markdown (report.md, the same tables for a terminal or a Git host).
 */
import { esc, inlineSvg, page, table } from './html.js';
import { countsHtml, derivationsHtml, runDescription, runMarkdown, runSectionHtml, verdictLine, type ReportRun } from './run.js';

export interface Rendered {
  html: string;
  md: string;
  /** display equations rendered into the HTML (the browser test counts KaTeX nodes against it) */
  displayMath: number;
}

const ABOUT =
  'coflow runs the one-layer softmax transformer of Yang, Kailkhura, Wang and Liang (NeurIPS 2024, ' +
  '"Training Dynamics of Transformers to Recognize Word Co-occurrence via Gradient Flow Analysis") and ' +
  "checks the paper's claims on the trajectory. Each claim is PASS or FAIL only when every hypothesis its proof uses holds; " +
  'otherwise it is OUTSIDE-HYPOTHESES (measured anyway) or NOT-EVALUABLE.';

function footer(): string {
  return '<footer>Written by <code>coflow report</code>. Verdicts and bands: docs/claims.md; figures: docs/figures.md; the report: docs/report.md.</footer>';
}

/** Derivations of every level the runs use, each document once, in first-use order. */
function unionDerivations(runs: readonly ReportRun[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of runs) for (const [k, v] of r.derivations) if (!out.has(k)) out.set(k, v);
  return out;
}

/** The page of one run (`coflow report RUN_DIR`, and each run's page under a combined report). */
export function runPage(run: ReportRun, relDir: string, figureFiles: readonly string[]): Rendered {
  const deriv = derivationsHtml(run.derivations, 3, 'r-');
  const body = [
    '<header class="top">',
    `<h1>coflow report: <code>${esc(run.name)}</code></h1>`,
    `<p class="lead">${esc(ABOUT)}</p>`,
    '</header>',
    runSectionHtml(run, 2, 'r-', false),
    run.derivations.size > 0 ? `<h2 id="derivations">Derivations (level ${esc(String(run.config.settings.level))})</h2>\n${deriv.html}` : '',
    footer(),
  ].join('\n');
  const md = [`# coflow report: ${run.name}`, '', ABOUT, '', runMarkdown(run, 2, relDir, figureFiles)].join('\n');
  return { html: page(`coflow report: ${run.name}`, body), md, displayMath: deriv.displayMath };
}

/** One link per run: the run's name and the href of its own page, relative to the combined page. */
export interface RunLink {
  run: ReportRun;
  href: string;
  /** the run directory relative to the combined report, for report.md's figure links */
  relDir: string;
  figureFiles: readonly string[];
}

/** The combined page: an overview of every run, then each run in full, then the derivations once. */
export function combinedPage(links: readonly RunLink[]): Rendered {
  const runs = links.map((l) => l.run);
  const deriv = derivationsHtml(unionDerivations(runs), 3, 'c-');
  const overview = table(
    ['run', 'what', 'status', 'claims', 'page'],
    links.map((l, i) => [
      `<a href="#run${i}-run"><code>${esc(l.run.name)}</code></a>`,
      esc(runDescription(l.run)),
      `<code>${esc(l.run.summary.status)}</code>`,
      countsHtml(l.run.check),
      `<a href="${esc(l.href)}">its own page</a>`,
    ]),
    'overview',
  );
  const body = [
    '<header class="top">',
    '<h1>coflow report</h1>',
    `<p class="lead">${esc(ABOUT)}</p>`,
    '</header>',
    '<h2 id="overview">Runs</h2>',
    overview,
    ...links.map((l, i) => `<section class="run" data-run="${esc(l.run.name)}">\n${runSectionHtml(l.run, 2, `run${i}-`, false)}\n<p>This run's own page: <a href="${esc(l.href)}">${esc(l.href)}</a>.</p>\n</section>`),
    deriv.displayMath > 0 || deriv.html ? `<h2 id="derivations">Derivations</h2>\n${deriv.html}` : '',
    footer(),
  ].join('\n');
  const md = [
    '# coflow report',
    '',
    ABOUT,
    '',
    '| run | status | claims | page |',
    '|---|---|---|---|',
    ...links.map((l) => `| ${l.run.name} | ${l.run.summary.status} | ${verdictLine(l.run.check)} | [${l.href}](${l.href}) |`),
    '',
    ...links.map((l) => runMarkdown(l.run, 2, l.relDir, l.figureFiles)),
  ].join('\n');
  return { html: page('coflow report', body), md, displayMath: deriv.displayMath };
}

/** What a sweep directory holds that its page shows (gathered by src/app/report.ts). */
export interface ReportSweep {
  dir: string;
  name: string;
  /** sweep.json's spec */
  spec: unknown;
  /** fits.json: fit name -> fit record */
  fits: Record<string, Record<string, unknown>>;
  /** fit figure name (fit_T1_vs_m, ...) -> SVG text */
  figures: Map<string, string>;
  /** results.jsonl rows, in index order */
  rows: Record<string, unknown>[];
}

/** Columns of the results table on the page (results.csv has them all). */
export const SWEEP_COLUMNS = ['index', 'name', 'status', 't_final', 'nfev', 'T1', 'final_loss', 'C12_thm33', 'gap', 'n_pass', 'n_fail', 'n_outside', 'n_not_evaluable', 'error'] as const;

/** Rows shown on the page at most; the page says when results.csv has more. */
export const SWEEP_MAX_ROWS = 1000;

function numText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toPrecision(6);
  return String(v);
}

function fitRows(fits: ReportSweep['fits']): string[][] {
  return Object.entries(fits).map(([name, f]) => {
    const ci = Array.isArray(f.ci95) ? `[${(f.ci95 as number[]).map(numText).join(', ')}]` : '-';
    const groups = Array.isArray(f.groups) ? `${(f.groups as unknown[]).length} groups` : '';
    return [`<code>${esc(name)}</code>`, esc(numText(f.exponent)), esc(ci), esc(numText(f.n)), esc(numText(f.points)), esc(String(f.note ?? groups))];
  });
}

/** A sweep's page: its spec, the fits and their figures, and the results table. */
/** `relDir`: the sweep directory seen from report.md, for its figure links. */
export function sweepPage(s: ReportSweep, relDir: string): Rendered {
  // Columns every row leaves empty (error, when nothing threw; gap, without a reference) are left out.
  const cols = SWEEP_COLUMNS.filter((c) => s.rows.some((r) => r[c] !== undefined && r[c] !== null && r[c] !== ''));
  const shown = s.rows.slice(0, SWEEP_MAX_ROWS);
  const more = s.rows.length > shown.length ? `<p class="note">The first ${shown.length} of ${s.rows.length} runs; results.csv has every run and every column.</p>` : '';
  const figures = [...s.figures].map(
    ([name, svg]) => `<figure data-figure="${esc(name)}">\n${inlineSvg(svg, `${name}-`)}\n<figcaption><strong>${esc(name)}</strong>: log-log fit of the power law, one line per seed (docs/sweeps.md).</figcaption>\n</figure>`,
  );
  const statusCounts = new Map<string, number>();
  for (const r of s.rows) statusCounts.set(String(r.status), (statusCounts.get(String(r.status)) ?? 0) + 1);
  const body = [
    '<header class="top">',
    `<h1>coflow sweep report: <code>${esc(s.name)}</code></h1>`,
    `<p class="lead">${esc(s.rows.length)} runs (${[...statusCounts].map(([k, v]) => `${esc(v)} ${esc(k)}`).join(', ')}). ${esc(ABOUT)}</p>`,
    '</header>',
    '<h2 id="fits">Fits</h2>',
    Object.keys(s.fits).length === 0 ? '<p>fits.json holds no fit.</p>' : table(['fit', 'exponent', '95 % interval', 'seeds', 'points', 'how'], fitRows(s.fits), 'fits'),
    figures.length > 0 ? figures.join('\n') : '<p class="note">No fit figures in the sweep directory (it was run with --no-plots).</p>',
    '<h2 id="results">Results</h2>',
    more,
    `<div class="wide">${table(
      [...cols],
      shown.map((r) => cols.map((c) => esc(numText(r[c])))),
      'results',
    )}</div>`,
    '<h2 id="spec">Spec</h2>',
    `<pre>${esc(JSON.stringify(s.spec, null, 2))}</pre>`,
    footer(),
  ].join('\n');
  const md = [
    `# coflow sweep report: ${s.name}`,
    '',
    `${s.rows.length} runs. Full table: results.csv.`,
    '',
    '## Fits',
    '',
    '| fit | exponent | 95 % interval | seeds |',
    '|---|---|---|---|',
    ...Object.entries(s.fits).map(([n, f]) => `| ${n} | ${numText(f.exponent)} | ${Array.isArray(f.ci95) ? (f.ci95 as number[]).map(numText).join(', ') : '-'} | ${numText(f.n)} |`),
    '',
    ...[...s.figures.keys()].map((n) => `![${n}](${relDir}/${n}.svg)`),
    '',
    '## Results',
    '',
    `| ${cols.join(' | ')} |`,
    `|${cols.map(() => '---').join('|')}|`,
    ...shown.map((r) => `| ${cols.map((c) => numText(r[c]).replace(/\|/g, '\\|')).join(' | ')} |`),
    '',
  ].join('\n');
  return { html: page(`coflow sweep report: ${s.name}`, body), md, displayMath: 0 };
}

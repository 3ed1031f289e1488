/**
 * One run in the report: what the run was (settings, status, solver statistics, timings), what it
 * shows (its figures) and what the paper's claims say about it (hypotheses and claims with their
 * verdicts). This module only presents: the caller (src/app/report.ts) reads the run directory,
 * checks the claims and renders the figures, so the report can never disagree with `coflow check`
 * or `coflow plot` on the same run.
 */
import type { RunCheck } from '../claims/claims.js';
import type { Verdict } from '../claims/verdict.js';
import { esc, inlineSvg, table } from './html.js';
import { renderMarkdown } from './markdown.js';

export const VERDICTS: readonly Verdict[] = ['PASS', 'FAIL', 'OUTSIDE-HYPOTHESES', 'NOT-EVALUABLE'];

/** How the summary line and the report name each verdict. */
export const VERDICT_WORDS: Record<Verdict, string> = {
  PASS: 'passed',
  FAIL: 'failed',
  'OUTSIDE-HYPOTHESES': 'outside the hypotheses',
  'NOT-EVALUABLE': 'not evaluable',
};

/** What a figure shows, under it in the report (docs/figures.md has the long form). */
export const FIGURE_CAPTIONS: Record<string, string> = {
  figure1a: "Paper Fig. 1(a): the attention scores between the three local tokens (key i, query j). Thm 3.2: the co-occurring pair's scores grow, the scores with the third token fall.",
  figure1b: 'Paper Fig. 1(b): the total loss and the loss on each sample type I1..I4, linear (Phase 1 rise) and log scale (Phase 2 decay).',
  G: 'The MLP-value alignments G(mu_1), G(mu_2), G(mu_3), their sums and the smallest margin (Thm 3.1, Thm 3.2, Lemmas 4.2-4.3).',
  balance: 'Automatic balancing of gradients: the ratios of Lemmas 4.3-4.5.',
  conservation: 'Drift of the quantities gradient flow conserves (W_Q^T W_Q - W_K^T W_K and W_V^T W_V - W^T W): round-off for a flow, O(lr) for GD.',
};

/** Everything the report shows about one run, gathered by the app layer. */
export interface ReportRun {
  /** the run directory as the user gave it */
  dir: string;
  /** a short name: the directory's last component */
  name: string;
  /** config.json as written by coflow run */
  config: { settings: Record<string, unknown>; data?: Record<string, unknown>; params?: Record<string, unknown> };
  /** summary.json as written by coflow run */
  summary: { status: string; message: string; t: number; step?: number; stats?: Record<string, number>; events?: { name: string; t: number; step?: number }[] };
  /** timing.json, when the run wrote one */
  timing: { wallSeconds?: number; startupSeconds?: number; peakRssBytes?: number } | null;
  /** the claims check, evaluated now by the same code as coflow check */
  check: RunCheck;
  /** figure name -> SVG text, in display order; empty when the run has nothing to draw */
  figures: Map<string, string>;
  /** why there are no figures, when there are none */
  noFigures?: string;
  /** derivation file name (e.g. model.md) -> Markdown, for the run's level */
  derivations: Map<string, string>;
}

/** The derivation documents that describe a level (derivations/*.md). */
export function derivationsForLevel(level: string): string[] {
  switch (level) {
    case 'full':
      return ['model.md'];
    case 'gram':
      return ['model.md', 'gram-flow.md'];
    case 'type':
      return ['type-level.md'];
    case 'paper':
      return ['paper-system.md'];
    default:
      return [];
  }
}

export function countVerdicts(check: RunCheck): Record<Verdict, number> {
  const out = { PASS: 0, FAIL: 0, 'OUTSIDE-HYPOTHESES': 0, 'NOT-EVALUABLE': 0 } as Record<Verdict, number>;
  for (const c of check.claims) out[c.verdict]++;
  return out;
}

/** "13 passed, 3 failed, 0 outside the hypotheses, 0 not evaluable" */
export function verdictLine(check: RunCheck): string {
  const n = countVerdicts(check);
  return VERDICTS.map((v) => `${n[v]} ${VERDICT_WORDS[v]}`).join(', ');
}

export function verdictBadge(v: Verdict): string {
  return `<span class="verdict v-${v}">${esc(v)}</span>`;
}

function holdsCell(h: boolean | null): string {
  return h === null ? '-' : h ? '<span class="holds-yes">yes</span>' : '<span class="holds-no">no</span>';
}

/** A one-line description of the run: preset, level, start, method and its length. */
export function runDescription(run: ReportRun): string {
  const s = run.config.settings;
  const method = String(s.method);
  const length = method === 'gd' ? `lr ${s.lr}, ${s.steps} steps` : `to t = ${s.tEnd}, rtol ${s.rtol}`;
  return `preset ${s.preset}, level ${s.level}, ${s.init} start, ${method} (${length}); n = ${s.n}, L = ${s.L}, d = ${s.d}, m = ${s.m}, m1 = ${s.m1}, seed ${s.seed}`;
}

export function countsHtml(check: RunCheck): string {
  const n = countVerdicts(check);
  return `<div class="counts">${VERDICTS.map((v) => `<span class="v-${v}">${n[v]} ${esc(VERDICT_WORDS[v])}</span>`).join('')}</div>`;
}

/** The hypotheses table. */
export function hypothesesHtml(check: RunCheck): string {
  return table(
    ['hypothesis', 'holds', 'measured', 'statement'],
    check.hypotheses.map((h) => [`<code>${esc(h.id)}</code>`, holdsCell(h.holds), esc(h.measured), esc(h.statement)]),
    'hypotheses',
  );
}

/** The claims table: one row per claim, marked with data-claim so tools (and the browser test) can find it. */
export function claimsHtml(check: RunCheck): string {
  const rows = check.claims.map(
    (c) =>
      `<tr data-claim="${esc(c.id)}"><td><code>${esc(c.id)}</code></td><td>${verdictBadge(c.verdict)}</td><td>${holdsCell(c.holds)}</td>` +
      `<td>${esc(c.statement)}<div class="reason">${esc(c.reason)}</div></td><td>${esc(c.threshold)}</td></tr>`,
  );
  return [
    '<table class="claims">',
    '<thead><tr><th>claim</th><th>verdict</th><th>holds</th><th>statement, and why this verdict</th><th>band</th></tr></thead>',
    '<tbody>',
    ...rows,
    '</tbody>',
    '</table>',
  ].join('\n');
}

function settingsHtml(run: ReportRun): string {
  const s = run.config.settings;
  const rows = Object.keys(s).map((k) => [`<code>${esc(k)}</code>`, esc(JSON.stringify(s[k]))]);
  const sources = [
    ['data', run.config.data],
    ['params', run.config.params],
  ] as const;
  for (const [k, v] of sources) if (v) rows.push([`<code>${k}</code>`, esc(JSON.stringify(v))]);
  return table(['setting', 'value'], rows, 'settings');
}

function fmtSeconds(x: number | undefined): string {
  return x === undefined ? '-' : `${x.toFixed(x < 10 ? 3 : 1)} s`;
}

function solverHtml(run: ReportRun): string {
  const sm = run.summary;
  const st = sm.stats ?? {};
  const rows: string[][] = [
    ['status', `<code>${esc(sm.status)}</code>: ${esc(sm.message)}`],
    ['end time t', esc(sm.t)],
  ];
  if (sm.step !== undefined) rows.push(['steps', esc(sm.step)]);
  for (const k of Object.keys(st)) rows.push([esc(k), esc(st[k])]);
  if (run.timing) {
    rows.push(['wall time', esc(fmtSeconds(run.timing.wallSeconds))]);
    rows.push(['start-up (launch to first step)', esc(fmtSeconds(run.timing.startupSeconds))]);
    if (run.timing.peakRssBytes !== undefined) rows.push(['peak memory (RSS)', esc(`${(run.timing.peakRssBytes / 2 ** 20).toFixed(0)} MiB`)]);
  } else {
    rows.push(['timings', 'not recorded (the run wrote no timing.json)']);
  }
  const events = sm.events ?? [];
  const eventsTable =
    events.length === 0
      ? '<p>No event fired.</p>'
      : table(
          ['event', 't', 'step'],
          events.map((e) => [`<code>${esc(e.name)}</code>`, esc(e.t), esc(e.step ?? '-')]),
          'events',
        );
  return table(['quantity', 'value'], rows, 'solver') + '\n<h4>Events</h4>\n' + eventsTable;
}

function figuresHtml(run: ReportRun, idPrefix: string): string {
  if (run.figures.size === 0) return `<p class="note">No figures: ${esc(run.noFigures ?? 'nothing to draw')}.</p>`;
  const out: string[] = [];
  for (const [name, svg] of run.figures) {
    out.push(`<figure id="${esc(idPrefix)}fig-${esc(name)}" data-figure="${esc(name)}">`);
    out.push(inlineSvg(svg, `${idPrefix}${name}-`));
    out.push(`<figcaption><strong>${esc(name)}</strong>. ${esc(FIGURE_CAPTIONS[name] ?? '')}</figcaption>`);
    out.push('</figure>');
  }
  return out.join('\n');
}

/** The derivations of the run's level, rendered with KaTeX, headings shifted under `level`. */
export function derivationsHtml(docs: Map<string, string>, headingLevel: number, idPrefix: string): { html: string; displayMath: number } {
  let displayMath = 0;
  const parts: string[] = [];
  for (const [file, md] of docs) {
    const r = renderMarkdown(md, { headingOffset: headingLevel - 1, idPrefix: `${idPrefix}${file.replace(/\W/g, '-')}-` });
    displayMath += r.displayMath;
    parts.push(`<section class="derivation" data-derivation="${esc(file)}">`, `<p class="lead">derivations/${esc(file)}, generated by <code>coflow derive</code> from the symbolic stage</p>`, r.html, '</section>');
  }
  return { html: parts.join('\n'), displayMath };
}

/**
 * One run's full section. `h` is the heading level of its title (1 on the run's own page, 2
 * inside the combined page); `idPrefix` keeps ids unique when several runs share a page.
 */
export function runSectionHtml(run: ReportRun, h: number, idPrefix: string, withDerivations: boolean): string {
  const hx = (k: number, text: string, id?: string) => `<h${Math.min(6, h + k)}${id ? ` id="${esc(idPrefix + id)}"` : ''}>${text}</h${Math.min(6, h + k)}>`;
  const parts = [
    hx(0, `Run <code>${esc(run.name)}</code>`, 'run'),
    `<p class="lead">${esc(runDescription(run))}. Status <code>${esc(run.summary.status)}</code> at t = ${esc(run.summary.t)}.</p>`,
    countsHtml(run.check),
    hx(1, 'Claims', 'claims'),
    `<p>Verdicts follow docs/claims.md: FAIL only when every hypothesis the claim needs holds; OUTSIDE-HYPOTHESES is measured anyway and says whether the behaviour matches.</p>`,
    claimsHtml(run.check),
    hx(1, 'Hypotheses', 'hypotheses'),
    hypothesesHtml(run.check),
    hx(1, 'Figures', 'figures'),
    figuresHtml(run, idPrefix),
    hx(1, 'Configuration', 'configuration'),
    settingsHtml(run),
    hx(1, 'Solver statistics and timings', 'solver'),
    solverHtml(run),
  ];
  if (withDerivations && run.derivations.size > 0) {
    parts.push(hx(1, 'Derivations', 'derivations'));
    parts.push(derivationsHtml(run.derivations, h + 2, idPrefix).html);
  }
  return parts.join('\n');
}

/** Markdown table cell: no raw pipes or line breaks. */
function cell(s: unknown): string {
  return String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/**
 * The run in Markdown, for report.md: the same tables as the HTML; figures as links to the SVG
 * files relative to `relDir` (the run directory seen from report.md), when they exist on disk.
 */
export function runMarkdown(run: ReportRun, h: number, relDir: string, figureFiles: readonly string[]): string {
  const hx = (k: number) => '#'.repeat(Math.min(6, h + k));
  const lines: string[] = [];
  lines.push(`${hx(0)} Run ${run.name}`, '', `${runDescription(run)}. Status \`${run.summary.status}\` at t = ${run.summary.t}.`, '');
  lines.push(`Claims: ${verdictLine(run.check)}.`, '');
  lines.push(`${hx(1)} Claims`, '', '| claim | verdict | holds | reason |', '|---|---|---|---|');
  for (const c of run.check.claims) lines.push(`| ${cell(c.id)} | ${c.verdict} | ${c.holds === null ? '-' : c.holds ? 'yes' : 'no'} | ${cell(c.reason)} |`);
  lines.push('', `${hx(1)} Hypotheses`, '', '| hypothesis | holds | measured |', '|---|---|---|');
  for (const x of run.check.hypotheses) lines.push(`| ${cell(x.id)} | ${x.holds ? 'yes' : 'no'} | ${cell(x.measured)} |`);
  lines.push('', `${hx(1)} Figures`, '');
  if (figureFiles.length === 0) lines.push(`No figure files in ${relDir}/figures (run \`coflow plot ${run.dir}\`); the HTML report has them inline.`);
  for (const f of figureFiles) lines.push(`![${f}](${relDir}/figures/${f}.svg)`, '');
  lines.push('', `${hx(1)} Solver statistics and timings`, '', '| | |', '|---|---|');
  lines.push(`| status | ${cell(run.summary.status)}: ${cell(run.summary.message)} |`, `| end time t | ${run.summary.t} |`);
  for (const [k, v] of Object.entries(run.summary.stats ?? {})) lines.push(`| ${cell(k)} | ${v} |`);
  if (run.timing) lines.push(`| wall time | ${fmtSeconds(run.timing.wallSeconds)} |`);
  lines.push('', `${hx(1)} Configuration`, '', '```json', JSON.stringify(run.config.settings, null, 2), '```', '');
  const docs = [...run.derivations.keys()];
  if (docs.length > 0) lines.push(`Derivations of this level: ${docs.map((d) => `derivations/${d}`).join(', ')} (coflow derive).`, '');
  return lines.join('\n');
}

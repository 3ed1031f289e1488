/**
 * The HTML building blocks of `coflow report`: escaping, tables, inline SVG figures and the page
 * shell. The page is self-contained: its only stylesheet is written into it (this file's rules and
 * KaTeX's, whose fonts are data URIs, ./katexAssets.ts), its figures are inline SVG, and it runs no
 * script, so it opens offline from a file with nothing to load and no JavaScript to fail.
 */
import { katexCss } from './katexAssets.js';

/** Escapes text for HTML content and double-quoted attribute values. */
export function esc(s: string | number | boolean | null | undefined): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** A table from a header (plain text) and rows of cells that are already HTML. */
export function table(head: readonly string[], rows: readonly (readonly string[])[], className = ''): string {
  const cls = className ? ` class="${esc(className)}"` : '';
  return [
    `<table${cls}>`,
    `<thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead>`,
    '<tbody>',
    ...rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`),
    '</tbody>',
    '</table>',
  ].join('\n');
}

/**
 * An SVG file's text, ready to sit inline in a page next to other figures:
 * - its ids (Vega names clip paths clip1, clip2, ... in every file) get `prefix`, so two figures
 *   in one page never clip each other's marks;
 * - its fixed width and height give way to the viewBox, so the figure scales with the page.
 */
export function inlineSvg(svg: string, prefix: string): string {
  const start = svg.indexOf('<svg');
  if (start < 0) throw new Error(`inlineSvg: not an SVG document (${svg.slice(0, 40)})`);
  let s = svg.slice(start);
  s = s.replace(/\bid="([^"]+)"/g, (_, id: string) => `id="${prefix}${id}"`);
  s = s.replace(/url\(#([^)]+)\)/g, (_, id: string) => `url(#${prefix}${id})`);
  s = s.replace(/(xlink:href|href)="#([^"]+)"/g, (_, attr: string, id: string) => `${attr}="#${prefix}${id}"`);
  // Only the root element's size: the first tag.
  const end = s.indexOf('>');
  const root = s
    .slice(0, end)
    .replace(/\swidth="[^"]*"/, '')
    .replace(/\sheight="[^"]*"/, '');
  return `${root} role="img" style="width:100%;height:auto">${s.slice(end + 1)}`;
}

/** The report's own stylesheet: readable on a laptop screen and in print, system fonts only. */
const CSS = `
:root { --fg: #1d2430; --muted: #5b6472; --line: #d9dde3; --bg-alt: #f5f7f9; --accent: #1f5fa8; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: #fff; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 24px 28px 64px; }
header.top { margin-bottom: 8px; }
h1 { font-size: 1.9rem; margin: 0.2em 0 0.3em; line-height: 1.2; }
h2 { font-size: 1.45rem; margin: 1.8em 0 0.5em; padding-top: 0.4em; border-top: 1px solid var(--line); }
h3 { font-size: 1.15rem; margin: 1.4em 0 0.4em; }
h4, h5 { font-size: 1rem; margin: 1.2em 0 0.3em; }
p.lead { color: var(--muted); margin-top: 0; }
a { color: var(--accent); }
code { font: 0.88em/1.4 ui-monospace, "DejaVu Sans Mono", monospace; background: var(--bg-alt); padding: 0 3px; border-radius: 3px; }
pre { background: var(--bg-alt); padding: 10px 12px; overflow-x: auto; border-radius: 4px; }
table { border-collapse: collapse; margin: 0.6em 0 1.2em; font-size: 0.9rem; width: 100%; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: var(--bg-alt); font-weight: 600; }
tbody tr:nth-child(even) td { background: #fbfcfd; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.verdict { display: inline-block; padding: 1px 7px; border-radius: 10px; font-size: 0.78rem; font-weight: 700; white-space: nowrap; }
.v-PASS { background: #d8f1de; color: #135c2a; }
.v-FAIL { background: #fbdada; color: #8a1414; }
.v-OUTSIDE-HYPOTHESES { background: #fdf0cf; color: #7a5200; }
.v-NOT-EVALUABLE { background: #e6e8eb; color: #3d4550; }
.holds-yes { color: #135c2a; font-weight: 600; }
.holds-no { color: #8a1414; font-weight: 600; }
.counts { display: flex; gap: 10px; flex-wrap: wrap; margin: 0.4em 0 1em; }
.counts span { padding: 3px 10px; border-radius: 12px; font-size: 0.9rem; }
figure { margin: 1em 0 1.6em; }
figure svg { display: block; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: 0.9rem; margin-top: 4px; }
.reason { font-size: 0.85rem; color: var(--muted); margin-top: 3px; }
table.claims td:first-child code, table.hypotheses td:first-child code { white-space: nowrap; }
table.claims td:nth-child(5) { font-size: 0.8rem; color: var(--muted); width: 26%; }
table.overview .counts { margin: 0; gap: 4px; }
table.overview td:first-child { white-space: nowrap; }
.wide { overflow-x: auto; }
table.solver, table.events, table.settings { width: auto; min-width: 50%; }
table.results { width: auto; font-size: 0.8rem; font-variant-numeric: tabular-nums; }
table.results td { white-space: nowrap; }
table.overview .counts span { font-size: 0.8rem; padding: 1px 7px; }
.derivation { border-left: 3px solid var(--line); padding-left: 14px; }
.derivation table { width: auto; }
.katex-display { overflow-x: auto; overflow-y: hidden; padding: 4px 0; }
nav.toc ul { columns: 2; margin: 0.3em 0; }
.note { background: #fdf8e6; border: 1px solid #f0e2b0; padding: 8px 12px; border-radius: 4px; }
footer { margin-top: 48px; color: var(--muted); font-size: 0.85rem; border-top: 1px solid var(--line); padding-top: 10px; }
`;

/** A whole page: title, the two stylesheets, the body. No script, no external reference. */
export function page(title: string, body: string): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(title)}</title>`,
    `<style>${katexCss()}</style>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    '<main>',
    body,
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/**
 * The claims report in three forms: claims.json (machine-readable), claims.md (a Markdown table)
 * and a plain-text table for the terminal. All three depend only on the check result, with no
 * timestamps or paths, so the same run gives byte-identical reports. The files are written
 * atomically (src/io/atomic.ts), so a reader never sees half a report.
 */
import { join } from 'node:path';
import { writeBytesAtomic } from '../io/atomic.js';
import type { RunCheck } from './claims.js';

export function claimsJson(r: RunCheck): string {
  return JSON.stringify({ hypotheses: r.hypotheses, claims: r.claims }, null, 2) + '\n';
}

/** Markdown table cell: no raw pipes or line breaks. */
function cell(s: string | number | boolean | null): string {
  return String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function holdsText(h: boolean | null): string {
  return h === null ? '-' : h ? 'yes' : 'no';
}

export function claimsMarkdown(r: RunCheck): string {
  const lines: string[] = [];
  lines.push('# Claims check', '');
  lines.push(`Run status: ${r.status}, end of run t = ${r.tEnd}. Verdicts and bands: docs/claims.md.`, '');
  lines.push('## Hypotheses', '');
  lines.push('| hypothesis | holds | measured | statement |', '|---|---|---|---|');
  for (const h of r.hypotheses) lines.push(`| ${cell(h.id)} | ${h.holds ? 'yes' : 'no'} | ${cell(h.measured)} | ${cell(h.statement)} |`);
  lines.push('', '## Claims', '');
  lines.push('| claim | verdict | holds | needs | measured | threshold | reason |', '|---|---|---|---|---|---|---|');
  for (const c of r.claims) {
    lines.push(`| ${cell(c.id)} | ${c.verdict} | ${holdsText(c.holds)} | ${cell(needsText(c.needs, r))} | ${cell(c.measured)} | ${cell(c.threshold)} | ${cell(c.reason)} |`);
  }
  const counts = verdictCounts(r);
  lines.push('', `Summary: ${counts}.`, '');
  return lines.join('\n');
}

/** "all" when a claim needs every hypothesis (most do), else the list. */
function needsText(needs: readonly string[], r: RunCheck): string {
  return r.hypotheses.every((h) => needs.includes(h.id)) ? 'all' : needs.join(', ');
}

function verdictCounts(r: RunCheck): string {
  const order = ['PASS', 'FAIL', 'OUTSIDE-HYPOTHESES', 'NOT-EVALUABLE'] as const;
  return order.map((v) => `${r.claims.filter((c) => c.verdict === v).length} ${v}`).join(', ');
}

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, j) => Math.max(...rows.map((r) => r[j].length)));
  return rows.map((r) => r.map((x, j) => (j === r.length - 1 ? x : x.padEnd(widths[j]))).join('  ').trimEnd());
}

/** The terminal table: one line per hypothesis and per claim; the reason in full, last. */
export function claimsText(r: RunCheck): string {
  const out: string[] = [];
  out.push(`run status: ${r.status}, t = ${r.tEnd}`, '');
  out.push(...table([['hypothesis', 'holds', 'measured'], ...r.hypotheses.map((h) => [h.id, h.holds ? 'yes' : 'no', h.measured])]));
  out.push('');
  out.push(...table([['claim', 'verdict', 'holds', 'reason'], ...r.claims.map((c) => [c.id, c.verdict, holdsText(c.holds), c.reason])]));
  out.push('', `${verdictCounts(r)}`);
  return out.join('\n') + '\n';
}

/** Writes claims.json and claims.md into the run directory, each atomically. */
export function writeClaimsReports(dir: string, r: RunCheck): { json: string; md: string } {
  const json = join(dir, 'claims.json');
  const md = join(dir, 'claims.md');
  const enc = new TextEncoder();
  // Both texts are built before either file is touched, so a failure in formatting writes nothing.
  const jsonBytes = enc.encode(claimsJson(r));
  const mdBytes = enc.encode(claimsMarkdown(r));
  writeBytesAtomic(json, jsonBytes);
  writeBytesAtomic(md, mdBytes);
  return { json, md };
}

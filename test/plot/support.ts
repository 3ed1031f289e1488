/**
 * The test's own readers: trajectory.csv and summary.json parsed here (not by src/plot), and the
 * line paths of a written SVG file, so that "the plotted points equal the trajectory's values" is
 * checked between two independent readings of the files.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** trajectory.csv as column -> values (nan, inf, -inf as numbers). */
export function readCsv(dir: string): Map<string, number[]> {
  const lines = readFileSync(join(dir, 'trajectory.csv'), 'utf8').trim().split('\n');
  const names = lines[0].split(',');
  const cols = new Map<string, number[]>(names.map((n) => [n, []]));
  for (const line of lines.slice(1)) {
    line.split(',').forEach((cell, i) => {
      const x = cell === 'nan' ? NaN : cell === 'inf' ? Infinity : cell === '-inf' ? -Infinity : Number(cell);
      cols.get(names[i])!.push(x);
    });
  }
  return cols;
}

/** The all-correct event's t from summary.json, or undefined. */
export function readT1(dir: string): number | undefined {
  const s = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as { events: { name: string; t: number }[] };
  return s.events.find((e) => e.name === 'all-correct')?.t;
}

function unescapeXml(s: string): string {
  return s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

export interface SvgLine {
  /** the series named in the path's aria-label (vega writes the first point's fields there) */
  series: string;
  /** every vertex of the path, in order */
  points: [number, number][];
  /** number of subpaths (M commands): one more than the gaps */
  moves: number;
}

/** The line paths of panel `panel` (vega-lite names its marks concat_<panel>_layer_<k>_marks). */
export function svgLines(svg: string, panel: number): SvgLine[] {
  const out: SvgLine[] = [];
  const group = new RegExp(`<g class="mark-line role-mark concat_${panel}_(?:layer_\\d+_)+marks"[^>]*>(.*?)</g>`, 'gs');
  for (const g of svg.matchAll(group)) {
    for (const p of g[1].matchAll(/<path aria-label="([^"]*)"[^>]*?\sd="([^"]*)"/g)) {
      const label = unescapeXml(p[1]);
      const series = /series: (.*)$/.exec(label)?.[1] ?? '';
      const d = p[2];
      const points: [number, number][] = [];
      for (const m of d.matchAll(/[ML](-?[\d.e+-]+),(-?[\d.e+-]+)/g)) points.push([Number(m[1]), Number(m[2])]);
      out.push({ series, points, moves: (d.match(/M/g) ?? []).length });
    }
  }
  return out;
}

/** The x of the T1 rule in panel `panel` (a vertical rule labelled t1), or undefined. */
export function svgT1Rule(svg: string, panel: number): number | undefined {
  const group = new RegExp(`<g class="mark-rule role-mark concat_${panel}_(?:layer_\\d+_)+marks"[^>]*>(.*?)</g>`, 'gs');
  for (const g of svg.matchAll(group)) {
    const m = /<line aria-label="t1: [^"]*"[^>]*transform="translate\(([-\d.e+]+),/.exec(g[1]);
    if (m) return Number(m[1]);
  }
  return undefined;
}

/** The phase rectangles of panel `panel`: label and [x0, x1] in pixels. */
export function svgPhases(svg: string, panel: number): { phase: string; x0: number; x1: number }[] {
  const out: { phase: string; x0: number; x1: number }[] = [];
  const group = new RegExp(`<g class="mark-rect role-mark concat_${panel}_(?:layer_\\d+_)+marks"[^>]*>(.*?)</g>`, 'gs');
  for (const g of svg.matchAll(group)) {
    for (const p of g[1].matchAll(/<path aria-label="[^"]*phase: ([^"]*)"[^>]*?\sd="M([-\d.e+]+),[-\d.e+]+h([-\d.e+]+)v/g)) {
      const x0 = Number(p[2]);
      out.push({ phase: unescapeXml(p[1]), x0, x1: x0 + Number(p[3]) });
    }
  }
  return out;
}

/** Width and height from a PNG's IHDR chunk (bytes 16..23, big-endian). */
export function pngSize(png: Uint8Array): { width: number; height: number } {
  const v = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return { width: v.getUint32(16), height: v.getUint32(20) };
}

/**
 * Text widths from the bundled DejaVu fonts' own advance widths, for vega's layout.
 *
 * vega sizes legends, titles and label-overlap checks by measuring text. Headless, it uses
 * node-canvas when installed (the system's fonts: machine-dependent) and otherwise guesses
 * 0.8 x font size per character, about 1.4 times DejaVu Sans's real width, which truncated legend
 * labels ("(Lemma 4.…") and left wide empty margins. Measuring with the same TTF files resvg
 * draws with makes the layout right and the same on every machine. Kerning is ignored (a
 * fraction of a pixel per label).
 */
import { readFileSync } from 'node:fs';

interface Metrics {
  unitsPerEm: number;
  /** advance width (font units) of every glyph id */
  advance: Uint16Array;
  /** Unicode code point -> glyph id (0 = .notdef) */
  glyphOf: (cp: number) => number;
}

/** The subset of a TrueType font needed for advance widths: head, hhea, hmtx and a Unicode cmap (format 4 or 12). */
export function parseTtfMetrics(bytes: Uint8Array): Metrics {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const numTables = view.getUint16(4);
  const tables = new Map<string, number>();
  for (let i = 0; i < numTables; i++) {
    const rec = 12 + 16 * i;
    const tag = String.fromCharCode(bytes[rec], bytes[rec + 1], bytes[rec + 2], bytes[rec + 3]);
    tables.set(tag, view.getUint32(rec + 8));
  }
  const table = (tag: string): number => {
    const off = tables.get(tag);
    if (off === undefined) throw new Error(`font has no '${tag}' table`);
    return off;
  };
  const unitsPerEm = view.getUint16(table('head') + 18);
  const numberOfHMetrics = view.getUint16(table('hhea') + 34);
  const numGlyphs = view.getUint16(table('maxp') + 4);
  const hmtx = table('hmtx');
  const advance = new Uint16Array(numGlyphs);
  for (let g = 0; g < numGlyphs; g++) advance[g] = view.getUint16(hmtx + 4 * Math.min(g, numberOfHMetrics - 1));

  const cmap = table('cmap');
  const n = view.getUint16(cmap + 2);
  let format4 = -1;
  let format12 = -1;
  for (let i = 0; i < n; i++) {
    const platform = view.getUint16(cmap + 4 + 8 * i);
    const encoding = view.getUint16(cmap + 6 + 8 * i);
    const sub = cmap + view.getUint32(cmap + 8 + 8 * i);
    const format = view.getUint16(sub);
    if (format === 12 && (platform === 3 || platform === 0)) format12 = sub;
    if (format === 4 && ((platform === 3 && encoding === 1) || platform === 0)) format4 = sub;
  }
  let glyphOf: (cp: number) => number;
  if (format12 >= 0) {
    const groups = view.getUint32(format12 + 12);
    glyphOf = (cp) => {
      for (let i = 0; i < groups; i++) {
        const g = format12 + 16 + 12 * i;
        const start = view.getUint32(g);
        const end = view.getUint32(g + 4);
        if (cp >= start && cp <= end) return view.getUint32(g + 8) + (cp - start);
      }
      return 0;
    };
  } else if (format4 >= 0) {
    const segX2 = view.getUint16(format4 + 6);
    const ends = format4 + 14;
    const starts = ends + segX2 + 2;
    const deltas = starts + segX2;
    const offsets = deltas + segX2;
    glyphOf = (cp) => {
      if (cp > 0xffff) return 0;
      for (let s = 0; s < segX2; s += 2) {
        if (cp > view.getUint16(ends + s)) continue;
        const start = view.getUint16(starts + s);
        if (cp < start) return 0;
        const delta = view.getInt16(deltas + s);
        const ro = view.getUint16(offsets + s);
        if (ro === 0) return (cp + delta) & 0xffff;
        const g = view.getUint16(offsets + s + ro + 2 * (cp - start));
        return g === 0 ? 0 : (g + delta) & 0xffff;
      }
      return 0;
    };
  } else throw new Error('font has no Unicode cmap (format 4 or 12)');
  return { unitsPerEm, advance, glyphOf };
}

/** Width of `text` in pixels at `fontSize` (font units scaled by fontSize / unitsPerEm). */
export function textWidth(m: Metrics, text: string, fontSize: number): number {
  let units = 0;
  for (const ch of text) units += m.advance[m.glyphOf(ch.codePointAt(0)!)] ?? m.advance[0];
  return (units * fontSize) / m.unitsPerEm;
}

export interface FontFiles {
  regular: string;
  bold: string;
  oblique: string;
}

/** vega's textMetrics.width(item, text): the item's font size, weight and style pick the face. */
export function vegaWidthFunction(files: FontFiles): (item: Record<string, unknown>, text: unknown) => number {
  const regular = parseTtfMetrics(readFileSync(files.regular));
  const bold = parseTtfMetrics(readFileSync(files.bold));
  const oblique = parseTtfMetrics(readFileSync(files.oblique));
  return (item, text) => {
    const size = item.fontSize != null ? Number(item.fontSize) || 0 : 11;
    const s = text == null ? '' : String(text).trim();
    if (size <= 0 || s === '') return 0;
    const w = item.fontWeight;
    const isBold = w === 'bold' || w === 'bolder' || (typeof w === 'number' && w >= 600) || (typeof w === 'string' && Number(w) >= 600);
    const face = isBold ? bold : item.fontStyle === 'italic' || item.fontStyle === 'oblique' ? oblique : regular;
    const width = textWidth(face, s, size);
    // vega truncates text to item.limit (with an ellipsis) before drawing: bounds use at most that.
    const limit = Number(item.limit);
    return limit > 0 ? Math.min(width, limit) : width;
  };
}

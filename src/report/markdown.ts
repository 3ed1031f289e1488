/**
 * coflow's Markdown (GitHub-flavoured, with `$...$` and `$$...$$` TeX) to HTML, math typeset by
 * KaTeX here, on the server.
 *
 * Why server-side: the HTML report must open from a file, offline, with no JavaScript at all (no
 * CDN, no client-side renderer that could fail or flash raw TeX). KaTeX's HTML needs only its
 * stylesheet (see `katexAssets.ts`, fonts inlined); the MathML copy next to it serves screen
 * readers and copy-paste.
 *
 * Why a tokenizer extension rather than letting Markdown run first: Markdown would eat TeX
 * (`_` and `*` as emphasis, `\{` as an escape, `|` as a table-cell border). The math tokenizers run
 * before marked's own inline rules at every position, so math reaches KaTeX verbatim.
 *
 * Math syntax (pandoc's `tex_math_dollars`):
 * - `$$...$$` is display math, either as a block (starting a line, closed on the same or a later
 *   line of the same paragraph, nothing after the closing `$$`) or inside a line of text.
 *   An unclosed `$$` throws.
 * - `$...$` is inline math when the opening `$` is followed by a non-space, the first unescaped
 *   `$` after it is preceded by a non-space and not followed by a digit. Otherwise the `$` is
 *   literal text: `costs $5 and $6` has no math. `\$` is always a literal dollar.
 * - Inside math, `\x` pairs are skipped when looking for the closer, so `\$` stays TeX.
 * - In a line that can be a table row (it has a `|` outside math and code spans), `|` and `\|`
 *   inside math are rewritten to the equivalent `\vert` and `\Vert` before marked splits the row
 *   into cells (GFM splits cells at every unescaped `|`, even inside `$...$`, and turns `\|` into
 *   `|`). A `|` in an `array` column spec inside a table cell is therefore not supported (KaTeX
 *   then throws, it never renders silently wrong).
 */
import katex from 'katex';
import { Marked, type Tokens, type TokenizerAndRendererExtension } from 'marked';

export interface RenderMarkdownOptions {
  /** Added to every heading level (clamped to h6): 1 turns `#` into `<h2>`, for embedding a document in a page. */
  headingOffset?: number;
  /** Prefix of every heading id, to keep ids unique in a page that embeds several documents. */
  idPrefix?: string;
}

export interface RenderedMarkdown {
  html: string;
  /** Number of display equations rendered (each is one `class="katex-display"` element). */
  displayMath: number;
  /** Number of inline equations rendered. */
  inlineMath: number;
}

interface MathSpan {
  tex: string;
  /** index just past the closing delimiter */
  end: number;
  display: boolean;
}

const isSpace = (c: string | undefined): boolean => c === undefined || /\s/.test(c);

/** Index of the closing `$` (or `$$`) from `from` on, skipping TeX escapes `\x`; -1 if none. */
function findCloser(s: string, from: number, double: boolean): number {
  for (let j = from; j < s.length; j++) {
    const c = s[j];
    if (c === '\\') j++;
    else if (c === '$' && (!double || s[j + 1] === '$')) return j;
  }
  return -1;
}

/**
 * The math span opening at `s[pos]` (a `$`), by the rules in the module comment, or null if that
 * `$` is literal text. An unclosed `$$` returns null too (the inline tokenizer turns it into an error).
 */
export function scanMath(s: string, pos: number): MathSpan | null {
  if (s[pos] !== '$') return null;
  if (s[pos + 1] === '$') {
    const close = findCloser(s, pos + 2, true);
    if (close < 0) return null;
    return { tex: s.slice(pos + 2, close), end: close + 2, display: true };
  }
  if (isSpace(s[pos + 1])) return null;
  const close = findCloser(s, pos + 1, false);
  if (close < 0 || isSpace(s[close - 1]) || /[0-9]/.test(s[close + 1] ?? '')) return null;
  return { tex: s.slice(pos + 1, close), end: close + 1, display: false };
}

/** Length of the code span opening at `s[i]` (a backtick), or 0 if the backtick run is unmatched. */
function codeSpanLength(s: string, i: number): number {
  let n = 0;
  while (s[i + n] === '`') n++;
  for (let j = i + n; j < s.length; ) {
    if (s[j] !== '`') {
      j++;
      continue;
    }
    let m = 0;
    while (s[j + m] === '`') m++;
    if (m === n) return j + m - i;
    j += m;
  }
  return 0;
}

/**
 * Walks one line or inline text like the inline lexer: code spans and backslash escapes are
 * skipped, each math span is passed to `onMath`; returns whether a `|` occurs outside math and
 * code spans.
 */
function walkMath(s: string, onMath: (start: number, span: MathSpan) => void): boolean {
  let pipeOutside = false;
  for (let i = 0; i < s.length; ) {
    const c = s[i];
    if (c === '\\') i += 2;
    else if (c === '`') i += codeSpanLength(s, i) || 1;
    else if (c === '$') {
      const span = scanMath(s, i);
      if (span) {
        onMath(i, span);
        i = span.end;
      } else i += s[i + 1] === '$' ? 2 : 1;
    } else {
      if (c === '|') pipeOutside = true;
      i++;
    }
  }
  return pipeOutside;
}

/** `|` -> `\vert`, `\|` -> `\Vert` (same glyphs in TeX), so no bare `|` is left for the table splitter. */
function texWithoutPipes(tex: string): string {
  let out = '';
  for (let j = 0; j < tex.length; j++) {
    const c = tex[j];
    let word: string | null = null;
    if (c === '\\' && tex[j + 1] === '|') {
      word = '\\Vert';
      j++;
    } else if (c === '|') word = '\\vert';
    else if (c === '\\') {
      out += c + (tex[j + 1] ?? '');
      j++;
      continue;
    }
    if (word === null) out += c;
    // A space only where a letter follows (it would extend the control word), never at the end:
    // a space before the closing `$` would stop it from closing.
    else out += /[A-Za-z]/.test(tex[j + 1] ?? '') ? `${word} ` : word;
  }
  return out;
}

/** The source with `|` inside math rewritten in every line that can be a table row (outside fenced code). */
export function protectTablePipes(md: string): string {
  const lines = md.split('\n');
  let fence: string | null = null;
  for (let k = 0; k < lines.length; k++) {
    const line = lines[k];
    const f = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (fence !== null) {
      if (f && f[1][0] === fence[0] && f[1].length >= fence.length && /^ {0,3}[`~]+[ \t]*$/.test(line)) fence = null;
      continue;
    }
    if (f) {
      fence = f[1];
      continue;
    }
    if (!line.includes('|')) continue;
    let out = '';
    let last = 0;
    const pipeOutside = walkMath(line, (start, span) => {
      if (!span.tex.includes('|')) return;
      const d = span.display ? '$$' : '$';
      out += line.slice(last, start) + d + texWithoutPipes(span.tex) + d;
      last = span.end;
    });
    if (pipeOutside && last > 0) lines[k] = out + line.slice(last);
  }
  return lines.join('\n');
}

/** Math spans masked (delimiters kept, contents as letters) so `*`, `_`, `~` in TeX never open or close emphasis. */
function maskMath(src: string): string {
  let out = '';
  let last = 0;
  walkMath(src, (start, span) => {
    const d = span.display ? 2 : 1;
    out += src.slice(last, start + d) + 'a'.repeat(span.end - start - 2 * d);
    last = span.end - d;
  });
  return out + src.slice(last);
}

const escapeHtml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** GitHub-like heading slug: lower case, punctuation (and TeX's `$`, `\`, braces) dropped, spaces to `-`. */
function slugify(text: string): string {
  const slug = text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .trim()
    .replace(/\s+/g, '-');
  return slug === '' ? 'section' : slug;
}

/** Typesets one equation; a TeX error throws, naming the TeX, so the report never shows broken math. */
function renderTex(tex: string, displayMode: boolean): string {
  try {
    return katex.renderToString(tex, {
      displayMode,
      throwOnError: true,
      output: 'htmlAndMathml',
      // LaTeX-incompatible input (unknown Unicode in math, ...) is an error of the generated
      // document, not a console warning in the middle of writing a report.
      strict: 'error',
      trust: false,
    });
  } catch (e) {
    const kind = displayMode ? 'display' : 'inline';
    throw new Error(`invalid TeX in ${kind} math "${tex.slice(0, 80)}": ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Renders coflow Markdown with math to an HTML fragment (no `<html>`/`<head>`). Math becomes KaTeX
 * HTML+MathML; HTML comments are dropped and any other raw HTML is escaped (marked has no
 * sanitizer); headings get ids `idPrefix + slug`, unique within the call.
 *
 * @throws Error on invalid TeX (message names the TeX, first 80 characters) or an unclosed `$$`.
 */
export function renderMarkdown(md: string, options: RenderMarkdownOptions = {}): RenderedMarkdown {
  const headingOffset = options.headingOffset ?? 0;
  if (!Number.isInteger(headingOffset) || headingOffset < 0) {
    throw new Error(`headingOffset must be a non-negative integer, got ${headingOffset}`);
  }
  const idPrefix = options.idPrefix ?? '';
  let displayMath = 0;
  let inlineMath = 0;
  const usedIds = new Set<string>();

  const typeset = (token: Tokens.Generic): string => {
    const display = token.display as boolean;
    const html = renderTex(token.tex as string, display);
    if (display) displayMath++;
    else inlineMath++;
    return html;
  };

  const extensions: TokenizerAndRendererExtension[] = [
    {
      name: 'blockMath',
      level: 'block',
      // Only at the start of a line, so a paragraph is never cut in the middle of a line.
      start(src) {
        const m = /\n {0,3}\$\$/.exec(src);
        return m ? m.index + 1 : undefined;
      },
      tokenizer(src) {
        const open = /^ {0,3}\$\$/.exec(src);
        if (!open) return undefined;
        const close = findCloser(src, open[0].length, true);
        if (close < 0) return undefined;
        const tex = src.slice(open[0].length, close);
        // A blank line ends the paragraph: such a `$$` is not a block (the inline rule then reports it).
        if (tex.trim() === '' || /\n[ \t]*\n/.test(tex)) return undefined;
        const after = /^[ \t]*(?:\n|$)/.exec(src.slice(close + 2));
        if (!after) return undefined; // text after the closing $$: inline display math in a paragraph
        return { type: 'blockMath', raw: src.slice(0, close + 2 + after[0].length), tex, display: true };
      },
      renderer(token) {
        return `${typeset(token)}\n`;
      },
    },
    {
      name: 'inlineMath',
      level: 'inline',
      start(src) {
        for (let i = src.indexOf('$'); i >= 0; i = src.indexOf('$', i + 1)) {
          let backslashes = 0;
          while (src[i - 1 - backslashes] === '\\') backslashes++;
          if (backslashes % 2 === 0) return i;
        }
        return undefined;
      },
      tokenizer(src) {
        if (src[0] !== '$') return undefined;
        const span = scanMath(src, 0);
        if (span === null) {
          if (src[1] === '$') throw new Error(`unclosed $$ display math at "${src.slice(0, 80)}"`);
          return undefined;
        }
        if (span.tex.trim() === '') throw new Error(`empty $$ display math at "${src.slice(0, 80)}"`);
        return { type: 'inlineMath', raw: src.slice(0, span.end), tex: span.tex, display: span.display };
      },
      renderer(token) {
        return typeset(token);
      },
    },
  ];

  const marked = new Marked({
    gfm: true,
    extensions,
    hooks: { emStrongMask: maskMath },
    renderer: {
      heading({ tokens, depth, text }) {
        const level = Math.min(6, depth + headingOffset);
        const base = idPrefix + slugify(text);
        let id = base;
        for (let n = 1; usedIds.has(id); n++) id = `${base}-${n}`;
        usedIds.add(id);
        return `<h${level} id="${escapeHtml(id)}">${this.parser.parseInline(tokens)}</h${level}>\n`;
      },
      html({ text, block }) {
        const rest = text.replace(/<!--[\s\S]*?(?:-->|$)/g, '');
        if (rest.trim() === '') return '';
        return block ? `<p>${escapeHtml(rest.trim())}</p>\n` : escapeHtml(rest);
      },
      // An image would be fetched when the page opens; the report loads nothing, so an image
      // becomes a link to it (a reader may follow it on purpose).
      image({ href, text }) {
        return `<a href="${escapeHtml(href)}">${escapeHtml(text || href)}</a>`;
      },
    },
  });
  // lexer + parser rather than parse(): parse() appends "Please report this to marked" to our errors.
  const html = marked.parser(marked.lexer(protectTablePipes(md)));
  return { html, displayMath, inlineMath };
}

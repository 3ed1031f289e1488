/**
 * renderMarkdown (coflow Markdown + TeX -> HTML with server-side KaTeX) and katexCss (KaTeX's
 * stylesheet with the fonts inlined). Oracles: equation counts taken from the sources by an
 * independent regex, KaTeX's own structure (katex-display, MathML elements), and the font bytes on disk.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { katexCss } from '../../src/report/katexAssets.js';
import { renderMarkdown } from '../../src/report/markdown.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DERIVATIONS = join(ROOT, 'derivations');
const docs = readdirSync(DERIVATIONS)
  .filter((f) => f.endsWith('.md'))
  .sort();

const count = (s: string, needle: string): number => s.split(needle).length - 1;
/** MathML of the output without the TeX annotation (which repeats the source verbatim). */
const stripAnnotations = (html: string): string => html.replace(/<annotation[^>]*>[\s\S]*?<\/annotation>/g, '');

describe('renderMarkdown on derivations/*.md', () => {
  it('finds the derivation documents', () => {
    expect(docs).toEqual(expect.arrayContaining(['gram-flow.md', 'model.md', 'paper-system.md', 'type-level.md']));
  });

  for (const file of docs) {
    it(`${file}: every equation renders and is counted`, () => {
      const md = readFileSync(join(DERIVATIONS, file), 'utf8');
      // Independent counts: the generated docs put each $$...$$ on its own line and use no `\$`
      // and no `$` in code, so a plain regex over the source is exact for them.
      expect(md).not.toContain('\\$');
      const displayBlocks = md.match(/\$\$[\s\S]+?\$\$/g) ?? [];
      const rest = md.replace(/\$\$[\s\S]+?\$\$/g, '');
      const dollars = count(rest, '$');
      expect(dollars % 2).toBe(0);

      const r = renderMarkdown(md);
      expect(r.displayMath).toBe(displayBlocks.length);
      expect(count(r.html, 'class="katex-display"')).toBe(displayBlocks.length);
      expect(r.inlineMath).toBe(dollars / 2);
      expect(count(r.html, 'class="katex"')).toBe(r.displayMath + r.inlineMath);
      expect(count(r.html, '<math ')).toBe(r.displayMath + r.inlineMath);
      // No TeX left for a client-side renderer, no error markup, no comment.
      expect(r.html).not.toMatch(/\\\(|\\\[|katex-error|<!--/);
      // Outside the MathML annotations (which keep the TeX), no `$` from math survives.
      const visible = stripAnnotations(r.html);
      expect(count(visible, '$')).toBe(0);
    });
  }

  it('model.md: the table cells with $K^\\top Q$ etc. render as math inside <td>', () => {
    const md = readFileSync(join(DERIVATIONS, 'model.md'), 'utf8');
    expect(md).toContain('| $S$ | $K^\\top Q$ |');
    const { html } = renderMarkdown(md);
    const cells = html.match(/<td>[\s\S]*?<\/td>/g) ?? [];
    const ktq = cells.find((c) => c.includes('<annotation encoding="application/x-tex">K^\\top Q</annotation>'));
    expect(ktq).toBeDefined();
    expect(ktq).toContain('<msup>');
    expect(ktq).toContain('⊤');
  });

  it('no table row of a derivation has a bare | inside math (would need the \\vert rewrite)', () => {
    for (const file of docs) {
      const md = readFileSync(join(DERIVATIONS, file), 'utf8');
      for (const line of md.split('\n').filter((l) => l.startsWith('|'))) {
        for (const m of line.matchAll(/\$[^$]*\$/g)) expect(m[0]).not.toMatch(/(^|[^\\])\|/);
      }
    }
  });
});

describe('renderMarkdown: math', () => {
  it('display math: KaTeX display HTML and MathML <mfrac>', () => {
    const r = renderMarkdown('$$\\frac{a}{b}$$\n');
    expect(r).toMatchObject({ displayMath: 1, inlineMath: 0 });
    expect(r.html).toContain('class="katex-display"');
    expect(r.html).toContain('mfrac');
    expect(r.html).toContain('<mfrac>');
    expect(r.html).toContain('<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">');
    expect(r.html).not.toContain('<p>');
  });

  it('$$...$$ inside a paragraph line and across lines of a paragraph', () => {
    const r = renderMarkdown('see $$x^2$$ here\nand\n$$\n\\sum_i a_i\n$$\nafter\n');
    expect(r).toMatchObject({ displayMath: 2, inlineMath: 0 });
    expect(count(r.html, 'class="katex-display"')).toBe(2);
    expect(r.html).toContain('<munder><mo>∑</mo><mi>i</mi></munder>'); // display: \sum_i with the limit below
    expect(r.html).toContain('<msub><mi>a</mi><mi>i</mi></msub>');
    expect(r.html).toContain('after');
  });

  it('underscores, stars, braces and backslashes in TeX are not Markdown', () => {
    const r = renderMarkdown('$a_1$ and $b_1$\n');
    expect(r.inlineMath).toBe(2);
    expect(r.html).not.toContain('<em>');
    expect(count(r.html, '<msub>')).toBe(2);

    const s = renderMarkdown('$a*b*c$ and $\\{x_i\\}_{i}$ and *emph $y*z$*\n');
    expect(s.inlineMath).toBe(3);
    expect(s.html).toContain('<mo stretchy="false">{</mo>'); // \{ reached KaTeX as \{, not as {
    expect(count(s.html, '<em>')).toBe(1); // only the real emphasis, around the last formula
    expect(s.html).toMatch(/<em>emph <span class="katex">[\s\S]*y\*z[\s\S]*<\/span><\/em>/);

    // Emphasis delimiters outside math must not pair with `*`/`_` inside math (marked's emStrongMask hook).
    for (const md of ['*emph $y*z$*', '*a $x* y$ b', '_a $x_ y$ b', '**a $x** y$ b']) {
      const t = renderMarkdown(`${md}\n`);
      expect(t.inlineMath, md).toBe(1);
      expect(t.html, md).not.toMatch(/<(em|strong)>[^<]*\$/);
    }
    expect(renderMarkdown('*a $x* y$ b\n').html).toMatch(/^<p>\*a <span class="katex">/);
  });

  it('a table cell with math renders inside <td>, and | inside math does not split the cell', () => {
    const md = '| a | b | c |\n| --- | --- | --- |\n| $x_1$ | $\\lvert u|v \\rvert$ | $\\|w\\|$ |\n';
    const r = renderMarkdown(md);
    expect(r.inlineMath).toBe(3);
    const cells = r.html.match(/<td>[\s\S]*?<\/td>/g) ?? [];
    expect(cells).toHaveLength(3);
    for (const c of cells) expect(c).toMatch(/^<td><span class="katex">[\s\S]*<\/span><\/td>$/);
    // Oracle: the same formulas outside a table (no cell splitting, no rewrite) give the same MathML and HTML.
    const plain = renderMarkdown('$x_1$ $\\lvert u|v \\rvert$ $\\|w\\|$\n').html.match(/<span class="katex">[\s\S]*?(?=\s?<span class="katex">|<\/p>)/g) ?? [];
    expect(plain).toHaveLength(3);
    for (let i = 0; i < 3; i++) {
      expect(stripAnnotations(cells[i]).replace(/^<td>|<\/td>$/g, '')).toBe(stripAnnotations(plain[i]).trimEnd());
    }
    expect(cells[2]).toContain('∥');
  });

  it('invalid TeX throws, naming the TeX (negative control)', () => {
    expect(() => renderMarkdown('$$\\frac{a$$\n')).toThrow(/\\frac\{a/);
    expect(() => renderMarkdown('text $\\undefinedmacro x$ text\n')).toThrow(/inline math "\\undefinedmacro x"/);
    const long = `\\frac{${'x'.repeat(200)}`;
    expect(() => renderMarkdown(`$$${long}$$\n`)).toThrow(`"${long.slice(0, 80)}"`);
  });

  it('an unclosed $$ throws instead of showing raw TeX', () => {
    expect(() => renderMarkdown('text $$x^2 without end\n')).toThrow(/unclosed \$\$/);
  });

  it('dollar rule: $ opens only before a non-space, closes only after a non-space and not before a digit', () => {
    const cases: [string, number][] = [
      ['costs $5 and $6', 0], // closer "$" preceded by a space
      ['between $20,000 and $30,000', 0],
      ['costs $5 and $x$ later', 1], // $5 is literal, $x$ is math
      ['a $ b $ c', 0], // space after the opener
      ['a $b $ c', 0], // space before the closer
      ['pay $x$5 now', 0], // closer followed by a digit
      ['escaped \\$x\\$ dollars', 0],
      ['$x$, $y$.', 2],
      ['$\\$5$ is TeX for a dollar', 1], // \$ inside math does not close it
      ['code `$x$` stays code', 0],
    ];
    for (const [md, n] of cases) {
      const r = renderMarkdown(`${md}\n`);
      expect(r.inlineMath, md).toBe(n);
      expect(r.displayMath, md).toBe(0);
    }
    expect(renderMarkdown('costs $5 and $6\n').html).toBe('<p>costs $5 and $6</p>\n');
    expect(renderMarkdown('escaped \\$x\\$ dollars\n').html).toBe('<p>escaped $x$ dollars</p>\n');
    expect(renderMarkdown('code `$x$` stays code\n').html).toBe('<p>code <code>$x$</code> stays code</p>\n');
  });
});

describe('renderMarkdown: headings and raw HTML', () => {
  const md = '# Title\n\n## Why $F$ depends on *S*\n\n## Notes\n\n## Notes\n\n###### Deep\n';

  it('headings keep their level and get GitHub-like ids by default', () => {
    const { html } = renderMarkdown(md);
    expect(html).toContain('<h1 id="title">Title</h1>');
    expect(html).toMatch(/<h2 id="why-f-depends-on-s">Why <span class="katex">[\s\S]*<\/span> depends on <em>S<\/em><\/h2>/);
    expect(html).toContain('<h2 id="notes">Notes</h2>');
    expect(html).toContain('<h2 id="notes-1">Notes</h2>');
    expect(html).toContain('<h6 id="deep">Deep</h6>');
  });

  it('headingOffset shifts levels (clamped at h6) and idPrefix prefixes every id', () => {
    const { html } = renderMarkdown(md, { headingOffset: 1, idPrefix: 'model-' });
    expect(html).toContain('<h2 id="model-title">Title</h2>');
    expect(html).toContain('<h3 id="model-why-f-depends-on-s">');
    expect(html).toContain('<h3 id="model-notes">Notes</h3>');
    expect(html).toContain('<h3 id="model-notes-1">Notes</h3>');
    expect(html).toContain('<h6 id="model-deep">Deep</h6>');
    expect(html).not.toMatch(/<h1[ >]/);
    const ids = [...html.matchAll(/ id="([^"]*)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
    expect(() => renderMarkdown(md, { headingOffset: -1 })).toThrow(/headingOffset/);
  });

  it('raw HTML is escaped, HTML comments are dropped', () => {
    const { html } = renderMarkdown('<!-- GENERATED, do not edit -->\n\n<script>alert(1)</script>\n\nhi <img src=x onerror=alert(1)> <!-- inline --> there\n');
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).not.toContain('GENERATED');
    expect(html).not.toContain('inline');
    expect(html).not.toContain('<!--');
  });

  it('a Markdown image becomes a link, so the page fetches nothing when it opens', () => {
    const { html } = renderMarkdown('see ![the figure](http://example.com/f.png) here\n');
    expect(html).not.toContain('<img');
    expect(html).toContain('<a href="http://example.com/f.png">the figure</a>');
  });
});

describe('katexCss', () => {
  const css = katexCss();
  const cssPath = createRequire(import.meta.url).resolve('katex/dist/katex.min.css');

  it('loads nothing: no relative font URL, no http, only woff2 data URIs, one per @font-face', () => {
    expect(css).not.toContain('url(fonts/');
    expect(css).not.toContain('http');
    expect(css).not.toMatch(/\.woff\b|\.ttf\b|format\("woff"\)|format\("truetype"\)/);
    const faces = count(css, '@font-face');
    expect(faces).toBeGreaterThanOrEqual(20);
    expect(count(css, 'data:font/woff2;base64,')).toBe(faces);
    expect(count(css, 'url(')).toBe(faces);
    // Everything else of the stylesheet is kept: the rules after the @font-face blocks are unchanged.
    const original = readFileSync(cssPath, 'utf8');
    expect(count(original, '@font-face')).toBe(faces);
    expect(css.slice(css.lastIndexOf('}', css.indexOf('.katex{')) + 1)).toBe(original.slice(original.lastIndexOf('}', original.indexOf('.katex{')) + 1));
    expect(katexCss()).toBe(css); // cached
  });

  it('each data URI decodes to the bytes of its woff2 file on disk', () => {
    const original = readFileSync(cssPath, 'utf8');
    const files = [...original.matchAll(/url\(fonts\/([^)]+\.woff2)\)/g)].map((m) => m[1]);
    const uris = [...css.matchAll(/url\(data:font\/woff2;base64,([A-Za-z0-9+/=]+)\)/g)].map((m) => m[1]);
    expect(uris).toHaveLength(files.length);
    for (let i = 0; i < files.length; i++) {
      const disk = readFileSync(join(dirname(cssPath), 'fonts', files[i]));
      const decoded = Buffer.from(uris[i], 'base64');
      expect(decoded.subarray(0, 4).toString('latin1')).toBe('wOF2');
      expect(decoded.equals(disk), files[i]).toBe(true);
    }
  });
});

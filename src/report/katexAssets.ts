/**
 * KaTeX's stylesheet, made self-contained for the offline HTML report.
 *
 * Server-rendered KaTeX HTML (see `markdown.ts`) needs katex.min.css and its fonts. The report is
 * opened from a file with no network, so nothing may be fetched: every `url(fonts/X.woff2)` is
 * replaced by a base64 data URI of the font, and the `.woff`/`.ttf` fallbacks are dropped from each
 * `src:` list (every browser that can open the report reads WOFF2; keeping them would add relative
 * URLs that resolve to nothing next to the report file).
 */
import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

let cached: string | undefined;

/** One `url(...) format(...)` entry of a `src:` list. */
const SRC_ENTRY = /url\(\s*(['"]?)([^'")]+)\1\s*\)\s*(?:format\(\s*['"]?([\w-]+)['"]?\s*\))?/g;

/**
 * katex.min.css with every font inlined as `data:font/woff2;base64,...`. Computed once per process.
 *
 * @throws Error if a font the stylesheet names has no WOFF2 file, or a URL would be left in the CSS.
 */
export function katexCss(): string {
  if (cached !== undefined) return cached;
  // Resolved through the package, so it works from src/ (vitest) and from dist/ alike.
  const cssPath = createRequire(import.meta.url).resolve('katex/dist/katex.min.css');
  const cssDir = dirname(cssPath);
  const css = readFileSync(cssPath, 'utf8');

  const out = css.replace(/src\s*:\s*([^;}]+)/g, (decl, list: string) => {
    const woff2: string[] = [];
    for (const m of list.matchAll(SRC_ENTRY)) {
      const url = m[2];
      if (m[3] !== 'woff2' && !url.endsWith('.woff2')) continue;
      const file = join(cssDir, url);
      if (!existsSync(file)) throw new Error(`KaTeX font ${url} referenced by ${cssPath} is missing (looked for ${file})`);
      woff2.push(`url(data:font/woff2;base64,${readFileSync(file).toString('base64')}) format("woff2")`);
    }
    if (woff2.length === 0) throw new Error(`KaTeX @font-face without a WOFF2 font in ${cssPath}: ${decl.slice(0, 120)}`);
    return `src:${woff2.join(',')}`;
  });

  const leftover = /url\(\s*['"]?(?!data:)[^)]*\)/.exec(out);
  if (leftover) throw new Error(`KaTeX CSS still references an external resource after inlining: ${leftover[0]}`);
  cached = out;
  return out;
}

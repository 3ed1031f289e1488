/**
 * Documents and comments cite only files that exist (docs/design.md asks this of every comment).
 *
 * What is scanned:
 * - Markdown: docs/*.md, README.md, derivations/*.md, the whole text;
 * - code: the comments (`//` and `/* ... *\/`) of every .ts file under src/ and bench/ and of
 *   every .ts, .mts and .mjs file under test/. A small scanner skips strings, template literals
 *   (with their `${...}` code) and regular-expression literals, so a `//` inside them is not a
 *   comment and a path in a string is not checked.
 *
 * The rules (each problem is reported as `file:line: what`):
 * 1. A path from the repository root, `src|docs|test|bench|derivations|examples|scripts` then
 *    `/...` ending in .ts, .mts, .mjs, .md, .json, .py, .sh, .png or .svg, must exist. A path preceded by
 *    another path character is not one (`dist/src/cli/main.js`, `../../src/x.ts`); globs such as
 *    `test/io/*.test.ts` are not paths.
 * 2. A path relative to the citing file (`./x.ts`, `../derivations/model.md`) must exist.
 * 3. Markdown only: a link or image `[text](target)` outside code must resolve relative to the
 *    file (a file or a directory); `http(s):`, `mailto:` and other schemes and pure `#anchor`
 *    links are skipped, and `#anchor` / `?query` parts are dropped (anchors are not checked).
 * 4. `design.md` may be cited only as the file docs/design.md (from the root, or relative to the
 *    citing file); `paper.md` may not be cited at all (a design document outside the repository).
 * 5. No issue or pull-request numbers, in code comments and in Markdown prose outside code:
 *    `issue 12`, `issues #3`, `PR 7`, `pull request #4`, `ticket 9`, `GH-5`, and a bare `#N`
 *    (N a decimal number without leading zero, `#` at the start or after a space or an opening
 *    bracket, and no letter or digit after N: `see #10`, `(#10)`). Not matched: `#!`, `&#39;`,
 *    colours such as `#0072B2` or `#000`, Markdown headings (`## 2.` has a space), `#anchor` links.
 *
 * This file itself is not scanned: its comments and strings spell out the patterns above.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export type Kind = 'markdown' | 'code';

export interface Problem {
  file: string;
  line: number;
  message: string;
}

/** A piece of text to check and where it starts in its file. */
interface Segment {
  text: string;
  offset: number;
}

// ---------------------------------------------------------------------------------------------
// Comments of TypeScript / JavaScript

const KEYWORDS_BEFORE_EXPRESSION = new Set(['return', 'typeof', 'case', 'do', 'else', 'in', 'of', 'new', 'delete', 'void', 'throw', 'instanceof', 'yield', 'await']);

/** The comments of a TypeScript or JavaScript source, without their delimiters. */
export function commentsOf(src: string): Segment[] {
  const out: Segment[] = [];
  const n = src.length;

  const skipQuoted = (i: number): number => {
    const q = src[i];
    for (i++; i < n; i++) {
      if (src[i] === '\\') i++;
      else if (src[i] === q || src[i] === '\n') return i + 1;
    }
    return n;
  };
  const skipRegex = (i: number): number => {
    let inClass = false;
    for (i++; i < n; i++) {
      const c = src[i];
      if (c === '\\') i++;
      else if (c === '[') inClass = true;
      else if (c === ']') inClass = false;
      else if (c === '/' && !inClass) break;
      else if (c === '\n') return i;
    }
    i++;
    while (i < n && /[a-z]/.test(src[i])) i++;
    return i;
  };
  // Code from i; with untilBrace, up to and including the `}` closing a template's `${`.
  const scanCode = (i: number, untilBrace: boolean): number => {
    let depth = 0;
    let prev = ''; // last significant character of code
    let word = ''; // the identifier ending at prev, if prev ends one
    while (i < n) {
      const c = src[i];
      const d = src[i + 1];
      if (c === '/' && d === '/') {
        const end = src.indexOf('\n', i);
        const e = end < 0 ? n : end;
        out.push({ text: src.slice(i + 2, e), offset: i + 2 });
        i = e;
        continue;
      }
      if (c === '/' && d === '*') {
        const end = src.indexOf('*/', i + 2);
        const e = end < 0 ? n : end;
        out.push({ text: src.slice(i + 2, e), offset: i + 2 });
        i = end < 0 ? n : end + 2;
        continue;
      }
      if (c === "'" || c === '"') {
        i = skipQuoted(i);
        prev = 'a';
        word = '';
        continue;
      }
      if (c === '`') {
        i = scanTemplate(i + 1);
        prev = 'a';
        word = '';
        continue;
      }
      if (c === '/') {
        const operand = /[\w$)\]]/.test(prev) && !KEYWORDS_BEFORE_EXPRESSION.has(word);
        if (!operand) {
          i = skipRegex(i);
          prev = 'a';
          word = '';
          continue;
        }
      }
      if (c === '{') depth++;
      if (c === '}') {
        if (untilBrace && depth === 0) return i + 1;
        depth--;
      }
      if (/[\w$]/.test(c)) {
        let j = i;
        while (j < n && /[\w$]/.test(src[j])) j++;
        word = src.slice(i, j);
        prev = 'a';
        i = j;
        continue;
      }
      if (!/\s/.test(c)) {
        prev = c;
        word = '';
      }
      i++;
    }
    return i;
  };
  const scanTemplate = (i: number): number => {
    while (i < n) {
      const c = src[i];
      if (c === '\\') i += 2;
      else if (c === '`') return i + 1;
      else if (c === '$' && src[i + 1] === '{') i = scanCode(i + 2, true);
      else i++;
    }
    return n;
  };
  scanCode(0, false);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Markdown: code blocks and code spans

/** The text with fenced code blocks and inline code spans blanked (same length, same lines). */
export function markdownProse(text: string): string {
  const blank = (s: string) => s.replace(/[^\n]/g, ' ');
  let out = text.replace(/^ {0,3}(```|~~~)[^\n]*\n[\s\S]*?(?:^ {0,3}\1[^\n]*$|(?![\s\S]))/gm, blank);
  out = out.replace(/(`+)(?!`)[\s\S]*?(?<!`)\1(?!`)/g, blank);
  return out;
}

// ---------------------------------------------------------------------------------------------
// The checker

const EXT = '(?:ts|mts|mjs|md|json|py|sh|png|svg)';
const ROOT_PATH = new RegExp(`(?<![\\w./-])(?:src|docs|test|bench|derivations|examples|scripts)/[\\w./-]*\\.${EXT}(?![\\w])`, 'g');
const RELATIVE_PATH = new RegExp(`(?<![\\w./-])\\.{1,2}/[\\w./-]*\\.${EXT}(?![\\w])`, 'g');
const MD_LINK = /!?\[(?:[^\][]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/g;
const DESIGN = /(?<![\w-])(?:[\w.-]*\/)*design\.md(?![\w])/g;
const PAPER = /(?<![\w-])paper\.md(?![\w])/g;
const ISSUE_WORD = /\b(?:issues?|PRs?|pull requests?|tickets?)\s*#?\s*\d+\b/gi;
const ISSUE_HASH = /(?:^|(?<=[\s([{]))#[1-9]\d*(?![\w])/gm;
const ISSUE_GH = /\bGH-\d+\b/g;

/** How many path citations and Markdown links were checked (so that a scan that sees nothing fails). */
export interface Counts {
  paths: number;
  links: number;
}

/** Does a repository-relative path (forward slashes) exist? */
export type Exists = (rootRelative: string) => boolean;

const fsExists: Exists = (p) => existsSync(join(ROOT, p));

/** Root-relative, forward slashes, or null when it leaves the repository. */
function resolveFrom(fileDir: string, target: string): string | null {
  const p = normalize(join(fileDir, target)).split(sep).join('/');
  return p.startsWith('../') || p === '..' ? null : p;
}

/**
 * Every problem in one file's text. `file` is root-relative (forward slashes) and decides how
 * relative citations resolve; `kind` says whether the text is Markdown or code (then only its
 * comments are read).
 */
export function checkText(text: string, file: string, kind: Kind, exists: Exists = fsExists, counts?: Counts): Problem[] {
  const problems: Problem[] = [];
  const seen = new Set<string>();
  const lineAt = (offset: number) => text.slice(0, offset).split('\n').length;
  const report = (offset: number, message: string) => {
    const line = lineAt(offset);
    const key = `${line}\u0000${message}`;
    if (seen.has(key)) return;
    seen.add(key);
    problems.push({ file, line, message });
  };
  const fileDir = file.includes('/') ? file.slice(0, file.lastIndexOf('/')) : '.';

  const issueRanges: [number, number][] = [];
  const all: Segment[] = kind === 'markdown' ? [{ text, offset: 0 }] : commentsOf(text);
  const prose: Segment[] = kind === 'markdown' ? [{ text: markdownProse(text), offset: 0 }] : all;

  for (const seg of all) {
    for (const m of seg.text.matchAll(ROOT_PATH)) {
      if (counts) counts.paths++;
      if (!exists(m[0])) report(seg.offset + m.index, `cites ${m[0]}, which does not exist`);
    }
    for (const m of seg.text.matchAll(RELATIVE_PATH)) {
      if (counts) counts.paths++;
      const p = resolveFrom(fileDir, m[0]);
      if (p === null || !exists(p)) report(seg.offset + m.index, `cites ${m[0]} (${p ?? 'outside the repository'}), which does not exist`);
    }
    for (const m of seg.text.matchAll(DESIGN)) {
      const cited = m[0];
      const ok = cited === 'docs/design.md' || resolveFrom(fileDir, cited) === 'docs/design.md';
      if (!ok) report(seg.offset + m.index, `cites ${cited}: the design notes are docs/design.md`);
    }
    for (const m of seg.text.matchAll(PAPER)) {
      report(seg.offset + m.index, `cites ${m[0]}, a document outside the repository`);
    }
  }
  for (const seg of prose) {
    for (const re of [ISSUE_WORD, ISSUE_GH, ISSUE_HASH]) {
      for (const m of seg.text.matchAll(re)) {
        const start = seg.offset + m.index;
        // `issue #12` is one citation, not a word form and a bare #12
        if (issueRanges.some(([a, b]) => start < b && start + m[0].length > a)) continue;
        issueRanges.push([start, start + m[0].length]);
        report(start, `cites an issue number (${m[0].trim()}); say what it means instead`);
      }
    }
  }
  if (kind === 'markdown') {
    // Found in the prose (code blanked); a link's target is never inside a code span.
    for (const m of prose[0].text.matchAll(MD_LINK)) {
      const target = m[1];
      if (!target || /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')) continue;
      const path = target.replace(/[#?].*$/, '');
      if (path === '') continue;
      if (counts) counts.links++;
      const p = path.startsWith('/') ? path.slice(1) : resolveFrom(fileDir, path);
      if (p === null || !exists(p.replace(/\/$/, '') || '.')) report(m.index, `links to ${target}, which does not resolve (${p ?? 'outside the repository'})`);
    }
  }
  return problems.sort((a, b) => a.line - b.line);
}

// ---------------------------------------------------------------------------------------------
// The files

function walk(dir: string, keep: (name: string) => boolean): string[] {
  const abs = join(ROOT, dir);
  if (!existsSync(abs)) return [];
  const files: string[] = [];
  for (const e of readdirSync(abs, { withFileTypes: true })) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) {
      if (e.name !== 'node_modules') files.push(...walk(rel, keep));
    } else if (keep(e.name)) files.push(rel);
  }
  return files;
}

/** This file: not scanned (its comments and strings spell out the patterns it looks for). */
const SELF = 'test/docs/citations.test.ts';

/** Root-relative paths of every scanned file, with its kind. */
export function scannedFiles(): { file: string; kind: Kind }[] {
  const md = (name: string) => name.endsWith('.md');
  const ts = (name: string) => name.endsWith('.ts');
  const testCode = (name: string) => /\.(ts|mts|mjs)$/.test(name);
  const flat = (dir: string) => readdirSync(join(ROOT, dir)).filter(md).map((name) => `${dir}/${name}`);
  return [
    ...['README.md', ...flat('docs'), ...flat('derivations')].map((file) => ({ file, kind: 'markdown' as const })),
    ...[...walk('src', ts), ...walk('bench', ts), ...walk('test', testCode)].filter((file) => file !== SELF).map((file) => ({ file, kind: 'code' as const })),
  ];
}

function format(problems: Problem[]): string {
  return problems.map((p) => `${p.file}:${p.line}: ${p.message}`).join('\n');
}

// ---------------------------------------------------------------------------------------------
// The tests

describe('citations', () => {
  it('every document and comment cites only files that exist, and no design.md, paper.md or issue number', () => {
    const files = scannedFiles();
    // The scan must see the tree: the docs, the derivations and the code of every top folder.
    expect(files.length).toBeGreaterThan(300);
    for (const f of ['README.md', 'docs/levels.md', 'docs/design.md', 'derivations/gram-flow.md', 'src/ode/dopri5.ts', 'bench/main.ts', 'test/golden/golden.mjs']) {
      expect(files.map((x) => x.file)).toContain(f);
    }
    const counts: Counts = { paths: 0, links: 0 };
    const problems = files.flatMap(({ file, kind }) => checkText(readFileSync(join(ROOT, file), 'utf8'), file, kind, fsExists, counts));
    expect(format(problems)).toBe('');
    // Measured when this test was written: 1,050 path citations and 103 relative links.
    expect(counts.paths).toBeGreaterThan(800);
    expect(counts.links).toBeGreaterThan(80);
  });

  it('reports each kind of bad citation in a synthetic document (negative controls)', () => {
    const doc = [
      '# Synthetic',
      '',
      'The integrator is `src/ode/dopri5.ts` and the levels are in [levels.md](levels.md#level-g).', // fine
      'The field lives in `src/ode/nope.ts`.', // 4: missing file
      'See [the claims](claim.md) and [the site](https://example.org/x.md).', // 5: broken link (the URL is skipped)
      'As argued in paper.md and in notes/design.md, not in [design](design.md).', // 6: paper.md, a design.md elsewhere
      'This was issue 7, see also #12.', // 7: two issue numbers
      '```sh',
      'echo "#3 in a code block is not an issue"; cat src/ode/gone.ts', // 9: the path is checked in code too
      '```',
      'Colours #000 and #0072B2, an entity &#39; and [an anchor](#synthetic) are fine.',
    ].join('\n');
    const problems = checkText(doc, 'docs/synthetic.md', 'markdown');
    const at = (line: number) => problems.filter((p) => p.line === line).map((p) => p.message);
    expect(at(3)).toEqual([]);
    expect(at(4)).toEqual(['cites src/ode/nope.ts, which does not exist']);
    expect(at(5)).toEqual(['links to claim.md, which does not resolve (docs/claim.md)']);
    expect(at(6)).toEqual([
      'cites notes/design.md: the design notes are docs/design.md',
      'cites paper.md, a document outside the repository',
    ]);
    expect(at(7)).toEqual([
      'cites an issue number (issue 7); say what it means instead',
      'cites an issue number (#12); say what it means instead',
    ]);
    expect(at(9)).toEqual(['cites src/ode/gone.ts, which does not exist']);
    expect(problems).toHaveLength(7);
  });

  it('reads only the comments of code, and finds bad citations there (negative controls)', () => {
    const code = [
      "import { x } from '../ode/missing.js'; // see src/ode/dopri5.ts",
      "const url = 'http://example.org/src/nope.ts'; const re = /\\/\\/ src\\/nope.ts/g;",
      'const t = `a ${f(`b // src/nope.ts`)} c`; // fixed in issue #12',
      '/* Level G: src/gram/nothing.ts and ./generated/gramField.ts,',
      ' * the notes in design.md and paper.md (#4) */',
      'const color = "#000"; // #0072B2 is a colour',
      'const ratio = a / b; // / not a regex: src/gram/flow.ts exists',
    ].join('\n');
    const problems = checkText(code, 'src/gram/synthetic.ts', 'code');
    expect(format(problems)).toBe(
      [
        'src/gram/synthetic.ts:3: cites an issue number (issue #12); say what it means instead',
        'src/gram/synthetic.ts:4: cites src/gram/nothing.ts, which does not exist',
        'src/gram/synthetic.ts:5: cites design.md: the design notes are docs/design.md',
        'src/gram/synthetic.ts:5: cites paper.md, a document outside the repository',
        'src/gram/synthetic.ts:5: cites an issue number (#4); say what it means instead',
      ].join('\n'),
    );
    // Strings, templates and regular expressions are not comments; division is not a regex.
    expect(commentsOf(code).map((c) => c.text.trim())).toEqual([
      'see src/ode/dopri5.ts',
      'fixed in issue #12',
      'Level G: src/gram/nothing.ts and ./generated/gramField.ts,\n * the notes in design.md and paper.md (#4)',
      '#0072B2 is a colour',
      '/ not a regex: src/gram/flow.ts exists',
    ]);
  });

  it('a relative citation resolves from the citing file', () => {
    expect(checkText('// ./generated/gramField.ts', 'src/gram/flow.ts', 'code')).toEqual([]);
    expect(checkText('// ./generated/nothing.ts', 'src/gram/flow.ts', 'code').map((p) => p.message)).toEqual([
      'cites ./generated/nothing.ts (src/gram/generated/nothing.ts), which does not exist',
    ]);
    expect(checkText('[x](../derivations/model.md) [y](../derivations/) [z](/docs/levels.md)', 'docs/x.md', 'markdown')).toEqual([]);
  });
});

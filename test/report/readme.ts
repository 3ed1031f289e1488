/** Reading README.md's sections and fenced blocks, for the tests that hold README to the product. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The text of README's section `## title`, up to the next `## `. */
export function readmeSection(title: string): string {
  const readme = readFileSync(join(process.cwd(), 'README.md'), 'utf8');
  const start = readme.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`README has no section "## ${title}"`);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** The non-empty lines of the fenced blocks of `lang` in `text`. */
export function fencedLines(text: string, lang: string): string[] {
  return [...text.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].flatMap((m) => m[1].split('\n').filter((l) => l.trim() !== ''));
}

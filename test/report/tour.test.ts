/**
 * README's five-minute tour, run as written: every `npx coflow ...` line of its shell blocks, in
 * order, in an empty directory, through the built CLI. The tour's `npm start` output and its
 * figure are checked against a real `npm start` in test/report/browser.test.ts.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { coflow, tmp } from '../cli/helpers.js';
import { fencedLines, readmeSection } from './readme.js';

describe("README's five-minute tour", () => {
  const tour = readmeSection('A five-minute tour');
  const commands = fencedLines(tour, 'sh');

  test('every command of the tour is an npx coflow command', () => {
    expect(commands.length).toBeGreaterThanOrEqual(5);
    for (const c of commands) expect(c).toMatch(/^npx coflow /);
  });

  test('runs as written, in order, and ends at the report it names', () => {
    const cwd = tmp('coflow-tour-');
    for (const c of commands) {
      // No shell quoting in the tour: its words split on spaces.
      const r = coflow(c.replace(/^npx coflow /, '').split(/\s+/), cwd);
      expect(r.code, `${c}\n${r.stderr}`).toBe(0);
    }
    const last = commands[commands.length - 1];
    const out = /--out (\S+\.html)/.exec(last);
    expect(out, last).not.toBeNull();
    expect(existsSync(join(cwd, out![1]))).toBe(true);
    expect(tour).toContain(`\`${out![1]}\``);
  });
});

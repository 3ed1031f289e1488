import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkRun } from '../../src/claims/claims.js';
import { claimsJson, claimsMarkdown, claimsText, writeClaimsReports } from '../../src/claims/report.js';
import { parseTrajectoryCsv, readRunDir } from '../../src/claims/runDir.js';
import { UsageError } from '../../src/errors.js';
import { synthRun } from './synth.js';

function expectUsage(f: () => unknown, message: RegExp): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(UsageError);
  expect((err as Error).message).toMatch(message);
  expect((err as Error).message).not.toMatch(/\n/);
}

describe('readRunDir', () => {
  it('reads what synthRun wrote, number for number', () => {
    const s = synthRun();
    const r = readRunDir(s.dir);
    expect(r.rows).toBe(151);
    expect(r.settings).toMatchObject({ n: 36, L: 6, d: 136, m: 64, m1: 32, method: 'dopri5', testN: 0 });
    for (const name of ['t', 'loss', 'G3', 'dG3', 'R45']) expect(Array.from(r.columns.get(name)!)).toEqual(s.columns.get(name)!.map((x) => x + 0)); // -0 is written as 0
    expect(r.summary.events.find((e) => e.name === 'all-correct')).toBeDefined();
    expect(r.summary.allCorrectRow?.get('G1')).toBeCloseTo(1 / 3, 12);
    expect(r.data.n).toBe(36);
  });

  it('parses nan, inf, -inf and shortest round-trip decimals exactly', () => {
    const p = parseTrajectoryCsv('t,a,b\n0,nan,0.1\n1e-7,inf,-inf\n2,-1.5e+300,5e-324\n', 'x.csv');
    expect(p.rows).toBe(3);
    expect(Array.from(p.columns.get('a')!)).toEqual([NaN, Infinity, -1.5e300]);
    expect(Array.from(p.columns.get('b')!)).toEqual([0.1, -Infinity, 5e-324]);
  });

  it('every malformed input is one UsageError naming the file and the fix', () => {
    const root = mkdtempSync(join(tmpdir(), 'coflow-claims-bad-'));
    expectUsage(() => readRunDir(join(root, 'nope')), /nope: no such directory; give the --out directory/);
    writeFileSync(join(root, 'file'), 'x');
    expectUsage(() => readRunDir(join(root, 'file')), /not a directory/);

    const cases: [string, (dir: string) => void, RegExp][] = [
      ['no config', (d) => rmSync(join(d, 'config.json')), /config\.json is missing .*rerun coflow run/],
      ['corrupt config', (d) => writeFileSync(join(d, 'config.json'), '{"settings": {'), /config\.json is not valid JSON/],
      ['config without m', (d) => edit(d, 'config.json', (j) => delete j.settings.m), /config\.json: settings\.m is missing/],
      ['config with a string L', (d) => edit(d, 'config.json', (j) => (j.settings.L = '6')), /settings\.L is not a finite number/],
      ['no trajectory', (d) => rmSync(join(d, 'trajectory.csv')), /trajectory\.csv is missing/],
      ['empty trajectory', (d) => writeFileSync(join(d, 'trajectory.csv'), ''), /trajectory\.csv is empty/],
      ['header only', (d) => writeFileSync(join(d, 'trajectory.csv'), 't,loss\n'), /has a header but no rows/],
      ['no t column', (d) => writeFileSync(join(d, 'trajectory.csv'), 'loss\n1\n'), /no 't' column/],
      ['short row', (d) => writeFileSync(join(d, 'trajectory.csv'), 't,loss\n0,1\n1\n'), /line 3 has 1 fields, the header 2; the file is truncated or corrupt/],
      ['bad number', (d) => writeFileSync(join(d, 'trajectory.csv'), 't,loss\n0,abc\n'), /line 2, column 'loss' is 'abc', not a number/],
      ['start not at 0', (d) => writeFileSync(join(d, 'trajectory.csv'), 't,loss\n1,1\n'), /starts at t = 0/],
      ['time going back', (d) => writeFileSync(join(d, 'trajectory.csv'), 't,loss\n0,1\n2,1\n1,1\n'), /line 4 has t = 1 after t = 2/],
      ['no summary', (d) => rmSync(join(d, 'summary.json')), /summary\.json is missing/],
      ['corrupt summary', (d) => writeFileSync(join(d, 'summary.json'), 'not json'), /summary\.json is not valid JSON/],
      ['summary without events', (d) => edit(d, 'summary.json', (j) => delete j.events), /'events' is missing or not an array/],
      ['bad event', (d) => edit(d, 'summary.json', (j) => (j.events = [{ name: 'all-correct' }])), /events\[0\] is not \{name, t\}/],
      ['bad allCorrectRow', (d) => edit(d, 'summary.json', (j) => (j.allCorrectRow = { G1: 'x' })), /allCorrectRow\.G1 is "x", not a number/],
      ['no data', (d) => rmSync(join(d, 'data.npz')), /data\.npz is missing/],
    ];
    for (const [what, breakIt, message] of cases) {
      const s = synthRun();
      breakIt(s.dir);
      expectUsage(() => readRunDir(s.dir), message);
      void what;
    }
  });
});

function edit(dir: string, file: string, f: (j: any) => void): void {
  const j = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  f(j);
  writeFileSync(join(dir, file), JSON.stringify(j));
}

describe('reports', () => {
  it('claims.json and claims.md: complete, deterministic, written atomically', () => {
    const s = synthRun({ override: { balance44: () => 0.8 } });
    const r = checkRun(s.dir);
    const again = checkRun(s.dir);
    expect(claimsJson(again)).toBe(claimsJson(r));
    expect(claimsMarkdown(again)).toBe(claimsMarkdown(r));
    writeClaimsReports(s.dir, r);
    const json = readFileSync(join(s.dir, 'claims.json'), 'utf8');
    expect(json).toBe(claimsJson(r));
    expect(json.endsWith('}\n')).toBe(true);
    const parsed = JSON.parse(json);
    expect(Object.keys(parsed)).toEqual(['hypotheses', 'claims']);
    expect(parsed.hypotheses).toHaveLength(7);
    expect(parsed.claims).toHaveLength(16);
    for (const c of parsed.claims) {
      for (const key of ['id', 'statement', 'needs', 'measured', 'threshold', 'verdict', 'holds', 'reason']) expect(c, `${c.id}.${key}`).toHaveProperty(key);
    }
    const md = readFileSync(join(s.dir, 'claims.md'), 'utf8');
    expect(md).toMatch(/\| lemma4\.4 \| FAIL \| no \|/);
    expect(md).toMatch(/\| thm3\.1 \| PASS \| yes \|/);
    expect(md).toMatch(/\| small-F0 \| yes \|/);
    // the Markdown table has the same number of cells in every claim row (pipes inside cells are escaped)
    const rows = md.split('\n').filter((l) => /^\| (thm|lemma|one|defF|attention|conservation)/.test(l));
    expect(rows).toHaveLength(16);
    for (const l of rows) expect(l.split(/(?<!\\)\|/).length).toBe(9);
    const text = claimsText(r);
    expect(text).toMatch(/lemma4\.4\s+FAIL\s+no\s+Check max balance44 \(Phase 2\) = 0\.8 is outside \[0, 0\.5\]/);
    expect(text).toMatch(/15 PASS, 1 FAIL, 0 OUTSIDE-HYPOTHESES, 0 NOT-EVALUABLE/);
    expect(readdirSync(s.dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});

/**
 * Golden outputs: the numbers of four reference runs must not change (for the refactor to one
 * solver driver and one level contract: "no change in numbers").
 *
 * The runs (test/golden/golden.mjs, RUNS), through the built CLI as a user runs them, each with
 * --no-plots --quiet:
 * - paper-fig1:  `coflow run --preset paper-fig1`, full model, GD lr 0.01 x 30,000 steps,
 *                start --init gaussian (the preset's default: Kaiming-scaled weights, seed 0);
 * - theory-full: `coflow run --preset theory --level full`, dopri5 to t = 1000,
 *                start --init gaussian (the preset's default: theory-scaled weights, seed 0);
 * - theory-gram: `coflow run --preset theory --level gram`, start --init gaussian (the preset's
 *                default: the Gram lift of the same weights as theory-full);
 * - theory-type: `coflow run --preset theory --level type --init mean`: the mean state, the only
 *                start Level T has. The preset's default --init gaussian is refused at this level
 *                ("--init gaussian is not available at --level type; use --init mean"), so the
 *                command names it.
 * Each run's trajectory.csv is hashed column by column (a new column is only noted; a changed or
 * missing one fails) and its final.npz as a whole file (coflow writes it with fixed zip
 * timestamps, so equal arrays give equal bytes). Hashes: test/golden/hashes.json, written by
 * `node test/golden/update.mjs`.
 *
 * Why the hashes are machine-independent: every number is float64 arithmetic in JavaScript and in
 * WebAssembly (fixed-width SIMD f64x2 lanes included, no relaxed-SIMD, no FMA), which IEEE-754
 * makes deterministic given the operation order, and coflow fixes that order (no thread pool in a
 * run, seeded PRNG, no dependence on the core count). Numbers are printed with String(x), the
 * shortest round-trip decimal, which ECMAScript specifies exactly. The one non-IEEE part is the
 * transcendental functions (Math.exp, Math.log, Math.log1p, Math.pow, ...): V8 computes them with
 * its own port of fdlibm (ieee754.cc), not the platform's libm, so they agree across OS and CPU
 * but are pinned to what the Node major ships: the hashes were made with Node 20 (GOLDEN_NODE_MAJOR).
 * If a different Node major changes those results, the test fails and says that the Node major
 * differs, which is then the first suspect.
 */
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, tmp } from '../cli/helpers.js';
import {
  compareHashes,
  GOLDEN_NODE_MAJOR,
  HASHES_FILE,
  hashRunDir,
  parseCsvColumns,
  REGENERATE,
  runAll,
  RUNS,
  type Hashes,
} from './golden.mjs';

const stored = JSON.parse(readFileSync(HASHES_FILE, 'utf8')) as Record<string, Hashes & { command: string[] }>;
const nodeMajor = Number(process.versions.node.split('.')[0]);
const nodeNote =
  nodeMajor === GOLDEN_NODE_MAJOR
    ? ''
    : `\n(note: the golden hashes were made with Node ${GOLDEN_NODE_MAJOR}, this is Node ${process.versions.node}; V8's Math.exp/log may differ between majors, so a libm change is the first suspect)`;

let done: Awaited<ReturnType<typeof runAll>>;
const made: string[] = [];
const scratch = (prefix: string): string => {
  const dir = tmp(prefix);
  made.push(dir);
  return dir;
};

beforeAll(async () => {
  done = await runAll(scratch('coflow-golden-'), { cli: CLI });
}, 60_000);
afterAll(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('golden outputs (hashes.json)', () => {
  it('hashes.json holds exactly the runs of golden.mjs, with the same commands', () => {
    expect(Object.keys(stored), `golden runs differ from RUNS in golden.mjs; regenerate with \`node test/golden/update.mjs\``).toEqual(RUNS.map((r) => r.name));
    for (const run of RUNS) {
      expect(stored[run.name].command, `${run.name}: command in hashes.json differs from golden.mjs; regenerate with \`node test/golden/update.mjs\``).toEqual(run.command);
    }
  });

  it.each(RUNS.map((r) => [r.name]))('%s: every golden trajectory column and final.npz is byte-identical', (name) => {
    const actual = hashRunDir(done[name].dir);
    const { failures, added } = compareHashes(name, stored[name], actual);
    if (added.length > 0) console.log(`${name}: new trajectory column(s) without a golden hash (not checked): ${added.join(', ')}`);
    if (failures.length > 0) throw new Error(failures.map((f) => f.message).join('\n') + nodeNote);
  });
});

describe('golden comparison: negative controls', () => {
  const name = 'theory-full';
  const copy = (): string => {
    const dir = join(scratch('coflow-golden-control-'), name);
    cpSync(done[name].dir, dir, { recursive: true });
    return dir;
  };
  const editCsv = (dir: string, edit: (lines: string[][]) => void): void => {
    const path = join(dir, 'trajectory.csv');
    const lines = readFileSync(path, 'utf8').slice(0, -1).split('\n').map((l) => l.split(','));
    edit(lines);
    writeFileSync(path, lines.map((l) => l.join(',')).join('\n') + '\n');
  };
  const compare = (dir: string) => compareHashes(name, stored[name], hashRunDir(dir));

  it('an unmodified copy passes', () => {
    expect(compare(copy())).toEqual({ failures: [], added: [] });
  });

  it('one digit changed in one cell (last digit of the loss at the last row) is reported as that column alone', () => {
    const dir = copy();
    let before = '';
    let after = '';
    editCsv(dir, (lines) => {
      const j = lines[0].indexOf('loss');
      const row = lines[lines.length - 1];
      before = row[j];
      const last = before.at(-1)!;
      expect(last).toMatch(/[0-9]/);
      after = before.slice(0, -1) + String((Number(last) + 1) % 10);
      row[j] = after;
    });
    expect(after).not.toBe(before);
    const { failures, added } = compare(dir);
    expect(failures.map((f) => f.item)).toEqual(['column loss']);
    expect(added).toEqual([]);
    expect(failures[0].message).toContain(`${name}: trajectory.csv column 'loss' changed`);
    expect(failures[0].message).toContain(REGENERATE);
  });

  it('one byte of final.npz flipped is reported as final.npz alone', () => {
    const dir = copy();
    const path = join(dir, 'final.npz');
    const bytes = readFileSync(path);
    bytes[bytes.length >> 1] ^= 0x01;
    writeFileSync(path, bytes);
    const { failures } = compare(dir);
    expect(failures.map((f) => f.item)).toEqual(['final.npz']);
    expect(failures[0].message).toContain(`${name}: final.npz changed`);
    expect(failures[0].message).toContain(REGENERATE);
  });

  it('an added column (even between existing ones) is noted, not a failure', () => {
    const dir = copy();
    editCsv(dir, (lines) => lines.forEach((l, i) => l.splice(1, 0, i === 0 ? 'new_column' : String(i))));
    expect(compare(dir)).toEqual({ failures: [], added: ['new_column'] });
  });

  it('a removed golden column is reported as missing', () => {
    const dir = copy();
    editCsv(dir, (lines) => {
      const j = lines[0].indexOf('minMargin');
      lines.forEach((l) => l.splice(j, 1));
    });
    const { failures } = compare(dir);
    expect(failures.map((f) => f.item)).toEqual(['missing column minMargin']);
    expect(failures[0].message).toContain(REGENERATE);
  });

  it('the CSV reader refuses a row whose field count differs from the header', () => {
    expect(() => parseCsvColumns('t,loss\n0,1\n1,2,3\n')).toThrow(/line 3 has 3 fields, the header has 2/);
    expect(Object.keys(parseCsvColumns(readFileSync(join(done[name].dir, 'trajectory.csv'), 'utf8')))).toEqual(Object.keys(stored[name].columns));
  });
});

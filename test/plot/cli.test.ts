/**
 * `coflow plot` and the figures `coflow run` writes, exercised through the built CLI as a user
 * would (docs/figures.md, `coflow plot --help`, `coflow run --help`).
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { coflow, coflowChild, differingOutputs, sleep, tmp, waitFor } from '../cli/helpers.js';

const FILES = ['G.png', 'G.svg', 'balance.png', 'balance.svg', 'conservation.png', 'conservation.svg', 'figure1a.png', 'figure1a.svg', 'figure1b.png', 'figure1b.svg'];
const SMALL = ['--preset', 'theory', '--level', 'type', '--init', 'mean', '--samples', '40', '--quiet'];
const root = tmp('coflow-plot-cli-');
const withPlots = join(root, 'with');
const noPlots = join(root, 'without');

beforeAll(() => {
  expect(coflow(['run', ...SMALL, '--out', withPlots]).code).toBe(0);
  expect(coflow(['run', ...SMALL, '--no-plots', '--out', noPlots]).code).toBe(0);
}, 120_000);

function expectUsageError(r: ReturnType<typeof coflow>, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
}

describe('coflow run writes the figures', () => {
  it('by default into DIR/figures (10 files)', () => {
    expect(readdirSync(join(withPlots, 'figures')).sort()).toEqual(FILES);
  });

  it('none with --no-plots, and none with {"noPlots": true} in --config; the other outputs are the same bytes', () => {
    expect(existsSync(join(noPlots, 'figures'))).toBe(false);
    const cfg = join(root, 'noplots.json');
    writeFileSync(cfg, JSON.stringify({ noPlots: true }));
    const viaConfig = join(root, 'viaConfig');
    expect(coflow(['run', ...SMALL, '--config', cfg, '--out', viaConfig]).code).toBe(0);
    expect(existsSync(join(viaConfig, 'figures'))).toBe(false);
    // negative control: {"noPlots": false} draws them
    writeFileSync(cfg, JSON.stringify({ noPlots: false }));
    const plotted = join(root, 'viaConfigFalse');
    expect(coflow(['run', ...SMALL, '--config', cfg, '--out', plotted]).code).toBe(0);
    expect(readdirSync(join(plotted, 'figures')).sort()).toEqual(FILES);
    expect(differingOutputs(withPlots, noPlots)).toEqual([]);
  });

  it('an early stop (exit 3) still draws its rows', () => {
    const dir = join(root, 'early');
    const r = coflow(['run', ...SMALL, '--max-steps', '20', '--out', dir]);
    expect(r.code, r.stderr).toBe(3);
    expect(readdirSync(join(dir, 'figures')).sort()).toEqual(FILES);
  });

  it('a directory holding only an earlier run\'s figures is refused without --force and cleared with it', () => {
    const dir = join(root, 'onlyFigures');
    mkdirSync(join(dir, 'figures'), { recursive: true });
    writeFileSync(join(dir, 'figures', 'stale.svg'), '<svg/>');
    expectUsageError(coflow(['run', ...SMALL, '--out', dir]), /holds another run's files \(figures\)/);
    expect(coflow(['run', ...SMALL, '--force', '--out', dir]).code).toBe(0);
    expect(readdirSync(join(dir, 'figures')).sort()).toEqual(FILES); // stale.svg removed
  });

  it('a run stopped by SIGTERM writes no figures; its --resume writes them at the end', async () => {
    const dir = join(root, 'killed');
    const args = ['run', '--preset', 'paper-fig1', '--method', 'gd', '--steps', '20000', '--quiet', '--checkpoint-every', '0.05', '--out', dir];
    const { child, done } = coflowChild(args);
    await waitFor(join(dir, 'config.json'));
    await sleep(300);
    child.kill('SIGTERM');
    expect((await done).code).toBe(143);
    expect(existsSync(join(dir, 'trajectory.csv'))).toBe(true);
    expect(existsSync(join(dir, 'figures'))).toBe(false);
    const r = coflow(['run', '--resume', dir, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(join(dir, 'figures')).sort()).toEqual(FILES);
  });
});

describe('coflow plot RUN_DIR [--out DIR]', () => {
  it('writes the 10 files into RUN_DIR/figures by default, and into --out', () => {
    const r = coflow(['plot', noPlots]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^wrote 10 files .* to .*figures\n$/);
    expect(readdirSync(join(noPlots, 'figures')).sort()).toEqual(FILES);
    const out = join(root, 'elsewhere', 'deep');
    expect(coflow(['plot', withPlots, '--out', out]).code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(FILES);
  });

  it('bad RUN_DIR: one line, exit 2, nothing written', () => {
    expectUsageError(coflow(['plot', join(root, 'missing')]), /^coflow: plot .*missing: no such directory/);
    const empty = join(root, 'empty');
    mkdirSync(empty);
    expectUsageError(coflow(['plot', empty]), /config\.json is missing/);
    expect(readdirSync(empty)).toEqual([]);
    // a run directory without trajectory.csv
    const partial = join(root, 'partial');
    mkdirSync(partial);
    for (const f of ['config.json', 'summary.json']) copyFileSync(join(withPlots, f), join(partial, f));
    expectUsageError(coflow(['plot', partial]), /trajectory\.csv is missing/);
    expect(readdirSync(partial).sort()).toEqual(['config.json', 'summary.json']);
    // a file, not a directory
    expectUsageError(coflow(['plot', join(withPlots, 'config.json')]), /not a directory/);
    // negative control: the complete directory plots
    copyFileSync(join(withPlots, 'trajectory.csv'), join(partial, 'trajectory.csv'));
    expect(coflow(['plot', partial]).code).toBe(0);
  });

  it('a corrupt trajectory.csv is one line, exit 2', () => {
    const dir = join(root, 'corrupt');
    mkdirSync(dir);
    for (const f of ['config.json', 'summary.json']) copyFileSync(join(withPlots, f), join(dir, f));
    writeFileSync(join(dir, 'trajectory.csv'), 't,loss\n0,1\n0.5,abc\n');
    expectUsageError(coflow(['plot', dir]), /trajectory\.csv: line 3, column 'loss' is 'abc'/);
    expect(existsSync(join(dir, 'figures'))).toBe(false);
  });
});

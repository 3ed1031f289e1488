import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readGradNpz, readDatasetNpz, readParamsNpz } from '../../src/io/files.js';
import { allocGrad, LossGrad } from '../../src/model/gradient.js';
import { CLI, coflow, tmp } from './helpers.js';

describe('coflow CLI', () => {
  it('--help lists every command', () => {
    const r = coflow(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['data', 'init', 'grad', 'run', 'derive', 'check', 'presets']) expect(r.stdout).toMatch(new RegExp(`\\n  ${c} `));
  });

  it('bad input: one line naming the problem, exit code 2, no stack trace, nothing written', () => {
    const dir = tmp('coflow-cli-');
    const cases: [string[], RegExp][] = [
      [['run', '--no-plots', '--m', 'abc', '--out', join(dir, 'a')], /--m must be an integer/],
      [['run', '--no-plots', '--preset', 'nope', '--out', join(dir, 'b')], /unknown preset 'nope'/],
      [['run', '--no-plots', '--level', 'gram', '--init', 'orthogonal', '--m', '8', '--out', join(dir, 'c')], /orthogonal|m >= 2k/],
      [['data', '--n', '7', '--out', join(dir, 'd.npz')], /n must be a multiple of 6/],
      [['grad', '--params', join(dir, 'missing.npz'), '--data', join(dir, 'missing.npz'), '--out', join(dir, 'g.npz')], /missing\.npz/],
      [['run', '--no-plots', '--fillers', 'distinct', '--out', join(dir, 'e')], /fillers=distinct needs d >= 163/],
      [['run', '--no-plots', '--method', 'rk4', '--out', join(dir, 'f')], /--method must be one of/],
      [['run', '--no-plots', '--preset', 'theory', '--level', 'gram', '--m', '10000000', '--out', join(dir, 'g')], /weights, above the \d+ \(2\^31 - 1\) entries coflow allows in one array; use --level gram --init wishart/],
      [['run', '--no-plots', '--samples', '1', '--out', join(dir, 'h')], /--samples must be an integer >= 2/],
      [['run', '--no-plots', '--mm', '3', '--out', join(dir, 'j')], /unknown option '--mm'/],
      [['run', '--no-plots', '--preset', 'paper-fig1', '--level', 'type', '--init', 'mean', '--out', join(dir, 'i')], /not theory-conforming/],
    ];
    for (const [args, message] of cases) {
      const r = coflow(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    for (const name of ['a', 'b', 'c', 'd.npz', 'g.npz', 'e', 'f', 'g', 'h', 'i', 'j']) expect(existsSync(join(dir, name)), name).toBe(false);
  });

  it('data -> init -> grad --check: the written gradient equals an in-process computation from the same files', () => {
    const dir = tmp('coflow-cli-');
    const D = join(dir, 'D.npz');
    const P = join(dir, 'P.npz');
    const G = join(dir, 'G.npz');
    expect(coflow(['data', '--preset', 'paper-fig1', '--seed', '3', '--out', D]).code).toBe(0);
    expect(coflow(['init', '--preset', 'paper-fig1', '--seed', '3', '--out', P]).code).toBe(0);
    const r = coflow(['grad', '--params', P, '--data', D, '--out', G, '--check']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/autodiff check: max relative gradient difference .* ok/);
    const p = readParamsNpz(P);
    const data = readDatasetNpz(D);
    const lg = new LossGrad(data, p.m, p.m1);
    const g = allocGrad(p);
    const loss = lg.lossAndGrad(p, g);
    const file = readGradNpz(G);
    expect(file.loss).toBe(loss);
    expect(Array.from(file.grad.dWQ)).toEqual(Array.from(g.dWQ));
    expect(Array.from(file.grad.dW)).toEqual(Array.from(g.dW));
    expect(Array.from(file.F)).toEqual(Array.from(lg.F));
  });

  it('grad with files that do not belong together fails cleanly and writes nothing', () => {
    const dir = tmp('coflow-cli-');
    const D = join(dir, 'D.npz');
    const P = join(dir, 'P.npz');
    coflow(['data', '--preset', 'paper-fig1', '--out', D]);
    coflow(['init', '--preset', 'paper-fig1', '--d', '32', '--out', P]);
    const r = coflow(['grad', '--params', P, '--data', D, '--out', join(dir, 'G.npz')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/d=/);
    expect(existsSync(join(dir, 'G.npz'))).toBe(false);
  });

  it('the same config and seed give byte-identical outputs', () => {
    const args = ['run', '--no-plots', '--preset', 'paper-fig1', '--m', '8', '--m1', '8', '--method', 'gd', '--steps', '300', '--samples', '30', '--quiet'];
    const a = tmp('coflow-cli-');
    const b = tmp('coflow-cli-');
    expect(coflow([...args, '--out', a]).code).toBe(0);
    expect(coflow([...args, '--out', b]).code).toBe(0);
    for (const f of ['config.json', 'trajectory.csv', 'final.npz', 'summary.json', 'data.npz']) {
      expect(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), f).toBe(true);
    }
  });

  it('a killed run resumes from its checkpoint to the same bytes as an uninterrupted run', async () => {
    const args = ['run', '--no-plots', '--preset', 'paper-fig1', '--m', '16', '--m1', '16', '--method', 'gd', '--steps', '40000', '--samples', '60', '--quiet'];
    const whole = tmp('coflow-cli-');
    expect(coflow([...args, '--out', whole]).code).toBe(0);
    const killed = tmp('coflow-cli-');
    const child = spawn(process.execPath, [CLI, ...args, '--out', killed, '--checkpoint-every', '0.05'], { stdio: 'ignore' });
    // Kill it as soon as a checkpoint exists (the run takes several times longer than that).
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (existsSync(join(killed, 'checkpoint.json'))) {
          clearInterval(timer);
          child.kill('SIGKILL');
        }
      }, 5);
      // Resume only once the killed process is gone (as after kill -9 in a shell): until it is
      // reaped its pid still exists, and its run.lock is rightly taken as held.
      child.on('exit', (_code, signal) => {
        clearInterval(timer);
        if (signal === 'SIGKILL') resolve();
        else reject(new Error('the run ended before a checkpoint appeared; make it longer'));
      });
    });
    expect(existsSync(join(killed, 'summary.json'))).toBe(false);
    const r = coflow(['run', '--resume', killed, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    for (const f of ['trajectory.csv', 'final.npz', 'summary.json']) {
      expect(readFileSync(join(killed, f)).equals(readFileSync(join(whole, f))), f).toBe(true);
    }
    expect(existsSync(join(killed, 'checkpoint.json'))).toBe(false);
  });

  it('coflow derive reproduces the committed derivations byte for byte', () => {
    const dir = tmp('coflow-cli-');
    const r = coflow(['derive', '--out', dir]);
    expect(r.code, r.stderr).toBe(0);
    const committed = readdirSync(join(process.cwd(), 'derivations')).sort();
    expect(readdirSync(dir).sort()).toEqual(committed);
    for (const f of committed) {
      expect(readFileSync(join(dir, f)).equals(readFileSync(join(process.cwd(), 'derivations', f))), f).toBe(true);
    }
  });

  it('runs every level from the command line and writes the same columns', () => {
    const headers: string[] = [];
    for (const [level, init] of [['full', 'gaussian'], ['gram', 'wishart'], ['type', 'mean']]) {
      const dir = tmp('coflow-cli-');
      const r = coflow(['run', '--no-plots', '--preset', 'theory', '--level', level, '--init', init, '--t-end', '10', '--samples', '12', '--quiet', '--out', dir]);
      expect(r.code, r.stderr).toBe(0);
      const csv = readFileSync(join(dir, 'trajectory.csv'), 'utf8').split('\n');
      headers.push(csv[0]);
      expect(csv.filter((l) => l.length > 0).length).toBe(13);
    }
    expect(new Set(headers).size).toBe(1);
  });

  it('a run that stops early exits with code 3, keeps its rows and says why in summary.json (as README and --help state)', () => {
    const dir = join(tmp('coflow-cli-'), 'early');
    const r = coflow(['run', '--no-plots', '--preset', 'theory', '--level', 'type', '--init', 'mean', '--max-steps', '5', '--quiet', '--out', dir]);
    expect(r.code, r.stderr).toBe(3);
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    expect(summary.status).toBe('max-steps');
    const rows = readFileSync(join(dir, 'trajectory.csv'), 'utf8').trim().split('\n');
    expect(rows.length).toBeGreaterThan(1);
    // control: the same run with its step budget finishes and exits 0
    const ok = coflow(['run', '--no-plots', '--preset', 'theory', '--level', 'type', '--init', 'mean', '--quiet', '--out', join(dir, '..', 'ok')]);
    expect(ok.code, ok.stderr).toBe(0);
  });
});

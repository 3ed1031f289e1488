/**
 * Benchmarks at the sizes of the theory-strict preset's width sweeps (docs/performance.md):
 * Level G at n = 240, L = 6, d = 1500 (k = 883 tokens, distinct fillers) from a Wishart start at
 * m = 1e5, and a sweep's throughput with one and with two worker threads.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveSettings } from '../src/config/resolve.js';
import { generateDataset } from '../src/data/generate.js';
import { GramModel } from '../src/gram/flow.js';
import { Dopri5 } from '../src/ode/dopri5.js';
import { sampleGramState } from '../src/gram/wishart.js';
import { buildModule, F64, FunctionSpec, I32, op, V128 } from '../src/wasm/emit.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
const CLI = join(ROOT, 'dist/src/cli/main.js');

function line(label: string, value: string): void {
  process.stdout.write(`  ${label.padEnd(44)} ${value}\n`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** The settings of the large Level G case (flags of `coflow run`). */
export const LARGE_GRAM_FLAGS = ['--preset', 'theory-strict', '--d', '1500', '--level', 'gram', '--init', 'wishart', '--m', '100000'];

/**
 * This machine's multiply-add rate for the kernels' pattern at its best: one core, f64x2, four
 * independent accumulators, acc += x * c over a 4 KiB buffer that stays in L1 (so no memory
 * traffic limits it). The floor estimate divides the arithmetic of an evaluation by it.
 */
function peakMaddRate(): number {
  const [pPtr, pBytes, pReps, pC] = [0, 1, 2, 3];
  const [lRep, lI, lC, a0, a1, a2, a3] = [4, 5, 6, 7, 8, 9, 10];
  const acc = [a0, a1, a2, a3];
  const body: number[] = [...op.localGet(pC), ...op.f64x2Splat, ...op.localSet(lC)];
  body.push(...op.block, ...op.loop, ...op.localGet(lRep), ...op.localGet(pReps), ...op.i32GeU, ...op.brIf(1));
  body.push(...op.i32Const(0), ...op.localSet(lI), ...op.block, ...op.loop);
  body.push(...op.localGet(lI), ...op.localGet(pBytes), ...op.i32GeU, ...op.brIf(1));
  acc.forEach((a, q) => {
    body.push(...op.localGet(a), ...op.localGet(pPtr), ...op.localGet(lI), ...op.i32Add, ...op.v128Load(16 * q));
    body.push(...op.localGet(lC), ...op.f64x2Mul, ...op.f64x2Add, ...op.localSet(a));
  });
  body.push(...op.localGet(lI), ...op.i32Const(64), ...op.i32Add, ...op.localSet(lI), ...op.br(0), ...op.end, ...op.end);
  body.push(...op.localGet(lRep), ...op.i32Const(1), ...op.i32Add, ...op.localSet(lRep), ...op.br(0), ...op.end, ...op.end);
  // keep the sums (so the loop is not dead code)
  acc.forEach((a, q) => body.push(...op.localGet(pPtr), ...op.localGet(a), ...op.v128Store(16 * q)));
  const fn: FunctionSpec = { name: 'peak', params: [I32, I32, I32, F64], results: [], locals: [I32, I32, V128, V128, V128, V128, V128], body };
  const memory = new WebAssembly.Memory({ initial: 1 });
  const peak = (new WebAssembly.Instance(new WebAssembly.Module(buildModule([fn])), { env: { memory } }).exports as Record<string, (...a: number[]) => void>).peak;
  new Float64Array(memory.buffer, 0, 512).fill(1e-3);
  const bytes = 4096;
  const reps = 20000;
  const rates: number[] = [];
  for (let b = 0; b < 5; b++) {
    const t0 = performance.now();
    peak(0, bytes, reps, 0.999);
    rates.push(((bytes / 8) * reps) / ((performance.now() - t0) / 1000));
  }
  return median(rates);
}

/** Bytes per second of a large copy (TypedArray.set of 24 MiB: read + write), the memory bandwidth the floor uses. */
function copyBandwidth(): number {
  const src = new Float64Array(3 << 20).fill(1);
  const dst = new Float64Array(src.length);
  const rates: number[] = [];
  for (let b = 0; b < 7; b++) {
    const t0 = performance.now();
    dst.set(src);
    rates.push((2 * src.byteLength) / ((performance.now() - t0) / 1000));
  }
  return median(rates);
}

function benchGramLarge(): void {
  process.stdout.write('Level G at n = 240, L = 6, d = 1500 (theory-strict, distinct fillers), Wishart start, m = 1e5\n');
  const s = resolveSettings('theory-strict', { d: 1500, level: 'gram', init: 'wishart', m: 100000 });
  const data = generateDataset({ n: s.n, L: s.L, d: s.d, seed: s.seed, fillers: s.fillers });
  // As a Dormand-Prince run builds it: the solver's vectors in the kernels' memory (in place).
  const dyn = new GramModel(data, s.m, s.m1, { solverVectors: Dopri5.VECTORS });
  const { k } = dyn;
  const nnz = dyn.gamNonzeros;
  const t0 = performance.now();
  const y0 = sampleGramState({ data, m: s.m, m1: s.m1, s0: s.s0, s1: s.s1, seed: s.seed });
  const wishartMs = performance.now() - t0;
  const timeField = (y: Float64Array, dy: Float64Array): number => {
    dyn.field(0, y, dy);
    const evals: number[] = [];
    for (let b = 0; b < 7; b++) {
      const e0 = performance.now();
      for (let i = 0; i < 3; i++) dyn.field(0, y, dy);
      evals.push((performance.now() - e0) / 3);
    }
    return median(evals);
  };
  const hosted = dyn.stageMemory(Dopri5.VECTORS)!;
  const [yIn, dyIn] = [hosted.take(), hosted.take()];
  yIn.set(y0);
  const perEval = timeField(yIn, dyIn);
  const dy = new Float64Array(dyn.size);
  const perEvalCopies = timeField(y0, dy);
  const yNext = new Float64Array(dyn.size);
  dyn.gdStep(1e-3, y0, yNext);
  const steps: number[] = [];
  for (let b = 0; b < 3; b++) {
    const e0 = performance.now();
    dyn.gdStep(1e-3, y0, yNext);
    steps.push(performance.now() - e0);
  }
  // The flow's arithmetic: four products with Gam (B Gam, Gam A, Gam^T S, Gam S^T: nnz k
  // multiply-adds each) and about 3 k^2 for C gu, gu u^T and the symmetrisations.
  const madds = 4 * nnz * k + 3 * k * k;
  const rate = peakMaddRate();
  const computeMs = (madds / rate) * 1000;
  // and at least one pass over the blocks it reads (S, A, B, C) and writes (dS, dA, dB, dC)
  const bytes = 8 * k * k * 8;
  const bandwidth = copyBandwidth();
  const memoryMs = (bytes / bandwidth) * 1000;
  const floorMs = Math.max(computeMs, memoryMs);
  line(`size`, `k = ${k} tokens, nnz(Gam) = ${nnz}, state ${dyn.size} values (${((dyn.size * 8) / 2 ** 20).toFixed(0)} MiB)`);
  line('Wishart draw (sampleGramState)', `${wishartMs.toFixed(0)} ms`);
  line('field evaluation (median of 7 x 3)', `${perEval.toFixed(1)} ms in place, as a run evaluates it (acceptance <= 25 ms)`);
  line('', `${perEvalCopies.toFixed(1)} ms from and into arrays of their own (state copied in, blocks copied out)`);
  line('floor estimate', `${floorMs.toFixed(1)} ms: the larger of ${computeMs.toFixed(1)} ms arithmetic (${(madds / 1e6).toFixed(1)} M multiply-adds at ${(rate / 1e9).toFixed(2)} G/s, f64x2 in L1)`);
  line('', `and ${memoryMs.toFixed(1)} ms memory (8 k^2 doubles = ${(bytes / 2 ** 20).toFixed(0)} MiB read or written once at ${(bandwidth / 1e9).toFixed(1)} GB/s)`);
  line('exact GD step (median of 3)', `${median(steps).toFixed(1)} ms`);

  // The whole command, as a user runs it: start-up and peak memory from its timing.json.
  const dir = mkdtempSync(join(tmpdir(), 'coflow-bench-large-'));
  try {
    const out = join(dir, 'run');
    const started = performance.now();
    const r = spawnSync(process.execPath, [CLI, 'run', ...LARGE_GRAM_FLAGS, '--t-end', '1e-5', '--samples', '2', '--no-plots', '--quiet', '--out', out], { encoding: 'utf8' });
    const elapsed = (performance.now() - started) / 1000;
    if (r.status !== 0) {
      line('coflow run (start-up, peak RSS)', `FAILED: ${r.stderr.trim().split('\n').pop()}`);
      return;
    }
    const timing = JSON.parse(readFileSync(join(out, 'timing.json'), 'utf8')) as { startupSeconds: number; wallSeconds: number; peakRssBytes: number };
    line('coflow run: launch to first step', `${timing.startupSeconds.toFixed(2)} s  (acceptance <= 2.5 s; timing.json startupSeconds)`);
    line('coflow run: integration to t = 1e-5', `${timing.wallSeconds.toFixed(2)} s; whole process ${elapsed.toFixed(2)} s`);
    line('coflow run: peak RSS', `${(timing.peakRssBytes / 2 ** 20).toFixed(0)} MiB (timing.json peakRssBytes)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A sweep's throughput with --workers 1 and --workers 2, whole command (start-up, validation and
 * the results table included), on four sweeps: the width sweep of docs/sweeps.md (84 runs of
 * about 0.1 s at k = 91), bench/sweeps/strict-short.json and strict-long.json (8 Level G runs
 * each at k = 883, the theory-strict size, of about 1 s and about 5 s: the second is the kind
 * of sweep a width study at that size runs, where the integration dominates) and
 * bench/sweeps/gd-seeds.json (8 compute-bound GD runs of about 2.4 s). docs/performance.md
 * explains why they scale differently.
 */
function benchSweep(): void {
  const dir = mkdtempSync(join(tmpdir(), 'coflow-bench-sweep-'));
  try {
    for (const [index, [label, spec]] of ([
      ['examples/sweeps/width-theory.json (70 points + 14 references, Level G, k = 91)', 'examples/sweeps/width-theory.json'],
      ['bench/sweeps/strict-short.json (8 points, Level G, k = 883, runs of about 1 s)', 'bench/sweeps/strict-short.json'],
      ['bench/sweeps/strict-long.json (8 points, Level G, k = 883, runs of about 5 s)', 'bench/sweeps/strict-long.json'],
      ['bench/sweeps/gd-seeds.json (8 paper-fig1 GD runs of 10,000 steps)', 'bench/sweeps/gd-seeds.json'],
    ] as const).entries()) {
      process.stdout.write(`Sweep throughput: ${label}, --no-plots\n`);
      const perMinute: number[] = [];
      for (const workers of [1, 2]) {
        const out = join(dir, `sweep${index}-w${workers}`);
        const started = performance.now();
        const r = spawnSync(process.execPath, [CLI, 'sweep', '--spec', join(ROOT, spec), '--workers', String(workers), '--out', out, '--quiet', '--no-plots'], { encoding: 'utf8' });
        const seconds = (performance.now() - started) / 1000;
        if (r.status !== 0) {
          line(`--workers ${workers}`, `FAILED: ${r.stderr.trim().split('\n').pop()}`);
          return;
        }
        const rows = readFileSync(join(out, 'timing.csv'), 'utf8').trim().split('\n').slice(1);
        const runs = rows.length;
        // the columns' sum of each run's own integration time (run_wall_seconds), for the split
        const integration = rows.reduce((acc, row) => acc + Number(row.split(',').at(-2)), 0);
        perMinute.push((runs / seconds) * 60);
        line(`--workers ${workers}`, `${runs} runs in ${seconds.toFixed(1)} s = ${perMinute.at(-1)!.toFixed(0)} runs/min; integration ${integration.toFixed(1)} s summed over runs`);
      }
      line('throughput ratio, 2 workers / 1', `${(perMinute[1] / perMinute[0]).toFixed(2)}x  (acceptance >= 1.7x)`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const benchLarge: Record<string, () => void | Promise<void>> = { 'gram-large': benchGramLarge, sweep: benchSweep };

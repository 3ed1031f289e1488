/**
 * `npm run bench`: coflow's timings on the paper's problem, side by side with PyTorch and SciPy
 * when /usr/bin/python3 has them (measured figures: README.md, Benchmarks, and
 * docs/levels.md#the-scipy-reference-comparison). Timings are
 * wall time of the computation only (no process start-up), on whatever else the machine is
 * doing: run it on a quiet machine. Usage: npm run bench [-- --only gradient,flow,gd,observe,driver,gram,type,gram-large,sweep]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveSettings } from '../src/config/resolve.js';
import { generateDataset } from '../src/data/generate.js';
import { writeDatasetNpz, writeParamsNpz } from '../src/io/files.js';
import { allocGrad, LossGrad } from '../src/model/gradient.js';
import { initParams } from '../src/model/init.js';
import { FullDynamics } from '../src/run/fullDynamics.js';
import { FIRST_SAMPLE_FRACTION, flowGrid, runDynamics, runDynamicsAsync } from '../src/run/run.js';
import { solveIvp } from '../src/ode/solveIvp.js';
import { benchLarge } from './large.js';
import { benchLevels } from './levels.js';

// The interpreter of the Python oracles, chosen as the tests choose it (test/oracles/python.ts).
const PYTHON = process.env.COFLOW_PYTHON ?? '/usr/bin/python3';
const REFERENCE = join(fileURLToPath(new URL('.', import.meta.url)), '../../bench/python/reference.py');

function line(label: string, value: string): void {
  process.stdout.write(`  ${label.padEnd(44)} ${value}\n`);
}

function python(args: string[]): { ok: true; result: Record<string, number> } | { ok: false; why: string } {
  const r = spawnSync(PYTHON, [REFERENCE, ...args], { encoding: 'utf8' });
  if (r.error) return { ok: false, why: `${PYTHON} not runnable (${r.error.message})` };
  const out = r.stdout.trim().split('\n').pop() ?? '';
  try {
    const parsed = JSON.parse(out) as Record<string, number> & { error?: string };
    if (r.status !== 0 || parsed.error) return { ok: false, why: String(parsed.error ?? r.stderr.trim()) };
    return { ok: true, result: parsed };
  } catch {
    return { ok: false, why: `reference.py failed: ${r.stderr.trim().split('\n').pop()}` };
  }
}

function paperSetup() {
  const s = resolveSettings('paper-fig1', {});
  const data = generateDataset({ n: s.n, L: s.L, d: s.d, seed: s.seed, fillers: s.fillers });
  const p = initParams({ m: s.m, m1: s.m1, d: s.d, s0: s.s0, s1: s.s1, seed: s.seed });
  const dir = mkdtempSync(join(tmpdir(), 'coflow-bench-'));
  const P = join(dir, 'P.npz');
  const D = join(dir, 'D.npz');
  writeParamsNpz(P, p);
  writeDatasetNpz(D, data);
  return { s, data, p, P, D };
}

/**
 * One evaluation of the Level F vector field (the gradient, in the run's own layout) at the
 * paper-fig1 start, median of 7 batches of 300: the floor of a GD step or a flow evaluation,
 * which cannot cost less than the gradient they need.
 */
function fieldMicroseconds(dyn: FullDynamics, y: Float64Array): number {
  const dy = new Float64Array(dyn.size);
  for (let i = 0; i < 300; i++) dyn.field(0, y, dy);
  const batches: number[] = [];
  for (let b = 0; b < 7; b++) {
    const t0 = performance.now();
    for (let i = 0; i < 300; i++) dyn.field(0, y, dy);
    batches.push(((performance.now() - t0) / 300) * 1000);
  }
  return batches.sort((x, y) => x - y)[3];
}

function benchGradient(): void {
  process.stdout.write('Gradient of the mean loss, paper-fig1 (n=60, L=5, d=64, m=128, m1=256)\n');
  const { data, p } = paperSetup();
  const lg = new LossGrad(data, p.m, p.m1);
  const g = allocGrad(p);
  for (let i = 0; i < 500; i++) lg.lossAndGrad(p, g);
  const batches: number[] = [];
  for (let b = 0; b < 7; b++) {
    const t0 = performance.now();
    for (let i = 0; i < 300; i++) lg.lossAndGrad(p, g);
    batches.push(((performance.now() - t0) / 300) * 1000);
  }
  batches.sort((x, y) => x - y);
  line('coflow analytic gradient (median of 7x300)', `${batches[3].toFixed(1)} us  (target < 1000 us; PyTorch autograd 3200-4500 us, README Benchmarks)`);
}

function benchFlow(): void {
  process.stdout.write('Gradient flow, paper-fig1, t = 0..300, rtol 1e-8, atol 1e-10, 200 output times (coflow run --method dopri5)\n');
  const { s, data, p, P, D } = paperSetup();
  const dyn = new FullDynamics(data, p);
  const plan = { ...s, method: 'dopri5' as const, tEnd: 300, rtol: 1e-8, atol: 1e-10 };
  const grid = flowGrid(plan);
  const best = (f: () => { nfev: number }, times: number) => {
    let seconds = Infinity;
    let nfev = 0;
    for (let i = 0; i < times; i++) {
      const t0 = performance.now();
      nfev = f().nfev;
      seconds = Math.min(seconds, (performance.now() - t0) / 1000);
    }
    return { seconds, nfev };
  };
  // What SciPy does: the integrator with the gradient, samples at the output times (kept by
  // the caller), no observation.
  const solveOnly = () => solveIvp({ f: (t, y, dy) => dyn.field(t, y, dy), t0: 0, y0: dyn.pack(p), tEnd: plan.tEnd, rtol: plan.rtol, atol: plan.atol, maxSteps: 1e6, controller: 'I', tEval: grid, onSample: () => {} }).stats;
  // The whole run: every observation column at the 200 rows, the events, the invariants.
  let last: ReturnType<typeof runDynamics> | null = null;
  const fullRun = () => (last = runDynamics(dyn, dyn.pack(p), plan)).stats;
  const cold = best(fullRun, 1);
  const warmSolve = best(solveOnly, 5);
  const warm = best(fullRun, 5);
  const loss = dyn.loss(last!.y);
  line('coflow run (observed rows, events): first', `${cold.seconds.toFixed(3)} s, nfev ${cold.nfev} (JIT warm-up included)`);
  line('coflow run (observed rows, events): warm', `${warm.seconds.toFixed(3)} s best of 5, nfev ${warm.nfev}, final loss ${loss.toExponential(10)}`);
  line('coflow solve only (as SciPy: no observation)', `${warmSolve.seconds.toFixed(3)} s best of 5, nfev ${warmSolve.nfev}`);
  const floor = (fieldMicroseconds(dyn, dyn.pack(p)) * warm.nfev) / 1e6;
  line('floor: nfev x one gradient', `${floor.toFixed(3)} s (the rest: stage combinations, dense output; for the run also 200 observed rows, events)`);
  const ref = python(['flow', P, D, '--t-end', '300', '--rtol', '1e-8', '--atol', '1e-10', '--samples', String(plan.samples), '--first', String(FIRST_SAMPLE_FRACTION), '--repeats', '3']);
  if (!ref.ok) {
    line('SciPy RK45 + PyTorch gradient', `SKIPPED: ${ref.why}`);
    return;
  }
  const rel = Math.abs(loss - ref.result.loss) / Math.abs(ref.result.loss);
  line('SciPy solve_ivp(RK45, t_eval) + PyTorch gradient', `${ref.result.seconds.toFixed(2)} s best of 3, nfev ${ref.result.nfev}, final loss ${ref.result.loss.toExponential(10)}`);
  line('final loss relative difference', `${rel.toExponential(2)}  (acceptance <= 1e-6)`);
  line('speed-up: solve only / whole run, warm', `${(ref.result.seconds / warmSolve.seconds).toFixed(1)}x / ${(ref.result.seconds / warm.seconds).toFixed(1)}x  (acceptance >= 15x)`);
}

function benchGd(): void {
  process.stdout.write('Gradient descent, paper-fig1, lr 0.01 (the paper experiment: 30,000 steps)\n');
  const { s, data, p, P, D } = paperSetup();
  const dyn = new FullDynamics(data, p);
  const short = runDynamics(dyn, dyn.pack(p), { method: 'gd', tEnd: 1, rtol: 1, atol: 1, maxSteps: 1, controller: 'I', lr: 0.01, steps: 3000, samples: 2 });
  const loss3000 = dyn.loss(short.y);
  const t0 = performance.now();
  const r = runDynamics(dyn, dyn.pack(p), { method: 'gd', tEnd: 1, rtol: 1, atol: 1, maxSteps: 1, controller: 'I', lr: 0.01, steps: 30000, samples: s.samples });
  const ours = (performance.now() - t0) / 1000;
  line('coflow 30,000 GD steps (with 200 recorded rows)', `${ours.toFixed(2)} s (${((ours / 30000) * 1e6).toFixed(0)} us/step), final loss ${dyn.loss(r.y).toExponential(6)}`);
  const gradUs = fieldMicroseconds(dyn, dyn.pack(p));
  line('floor: one gradient per step', `${gradUs.toFixed(0)} us/step = ${((gradUs * 30000) / 1e6).toFixed(2)} s (the rest: the fused update, events, 200 rows)`);
  const ref = python(['gd', P, D, '--lr', '0.01', '--steps', '3000']);
  if (!ref.ok) {
    line('PyTorch GD', `SKIPPED: ${ref.why}`);
    return;
  }
  const perStep = ref.result.seconds / 3000;
  const rel = Math.abs(loss3000 - ref.result.loss) / Math.abs(ref.result.loss);
  line('PyTorch autograd GD, 3,000 steps measured', `${ref.result.seconds.toFixed(2)} s (${(perStep * 1e6).toFixed(0)} us/step)`);
  line('loss after 3,000 steps: coflow vs PyTorch', `${loss3000.toExponential(12)} vs ${ref.result.loss.toExponential(12)}, rel diff ${rel.toExponential(2)} (acceptance <= 1e-9)`);
  line('speed-up for 30,000 steps (PyTorch per-step x 30,000 / coflow)', `${((perStep * 30000) / ours).toFixed(1)}x  (acceptance >= 10x)`);
}

/** The last commit before the observation contract (src/observe): the "before" of benchObserve. */
const OBSERVE_BASELINE = '079f0f3';

/**
 * What the observables and events cost (they may add at most 20% wall time to these two runs):
 * the paper-fig1 flow to t = 300 and the 30,000 GD steps, each with 200 recorded rows, timed with
 * this build and with the build of OBSERVE_BASELINE (checked out into a temporary git worktree
 * and compiled with this checkout's TypeScript), alternately, best of several, each in a fresh
 * process. Needs git and the repository's history; otherwise it says it was skipped.
 */
function benchObserve(): void {
  process.stdout.write(`Cost of the observables and events: this build vs ${OBSERVE_BASELINE} (before src/observe), paper-fig1, 200 rows\n`);
  const here = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
  const base = mkdtempSync(join(tmpdir(), 'coflow-baseline-'));
  const git = (args: string[]) => spawnSync('git', ['-C', here, ...args], { encoding: 'utf8' });
  const add = git(['worktree', 'add', '--detach', base, OBSERVE_BASELINE]);
  if (add.status !== 0) {
    line('baseline', `SKIPPED: cannot check out ${OBSERVE_BASELINE} (${(add.stderr || String(add.error)).trim().split('\n').pop()})`);
    return;
  }
  try {
    symlinkSync(join(here, 'node_modules'), join(base, 'node_modules'));
    const tsc = spawnSync(process.execPath, [join(here, 'node_modules/typescript/bin/tsc'), '-p', join(base, 'tsconfig.json')], { encoding: 'utf8' });
    if (tsc.status !== 0) {
      line('baseline', `SKIPPED: the baseline does not build (${tsc.stdout.trim().split('\n')[0]})`);
      return;
    }
    const script = join(here, 'dist/bench/observeTiming.js');
    const time = (root: string, method: string, repeats: number) => {
      const r = spawnSync(process.execPath, [script, root, method, String(repeats)], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`timing failed: ${r.stderr.trim().split('\n').pop()}`);
      return JSON.parse(r.stdout.trim()) as { seconds: number; nfev: number };
    };
    for (const [label, method, rounds, repeats] of [
      ['flow to t = 300 (dopri5)', 'dopri5', 3, 5],
      ['30,000 GD steps', 'gd', 2, 1],
    ] as const) {
      let before = Infinity;
      let after = Infinity;
      for (let i = 0; i < rounds; i++) {
        before = Math.min(before, time(base, method, repeats).seconds);
        after = Math.min(after, time(here, method, repeats).seconds);
      }
      line(`${label}: before / after`, `${before.toFixed(3)} s / ${after.toFixed(3)} s, ${(((after - before) / before) * 100).toFixed(1)}% more  (bound 20%)`);
    }
  } finally {
    git(['worktree', 'remove', '--force', base]);
  }
}

/**
 * What the command line's driver costs: runDynamicsAsync returns to the event loop every second
 * (so SIGINT/SIGTERM handlers can run) and asks a stop flag after every step. Same GD run and
 * flow as above, with runDynamics and with runDynamicsAsync, alternately, best of 4; the final
 * states must be bit-identical (the legs do not change the result).
 */
async function benchDriver(): Promise<void> {
  process.stdout.write('Cost of the signal-aware driver (runDynamicsAsync vs runDynamics), paper-fig1\n');
  const { s, data, p } = paperSetup();
  const dyn = new FullDynamics(data, p);
  for (const [label, plan] of [
    ['10,000 GD steps', { method: 'gd', tEnd: 1, rtol: 1, atol: 1, maxSteps: 1, controller: 'I', lr: 0.01, steps: 10000, samples: s.samples }],
    ['flow to t = 3000 (dopri5)', { method: 'dopri5', tEnd: 3000, rtol: 1e-8, atol: 1e-10, maxSteps: 1e6, controller: 'I', lr: 0.01, steps: 1, samples: s.samples }],
  ] as const) {
    let sync = Infinity;
    let async = Infinity;
    let same = true;
    for (let i = 0; i < 4; i++) {
      // Alternate which goes first, so neither always pays for the other's garbage.
      const timeSync = () => {
        const t0 = performance.now();
        const r = runDynamics(dyn, dyn.pack(p), plan);
        sync = Math.min(sync, (performance.now() - t0) / 1000);
        return r;
      };
      const timeAsync = async () => {
        const t0 = performance.now();
        const r = await runDynamicsAsync(dyn, dyn.pack(p), plan, { shouldStop: () => false });
        async = Math.min(async, (performance.now() - t0) / 1000);
        return r;
      };
      const [a, b] = i % 2 === 0 ? [timeSync(), await timeAsync()] : [await timeAsync(), timeSync()].reverse();
      same &&= a.y.every((v, j) => v === b.y[j]);
    }
    line(`${label}: runDynamics / runDynamicsAsync`, `${sync.toFixed(3)} s / ${async.toFixed(3)} s, ${(((async - sync) / sync) * 100).toFixed(1)}% more; final states ${same ? 'bit-identical' : 'DIFFER'}`);
  }
}

const sections: Record<string, () => void | Promise<void>> = { gradient: benchGradient, flow: benchFlow, gd: benchGd, observe: benchObserve, driver: benchDriver, ...benchLevels, ...benchLarge };
const onlyArg = process.argv.indexOf('--only');
const chosen = onlyArg >= 0 ? (process.argv[onlyArg + 1] ?? '').split(',') : Object.keys(sections);
for (const name of chosen) {
  const run = sections[name];
  if (!run) {
    process.stderr.write(`bench: unknown section '${name}'; choose from ${Object.keys(sections).join(', ')}\n`);
    process.exit(2);
  }
  await run();
}

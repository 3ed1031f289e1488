/**
 * Benchmarks of the reduced levels: Level G's cost does not depend on the width m (its state is
 * ~4k^2 numbers), and Level T runs the theory preset in milliseconds.
 */
import { resolveSettings } from '../src/config/resolve.js';
import { generateDataset } from '../src/data/generate.js';
import { sampleGramState } from '../src/gram/wishart.js';
import { buildStart } from '../src/run/levels.js';
import { GramModel } from '../src/gram/flow.js';
import { GramDynamics } from '../src/run/gramDynamics.js';
import { runDynamics } from '../src/run/run.js';
// Loaded up front (buildStart imports it on first use) so the timings exclude module loading.
import '../src/reduced/typeSystem.js';

function line(label: string, value: string): void {
  process.stdout.write(`  ${label.padEnd(44)} ${value}\n`);
}

/**
 * Level G on the theory preset's data (k = 91 tokens) from a Wishart draw at m = 128 and
 * m = 1e6. With the theory scales the flow's rates grow like m (Thm F.8: dL/dt = -Theta(s1^2 m m1)
 * L^2 with s1^2 = 1/m1), so the horizon is t_end = 1000 * 128 / m: the same stretch of dynamics.
 */
function benchGram(): void {
  process.stdout.write('Level G (exact Gram flow), theory data, Wishart start, dopri5 rtol 1e-8\n');
  const results: { m: number; seconds: number; perEval: number }[] = [];
  for (const m of [128, 1_000_000]) {
    const s = resolveSettings('theory', { m, level: 'gram', init: 'wishart' });
    const data = generateDataset({ n: s.n, L: s.L, d: s.d, seed: s.seed, fillers: s.fillers });
    const dyn = new GramModel(data, m, s.m1);
    const t0 = performance.now();
    const y0 = sampleGramState({ data, m, m1: s.m1, s0: s.s0, s1: s.s1, seed: s.seed });
    const tEnd = (1000 * 128) / m;
    const r = runDynamics(new GramDynamics(dyn), y0, { method: 'dopri5', tEnd, rtol: 1e-8, atol: 1e-10, maxSteps: s.maxSteps, controller: s.controller, lr: s.lr, steps: s.steps, samples: s.samples });
    const seconds = (performance.now() - t0) / 1000;
    const dy = new Float64Array(dyn.size);
    const e0 = performance.now();
    for (let i = 0; i < 200; i++) dyn.field(0, r.y, dy);
    const perEval = ((performance.now() - e0) / 200) * 1000;
    results.push({ m, seconds, perEval });
    line(`m = ${m} (t_end = ${tEnd})`, `${seconds.toFixed(2)} s incl. the Wishart draw, nfev ${r.stats.nfev}, ${perEval.toFixed(0)} us/field, final loss ${dyn.loss(r.y).toExponential(4)}, state ${dyn.size}`);
  }
  line('cost ratio m = 1e6 / m = 128', `${(results[1].seconds / results[0].seconds).toFixed(2)}  (acceptance < 2)`);
}

async function benchType(): Promise<void> {
  process.stdout.write('Level T (type-level system), theory preset, mean start, dopri5 rtol 1e-8, t_end = 1000 * 128 / m\n');
  for (const m of [128, 1_000_000]) {
    const s = resolveSettings('theory', { m, level: 'type', init: 'mean' });
    const data = generateDataset({ n: s.n, L: s.L, d: s.d, seed: s.seed, fillers: s.fillers });
    const t0 = performance.now();
    const start = await buildStart(s, data);
    const tEnd = (1000 * 128) / m;
    const r = runDynamics(start.dynamics, start.y0, { method: 'dopri5', tEnd, rtol: 1e-8, atol: 1e-10, maxSteps: s.maxSteps, controller: s.controller, lr: s.lr, steps: s.steps, samples: s.samples });
    const ms = performance.now() - t0;
    line(`m = ${m} (t_end = ${tEnd})`, `${ms.toFixed(1)} ms, nfev ${r.stats.nfev}, ${start.dynamics.size} variables, final loss ${start.dynamics.loss(r.y).toExponential(4)}`);
  }
}

export const benchLevels: Record<string, () => void | Promise<void>> = { gram: benchGram, type: benchType };

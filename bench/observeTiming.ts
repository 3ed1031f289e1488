/**
 * One timing of the paper-fig1 runs for `npm run bench -- --only observe`, run in a child process
 * against the build of a given checkout (argument 1: its root), so that the same script times the
 * current build and the baseline build (before the observation contract) alike. Arguments: root,
 * method (dopri5 | gd), repeats. Prints one JSON line { seconds: best of the repeats, nfev }.
 * Plain imports of the given root's dist/: the runDynamics(dyn, y0, plan) call is the same in
 * both versions.
 */
const [root, method, repeatsArg] = process.argv.slice(2);
const load = (path: string) => import(`${root}/dist/src/${path}`);
const { resolveSettings } = await load('config/resolve.js');
const { generateDataset } = await load('data/generate.js');
const { initParams } = await load('model/init.js');
const { FullDynamics } = await load('run/fullDynamics.js');
const { runDynamics } = await load('run/run.js');

const s = resolveSettings('paper-fig1', {});
const data = generateDataset({ n: s.n, L: s.L, d: s.d, seed: s.seed, fillers: s.fillers });
const p = initParams({ m: s.m, m1: s.m1, d: s.d, s0: s.s0, s1: s.s1, seed: s.seed });
const dyn = new FullDynamics(data, p);
const plan =
  method === 'gd'
    ? { ...s, method: 'gd', lr: 0.01, steps: 30000, samples: 200 }
    : { ...s, method: 'dopri5', tEnd: 300, rtol: 1e-8, atol: 1e-10, samples: 200 };
if (method !== 'gd') runDynamics(dyn, dyn.pack(p), plan); // JIT warm-up
let best = Infinity;
let nfev = 0;
for (let i = 0; i < Number(repeatsArg); i++) {
  const t0 = performance.now();
  const r = runDynamics(dyn, dyn.pack(p), plan);
  best = Math.min(best, (performance.now() - t0) / 1000);
  nfev = r.stats.nfev;
}
process.stdout.write(JSON.stringify({ seconds: best, nfev }) + '\n');

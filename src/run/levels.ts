import { ResolvedSettings } from '../config/resolve.js';
import { MAX_ARRAY_ENTRIES } from '../config/limits.js';
import { Dataset } from '../data/dataset.js';
import { UsageError } from '../errors.js';
import { liftParams } from '../gram/lift.js';
import { meanGramState, sampleGramState } from '../gram/wishart.js';
import { initParams } from '../model/init.js';
import { Params } from '../model/params.js';
import { datasetOrbits } from '../reduced/orbits.js';
import { orthogonalParams } from '../reduced/orthogonal.js';
import { Dynamics } from './dynamics.js';
import { FullDynamics } from './fullDynamics.js';
import { GramModel } from '../gram/flow.js';
import { Dopri5 } from '../ode/dopri5.js';
import { GramDynamics } from './gramDynamics.js';
import { TypeDynamics } from './typeDynamics.js';
import { GramTestSet } from '../gram/testSet.js';
import { Probe } from '../observe/primitives.js';
import { probeFor } from './probes.js';
import { PAPER_GD_REFUSAL, PAPER_TEST_REFUSAL } from '../config/rules.js';
import { paperFromGram } from '../paper/start.js';
import { PaperDynamics } from './paperDynamics.js';

/**
 * A level's dynamics and its starting state. Each level is seen through an adapter of this folder
 * (FullDynamics, GramDynamics, TypeDynamics, PaperDynamics), so the level folders do not depend
 * on the run machinery.
 */
export interface RunStart {
  dynamics: Dynamics;
  /** what the run records at every row (src/observe) */
  probe: Probe;
  y0: Float64Array;
  /** one line saying how the start was built */
  description: string;
}


const STARTS_BY_LEVEL = {
  full: ['gaussian', 'orthogonal'],
  gram: ['gaussian', 'wishart', 'orthogonal', 'mean'],
  type: ['mean'],
  // Level P starts from the (C, u, s) part of every Level G start (src/paper/start.ts)
  paper: ['gaussian', 'wishart', 'orthogonal', 'mean'],
} as const;

/**
 * Builds the dynamics of the requested level and its starting state (`--init`):
 * - full: gaussian (paper init, or the given --params), orthogonal (weights realising the mean
 *   Gram state exactly; needs m >= 2k);
 * - gram: gaussian (the lift of the same Gaussian weights Level F would use), wishart (a draw
 *   from the exact law of the Gram state, any m, without forming weights), orthogonal (the lift
 *   of the orthogonal weights), mean (the mean state);
 * - type: mean only (Level T is exact for the mean start on theory-conforming data; docs/levels.md);
 * - paper: every Level G start, built exactly as Level G builds it; Level P keeps its (C, u, s)
 *   and freezes its S, A, B (docs/levels.md#level-p). No GD, no test set.
 * `integrated`: the dynamics will be integrated by this run's method (false: only the start is
 * borrowed, as Level P does), so a level may prepare the integrator's memory.
 */
export async function buildStart(s: ResolvedSettings, data: Dataset, params?: Params, test?: Dataset, integrated = true): Promise<RunStart> {
  const allowed: readonly string[] = STARTS_BY_LEVEL[s.level];
  if (!allowed.includes(s.init)) {
    throw new UsageError(`--init ${s.init} is not available at --level ${s.level}; use --init ${allowed.join('|')}`);
  }
  if (params && s.init !== 'gaussian') {
    throw new UsageError(`--params gives the starting weights, so --init must be gaussian (got '${s.init}')`);
  }
  // Weights are m x d (three of them) and m1 x m, all in one array as Level F's state: refuse
  // more than one array may hold (src/config/limits.ts MAX_ARRAY_ENTRIES), wherever they are
  // formed, and say which start avoids forming them.
  const weightEntries = 3 * s.m * data.d + s.m1 * s.m;
  if ((s.level === 'full' || s.init === 'gaussian' || s.init === 'orthogonal') && !params && weightEntries > MAX_ARRAY_ENTRIES) {
    throw new UsageError(
      `--m ${s.m} --m1 ${s.m1} means ${weightEntries} weights, above the ${MAX_ARRAY_ENTRIES} (2^31 - 1) entries coflow allows in one array; use --level gram --init wishart (or mean), which never forms them`,
    );
  }
  if (s.level === 'paper') {
    if (s.method === 'gd') throw new UsageError(PAPER_GD_REFUSAL);
    if (test) throw new UsageError(PAPER_TEST_REFUSAL);
    const gram = await buildStart({ ...s, level: 'gram' }, data, params, undefined, false);
    const { model, y0 } = paperFromGram(data, (gram.dynamics as GramDynamics).model, gram.y0);
    const dynamics = new PaperDynamics(model);
    return { dynamics, probe: probeFor(dynamics), y0, description: `Level P (the paper's approximate system, k=${model.k}) from ${gram.description.replace(/^Level G \(k=\d+\) /, 'the Level G start ')}` };
  }
  const scales = `s0=${s.s0}, s1=${s.s1}, seed ${s.seed}`;
  const gaussian = () => params ?? initParams({ m: s.m, m1: s.m1, d: data.d, s0: s.s0, s1: s.s1, seed: s.seed });
  const orthogonal = () => orthogonalParams({ data, m: s.m, m1: s.m1, s0: s.s0, s1: s.s1, seed: s.seed });
  const gaussianText = params ? 'the given parameters' : `Gaussian init (${scales})`;

  if (s.level === 'full') {
    const p = s.init === 'gaussian' ? gaussian() : orthogonal();
    const dyn = new FullDynamics(data, p);
    return { dynamics: dyn, probe: probeFor(dyn, test ? { data: test } : undefined), y0: dyn.pack(p), description: `Level F from ${s.init === 'gaussian' ? gaussianText : `the orthogonal init realising the mean state (${scales})`}` };
  }
  if (s.level === 'gram') {
    // A test set's tokens are tracked too: their Gram rows evolve exactly (src/gram/layout.ts).
    const extraTokens = test?.tokens;
    // A Dormand-Prince run's vectors live in the kernels' memory, where the field reads and
    // writes them in place (GramModel.stageMemory; not for Level P, which only borrows this start).
    const solverVectors = integrated && s.method === 'dopri5' ? Dopri5.VECTORS : 0;
    const model = new GramModel(data, s.m, s.m1, { extraTokens, solverVectors });
    const dyn = new GramDynamics(model);
    const probe = probeFor(dyn, test ? { data: test, gram: new GramTestSet(model, test) } : undefined);
    const cfg = { data, m: s.m, m1: s.m1, s0: s.s0, s1: s.s1, extraTokens };
    const at = (y0: Float64Array, description: string): RunStart => ({ dynamics: dyn, probe, y0, description });
    switch (s.init) {
      case 'gaussian':
        return at(liftParams(gaussian(), data, extraTokens), `Level G (k=${model.k}) lifted from ${gaussianText}`);
      case 'orthogonal':
        return at(liftParams(orthogonal(), data, extraTokens), `Level G (k=${model.k}) lifted from the orthogonal init (${scales})`);
      case 'wishart':
        return at(sampleGramState({ ...cfg, seed: s.seed }), `Level G (k=${model.k}) from a Wishart draw of the initial Gram state (${scales})`);
      default:
        return at(meanGramState(cfg), `Level G (k=${model.k}) from the mean state (s0=${s.s0}, s1=${s.s1})`);
    }
  }
  // Level T represents exactly the data sets it was derived for; check this one is one of them.
  datasetOrbits(data);
  // Loaded on use: only a Level T run needs its orbit tables (built in TypeScript, without mathjs).
  const { TypeSystem } = await import('../reduced/typeSystem.js');
  const system = new TypeSystem({ n: data.n, L: data.L, m: s.m, m1: s.m1 });
  if (test) throw new UsageError('--test-n is not available at --level type (a test set breaks the symmetry Level T is built on); use --level gram or full');
  const dynamics = new TypeDynamics(system);
  return {
    dynamics,
    probe: probeFor(dynamics),
    y0: system.meanState({ s0: s.s0, s1: s.s1 }),
    description: `Level T (${system.size} orbit variables) from the mean state (s0=${s.s0}, s1=${s.s1})`,
  };
}

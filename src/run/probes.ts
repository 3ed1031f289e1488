import { FullProbe } from '../observe/full.js';
import { GramProbe, GramTestEvaluator } from '../observe/gram.js';
import { Probe } from '../observe/primitives.js';
import { TypeProbe } from '../observe/type.js';
import { Dataset } from '../data/dataset.js';
import { Dynamics } from './dynamics.js';
import { FullDynamics } from './fullDynamics.js';
import { GramDynamics } from './gramDynamics.js';
import { TypeDynamics } from './typeDynamics.js';
import { PaperDynamics } from './paperDynamics.js';
import { PaperProbe } from '../observe/paper.js';

/** A held-out set for the probe: Level F evaluates it from the weights, Level G from the tracked Gram rows. */
export interface ProbeTest {
  data: Dataset;
  gram?: GramTestEvaluator;
}

/** The observation probe (src/observe) of a level's dynamics. */
export function probeFor(dyn: Dynamics, test?: ProbeTest): Probe {
  if (dyn instanceof FullDynamics) {
    const t = dyn.template;
    return new FullProbe({ data: dyn.data, m: t.m, m1: t.m1, a: t.a, test: test?.data });
  }
  if (dyn instanceof GramDynamics) return new GramProbe(dyn.model, test?.gram);
  if (dyn instanceof TypeDynamics) {
    if (test) throw new Error('Level T has no test set (src/config/resolve.ts and src/run/levels.ts refuse --test-n at --level type)');
    return new TypeProbe(dyn.system);
  }
  if (dyn instanceof PaperDynamics) {
    if (test) throw new Error('Level P has no test set (src/run/levels.ts refuses --test-n at --level paper)');
    return new PaperProbe(dyn.model);
  }
  throw new Error(`no observation probe for level '${dyn.level}'`);
}

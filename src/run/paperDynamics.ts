import { PAPER_GD_REFUSAL } from '../config/rules.js';
import { UsageError } from '../errors.js';
import type { PaperModel } from '../paper/model.js';
import { PaperProbe } from '../observe/paper.js';
import type { Probe } from '../observe/primitives.js';
import { LevelDynamics, type ProbeTest } from './dynamics.js';

/**
 * Level P (the paper's approximate system, derivations/paper-system.md) as a run's Dynamics, like
 * GramDynamics for Level G: the level (src/paper/model.ts, PaperModel) provides the field, the
 * invariants and the observation primitives; this adapter is how the run machinery sees it. Level P has no GD map: `--method gd` is refused before
 * a run starts (src/config/rules.ts), and gdStep says so if it is ever called.
 */
export class PaperDynamics extends LevelDynamics<PaperModel> {
  readonly level = 'paper' as const;

  gdStep(): void {
    throw new UsageError(PAPER_GD_REFUSAL);
  }

  probe(test?: ProbeTest): Probe {
    if (test) throw new Error('Level P has no test set (src/run/levels.ts refuses --test-n at --level paper)');
    return new PaperProbe(this.model);
  }
}

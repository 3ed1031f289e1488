/**
 * "Does not apply" rules: a setting given explicitly (a flag, or a key of a flat --config file)
 * that the chosen method, level or inputs would silently ignore is an error. Values from a preset
 * or from a run's config.json (complete resolved settings) never trigger these rules.
 */
import { UsageError } from '../errors.js';
import type { ResolvedSettings } from './resolve.js';

/** Why `--method gd` is refused at Level P: one line naming the fix (src/run/levels.ts and src/run/paperDynamics.ts refuse it too). */
export const PAPER_GD_REFUSAL =
  "--method gd does not apply at --level paper: Level P is the paper's approximation of the gradient flow and has no gradient-descent map; use --method dopri5 (or odex)";

/** Why `--test-n` is refused at Level P. */
export const PAPER_TEST_REFUSAL =
  '--test-n is not available at --level paper: Level P tracks only the training set\'s tokens (the paper\'s approximation has no test-set dynamics); use --level gram or full';

export interface Given {
  /** the key was given explicitly (flag or flat config key) */
  has(key: string): boolean;
  /** how a message names it (--lr, or 'lr' in FILE) */
  name(key: string): string;
}

function offending(given: Given, keys: readonly string[]): string[] {
  return keys.filter((k) => given.has(k));
}

function refuse(given: Given, keys: string[], why: string, fix: string): never {
  const names = keys.map((k) => given.name(k));
  const verb = names.length > 1 ? 'do' : 'does';
  throw new UsageError(`${names.join(', ')} ${verb} not apply ${why}; ${fix}`);
}

export interface RunInputs {
  /** how messages name the data / params file option, when one is used (e.g. "--data D.npz") */
  data?: string;
  params?: string;
}

/** The rules of `coflow run` on the final settings. */
export function checkRunApplicable(s: ResolvedSettings, given: Given, inputs: RunInputs): void {
  // Level P (the paper's approximation of the flow) has no GD map and no test-set dynamics,
  // whatever gave the method or the test size (a preset's gd too): src/run/paperDynamics.ts.
  if (s.level === 'paper' && s.method === 'gd') throw new UsageError(PAPER_GD_REFUSAL);
  if (s.level === 'paper' && s.testN > 0) throw new UsageError(PAPER_TEST_REFUSAL);
  const flow = s.method !== 'gd';
  let bad = flow ? offending(given, ['lr', 'steps']) : [];
  if (bad.length > 0) {
    refuse(given, bad, `to --method ${s.method} (a gradient flow, integrated to --t-end; lr and steps are gradient descent's)`, `drop ${bad.length > 1 ? 'them' : 'it'}, or use --method gd`);
  }
  bad = !flow ? offending(given, ['tEnd', 'rtol', 'atol', 'controller', 'maxSteps']) : [];
  if (bad.length > 0) {
    refuse(given, bad, 'to --method gd (gradient descent takes --steps steps of size --lr; t-end, rtol, atol, controller and max-steps are the flows\')', `drop ${bad.length > 1 ? 'them' : 'it'}, or use --method dopri5`);
  }
  if (s.method === 'odex') {
    if (given.has('controller')) refuse(given, ['controller'], "to --method odex (odex's extrapolation has its own step-size control)", 'drop it, or use --method dopri5');
    if (given.has('checkpointEvery')) {
      refuse(given, ['checkpointEvery'], 'to --method odex: odex runs write no checkpoints and cannot be resumed', 'drop it, or use --method dopri5 (which checkpoints)');
    }
  }
  if (inputs.params !== undefined) {
    if (s.level === 'type') throw new UsageError(`${inputs.params} does not apply at --level type (Level T starts from the mean state, not from weights); drop it, or use --level full or gram`);
    bad = offending(given, ['m', 'm1', 'd', 'scale', 's0', 's1', 'init']);
    if (bad.length > 0) {
      refuse(given, bad, `with ${inputs.params} (the run starts from the file's weights, whose shapes give m, m1 and d)`, `drop ${bad.length > 1 ? 'them' : 'it'}`);
    }
  }
  if (inputs.data !== undefined) {
    bad = offending(given, ['n', 'L', 'd', 'fillers']);
    if (bad.length > 0) refuse(given, bad, `with ${inputs.data} (n, L and d come from the file)`, `drop ${bad.length > 1 ? 'them' : 'it'}`);
  }
  if (given.has('seed')) {
    // The seed draws the generated data set, the test set, and the random starts.
    const randomStart = inputs.params === undefined && (s.init === 'gaussian' || s.init === 'wishart' || s.init === 'orthogonal');
    if (inputs.data !== undefined && s.testN === 0 && !randomStart) {
      const start = inputs.params !== undefined ? `the weights come from ${inputs.params}` : `the start (--init ${s.init}) is not random`;
      refuse(given, ['seed'], `here: nothing is drawn at random (the data come from ${inputs.data}, ${start}, and there is no --test-n)`, 'drop it');
    }
  }
  checkScaleApplicable(given);
}

/** --scale is replaced when both --s0 and --s1 are given. */
function checkScaleApplicable(given: Given): void {
  if (given.has('scale') && given.has('s0') && given.has('s1')) {
    refuse(given, ['scale'], `together with both ${given.name('s0')} and ${given.name('s1')} (they replace both of its scales)`, 'drop it, or one of them');
  }
}

/**
 * The rules of `coflow init`: --L only enters through the theory scales' s0 = c / sqrt(L m).
 * `scheme` is the scale scheme in force (given, or the preset's / run config's).
 */
export function checkInitApplicable(scheme: string, given: Given): void {
  checkScaleApplicable(given);
  if (given.has('L')) {
    const theoryS0 = (scheme === 'theory' || scheme === 'theory-small') && !given.has('s0');
    if (!theoryS0) {
      refuse(given, ['L'], `to coflow init here (the weights depend on L only through s0 = 1/sqrt(L m) of --scale theory or theory-small, and ${given.has('s0') ? `${given.name('s0')} is given` : `the scale is ${scheme}`})`, 'drop it');
    }
  }
}

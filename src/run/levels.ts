import { ResolvedSettings } from '../config/resolve.js';
import { Dataset } from '../data/dataset.js';
import { UsageError } from '../errors.js';
import { initParams } from '../model/init.js';
import { Params } from '../model/params.js';
import { Dynamics } from './dynamics.js';
import { FullDynamics } from './fullDynamics.js';

/** A level's dynamics and its starting state. */
export interface RunStart {
  dynamics: Dynamics;
  y0: Float64Array;
  /** one line saying how the start was built */
  description: string;
}

/**
 * Builds the dynamics of the requested level and its starting state (`--init`):
 * - full: gaussian (paper init, or the given --params), orthogonal (realises the mean state);
 * - gram: gaussian (lift of sampled weights), wishart (exact Gram law, any m), mean;
 * - type: mean only (Level T is exact for the mean start; design.md section 1).
 */
export function buildStart(s: ResolvedSettings, data: Dataset, params?: Params): RunStart {
  const gaussian = () => params ?? initParams({ m: s.m, m1: s.m1, d: data.d, s0: s.s0, s1: s.s1, seed: s.seed });
  if (params && s.init !== 'gaussian') {
    throw new UsageError(`--params gives the starting weights, so --init must be gaussian (got '${s.init}')`);
  }
  if (s.level === 'full') {
    if (s.init === 'gaussian') {
      const p = gaussian();
      const dyn = new FullDynamics(data, p);
      return { dynamics: dyn, y0: dyn.pack(p), description: params ? 'Level F from the given parameters' : `Level F, Gaussian init (s0=${s.s0}, s1=${s.s1}, seed ${s.seed})` };
    }
    throw new UsageError(`--init ${s.init} is not available at --level full yet; use --init gaussian`);
  }
  throw new UsageError(`--level ${s.level} is not available yet; use --level full`);
}

/**
 * Cross-check adapter for the npm package odex 2.0.4: Hairer & Wanner's ODEX, a
 * Gragg-Bulirsch-Stoer extrapolation method, i.e. a different family of integrator from
 * Dormand-Prince, which makes agreement between the two meaningful.
 *
 * It is only a cross-check, never the production integrator: odex allocates new arrays at every
 * step and derivative call (its derivative returns a fresh array), and it does not stop on NaN:
 * measured here, a field returning NaN after t = 0.5 made it run on to its step limit (9,999
 * "accepted" steps, about 430,000 evaluations) and return y = [NaN]. This adapter therefore
 * checks every output it returns and reports 'non-finite' itself.
 */
import { createRequire } from 'node:module';
import { UsageError } from '../errors.js';
import type { OdexModule } from './odex.js';
import type { VectorField } from './types.js';

// CommonJS package loaded through require so tsc uses ./odex.d.ts instead of odex's own source.
const odex = createRequire(import.meta.url)('odex') as OdexModule;

export interface OdexSolveOptions {
  f: VectorField;
  /** State size; optional, checked against y0.length when given. */
  n?: number;
  t0: number;
  y0: Float64Array;
  /** Output times, strictly monotone away from t0 (t0 itself allowed first). */
  tOut: Float64Array | readonly number[];
  rtol: number;
  /** Absolute tolerance, a scalar or one per component. */
  atol: number | Float64Array;
  /** odex's step limit, per output interval. */
  maxSteps: number;
}

export type OdexStatus = 'success' | 'non-finite' | 'max-steps';

export interface OdexSolveResult {
  status: OdexStatus;
  message: string;
  /** States at tOut[0..samples.length-1] (copies); fewer than tOut.length on failure. */
  samples: Float64Array[];
  /** Counters reported by odex, summed over the output intervals. */
  nfev: number;
  naccepted: number;
  nrejected: number;
}

/**
 * Solve y' = f(t, y) with odex and return the states at the output times. Each output interval
 * is its own odex solve started from the previous output, so every output is a step end of the
 * extrapolation method (never an interpolated value) and outputs are exact restarts.
 */
export function odexSolve(opts: OdexSolveOptions): OdexSolveResult {
  const n = opts.y0.length;
  if (opts.n !== undefined && opts.n !== n) throw new UsageError(`n = ${opts.n} but y0 has length ${n}; they must agree`);
  if (!(opts.rtol > 0)) throw new UsageError(`rtol must be > 0 for odex, got ${opts.rtol}`);
  const atol = typeof opts.atol === 'number' ? opts.atol : Array.from(opts.atol);
  if (typeof atol === 'number' ? !(atol > 0) : atol.length !== n || !atol.every((v) => v > 0)) {
    throw new UsageError(`atol must be > 0 (a number or ${n} positive values)`);
  }
  if (!Number.isInteger(opts.maxSteps) || opts.maxSteps < 1) throw new UsageError(`maxSteps must be an integer >= 1, got ${opts.maxSteps}`);
  const tOut = Array.from(opts.tOut);
  const dir = tOut.length > 0 && tOut[tOut.length - 1] < opts.t0 ? -1 : 1;
  let prev = opts.t0;
  for (let i = 0; i < tOut.length; i++) {
    const bad = !Number.isFinite(tOut[i]) || dir * (tOut[i] - prev) < 0 || (i > 0 && tOut[i] === prev);
    if (bad) throw new UsageError(`tOut must be strictly monotone away from t0 = ${opts.t0}; tOut[${i}] = ${tOut[i]}`);
    prev = tOut[i];
  }
  const solver = new odex.Solver(n);
  solver.relativeTolerance = opts.rtol;
  solver.absoluteTolerance = atol;
  solver.maxSteps = opts.maxSteps;
  const yIn = new Float64Array(n);
  const dy = new Float64Array(n);
  const derivative = (x: number, y: number[]): number[] => {
    yIn.set(y);
    opts.f(x, yIn, dy);
    return Array.from(dy);
  };
  const samples: Float64Array[] = [];
  let nfev = 0;
  let naccepted = 0;
  let nrejected = 0;
  const result = (status: OdexStatus, message: string): OdexSolveResult => ({ status, message, samples, nfev, naccepted, nrejected });
  let t = opts.t0;
  let y = Array.from(opts.y0);
  for (let i = 0; i < tOut.length; i++) {
    if (tOut[i] !== t) {
      const r = solver.solve(derivative, t, y, tOut[i]);
      nfev += r.nEval;
      naccepted += r.nAccept;
      nrejected += r.nReject;
      // Check for NaN first: on a NaN field odex runs to its step limit and reports only that.
      if (!r.y.every(Number.isFinite)) return result('non-finite', `odex returned a non-finite state at t = ${tOut[i]} (outcome ${r.outcome})`);
      if (r.outcome === odex.Outcome.MaxStepsExceeded) {
        return result('max-steps', `odex exceeded maxSteps = ${opts.maxSteps} between t = ${t} and ${tOut[i]}`);
      }
      y = r.y;
      t = tOut[i];
    }
    samples.push(Float64Array.from(y));
  }
  return result('success', `odex reached t = ${t} (${tOut.length} outputs, ${nfev} evaluations)`);
}

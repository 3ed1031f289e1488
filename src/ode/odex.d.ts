/**
 * Local type declarations for odex 2.0.4 (Colin Smith's port of Hairer & Wanner's ODEX), which
 * ships no .d.ts. It does ship its TypeScript source, and a plain `import 'odex'` would make tsc
 * type-check node_modules/odex/src/odex.ts, which fails under our strict settings; so
 * odexAdapter.ts loads the CommonJS module with createRequire and types it with these
 * declarations. Only what the adapter uses is declared; shapes follow node_modules/odex/src/odex.ts.
 */

/** y' at x; returns a new array (odex's convention: one allocation per call). */
export type OdexDerivative = (x: number, y: number[]) => number[];

/** Per-step observer; returning false stops the integration (outcome EarlyReturn). */
export type OdexOutputFunction = (
  nr: number,
  xold: number,
  x: number,
  y: number[],
  dense?: (c: number, x: number) => number,
) => boolean | void;

/** odex's Outcome enum values. */
export interface OdexOutcome {
  readonly Converged: 0;
  readonly MaxStepsExceeded: 1;
  readonly EarlyReturn: 2;
}

export interface OdexSolveResult {
  y: number[];
  outcome: 0 | 1 | 2;
  nStep: number;
  xEnd: number;
  nAccept: number;
  nReject: number;
  nEval: number;
}

export interface OdexSolver {
  n: number;
  maxSteps: number;
  initialStepSize: number;
  maxStepSize: number;
  denseOutput: boolean;
  relativeTolerance: number | number[];
  absoluteTolerance: number | number[];
  solve(f: OdexDerivative, x: number, y0: number[], xEnd: number, solOut?: OdexOutputFunction): OdexSolveResult;
}

/** The module object: `require('odex')`. */
export interface OdexModule {
  Solver: new (n: number) => OdexSolver;
  Outcome: OdexOutcome;
}

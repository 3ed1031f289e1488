/**
 * coflow as a library: `import { solve, lossAndGradient, run } from 'coflow'`.
 *
 * - `solve`: the solve_ivp-like entry point for any ODE (coflow's Dormand-Prince 5(4), or odex).
 * - Files and the model: `readParams`, `readDataset`, `writeParams`, `writeDataset`,
 *   `makeDataset`, `makeParams`, `lossAndGradient`.
 * - The commands: `run`, `check`, `compare`, `sweep`, `report`, taking the options of the command
 *   line (the flags in camelCase) and applying the same validation.
 *
 * docs/api.md documents every export; examples/ holds programs that use them (run by the tests).
 */
export { solve, SOLVE_MAX_STEPS } from './ode/solve.js';
export type { SolveMethod, SolveOptions, SolveResult, SolveResultStatus, SolveEvent, SolveEventRecord } from './ode/solve.js';
export { readParams, readDataset, writeParams, writeDataset, makeDataset, makeParams, lossAndGradient } from './api/model.js';
export type { DatasetOptions, ParamsOptions, LossAndGradient } from './api/model.js';
export { run, check, compare, sweep, report } from './api/commands.js';
export type { RunOptions, RunResult, CheckResult } from './api/commands.js';
export type { Params } from './model/params.js';
export type { Dataset } from './data/dataset.js';
export type { RunSettings } from './config/presets.js';
export type { VectorField, SolverStats } from './ode/types.js';

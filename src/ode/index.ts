/**
 * The ODE layer of coflow: one driver (drive.ts) over three steppers (stepper.ts): an adaptive
 * Dormand-Prince 5(4) integrator with dense output, fixed-map iteration (gradient descent), and
 * an odex cross-check; events, failure statuses and exact resumption are the driver's. It works
 * on Float64Array states only and knows nothing about the model.
 */
export { Rational } from '../exact/rational.js';
export {
  DOPRI5,
  DOPRI5_RATIONAL,
  buildTableau,
  denseWeightPolynomials,
  validateTableau,
  type ButcherTableau,
  type ExactTableau,
  type RationalPair,
  type RationalTableau,
} from './tableau.js';
export {
  FixedStepController,
  IController,
  I_EXPONENT,
  MAX_FACTOR,
  MIN_FACTOR,
  PIController,
  PI_ALPHA,
  PI_BETA,
  PI_ERR_FLOOR,
  SAFETY,
  createController,
  type ControllerKind,
  type ControllerState,
  type StepController,
} from './controller.js';
export type { ResumeState, SolveStatus, SolverStats, StepperState, VectorField } from './types.js';
export { selectInitialStep } from './initialStep.js';
export { Dopri5, type Dopri5Options, type Dopri5Status } from './dopri5.js';
export { brentRoot } from './rootfind.js';
export { EventLocator, type EventRecord, type EventSpec } from './events.js';
export { solveIvp, type SolveIvpOptions, type SolveIvpResult } from './solveIvp.js';
export { linspace, logGridFromZero, logStepIndices, logspace } from './grid.js';
export { integrateFixedSteps, type WeightChoice } from './fixedStep.js';
export { gradientDescentMap, iterateMap, type IterateOptions } from './iterate.js';
export { MapStepper, nonFiniteProbe, type IterMap, type MapStepperOptions, type StepStatus, type Stepper } from './stepper.js';
export { drive, type DriveOptions, type DriveResult } from './drive.js';
export { OdexStepper, type OdexStepperOptions } from './odexAdapter.js';
export {
  SOLVE_MAX_STEPS,
  solve,
  type SolveEvent,
  type SolveEventRecord,
  type SolveMethod,
  type SolveOptions,
  type SolveResult,
  type SolveResultStatus,
} from './solve.js';

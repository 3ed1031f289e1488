/**
 * Shared types of the ODE layer. Nothing here knows about transformers: states are Float64Array
 * and the right-hand side writes into a caller-provided buffer so the hot loop never allocates.
 */
import type { ControllerState } from './controller.js';

/** Right-hand side of y' = f(t, y). Must write all of dydt and must not keep or modify y. */
export type VectorField = (t: number, y: Float64Array, dydt: Float64Array) => void;

/**
 * How a solve ended. Failures are reported, never hidden:
 *  - 'success': reached tEnd;
 *  - 'non-finite': NaN or Inf appeared in a stage derivative or in the new state (no retry);
 *  - 'step-too-small': the controller asked for a step below the floor max(hMin, 10 ulp(t));
 *  - 'max-steps': maxSteps trial steps were attempted without reaching tEnd;
 *  - 'terminal-event': a terminal event function crossed zero (state is at the event time);
 *  - 'user-stop': onStep returned false.
 */
export type SolveStatus = 'success' | 'non-finite' | 'step-too-small' | 'max-steps' | 'terminal-event' | 'user-stop';

/** Work counters; cumulative across resumed legs. */
export interface SolverStats {
  /** Calls of the vector field (including the initial-step probe). */
  nfev: number;
  naccepted: number;
  nrejected: number;
}

/**
 * Where a stepper stands: what every method's snapshot holds (a fixed map needs no more; the
 * time of a map is its iterate index k).
 */
export interface StepperState {
  readonly t: number;
  readonly y: Float64Array;
  readonly stats: Readonly<SolverStats>;
}

/**
 * Everything needed to continue a Dormand-Prince solve bit-identically from an accepted step
 * boundary (HNW-style solvers carry exactly this: t, y, the FSAL derivative, the proposed next
 * step and the controller memory).
 */
export interface ResumeState extends StepperState {
  /**
   * f(t, y): the FSAL first stage of the next step (saves one evaluation, keeps nfev exact).
   * Omitted when the state is not a step node (terminal event): the resumed solver evaluates it.
   */
  readonly dydt?: Float64Array;
  /** Proposed size of the next trial step, signed in the direction of integration. */
  readonly h: number;
  readonly controller: ControllerState;
  /** A trial step from this point was already rejected (so its acceptance must not grow h). */
  readonly pendingRejection?: boolean;
}

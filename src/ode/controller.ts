/**
 * Step-size controllers, separate from the solver (as in diffrax). A controller turns the scaled
 * error norm of a trial step (accept iff err <= 1) into a factor for the step size. Its only
 * memory (the PI controller's previous error) is exposed for exact resumption.
 *
 * Constants follow scipy.integrate._ivp (SAFETY = 0.9, MIN_FACTOR = 0.2, MAX_FACTOR = 10) and
 * Hairer's DOPRI5 code (FAC1 = 0.2, FAC2 = 10, SAFE = 0.9, BETA = 0.04), which agree.
 */
import { UsageError } from '../errors.js';

/** Safety factor: aim for err ~ 0.9^5 of the tolerance so the next step is likely accepted. */
export const SAFETY = 0.9;
/** Never shrink the step by more than 5x in one decision. */
export const MIN_FACTOR = 0.2;
/** Never grow the step by more than 10x in one decision. */
export const MAX_FACTOR = 10;
/**
 * Exponent of the elementary (I) controller: 1/(q+1) with q = 4 the order of the embedded
 * solution, since the error estimate is O(h^5) (HNW I, Sect. II.4, Eq. (4.13)).
 */
export const I_EXPONENT = 1 / 5;
/**
 * PI controller (Gustafsson 1991; Hairer's DOPRI5, HNW II, Sect. IV.2): h_new = h * SAFETY *
 * err^-PI_ALPHA * errPrev^PI_BETA with PI_BETA = 0.04 (Hairer's recommended value for DOPRI5)
 * and PI_ALPHA = 1/5 - 0.75 * PI_BETA, Hairer's EXPO1.
 */
export const PI_BETA = 0.04;
export const PI_ALPHA = 0.2 - 0.75 * PI_BETA;
/** Hairer's initial FACOLD and floor on the remembered error (avoids huge growth after err ~ 0). */
export const PI_ERR_FLOOR = 1e-4;

/** 'fixed' switches control off: every trial step is accepted and h never changes (for order tests). */
export type ControllerKind = 'I' | 'PI' | 'fixed';

/** What a controller needs to continue bit-identically. */
export interface ControllerState {
  readonly kind: ControllerKind;
  /** PI: the error norm of the previous accepted step (floored); I: unused (NaN). */
  readonly errPrev: number;
}

export interface StepController {
  readonly kind: ControllerKind;
  /**
   * Factor for the next step after an accepted trial step with error norm err (0 <= err <= 1).
   * rejectedInThisStep: a trial of this same step was rejected before, in which case growth is
   * not allowed (HNW I, Sect. II.4; scipy RK45), which prevents reject/accept oscillation.
   */
  accepted(err: number, rejectedInThisStep: boolean): number;
  /** Factor (< 1) for retrying a rejected trial step with error norm err (> 1). */
  rejected(err: number): number;
  snapshot(): ControllerState;
  restore(state: ControllerState): void;
}

/** Factor (< 1) for retrying a trial step with error norm err > 1: SAFETY err^-exponent, at least MIN_FACTOR. */
function rejectionFactor(err: number, exponent: number): number {
  return Math.max(MIN_FACTOR, SAFETY * Math.pow(err, -exponent));
}

/** Refuses to resume from the saved state of another kind of controller. */
function checkResumeKind(state: ControllerState, kind: ControllerKind): void {
  if (state.kind !== kind) throw new UsageError(`resumeFrom.controller.kind is '${state.kind}' but the solver uses '${kind}'; resume with the same controller`);
}

/** A controller without memory: its saved state is its kind alone (errPrev unused, NaN). */
abstract class MemorylessController implements StepController {
  abstract readonly kind: ControllerKind;
  abstract accepted(err: number, rejectedInThisStep: boolean): number;
  abstract rejected(err: number): number;

  snapshot(): ControllerState {
    return { kind: this.kind, errPrev: Number.NaN };
  }

  restore(state: ControllerState): void {
    checkResumeKind(state, this.kind);
  }
}

/** Elementary controller h_new = h * clamp(SAFETY * err^(-1/5), MIN_FACTOR, MAX_FACTOR). */
export class IController extends MemorylessController {
  readonly kind = 'I' as const;

  accepted(err: number, rejectedInThisStep: boolean): number {
    let factor = err === 0 ? MAX_FACTOR : Math.min(MAX_FACTOR, SAFETY * Math.pow(err, -I_EXPONENT));
    if (rejectedInThisStep && factor > 1) factor = 1;
    return Math.max(MIN_FACTOR, factor);
  }

  rejected(err: number): number {
    return rejectionFactor(err, I_EXPONENT);
  }
}

/**
 * Hairer's PI controller as in DOPRI5: on acceptance
 *   factor = clamp(SAFETY * err^-PI_ALPHA * errPrev^PI_BETA, MIN_FACTOR, MAX_FACTOR),
 *   errPrev <- max(err, PI_ERR_FLOOR);
 * on rejection factor = max(MIN_FACTOR, SAFETY * err^-PI_ALPHA) and errPrev is kept.
 */
export class PIController implements StepController {
  readonly kind = 'PI' as const;
  private errPrev = PI_ERR_FLOOR;

  accepted(err: number, rejectedInThisStep: boolean): number {
    // err = 0 gives err^-alpha = Infinity, which the clamp turns into MAX_FACTOR.
    let factor = Math.min(MAX_FACTOR, SAFETY * Math.pow(err, -PI_ALPHA) * Math.pow(this.errPrev, PI_BETA));
    factor = Math.max(MIN_FACTOR, factor);
    if (rejectedInThisStep && factor > 1) factor = 1;
    this.errPrev = Math.max(err, PI_ERR_FLOOR);
    return factor;
  }

  rejected(err: number): number {
    return rejectionFactor(err, PI_ALPHA);
  }

  snapshot(): ControllerState {
    return { kind: 'PI', errPrev: this.errPrev };
  }

  restore(state: ControllerState): void {
    checkResumeKind(state, 'PI');
    if (!(state.errPrev >= PI_ERR_FLOOR) || !Number.isFinite(state.errPrev)) {
      throw new UsageError(`resumeFrom.controller.errPrev must be a finite number >= ${PI_ERR_FLOOR}, got ${state.errPrev}`);
    }
    this.errPrev = state.errPrev;
  }
}

/**
 * Control switched off: the solver accepts every step whatever its error estimate and keeps h
 * (apart from clipping the last step to tEnd). Used to measure convergence order; needs h0.
 */
export class FixedStepController extends MemorylessController {
  readonly kind = 'fixed' as const;

  accepted(): number {
    return 1;
  }

  rejected(): number {
    throw new Error('FixedStepController.rejected: a fixed-step solve never rejects a step');
  }
}

/** Create a controller by kind. */
export function createController(kind: ControllerKind): StepController {
  if (kind === 'I') return new IController();
  if (kind === 'PI') return new PIController();
  if (kind === 'fixed') return new FixedStepController();
  throw new UsageError(`controller must be 'I', 'PI' or 'fixed', got '${String(kind)}'`);
}

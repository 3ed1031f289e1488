import { FillerMode } from '../data/generate.js';
import { InitScheme } from '../model/init.js';

export type Level = 'full' | 'gram' | 'type' | 'paper';
export type Method = 'dopri5' | 'gd' | 'odex';
export type Start = 'gaussian' | 'wishart' | 'orthogonal' | 'mean';
export type Controller = 'I' | 'PI';

/**
 * Every setting of a run. A preset fills all of them; each can be overridden by a CLI flag of
 * the same name. `s0`/`s1` are derived from `scale` unless scale = 'explicit'.
 */
export interface RunSettings {
  n: number;
  L: number;
  d: number;
  fillers: FillerMode;
  m: number;
  m1: number;
  /** initialisation scales: theory, theory-small, kaiming, or explicit s0/s1 */
  scale: InitScheme;
  s0?: number;
  s1?: number;
  seed: number;
  level: Level;
  /** the starting state: gaussian (paper), wishart (Level G any m), orthogonal (Level F at the mean state), mean (Level G/T) */
  init: Start;
  method: Method;
  /** gradient flow: end time, tolerances, step budget, step-size controller */
  tEnd: number;
  rtol: number;
  atol: number;
  maxSteps: number;
  /**
   * 'I' (elementary, as scipy's RK45) or 'PI' (Hairer's DOPRI5 default). On these smooth,
   * non-stiff gradient flows 'I' needed 6-11% fewer evaluations at every level and preset tried
   * (docs/integrator.md), and it makes a run comparable step for step with SciPy's RK45.
   */
  controller: Controller;
  /** gradient descent: learning rate and number of steps (flow time = lr * steps) */
  lr: number;
  steps: number;
  /** number of recorded trajectory rows (log-spaced in time, plus t = 0) */
  samples: number;
  /** size of a held-out test set drawn from the data distribution (0: none); recorded per row */
  testN?: number;
  /** number of log-spaced recorded rows whose full state is also written (snapshots/) */
  snapshots?: number;
}

/**
 * paper-fig1: the paper's App. A experiment (n = 60 as 30/10/10/10, L = 5, d = 64, m = 128,
 * m1 = 256, "Kaiming" init, full-batch GD with lr 0.01 for 30,000 epochs). d = 64 leaves 61
 * filler tokens for 160 filler slots, so fillers repeat across samples (Assumption 2.3(ii) is not
 * met, as in the paper). Flow settings (t = 300 = lr x steps, rtol 1e-8, atol 1e-10) are the
 * reference SciPy comparison of docs/levels.md#the-scipy-reference-comparison.
 *
 * theory: a theory-conforming set (exact proportions, every filler distinct) with the theory
 * scales s0 = 1/sqrt(L m), s1 = 1/sqrt(m1) and m >= max(m1, L^2) (Condition 1). n = 24 and L = 6
 * need 88 filler tokens (d = 96 leaves room); m = 128, m1 = 64 keep a Level F flow at a few
 * seconds while Level T (the reduced system) is exact for the mean start at any size. It does NOT
 * meet every hypothesis of the theorems: n = 24 < L^2 = 36, and at these scales F(0) = Theta(1)
 * (max_i |F_i(0)| is about 1.9 at seed 0, not small). `coflow presets` lists what each preset
 * meets and breaks (src/claims/hypotheses.ts).
 *
 * theory-strict: meets every hypothesis checked in src/claims/hypotheses.ts at its defaults.
 * - n = 240 >= L^2 = 36 with L = 6; exact proportions; every filler distinct, which needs
 *   d >= 3 + n(3L-7)/3 = 883 (Assumption 2.3(ii)); d = 883 leaves no unused token.
 * - m = 256 >= max(m1, L^2) = 64 (Condition 1, strictly, no log slack); m1 = 64.
 * - scale theory-small: s1 = 1/sqrt(m1) and s0 = 1e-3/sqrt(L m) (src/model/init.ts), so that
 *   max_i |F_i(0)| is about 3e-3 at seed 0, below the 0.01 of the proofs' small initial output.
 *   With s1^2 m1 = 1, T1 = C/(s1^2 m m1) = C/m (Thm E.26): every sample is classified correctly
 *   near t = 0.04 at seed 0, and the loss falls as 1/(Theta(m) t) (Thm F.8).
 * - t-end = 10, about 250 T1: well into Phase 2, loss about 3e-3. A Level F run takes a few
 *   seconds on two cores (about 700k weights, under 400 gradient evaluations).
 * - GD (--method gd): lr 0.01 for 1000 steps covers the same time t = 10 and is stable here
 *   (its loss at step 1000 is within 0.2% of the flow's).
 * The small s0 has a cost: W_Q and W_K start 1e-3 times smaller, and the attention scores move
 * at rates proportional to s0^2 (Lemma 4.7), so within t-end they stay near 1e-8: Thm 3.2's
 * score claims hold (coflow check, docs/claims.md) but on tiny changes.
 */
export const PRESETS: Record<string, RunSettings> = {
  'paper-fig1': {
    n: 60,
    L: 5,
    d: 64,
    fillers: 'repeat',
    m: 128,
    m1: 256,
    scale: 'kaiming',
    seed: 0,
    level: 'full',
    init: 'gaussian',
    method: 'gd',
    tEnd: 300,
    rtol: 1e-8,
    atol: 1e-10,
    maxSteps: 1_000_000,
    controller: 'I',
    lr: 0.01,
    steps: 30_000,
    samples: 200,
  },
  theory: {
    n: 24,
    L: 6,
    d: 96,
    fillers: 'distinct',
    m: 128,
    m1: 64,
    scale: 'theory',
    seed: 0,
    level: 'full',
    init: 'gaussian',
    method: 'dopri5',
    tEnd: 1000,
    rtol: 1e-8,
    atol: 1e-10,
    maxSteps: 1_000_000,
    controller: 'I',
    lr: 0.01,
    steps: 100_000,
    samples: 200,
  },
  'theory-strict': {
    n: 240,
    L: 6,
    d: 883,
    fillers: 'distinct',
    m: 256,
    m1: 64,
    scale: 'theory-small',
    seed: 0,
    level: 'full',
    init: 'gaussian',
    method: 'dopri5',
    tEnd: 10,
    rtol: 1e-8,
    atol: 1e-10,
    maxSteps: 1_000_000,
    controller: 'I',
    lr: 0.01,
    steps: 1000,
    samples: 200,
  },
};

export function presetNames(): string[] {
  return Object.keys(PRESETS);
}

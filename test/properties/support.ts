/**
 * Shared pieces of the property-based tests in this folder: random settings (fast-check
 * arbitraries), how one setting is turned into a run through the public library (resolveSettings
 * -> generateDataset -> buildStart -> runDynamics), and the PREDICATES the properties assert.
 *
 * Every predicate returns its measured value together with the verdict, so that a property can
 * assert `holds === true` on its generated settings and a negative control can assert
 * `holds === false` on a setting that breaks the property's hypothesis, and both can report
 * how far from the bound they were.
 */
import { fc } from '@fast-check/vitest';
import { expect, it } from 'vitest';
import { resolveSettings, type ResolvedSettings } from '../../src/config/resolve.js';
import type { Level, RunSettings, Start } from '../../src/config/presets.js';
import { MU1, MU2, type Dataset } from '../../src/data/dataset.js';
import { fillerSlots, generateDataset } from '../../src/data/generate.js';
import { buildStart } from '../../src/run/levels.js';
import { runDynamics, type RunOutcome, type RunPlan } from '../../src/run/run.js';
import type { Trajectory } from '../../src/analysis/trajectory.js';

// ---------------------------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------------------------

/** One random setting: data, widths, scales relative to Condition 1, seeds, level and start. */
export interface Setting {
  n: number;
  L: number;
  /** tokens beyond the n(3L-7)/3 filler slots + 3 that distinct fillers need */
  extraD: number;
  m: number;
  m1: number;
  /** s0 = c0 / sqrt(L m), s1 = c1 / sqrt(m1): factors on the Condition 1 scales */
  c0: number;
  c1: number;
  /** seed of the initial weights (or Wishart draw) */
  seed: number;
  /** seed of the training set */
  dataSeed: number;
  level: Level;
  init: Start;
}

export function scalesOf(c: Pick<Setting, 'L' | 'm' | 'm1' | 'c0' | 'c1'>): { s0: number; s1: number } {
  return { s0: c.c0 / Math.sqrt(c.L * c.m), s1: c.c1 / Math.sqrt(c.m1) };
}

/**
 * The end of Phase 1 predicted by Thm E.26 up to its constant: T1 = 1 / (s1^2 m m1). Every run
 * here integrates to a fixed multiple of it, so Phase 1 and the start of Phase 2 are covered
 * whatever the widths and scales (measured: every sample is classified correctly by 2..30 T1).
 */
export function t1Of(c: Pick<Setting, 'L' | 'm' | 'm1' | 'c0' | 'c1'>): number {
  const { s1 } = scalesOf(c);
  return 1 / (s1 * s1 * c.m * c.m1);
}

/** Flow end time in units of T1. */
export const T_END_OVER_T1 = 40;

/** Smallest vocabulary with every filler of the whole set distinct (Assumption 2.3(ii)). */
export function minDistinctD(n: number, L: number): number {
  return 3 + fillerSlots(n, L);
}

/** Settings as the library resolves them (preset 'theory', explicit scales). */
export function settingsOf(c: Setting, data: Dataset, extra: Partial<RunSettings> = {}): ResolvedSettings {
  const { s0, s1 } = scalesOf(c);
  return resolveSettings('theory', {
    n: data.n,
    L: data.L,
    d: data.d,
    fillers: 'distinct',
    m: c.m,
    m1: c.m1,
    s0,
    s1,
    seed: c.seed,
    level: c.level,
    init: c.init,
    ...extra,
  });
}

/** The training set of a setting: theory-conforming (exact proportions, distinct fillers). */
export function dataOf(c: Setting): Dataset {
  return generateDataset({ n: c.n, L: c.L, d: minDistinctD(c.n, c.L) + c.extraD, seed: c.dataSeed, fillers: 'distinct' });
}

export const RTOL = 1e-9;
export const ATOL = 1e-12;

export function flowPlan(tEnd: number, rtol = RTOL, samples = 40): RunPlan {
  // maxSteps: at most 118 trial steps measured over every property run; a stop at the cap is a
  // 'max-steps' status, which every caller asserts against
  return { method: 'dopri5', tEnd, rtol, atol: ATOL, maxSteps: 1000, controller: 'I', lr: 1, steps: 1, samples };
}

/**
 * Full-batch GD for `steps` steps, recording about steps + 1 log-spaced iterates (the run
 * machinery's logStepIndices: t = 0, every early iterate, the last one; duplicates dropped).
 */
export function gdPlan(lr: number, steps: number): RunPlan {
  return { method: 'gd', tEnd: lr * steps, rtol: 1, atol: 1, maxSteps: 1, controller: 'I', lr, steps, samples: steps + 1 };
}

/** Builds the setting's start with buildStart and runs it with the given plan. */
export async function runSetting(c: Setting, plan: RunPlan, data: Dataset = dataOf(c)): Promise<RunOutcome> {
  const start = await buildStart(settingsOf(c, data), data);
  return runDynamics(start.dynamics, start.y0, plan);
}

/** A gradient flow of the setting to T_END_OVER_T1 * T1 at the given rtol. */
export function runFlow(c: Setting, rtol = RTOL, data?: Dataset): Promise<RunOutcome> {
  return runSetting(c, flowPlan(T_END_OVER_T1 * t1Of(c), rtol), data);
}

// ---------------------------------------------------------------------------------------------
// Arbitraries
// ---------------------------------------------------------------------------------------------

/** Starts each level accepts (src/run/levels.ts, STARTS_BY_LEVEL). */
export const STARTS: Record<Level, readonly Start[]> = {
  full: ['gaussian', 'orthogonal'],
  gram: ['gaussian', 'wishart', 'orthogonal', 'mean'],
  type: ['mean'],
};

/** Distinct tokens of a theory-conforming set: mu_1..mu_3 and one per filler slot. */
/** Size caps of settingArb per level: Level G's state grows as k^2 (k = tokens used), so its sizes are capped lower. */
export const LEVEL_SIZES: Record<Level, { nMax?: number; LMax?: number }> = { full: {}, gram: { nMax: 24, LMax: 5 }, type: {} };

export function tokensUsed(n: number, L: number): number {
  return 3 + fillerSlots(n, L);
}

/**
 * Random theory-conforming settings at one level, from the given start (default: any of the
 * level's starts).
 * - n a multiple of 6 in [12, nMax], L in [4, LMax], distinct fillers, d up to 5 spare tokens;
 * - m in [8, 64], m1 in [4, 32]; scales c0, c1 in [0.5, 2] times Condition 1's;
 * - the orthogonal start needs m >= 2k (k = tokens used; src/reduced/orthogonal.ts), which
 *   within m <= 64 only n = 12, L = 4 (k = 23) allows: that start draws n = 12, L = 4, m in [46, 64].
 * Level G's state grows as k^2, so its sizes are capped lower (nMax, LMax) to keep runs short.
 */
export function settingArb(level: Level, opts: { nMax?: number; LMax?: number; init?: Start } = {}): fc.Arbitrary<Setting> {
  const nMax = opts.nMax ?? 48;
  const LMax = opts.LMax ?? 6;
  return fc
    .record({
      nSixths: fc.integer({ min: 2, max: nMax / 6 }),
      L: fc.integer({ min: 4, max: LMax }),
      extraD: fc.integer({ min: 0, max: 5 }),
      m: fc.integer({ min: 8, max: 64 }),
      m1: fc.integer({ min: 4, max: 32 }),
      c0: fc.double({ min: 0.5, max: 2, noNaN: true }),
      c1: fc.double({ min: 0.5, max: 2, noNaN: true }),
      seed: fc.integer({ min: 0, max: 1_000_000 }),
      dataSeed: fc.integer({ min: 0, max: 1_000_000 }),
      init: opts.init ? fc.constant(opts.init) : fc.constantFrom(...STARTS[level]),
      mOrth: fc.integer({ min: 2 * tokensUsed(12, 4), max: 64 }),
    })
    .map(({ nSixths, mOrth, ...r }): Setting => {
      if (r.init === 'orthogonal') return { ...r, n: 12, L: 4, m: mOrth, level };
      return { ...r, n: 6 * nSixths, level };
    });
}

// ---------------------------------------------------------------------------------------------
// Helpers on trajectories and data
// ---------------------------------------------------------------------------------------------

export function maxOf(xs: readonly number[]): number {
  let m = -Infinity;
  for (const x of xs) m = Number.isNaN(x) || Number.isNaN(m) ? NaN : Math.max(m, x);
  return m;
}

/** The time of the first 'all-correct' event (every sample classified correctly), or NaN. */
export function allCorrectTime(r: RunOutcome): number {
  return r.events.find((e) => e.name === 'all-correct')?.t ?? NaN;
}

/**
 * A copy of a theory-conforming set in which `moved` I3 samples become I2 samples: their mu_2
 * is replaced by mu_1 (labels stay -1, fillers stay distinct, n stays the same). The result
 * breaks exactly one hypothesis, |I2| = |I3| (Assumption 2.3's exact proportions).
 */
export function moveI3ToI2(data: Dataset, moved: number): Dataset {
  const tokens = data.tokens.slice();
  const type = data.type.slice();
  let done = 0;
  for (let i = 0; i < data.n && done < moved; i++) {
    if (type[i] !== 3) continue;
    for (let l = 0; l < data.L; l++) if (tokens[i * data.L + l] === MU2) tokens[i * data.L + l] = MU1;
    type[i] = 2;
    done++;
  }
  if (done !== moved) throw new Error(`only ${done} I3 samples to move, asked for ${moved}`);
  return { n: data.n, L: data.L, d: data.d, tokens, y: data.y.slice(), type };
}

export function typeCountsOf(data: Dataset): number[] {
  const c = [0, 0, 0, 0];
  for (const t of data.type) c[t - 1]++;
  return c;
}

// ---------------------------------------------------------------------------------------------
// Predicates
// ---------------------------------------------------------------------------------------------

export interface Verdict {
  holds: boolean;
  /** the measured quantity the verdict compares with the bound */
  value: number;
}

/**
 * Conservation: the largest relative drift of the two conserved groups (drift_QK: W_Q W_Q^T -
 * W_K W_K^T, drift_VW: W^T W - W_V W_V^T, or their Gram-level traces) over every recorded row.
 */
export function conservation(traj: Trajectory, bound: number): Verdict {
  const value = maxOf([...traj.column('drift_QK'), ...traj.column('drift_VW')]);
  return { holds: value <= bound, value };
}

/**
 * Lemma 4.4: balance44 = |sumg_I2 - sumg_I3| / min(sumg_I2, sumg_I3) at every recorded row from
 * the all-correct event on (the event's own row included). Fails if there was no such event
 * (the property would be vacuous) or a value is not finite.
 */
export function balancedAfterAllCorrect(r: RunOutcome, C: number): Verdict & { tAllCorrect: number } {
  const ev = r.events.find((e) => e.name === 'all-correct');
  if (!ev) return { holds: false, value: NaN, tAllCorrect: NaN };
  const traj = r.trajectory;
  const j = traj.columns.indexOf('balance44');
  const values: number[] = ev.row ? [ev.row[j]] : [];
  const t = traj.column('t');
  const b = traj.column('balance44');
  for (let i = 0; i < t.length; i++) if (t[i] >= ev.t) values.push(b[i]);
  const value = maxOf(values);
  return { holds: values.length > 1 && value <= C, value, tAllCorrect: ev.t };
}

/**
 * Columns exchanged by the target swap mu_1 <-> mu_2 (which also exchanges I2 with I3 and their
 * fillers). On balanced data from a swap-invariant start the flow keeps each pair equal.
 */
export const SWAP_PAIRS: readonly (readonly [string, string])[] = [
  ['G1', 'G2'],
  ['score_k2_q1', 'score_k1_q2'],
  ['score_k1_q1', 'score_k2_q2'],
  ['score_k3_q1', 'score_k3_q2'],
  ['score_k1_q3', 'score_k2_q3'],
  ['C13', 'C23'],
  ['C11', 'C22'],
  ['sumg_I2', 'sumg_I3'],
  ['loss_I2', 'loss_I3'],
  ['margin_I2', 'margin_I3'],
  ['dG1', 'dG2'],
  ['fillerF_I2', 'fillerF_I3'],
];

/**
 * Relative difference of two columns over a whole trajectory: max_i |a_i - b_i| divided by the
 * largest |a_i|, |b_i| (the columns' common scale; a column that starts at 0, like the scores
 * from the mean state, is then judged against the size it reaches). 0 for two zero columns.
 */
export function columnRelDiff(traj: Trajectory, a: string, b: string): number {
  const x = traj.column(a);
  const y = traj.column(b);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < x.length; i++) {
    const dlt = Math.abs(x[i] - y[i]);
    diff = Number.isNaN(dlt) ? Infinity : Math.max(diff, dlt);
    scale = Math.max(scale, Math.abs(x[i]), Math.abs(y[i]));
  }
  return scale > 0 ? diff / scale : diff;
}

/** Target-swap symmetry: every SWAP_PAIRS pair equal to relative tol at every row. */
export function swapSymmetric(traj: Trajectory, tol: number): Verdict & { worstPair: string } {
  let value = 0;
  let worstPair = '';
  for (const [a, b] of SWAP_PAIRS) {
    const r = columnRelDiff(traj, a, b);
    if (!(r <= value)) {
      value = r;
      worstPair = `${a}/${b}`;
    }
  }
  return { holds: value <= tol, value, worstPair };
}

/**
 * The loss never increases from one recorded row to the next: loss_{i+1} <= loss_i (1 + relTol).
 * value = the largest relative increase (negative: the smallest relative decrease).
 */
export function lossNonIncreasing(traj: Trajectory, relTol: number): Verdict {
  const loss = traj.column('loss');
  let value = -Infinity;
  for (let i = 1; i < loss.length; i++) {
    const diff = loss[i] - loss[i - 1];
    // A loss that underflows to 0 and stays there is not a rise; a non-finite loss is one.
    const rel = diff === 0 ? 0 : diff / loss[i - 1];
    value = Number.isNaN(rel) ? Infinity : Math.max(value, rel);
  }
  return { holds: loss.length > 1 && value <= relTol, value };
}

/** Largest values seen, printed once per file so a run reports how close it came to the bounds. */
export class Worst {
  private readonly seen = new Map<string, number>();
  note(key: string, v: number): void {
    const old = this.seen.get(key);
    if (old === undefined || !(v <= old)) this.seen.set(key, v);
  }
  report(title: string): void {
    const lines = [...this.seen].map(([k, v]) => `  ${k}: ${v.toExponential(3)}`);
    console.log(`${title}\n${lines.join('\n')}`);
  }
}

/** A small theory-conforming setting for the negative controls (n = 12, L = 4, m = 16, m1 = 8), at a level's default start. */
export function smallSetting(level: Level): Setting {
  const base: Omit<Setting, 'level' | 'init'> = { n: 12, L: 4, extraD: 0, m: 16, m1: 8, c0: 1, c1: 1, seed: 5, dataSeed: 6 };
  return { ...base, level, init: level === 'type' ? 'mean' : 'gaussian' };
}

/**
 * One test per level and start: the gradient flow (runFlow) of `runsPerStart[level]` random
 * settings (settingArb, LEVEL_SIZES, fixed `seed`) ends in success and passes `check`; the count
 * of property bodies run is asserted, so a property that never ran cannot pass.
 */
export function flowPropertyPerStart(
  title: (level: Level, init: Start) => string,
  runsPerStart: Record<Level, number>,
  seed: number,
  check: (c: Setting, r: RunOutcome, level: Level) => void,
): void {
  for (const level of ['full', 'gram', 'type'] as const) {
    for (const init of STARTS[level]) {
      it(title(level, init), async () => {
        let runs = 0;
        await fc.assert(
          fc.asyncProperty(settingArb(level, { ...LEVEL_SIZES[level], init }), async (c) => {
            runs++;
            const r = await runFlow(c);
            expect(r.status).toBe('success');
            check(c, r, level);
          }),
          { seed, numRuns: runsPerStart[level] },
        );
        expect(runs).toBe(runsPerStart[level]);
      });
    }
  }
}

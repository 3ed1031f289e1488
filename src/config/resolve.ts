import { UsageError } from '../errors.js';
import { validateDataConfig } from '../data/generate.js';
import { initScales } from '../model/init.js';
import { Level, Method, PRESETS, RunSettings, Start, presetNames } from './presets.js';

/** Settings with s0 and s1 resolved to numbers. */
export type ResolvedSettings = RunSettings & { s0: number; s1: number; preset: string; testN: number; snapshots: number };

const LEVELS: Level[] = ['full', 'gram', 'type'];
const METHODS: Method[] = ['dopri5', 'gd', 'odex'];
const STARTS: Start[] = ['gaussian', 'wishart', 'orthogonal', 'mean'];

export function getPreset(name: string): RunSettings {
  const p = PRESETS[name];
  if (!p) throw new UsageError(`unknown preset '${name}'; choose one of: ${presetNames().join(', ')}`);
  return { ...p };
}

function positiveInt(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new UsageError(`${name} must be a positive integer (got ${v})`);
}

function positiveFinite(name: string, v: number): void {
  if (!Number.isFinite(v) || v <= 0) throw new UsageError(`${name} must be a finite number > 0 (got ${v})`);
}

/**
 * Applies overrides to a preset and checks every field; errors name the flag and the fix.
 * Giving s0 or s1 switches the scale to 'explicit' (the other one then comes from the preset's
 * scheme, so `--s0 0.1` alone keeps the preset's s1).
 */
export function resolveSettings(preset: string, overrides: Partial<RunSettings>): ResolvedSettings {
  const base = getPreset(preset);
  const s: RunSettings = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    if (value !== undefined) (s as unknown as Record<string, unknown>)[key] = value;
  }
  if (!LEVELS.includes(s.level)) throw new UsageError(`--level must be one of ${LEVELS.join('|')} (got '${s.level}')`);
  if (!METHODS.includes(s.method)) throw new UsageError(`--method must be one of ${METHODS.join('|')} (got '${s.method}')`);
  if (s.controller !== 'I' && s.controller !== 'PI') throw new UsageError(`--controller must be I or PI (got '${s.controller}')`);
  if (!STARTS.includes(s.init)) throw new UsageError(`--init must be one of ${STARTS.join('|')} (got '${s.init}')`);
  if (!['theory', 'theory-small', 'kaiming', 'explicit'].includes(s.scale)) {
    throw new UsageError(`--scale must be theory|theory-small|kaiming|explicit (got '${s.scale}')`);
  }
  validateDataConfig({ n: s.n, L: s.L, d: s.d, seed: s.seed, fillers: s.fillers });
  positiveInt('--m', s.m);
  positiveInt('--m1', s.m1);
  if (!Number.isInteger(s.samples) || s.samples < 2) throw new UsageError(`--samples must be an integer >= 2 (t = 0 and the end at least; got ${s.samples})`);
  positiveInt('--steps', s.steps);
  positiveInt('--max-steps', s.maxSteps);
  positiveFinite('--lr', s.lr);
  positiveFinite('--rtol', s.rtol);
  positiveFinite('--atol', s.atol);
  if (!Number.isFinite(s.tEnd) || s.tEnd <= 0) throw new UsageError(`--t-end must be a finite number > 0 (got ${s.tEnd})`);
  if (s.rtol < 1e-14) throw new UsageError(`--rtol ${s.rtol} is below float64 resolution; use --rtol >= 1e-14`);

  const explicitGiven = overrides.s0 !== undefined || overrides.s1 !== undefined;
  const schemeScales =
    s.scale === 'explicit' && !explicitGiven
      ? initScales('explicit', s, { s0: s.s0, s1: s.s1 })
      : initScales(s.scale === 'explicit' ? base.scale : s.scale, s, { s0: s.s0, s1: s.s1 });
  const s0 = overrides.s0 ?? schemeScales.s0;
  const s1 = overrides.s1 ?? schemeScales.s1;
  if (!Number.isFinite(s0) || s0 <= 0) throw new UsageError(`--s0 must be a finite number > 0 (got ${s0})`);
  if (!Number.isFinite(s1) || s1 <= 0) throw new UsageError(`--s1 must be a finite number > 0 (got ${s1})`);
  const testN = s.testN ?? 0;
  const snapshots = s.snapshots ?? 0;
  if (!Number.isInteger(testN) || testN < 0) throw new UsageError(`--test-n must be an integer >= 0 (0: no test set; got ${testN})`);
  if (testN > 0 && s.level === 'type') {
    throw new UsageError('--test-n is not available at --level type: Level T represents only the training set\'s symmetry orbits, and a test set\'s tokens break that symmetry; use --level gram or full');
  }
  if (!Number.isInteger(snapshots) || snapshots < 0 || snapshots > s.samples - 1) {
    throw new UsageError(`--snapshots must be an integer in [0, samples - 1 = ${s.samples - 1}] (snapshots are taken at recorded rows; got ${snapshots})`);
  }
  return { ...s, scale: explicitGiven ? 'explicit' : s.scale, s0, s1, preset, testN, snapshots };
}

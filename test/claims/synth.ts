/**
 * Synthetic run directories for the claims checker: config.json, trajectory.csv, summary.json and
 * data.npz written by hand, every trajectory column given by a closed-form formula of t, so each
 * measured quantity has a known value (the oracle). The base run meets every hypothesis and every
 * claim; a test breaks one claim by overriding one column's formula (or the events, the columns
 * present, the method, ...) and checks the verdict and the measured value.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDataset } from '../../src/data/generate.js';
import { writeDatasetNpz } from '../../src/io/files.js';

/** Base sizes: Condition 1 (m = 64 >= max(m1, L^2) = 36), n = L^2, distinct fillers (132 slots, d - 3 = 133 tokens). */
export const BASE = { n: 36, L: 6, d: 136, m: 64, m1: 32 } as const;
export const S0 = 1 / Math.sqrt(BASE.L * BASE.m);
export const S1 = 1 / Math.sqrt(BASE.m1);
/** s1^2 m m1: the Phase 1 speed (Thm E.26) and the Phase 2 loss rate scale (Thm F.8). */
export const K = S1 * S1 * BASE.m * BASE.m1;
/** T1 K = 2 (Thm E.26's C). */
export const T1_BASE = 2 / K;
export const LOSS0 = Math.log(2);
/** loss(T1) */
export const LOSS1 = 0.5;
/** Thm F.8's c in units of K: 1/L(t) = C_F8 K (t - T1) + 1/LOSS1 in Phase 2. */
export const C_F8 = 0.5;
/** score movement amplitude: target-target scores move by A_S ln(1 + K t). */
export const A_S = 1e-5;
/** value-correlation movement amplitude */
export const B_C = 1e-4;
/** initial scores sigma_ij = score_k{i}_q{j}(0) */
export const SIGMA = (i: number, j: number) => 1e-3 * (i + 3 * j);
/** t = 0 value of dG(mu_3)/dt (Lemma 4.2: small next to dG1(0) = K/6) */
export const DG3_0 = -0.5;
/** amplitude of the one-target rise: loss_I2 = loss + RISE sin(pi t / T1) in Phase 1 */
export const RISE = 0.1;

export interface Ctx {
  T1: number;
  /** row index (-1 for the exact all-correct row) */
  i: number;
}
export type Formula = (t: number, base: number, ctx: Ctx) => number;

export interface SynthOptions {
  method: 'dopri5' | 'gd';
  testN: number;
  rtol: number;
  /** maxAbsF at t = 0 (small-F0 hypothesis: <= 0.01) */
  maxAbsF0: number;
  tEnd: number;
  /** rows after t = 0, log-spaced from tEnd 1e-6 to tEnd */
  rows: number;
  /** T1 (time of the all-correct event); null: no such event */
  T1: number | null;
  /** write summary.json's allCorrectRow (the exact row at T1) */
  allCorrectRow: boolean;
  /** write the peak-loss_I2/I3 events */
  peakEvents: boolean;
  /** columns to leave out of trajectory.csv */
  drop: string[];
  /** replace a column's formula: (t, base value, ctx) -> value */
  override: Record<string, Formula>;
  status: string;
}

export const DEFAULTS: SynthOptions = {
  method: 'dopri5',
  testN: 0,
  rtol: 1e-8,
  maxAbsF0: 0.001,
  tEnd: 100,
  rows: 150,
  T1: T1_BASE,
  allCorrectRow: true,
  peakEvents: true,
  drop: [],
  override: {},
  status: 'success',
};

const u = (t: number) => Math.log1p(K * t);

/** Phase 2 progress: 0 up to T1, ln(1 + K (t - T1)) after. */
const p2 = (t: number, T1: number) => Math.log1p(K * Math.max(0, t - T1));

/** The base loss: linear from log 2 to LOSS1 over Phase 1, then Thm F.8's 1/(c (t - T1) + 1/L(T1)). */
export function baseLoss(t: number, T1: number): number {
  if (t <= T1) return LOSS0 - (LOSS0 - LOSS1) * (t / T1);
  return 1 / (C_F8 * K * (t - T1) + 1 / LOSS1);
}

/** The time of the maximum of loss_I2 in Phase 1 (d/dt [baseLoss + RISE sin(pi t/T1)] = 0). */
export function peakTime(T1: number): number {
  return (T1 * Math.acos((LOSS0 - LOSS1) / (RISE * Math.PI))) / Math.PI;
}

/** Base formulas of every column except lemma43_*, which are derived from the dG columns. */
function baseColumns(o: SynthOptions, withTest: boolean): [string, (t: number, T1: number) => number][] {
  const ph1 = (t: number, T1: number) => t <= T1;
  const dG1 = (t: number, T1: number) => (ph1(t, T1) ? K / 6 : K / (6 * (1 + K * (t - T1))));
  const cols: [string, (t: number, T1: number) => number][] = [];
  if (o.method === 'gd') cols.push(['step', (t) => Math.round(t / 0.01)]);
  cols.push(['loss', baseLoss]);
  cols.push(['loss_I1', baseLoss]);
  for (const k of [2, 3]) cols.push([`loss_I${k}`, (t, T1) => baseLoss(t, T1) + (ph1(t, T1) ? RISE * Math.sin((Math.PI * t) / T1) : 0)]);
  cols.push(['loss_I4', baseLoss]);
  const G1 = (t: number, T1: number) => (ph1(t, T1) ? (K / 6) * t : (K / 6) * T1 + p2(t, T1));
  cols.push(['G1', G1], ['G2', G1]);
  cols.push(['G3', (t, T1) => (ph1(t, T1) ? -(0.4 / T1) * t : -0.4 - 1.5 * p2(t, T1))]);
  for (let i = 1; i <= 3; i++) {
    for (let j = 1; j <= 3; j++) {
      let f: (t: number) => number = () => SIGMA(i, j);
      if ((i === 2 && j === 1) || (i === 1 && j === 2)) f = (t) => SIGMA(i, j) + A_S * u(t);
      if (i === 3 && j === 1) f = (t) => SIGMA(i, j) - A_S * u(t);
      if (i === 3 && j === 2) f = (t) => SIGMA(i, j) - 1.2 * A_S * u(t);
      cols.push([`score_k${i}_q${j}`, f]);
    }
  }
  const margin = (t: number, T1: number) => 2 * (t - T1);
  cols.push(['minMargin', margin]);
  cols.push(['drift_QK', (t) => 1e-10 * (u(t) / u(o.tEnd))], ['drift_VW', (t) => 2e-10 * (u(t) / u(o.tEnd))]);
  cols.push(['maxAbsF', (t, T1) => (t === 0 ? o.maxAbsF0 : o.maxAbsF0 + Math.abs(G1(t, T1)))]);
  for (let k = 1; k <= 4; k++) cols.push([`margin_I${k}`, margin]);
  const share = [1 / 2, 1 / 6, 1 / 6, 1 / 12];
  for (let k = 1; k <= 4; k++) cols.push([`sumg_I${k}`, (t, T1) => share[k - 1] * baseLoss(t, T1)]);
  cols.push(['balance44', () => 0.1]);
  cols.push(['R45', (t, T1) => (ph1(t, T1) ? 2 : 1.5 + 0.5 * Math.exp(-K * (t - T1)))]);
  const diag = BASE.m * S0 * S0;
  cols.push(['C11', () => diag], ['C12', (t) => 0.01 + B_C * u(t)], ['C13', (t) => -0.01 - B_C * u(t)]);
  cols.push(['C22', () => diag], ['C23', (t) => -0.02 - B_C * u(t)], ['C33', () => diag]);
  cols.push(['s', (t) => K * (1 + 1e-3 * u(t))]);
  cols.push(['move_A', (t) => 1e-6 * u(t)], ['move_B', (t) => 1e-6 * u(t)], ['move_C', (t) => B_C * u(t)]);
  cols.push(['move_S_tt', (t) => A_S * u(t)], ['move_S_sf', (t) => (A_S * u(t)) / BASE.n], ['move_S_ff', (t) => (A_S * u(t)) / (BASE.n * BASE.n)]);
  cols.push(['dG1', dG1], ['dG2', dG1]);
  // Late Phase 1 (t >= T1/2): -dG3 = 1.5 dG1, i.e. lemma43_max = 1.5, lemma43_sum = 0.75.
  cols.push(['dG3', (t, T1) => (ph1(t, T1) ? DG3_0 - (1.5 * (K / 6) + DG3_0) * Math.min(1, t / (T1 / 2)) : -1.5 * dG1(t, T1))]);
  cols.push(['attn_dev_uniform', (t) => 1e-4 * (1 + u(t) / 10)], ['attn_dev_init', (t) => 1e-5 * u(t)]);
  cols.push(['fillerF_I1', (t) => 0.2 * Math.tanh(u(t))]);
  for (const k of [2, 3, 4]) cols.push([`fillerF_I${k}`, (t) => -0.2 * Math.tanh(u(t))]);
  cols.push(['Gfiller_max', (t) => 0.1 * u(t)]);
  if (withTest) cols.push(['test_loss', (t, T1) => 1.5 * baseLoss(t, T1)], ['test_error', (t, T1) => (t > T1 ? 0 : 0.5)]);
  return cols;
}

/** Column name -> value at time t (overrides applied; lemma43_* from the dG values). */
function rowAt(o: SynthOptions, t: number, i: number): Map<string, number> {
  const T1 = o.T1 ?? Infinity;
  const row = new Map<string, number>([['t', t]]);
  for (const [name, f] of baseColumns(o, o.testN > 0)) {
    const base = f(t, T1);
    const ov = o.override[name];
    row.set(name, ov ? ov(t, base, { T1, i }) : base);
  }
  const [d1, d2, d3] = ['dG1', 'dG2', 'dG3'].map((c) => row.get(c)!);
  row.set('lemma43_max', -d3 / Math.max(d1, d2));
  row.set('lemma43_sum', -d3 / (d1 + d2));
  for (const name of ['lemma43_max', 'lemma43_sum']) {
    const ov = o.override[name];
    if (ov) row.set(name, ov(t, row.get(name)!, { T1, i }));
  }
  return row;
}

export function times(o: SynthOptions): number[] {
  const ts = [0];
  for (let k = 0; k < o.rows; k++) ts.push(o.tEnd * Math.pow(10, -6 + (6 * k) / (o.rows - 1)));
  return ts;
}

function num(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  return String(x);
}

function rowObject(names: string[], row: Map<string, number>): Record<string, number | null> {
  return Object.fromEntries(names.map((n) => [n, Number.isFinite(row.get(n)!) ? row.get(n)! : null]));
}

export interface Synth {
  dir: string;
  options: SynthOptions;
  /** the values written, by column */
  columns: Map<string, number[]>;
}

/** Writes a synthetic run directory and returns it with the values written. */
export function synthRun(partial: Partial<SynthOptions> = {}, dir?: string): Synth {
  const o: SynthOptions = { ...DEFAULTS, ...partial, override: { ...(partial.override ?? {}) } };
  const out = dir ?? mkdtempSync(join(tmpdir(), 'coflow-claims-'));
  const ts = times(o);
  const rows = ts.map((t, i) => rowAt(o, t, i));
  const names = [...rows[0].keys()].filter((n) => !o.drop.includes(n));
  const lines = [names.join(','), ...rows.map((r) => names.map((n) => num(r.get(n)!)).join(','))];
  writeFileSync(join(out, 'trajectory.csv'), lines.join('\n') + '\n');

  const settings = {
    n: BASE.n,
    L: BASE.L,
    d: BASE.d,
    fillers: 'distinct',
    m: BASE.m,
    m1: BASE.m1,
    scale: 'theory',
    seed: 1,
    level: 'full',
    init: 'gaussian',
    method: o.method,
    tEnd: o.tEnd,
    rtol: o.rtol,
    atol: 1e-10,
    maxSteps: 1000000,
    controller: 'I',
    lr: 0.01,
    steps: Math.round(o.tEnd / 0.01),
    samples: o.rows + 1,
    s0: S0,
    s1: S1,
    preset: 'synthetic',
    testN: o.testN,
  };
  writeFileSync(join(out, 'config.json'), JSON.stringify({ coflow: '0.1.0', rng: 'seedrandom.xor4096', settings, data: { source: 'generated' }, params: { source: 'gaussian' } }, null, 2) + '\n');

  const events: { name: string; t: number; step?: number }[] = [{ name: 'G3-negative', t: 1e-9 }];
  if (o.T1 !== null) {
    if (o.peakEvents) for (const k of [2, 3]) events.push({ name: `peak-loss_I${k}`, t: peakTime(o.T1) });
    events.push({ name: 'all-correct', t: o.T1 });
  }
  events.sort((a, b) => a.t - b.t);
  const summary: Record<string, unknown> = {
    status: o.status,
    message: 'synthetic',
    t: o.tEnd,
    stats: { nfev: 0, naccepted: 0, nrejected: 0 },
    events,
  };
  if (o.T1 !== null && o.allCorrectRow) summary.allCorrectRow = rowObject(names, rowAt(o, o.T1, -1));
  summary.final = rowObject(names, rows[rows.length - 1]);
  writeFileSync(join(out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');

  writeDatasetNpz(join(out, 'data.npz'), generateDataset({ n: BASE.n, L: BASE.L, d: BASE.d, seed: 1, fillers: 'distinct' }));
  const columns = new Map<string, number[]>();
  for (const n of names) columns.set(n, rows.map((r) => r.get(n)!));
  return { dir: out, options: o, columns };
}

import { evaluateHypotheses, Hypothesis } from '../claims/hypotheses.js';
import { presetNames } from '../config/presets.js';
import { ResolvedSettings, resolveSettings } from '../config/resolve.js';
import { Dataset } from '../data/dataset.js';
import { generateDataset } from '../data/generate.js';
import { GramModel } from '../gram/flow.js';
import { sampleGramState } from '../gram/wishart.js';
import { LossGrad } from '../model/gradient.js';
import { initParams } from '../model/init.js';
import { Params } from '../model/params.js';
import { orthogonalParams } from '../reduced/orthogonal.js';

/** What `coflow presets` reports for one preset at its default settings. */
export interface PresetReport {
  name: string;
  settings: {
    n: number;
    L: number;
    d: number;
    fillers: string;
    m: number;
    m1: number;
    scale: string;
    s0: number;
    s1: number;
    seed: number;
    level: string;
    init: string;
    method: string;
    tEnd: number;
    lr: number;
    steps: number;
  };
  /** max_i |F(X_i)| at the preset's default starting state and seed */
  maxAbsF0: number;
  hypotheses: Hypothesis[];
}

function maxAbs(F: Float64Array): number {
  let mx = 0;
  for (let i = 0; i < F.length; i++) mx = Math.max(mx, Math.abs(F[i]));
  return mx;
}

function forwardMaxAbs(p: Params, data: Dataset): number {
  const lg = new LossGrad(data, p.m, p.m1);
  lg.loss(p);
  return maxAbs(lg.F);
}

/**
 * max_i |F_i(0)| at the state a run of these settings starts from, so that small-F0 is judged on
 * what the run actually integrates: the Gaussian weights (initParams, same seed as `coflow run`),
 * the orthogonal weights, a Wishart draw of the Gram state (Level G), or the mean state, where
 * u = G(mu) = 0 for every token and so F(0) = 0 exactly.
 */
export function initialMaxAbsF(s: ResolvedSettings, data: Dataset): number {
  const { m, m1, s0, s1, seed } = s;
  switch (s.init) {
    case 'mean':
      return 0;
    case 'gaussian':
      return forwardMaxAbs(initParams({ m, m1, d: data.d, s0, s1, seed }), data);
    case 'orthogonal':
      return forwardMaxAbs(orthogonalParams({ data, m, m1, s0, s1, seed }), data);
    case 'wishart': {
      const model = new GramModel(data, m, m1);
      return maxAbs(model.outputs(sampleGramState({ data, m, m1, s0, s1, seed })).F);
    }
  }
}

export function presetReport(name: string): PresetReport {
  const s = resolveSettings(name, {});
  const data = generateDataset({ n: s.n, L: s.L, d: s.d, seed: s.seed, fillers: s.fillers });
  const maxAbsF0 = initialMaxAbsF(s, data);
  const hypotheses = evaluateHypotheses({
    settings: { n: s.n, L: s.L, d: s.d, m: s.m, m1: s.m1, s0: s.s0, s1: s.s1, method: s.method, fillers: s.fillers },
    data,
    maxAbsF0,
  });
  return {
    name,
    settings: {
      n: s.n,
      L: s.L,
      d: s.d,
      fillers: s.fillers,
      m: s.m,
      m1: s.m1,
      scale: s.scale,
      s0: s.s0,
      s1: s.s1,
      seed: s.seed,
      level: s.level,
      init: s.init,
      method: s.method,
      tEnd: s.tEnd,
      lr: s.lr,
      steps: s.steps,
    },
    maxAbsF0,
    hypotheses,
  };
}

export function presetReports(): PresetReport[] {
  return presetNames().map(presetReport);
}

function num(x: number): string {
  const a = Math.abs(x);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? x.toExponential(5) : Number(x.toPrecision(6)).toString();
}

export function formatReport(r: PresetReport): string {
  const s = r.settings;
  const run =
    s.method === 'gd'
      ? `gd, lr ${num(s.lr)}, ${s.steps} steps`
      : `${s.method} to t = ${num(s.tEnd)}`;
  const lines = [
    `${r.name}`,
    `  n = ${s.n}, L = ${s.L}, d = ${s.d}, fillers ${s.fillers}, m = ${s.m}, m1 = ${s.m1}, s0 = ${num(s.s0)}, s1 = ${num(s.s1)} (scale ${s.scale})`,
    `  default: level ${s.level}, init ${s.init}, ${run}, seed ${s.seed}`,
  ];
  const width = Math.max(...r.hypotheses.map((h) => h.id.length));
  for (const h of r.hypotheses) lines.push(`  ${h.holds ? 'holds ' : 'BREAKS'}  ${h.id.padEnd(width)}  ${h.measured}`);
  const met = r.hypotheses.filter((h) => h.holds).length;
  lines.push(`  meets ${met} of ${r.hypotheses.length} hypotheses${met === r.hypotheses.length ? '' : `; breaks ${r.hypotheses.filter((h) => !h.holds).map((h) => h.id).join(', ')}`}`);
  return lines.join('\n');
}

/** `coflow presets`: every preset's settings and the theorems' hypotheses it meets or breaks. */
export function presetsCommand(json: boolean): void {
  const reports = presetReports();
  if (json) {
    process.stdout.write(`${JSON.stringify({ presets: reports }, null, 2)}\n`);
    return;
  }
  const statements = reports[0]?.hypotheses.map((h) => `  ${h.id}: ${h.statement}`) ?? [];
  process.stdout.write(`${reports.map(formatReport).join('\n\n')}\n\nhypotheses (the theorems' conditions, at each preset's defaults):\n${statements.join('\n')}\n`);
}

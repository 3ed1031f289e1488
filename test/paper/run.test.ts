/**
 * Level P as a run: the phase switch at the all-correct time (Thm 3.1's T1), exact resume across
 * the switch (the phase is a function of the state), the observation contract (uniform attention,
 * frozen S, A, B; dG = the level's own rates), and the CLI (run, refusals, check, derive).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GramModel } from '../../src/gram/flow.js';
import { meanGramState, sampleGramState } from '../../src/gram/wishart.js';
import { readNpz } from '../../src/io/npz.js';
import { PAPER_ARTIFACT_PATHS, generatePaperArtifacts } from '../../src/paper/artifacts.js';
import { PaperDynamics } from '../../src/run/paperDynamics.js';
import { paperFromGram } from '../../src/paper/start.js';
import { RunCheckpoint, runDynamics } from '../../src/run/run.js';
import { coflow, tmp } from '../cli/helpers.js';
import { conformingData, theoryScales } from '../reduced/helpers.js';

const n = 12, L = 5, m = 16, m1 = 8;
const { s0, s1 } = theoryScales(L, m, m1);
const plan = { method: 'dopri5' as const, tEnd: 20, rtol: 1e-9, atol: 1e-12, maxSteps: 100_000, controller: 'I' as const, lr: 0.01, steps: 1, samples: 60 };

function start(seed: number | 'mean') {
  const data = conformingData(n, L, 11);
  const gm = new GramModel(data, m, m1);
  const yG = seed === 'mean' ? meanGramState({ data, m, m1, s0, s1 }) : sampleGramState({ data, m, m1, s0, s1, seed });
  const { model, y0 } = paperFromGram(data, gm, yG);
  return { data, model, dynamics: new PaperDynamics(model), y0, yG, gm };
}

describe('Level P runs', () => {
  it('switches at the all-correct event: C moves before T1 and is frozen after it', () => {
    const { dynamics, model, y0 } = start('mean');
    const out = runDynamics(dynamics, y0, plan);
    expect(out.status).toBe('success');
    const T1 = out.events.find((e) => e.name === 'all-correct')!.t;
    expect(T1).toBeGreaterThan(0);
    const t = out.trajectory.column('t');
    const C12 = out.trajectory.column('C12');
    const margin = out.trajectory.column('minMargin');
    const before = t.map((x, i) => (x < T1 && i > 0 ? C12[i] - C12[0] : 0));
    expect(Math.max(...before.map(Math.abs))).toBeGreaterThan(0);
    const after = C12.filter((_, i) => t[i] > T1);
    expect(after.length).toBeGreaterThan(10);
    // Phase 2 freezes C exactly (dC/dt = 0): every row after T1 has the same C12
    expect(new Set(after).size).toBe(1);
    // and every sample stays correctly classified (no switch back)
    for (let i = 0; i < t.length; i++) if (t[i] > T1) expect(margin[i]).toBeGreaterThan(0);
    expect(out.events.filter((e) => e.name === 'misclassified')).toEqual([]);
    expect(model.phase(out.y)).toBe(2);
  });

  it('resuming from any checkpoint, before or after the switch, gives the same bytes', () => {
    const { dynamics, model, y0 } = start(3);
    const whole = runDynamics(dynamics, y0, plan);
    const checkpoints: RunCheckpoint[] = [];
    runDynamics(dynamics, y0, plan, { checkpointSeconds: 0, onCheckpoint: (c) => checkpoints.push(c) });
    const phases = new Set(checkpoints.map((c) => model.phase(c.y)));
    expect(phases).toEqual(new Set([1, 2]));
    for (const c of [checkpoints[1], checkpoints[Math.floor(checkpoints.length / 2)], checkpoints.at(-2)!]) {
      const resumed = runDynamics(dynamics, y0, plan, {}, c);
      expect(resumed.trajectory.toCsv()).toBe(whole.trajectory.toCsv());
      expect(Array.from(resumed.y)).toEqual(Array.from(whole.y));
    }
  });

  it('observables: attention exactly 1/L, S, A, B and pair scores frozen at the Level G start, dG = the field', () => {
    const { dynamics, model, y0, yG, gm } = start(5);
    const out = runDynamics(dynamics, y0, { ...plan, tEnd: 2, samples: 10 });
    const col = (c: string) => out.trajectory.column(c);
    expect(Math.max(...col('attn_dev_uniform'))).toBe(0);
    expect(Math.max(...col('attn_dev_init'))).toBe(0);
    for (const c of ['move_A', 'move_B', 'move_S_tt', 'move_S_sf', 'move_S_ff', 'drift_QK']) expect(Math.max(...col(c))).toBe(0);
    // the score columns are the Level G start's S entries (key i, query j)
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) expect(new Set(col(`score_k${i + 1}_q${j + 1}`))).toEqual(new Set([yG[gm.layout.S + i * gm.k + j]]));
    // dG at the last row is the u-part of Level P's own field there
    const d = new Float64Array(dynamics.size);
    dynamics.field(0, out.y, d);
    expect(col('dG1').at(-1)).toBe(d[model.layout.u + 0]);
    expect(col('dG3').at(-1)).toBe(d[model.layout.u + 2]);
    // the loss never increases (derivations/paper-system.md, section 6)
    const loss = col('loss');
    for (let i = 1; i < loss.length; i++) expect(loss[i]).toBeLessThanOrEqual(loss[i - 1] * (1 + 1e-12));
  });

  it('drift_VW is integration error in Phase 1 and grows once Phase 2 drops the C term', () => {
    const { dynamics, model, y0 } = start('mean');
    const out = runDynamics(dynamics, y0, plan);
    const T1 = out.events.find((e) => e.name === 'all-correct')!.t;
    const t = out.trajectory.column('t');
    const drift = out.trajectory.column('drift_VW');
    const phase1 = drift.filter((_, i) => t[i] < T1);
    expect(Math.max(...phase1)).toBeLessThan(100 * plan.rtol);
    expect(drift.at(-1)!).toBeGreaterThan(1e-3);
  });

  it('gdStep is refused', () => {
    const { dynamics, model, y0 } = start('mean');
    expect(() => dynamics.gdStep()).toThrow(/--method gd does not apply at --level paper/);
    expect(() => runDynamics(dynamics, y0, { ...plan, method: 'gd', steps: 3 })).toThrow(/use --method dopri5/);
  });
});

describe('coflow run --level paper (built CLI)', () => {
  const small = ['--preset', 'theory', '--level', 'paper', '--t-end', '20', '--samples', '40', '--quiet'];

  it('runs from every Level G start and writes the usual files; check reads it without crashing', () => {
    for (const init of ['mean', 'wishart', 'gaussian', 'orthogonal']) {
      const out = join(tmp(), 'run');
      // the orthogonal start needs m >= 2k = 182 on this data
      const r = coflow(['run', '--no-plots', ...small, '--init', init, ...(init === 'orthogonal' ? ['--m', '200'] : []), '--out', out]);
      expect(r.code, r.stderr).toBe(0);
      for (const f of ['config.json', 'data.npz', 'initial.npz', 'final.npz', 'trajectory.csv', 'summary.json']) expect(existsSync(join(out, f))).toBe(true);
      const fin = readNpz(join(out, 'final.npz'));
      expect([...fin.keys()].sort()).toEqual(['C', 'phase', 's', 't', 'token_ids', 'u']);
      if (init !== 'mean') continue;
      const c = coflow(['check', out]);
      expect(c.code, c.stderr).toBe(0);
      const claims = JSON.parse(readFileSync(join(out, 'claims.json'), 'utf8')).claims as { id: string; verdict: string }[];
      const verdict = Object.fromEntries(claims.map((x) => [x.id, x.verdict]));
      for (const id of ['thm3.2-scores', 'attention-uniform', 'lemma4.7', 'conservation-QK', 'conservation-VW', 'thm3.2-values']) expect(verdict[id]).toBe('NOT-EVALUABLE');
    }
  });

  it('--method gd is refused with exit 2 and one line naming the fix, nothing written', () => {
    const dir = tmp();
    const out = join(dir, 'run');
    const r = coflow(['run', '--no-plots', '--preset', 'theory', '--level', 'paper', '--method', 'gd', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--method gd does not apply at --level paper.*use --method dopri5/);
    expect(existsSync(out)).toBe(false);
    // a preset's gd (paper-fig1) is refused the same way
    expect(coflow(['run', '--no-plots', '--preset', 'paper-fig1', '--level', 'paper', '--out', out]).code).toBe(2);
  });

  it('--test-n is refused with exit 2', () => {
    const out = join(tmp(), 'run');
    const r = coflow(['run', '--no-plots', ...small, '--test-n', '12', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--test-n is not available at --level paper/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('generated Level P files', () => {
  const art = generatePaperArtifacts();
  const ROOT = join(import.meta.dirname, '..', '..');
  for (const rel of PAPER_ARTIFACT_PATHS) {
    it(`${rel} is byte-for-byte the generator output (coflow derive)`, () => {
      expect(readFileSync(join(ROOT, rel), 'utf8') === art.get(rel)).toBe(true);
    });
  }
  it('the generated field is the only code path: no symbolic library, no allocation', () => {
    const code = art.get(PAPER_ARTIFACT_PATHS[0])!;
    expect(code).not.toMatch(/import .*(mathjs|nerdamer)|new Float64Array/);
  });
});

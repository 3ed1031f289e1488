/**
 * The figures show the run's numbers: every vertex of every line in the written SVG files is
 * compared with the trajectory.csv value of its row, read by this test (test/plot/support.ts), and
 * mapped to pixels independently: x by the log-time formula from the CSV's own first and last
 * t > 0, y through the figure's vega scale. Runs are made through the built CLI, as a user would.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { coflow, tmp } from '../cli/helpers.js';
import { FIGURE_NAMES, FIGURES, PANEL_WIDTH } from '../../src/plot/figures.js';
import { renderVegaLite, vegaView } from '../../src/plot/render.js';
import { readPlotRun } from '../../src/plot/runData.js';
import { titleOf } from '../../src/plot/style.js';
import { pngSize, readCsv, readT1, svgLines, svgPhases, svgT1Rule } from './support.js';

const root = tmp('coflow-plot-');
/** a Level T flow from the mean start (T1 reached, mu_1 <-> mu_2 symmetric curves) */
const flow = join(root, 'flow');
/** a Level F GD run from a random start (scores start away from 0: two panels in figure1a) */
const gd = join(root, 'gd');
/** a flow stopped before T1 */
const early = join(root, 'early');

beforeAll(() => {
  for (const [dir, args] of [
    [flow, ['--preset', 'theory', '--level', 'type', '--init', 'mean']],
    [gd, ['--preset', 'paper-fig1', '--method', 'gd', '--steps', '400', '--samples', '80']],
    [early, ['--preset', 'theory', '--level', 'type', '--init', 'mean', '--t-end', '0.005', '--samples', '40']],
  ] as const) {
    const r = coflow(['run', ...args, '--out', dir, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
  }
}, 120_000);

/** The ratio cap docs/figures.md states: |value| > 10 is left out of the Lemma 4.3-4.5 panels. */
const CAP = 10;

interface ExpectedSeries {
  name: string;
  values: number[];
}
interface ExpectedPanel {
  series: ExpectedSeries[];
  log?: boolean;
  cap?: number;
}

/** What each figure must draw, from the test's own reading of trajectory.csv (docs/figures.md). */
function expectedPanels(name: string, c: Map<string, number[]>): ExpectedPanel[] {
  const col = (n: string): ExpectedSeries => ({ name: n, values: c.get(n)! });
  const sum = (...ns: string[]): ExpectedSeries => ({ name: ns.join('+'), values: c.get(ns[0])!.map((_, r) => ns.reduce((s, n, i) => (i === 0 ? c.get(n)![r] : s + c.get(n)![r]), 0)) });
  const scores = [1, 2, 3].flatMap((i) => [1, 2, 3].map((j) => col(`score_k${i}_q${j}`)));
  const losses = ['loss', 'loss_I1', 'loss_I2', 'loss_I3', 'loss_I4'].map(col);
  switch (name) {
    case 'figure1a': {
      const moved = scores.some((s) => s.values[0] !== 0);
      const change = scores.map((s) => ({ name: s.name, values: s.values.map((v) => v - s.values[0]) }));
      return moved ? [{ series: scores }, { series: change }] : [{ series: scores }];
    }
    case 'figure1b':
      return [{ series: losses }, { series: losses, log: true }];
    case 'G':
      return [{ series: [col('G1'), col('G2'), col('G3'), sum('G1', 'G2', 'G3'), sum('G1', 'G3'), sum('G2', 'G3'), col('minMargin')] }];
    case 'balance':
      return [
        { series: [col('lemma43_max'), col('lemma43_sum')], cap: CAP },
        { series: [col('balance44')], cap: CAP },
        { series: [col('R45')], cap: CAP },
        { series: [col('C12'), col('C13'), col('C23')] },
      ];
    case 'conservation':
      return [{ series: [col('drift_QK'), col('drift_VW')], log: true }];
    default:
      throw new Error(name);
  }
}

/** x of time t: the log axis spans the first to the last t > 0 over PANEL_WIDTH pixels. */
function xOf(t: number[], when: number): number {
  const pos = t.filter((x) => x > 0);
  const lo = Math.log(pos[0]);
  const hi = Math.log(pos[pos.length - 1]);
  return (PANEL_WIDTH * (Math.log(when) - lo)) / (hi - lo);
}

const TOL = 0.005; // pixels; vega writes path coordinates to 3 decimals

/** Mismatches between the SVG's lines and the expected values (empty: every point agrees). */
async function mismatches(dir: string, name: string, c: Map<string, number[]>): Promise<string[]> {
  const svg = readFileSync(join(dir, 'figures', `${name}.svg`), 'utf8');
  const view = vegaView(FIGURES[name as keyof typeof FIGURES](readPlotRun(dir)));
  await view.runAsync();
  const t = c.get('t')!;
  const bad: string[] = [];
  const panels = expectedPanels(name, c);
  panels.forEach((panel, p) => {
    const ys = view.scale(`concat_${p}_y`) as (v: number) => number;
    const lines = svgLines(svg, p);
    const nonEmpty = lines.filter((l) => l.points.length > 0);
    let withPoints = 0;
    for (const s of panel.series) {
      const drawn = (v: number) => Number.isFinite(v) && (!panel.log || v > 0) && (panel.cap === undefined || Math.abs(v) <= panel.cap);
      const want: [number, number][] = [];
      let runs = 0;
      let prev = false;
      for (let r = 0; r < t.length; r++) {
        if (!(t[r] > 0)) continue;
        const ok = drawn(s.values[r]);
        if (ok) want.push([xOf(t, t[r]), ys(s.values[r])]);
        if (ok && !prev) runs++;
        prev = ok;
      }
      if (want.length > 0) withPoints++;
      const line = lines.find((l) => l.series === titleOf(s.name));
      if (!line) {
        if (want.length > 0) bad.push(`${name} panel ${p}: no line for ${s.name}`);
        continue;
      }
      if (line.points.length !== want.length) {
        bad.push(`${name} panel ${p} ${s.name}: ${line.points.length} vertices, ${want.length} drawable rows`);
        continue;
      }
      if (line.moves !== runs) bad.push(`${name} panel ${p} ${s.name}: ${line.moves} subpaths, ${runs} runs of drawable rows`);
      want.forEach(([x, y], i) => {
        const [sx, sy] = line.points[i];
        if (Math.abs(sx - x) > TOL || Math.abs(sy - y) > TOL) bad.push(`${name} panel ${p} ${s.name} vertex ${i}: svg (${sx}, ${sy}), expected (${x}, ${y})`);
      });
    }
    if (nonEmpty.length !== withPoints) bad.push(`${name} panel ${p}: ${nonEmpty.length} lines drawn, ${withPoints} series with drawable rows expected`);
  });
  // No extra panels with lines the test does not know of.
  if (svgLines(svg, panels.length).length > 0) bad.push(`${name}: a panel ${panels.length} with lines that the test does not expect`);
  return bad;
}

describe('the plotted points equal the trajectory values (acceptance)', () => {
  for (const which of ['flow', 'gd', 'early'] as const) {
    it(`every vertex of every line of every figure, ${which} run`, async () => {
      const dir = { flow, gd, early }[which];
      const c = readCsv(dir);
      for (const name of FIGURE_NAMES) expect(await mismatches(dir, name, c), name).toEqual([]);
    });
  }

  it('negative control: one value x 1.01 in one row is caught, in a linear and in a log panel', async () => {
    for (const [name, column] of [
      ['G', 'G3'],
      ['figure1b', 'loss_I4'],
      ['balance', 'C12'],
    ] as const) {
      const c = readCsv(gd);
      const v = c.get(column)!;
      const r = Math.floor(v.length / 2);
      v[r] *= 1.01;
      const bad = await mismatches(gd, name, c);
      expect(bad.length, `${name}/${column}`).toBeGreaterThan(0);
      expect(bad.every((b) => b.includes(column)), bad.join('\n')).toBe(true);
    }
  });

  it('negative control: a row left out of the expectation (t = 0 drawn) is caught', async () => {
    const c = readCsv(flow);
    // Pretend the figure should draw the t = 0 row at the left edge: the vertex counts then differ.
    c.get('t')![0] = c.get('t')![1] / 2;
    expect((await mismatches(flow, 'G', c)).length).toBeGreaterThan(0);
  });
});

describe('T1 and the phases', () => {
  it('the T1 rule sits at the all-correct t of summary.json in every panel; Phase 1 = [first t, T1], Phase 2 = [T1, last t]', () => {
    for (const dir of [flow, gd]) {
      const t = readCsv(dir).get('t')!;
      const t1 = readT1(dir)!;
      expect(t1).toBeGreaterThan(0);
      const x1 = xOf(t, t1);
      for (const name of FIGURE_NAMES) {
        const svg = readFileSync(join(dir, 'figures', `${name}.svg`), 'utf8');
        const panels = name === 'balance' ? 4 : name === 'figure1b' || (name === 'figure1a' && dir === gd) ? 2 : 1;
        for (let p = 0; p < panels; p++) {
          expect(svgT1Rule(svg, p), `${name} panel ${p}`).toBeCloseTo(x1, 6);
          const phases = svgPhases(svg, p);
          expect(phases.map((ph) => ph.phase)).toEqual(['Phase 1', 'Phase 2']);
          expect(phases[0].x0).toBeCloseTo(0, 6);
          expect(phases[0].x1).toBeCloseTo(x1, 6);
          expect(phases[1].x0).toBeCloseTo(x1, 6);
          expect(phases[1].x1).toBeCloseTo(PANEL_WIDTH, 6);
        }
        expect(svg).toContain(`T₁ = `);
      }
    }
  });

  it('negative control: the rule is not at another time (T1 x 1.05)', () => {
    const t = readCsv(flow).get('t')!;
    const svg = readFileSync(join(flow, 'figures', 'G.svg'), 'utf8');
    expect(Math.abs(svgT1Rule(svg, 0)! - xOf(t, readT1(flow)! * 1.05))).toBeGreaterThan(1);
  });

  it('a run that never reached T1: no rule, the whole range is Phase 1, and the figure says "T1 not reached"', () => {
    expect(readT1(early)).toBeUndefined();
    for (const name of FIGURE_NAMES) {
      const svg = readFileSync(join(early, 'figures', `${name}.svg`), 'utf8');
      expect(svgT1Rule(svg, 0)).toBeUndefined();
      expect(svg).toContain('T₁ not reached');
      const phases = svgPhases(svg, 0);
      expect(phases.map((p) => p.phase)).toEqual(['Phase 1 (T₁ not reached)']);
      expect(phases[0].x0).toBeCloseTo(0, 6);
      expect(phases[0].x1).toBeCloseTo(PANEL_WIDTH, 6);
    }
  });
});

describe('axes and notes', () => {
  it('GD runs: the x axis is t = step x lr; flows: gradient-flow time; both say the t = 0 row is left out', () => {
    for (const name of FIGURE_NAMES) {
      const g = readFileSync(join(gd, 'figures', `${name}.svg`), 'utf8');
      const f = readFileSync(join(flow, 'figures', `${name}.svg`), 'utf8');
      expect(g).toContain('t = step × lr (gradient descent, lr = 0.01; log scale)');
      expect(f).toContain('gradient-flow time t (log scale)');
      expect(f).not.toContain('step × lr');
      for (const svg of [g, f]) expect(svg).toContain('t = 0 row left out (log time axis)');
    }
  });

  it('the title names the run: preset, level, method', () => {
    const g = readFileSync(join(gd, 'figures', 'figure1a.svg'), 'utf8');
    expect(g).toContain('preset paper-fig1 · Level F · init gaussian · GD, lr 0.01, 400 steps');
    const f = readFileSync(join(flow, 'figures', 'figure1b.svg'), 'utf8');
    expect(f).toContain('preset theory · Level T · init mean · gradient flow (dopri5), t_end 1000');
  });

  it('zeros on the log axis of conservation are left out and counted in the figure', () => {
    const c = readCsv(flow);
    const t = c.get('t')!;
    const zeros = c.get('drift_QK')!.filter((v, r) => t[r] > 0 && v === 0).length;
    expect(zeros).toBeGreaterThan(0); // Level T conserves the traces to the last bit at many rows
    const svg = readFileSync(join(flow, 'figures', 'conservation.svg'), 'utf8');
    const n = t.filter((x) => x > 0).length;
    expect(svg).toMatch(new RegExp(`drift of W_QW_Qᵀ − W_KW_Kᵀ: ${zeros === n ? `nothing to draw \\(${zeros} zero at every row\\)` : `${zeros} zero of ${n} rows`}`));
  });

  it('coinciding curves (mu_1 <-> mu_2 symmetry at Level T) are named in the figure', () => {
    const svg = readFileSync(join(flow, 'figures', 'figure1b.svg'), 'utf8');
    expect(svg).toContain('loss on I₂ = loss on I₃');
    const g = readFileSync(join(gd, 'figures', 'figure1b.svg'), 'utf8');
    expect(g).not.toContain('loss on I₂ = loss on I₃'); // negative control: a random start breaks the symmetry
  });
});

describe('files', () => {
  it('every PNG is at least 1200 x 500 (IHDR)', () => {
    for (const name of FIGURE_NAMES) {
      const { width, height } = pngSize(readFileSync(join(flow, 'figures', `${name}.png`)));
      expect(width, name).toBeGreaterThanOrEqual(1200);
      expect(height, name).toBeGreaterThanOrEqual(500);
    }
  });

  it('two renderings in one process are byte-identical (SVG and PNG)', async () => {
    const run = readPlotRun(gd);
    for (const name of ['balance', 'conservation'] as const) {
      const a = await renderVegaLite(FIGURES[name](run));
      const b = await renderVegaLite(FIGURES[name](run));
      expect(a.svg === b.svg, name).toBe(true);
      expect(Buffer.from(a.png).equals(Buffer.from(b.png)), name).toBe(true);
    }
  });

  it('coflow plot in another process writes the same bytes as the run did', () => {
    const out = join(root, 'replot');
    const r = coflow(['plot', flow, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    for (const name of FIGURE_NAMES) {
      for (const ext of ['svg', 'png']) {
        expect(readFileSync(join(out, `${name}.${ext}`)).equals(readFileSync(join(flow, 'figures', `${name}.${ext}`))), `${name}.${ext}`).toBe(true);
      }
    }
    // negative control: another run's figure differs
    expect(readFileSync(join(out, 'G.png')).equals(readFileSync(join(gd, 'figures', 'G.png')))).toBe(false);
  });
});

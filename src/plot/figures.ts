/**
 * The figures of a run, as vega-lite specs built from its trajectory.csv and summary.json
 * (src/plot/runData.ts), rendered by src/plot/render.ts. docs/figures.md describes each figure.
 *
 * Every figure has a log time axis (the paper's Figure 1 spans Phase 1, of length O(1/m) by
 * Thm E.26, and Phase 2, poly(m) long), so the row t = 0 is left out and the subtitle says so.
 * Phase 1 = [0, T1] and Phase 2 = [T1, end] (Thm 3.1, 3.2) are shaded, T1 (the all-correct event)
 * is a labelled rule. Values a panel cannot show (non-finite ratios, ratios beyond its cap, zeros
 * on a log axis) are left out as gaps in the line, and the panel's subtitle counts them.
 */
import type { TopLevelSpec } from 'vega-lite';
import { DRIFT_GD_MAX, DRIFT_RTOL_FACTOR } from '../claims/bands.js';
import type { PlotRun } from './runData.js';
import { colourOf, DASH, dashOf, PHASE_FILL, T1_COLOUR, titleOf } from './style.js';

export const FIGURE_NAMES = ['figure1a', 'figure1b', 'G', 'balance', 'conservation'] as const;
export type FigureName = (typeof FIGURE_NAMES)[number];

/** Plot-area width in SVG pixels (PNGs are rasterised to PNG_WIDTH = 1400 px, render.ts). */
export const PANEL_WIDTH = 1000;
/** Height of a figure's only panel; figures of several panels use PANEL_HEIGHT_SMALL each. */
export const PANEL_HEIGHT = 440;
export const PANEL_HEIGHT_SMALL = 220;
/** Ratios (Lemmas 4.3-4.5) are O(1) quantities; values beyond this are left out so that a near-zero denominator does not flatten the rest. */
export const RATIO_CAP = 10;

/** One plotted series: a trajectory column or a series derived from columns (e.g. 'G1+G3'). */
export interface Series {
  name: string;
  values: Float64Array;
}

/** One plotted point, as it goes into the spec's data: value null = left out (a gap in the line). */
export interface Point {
  t: number;
  series: string;
  value: number | null;
}

export interface Panel {
  series: Series[];
  yTitle: string;
  /** log y axis: values <= 0 are left out */
  yLog?: boolean;
  /** leave out values with |value| > cap */
  cap?: number;
  height: number;
  /** panel heading (figures of several panels) */
  heading?: string;
  /** horizontal reference lines, e.g. y = 0 or Lemma 4.3's 1 */
  refs?: { y: number; label: string }[];
  /** show the series' legend (off where a panel repeats the legend of the panel above) */
  legend?: boolean;
  /** one line under the heading (e.g. what the paper claims about this panel) */
  note?: string;
  /** also mark every drawn value with a symbol (series with many gaps: isolated values draw no line) */
  points?: boolean;
}

/** Rows drawn on the log time axis: every row with t > 0 (row 0 is t = 0). */
export function plottedRows(run: PlotRun): number[] {
  const t = run.columns.get('t')!;
  const rows: number[] = [];
  for (let r = 0; r < run.rows; r++) if (t[r] > 0) rows.push(r);
  return rows;
}

/** The time-axis domain: the first and last t > 0, widened to include T1 and to a non-empty interval. */
export function timeDomain(run: PlotRun): [number, number] {
  const t = run.columns.get('t')!;
  const rows = plottedRows(run);
  let lo = rows.length > 0 ? t[rows[0]] : 1;
  let hi = rows.length > 0 ? t[rows[rows.length - 1]] : 1;
  if (run.t1 !== undefined && run.t1 > 0) {
    lo = Math.min(lo, run.t1);
    hi = Math.max(hi, run.t1);
  }
  if (!(hi > lo)) {
    lo /= 10;
    hi *= 10;
  }
  return [lo, hi];
}

/** Why a value is left out of a panel, or null if it is drawn. */
function leftOut(v: number, panel: Panel): 'undefined' | 'nonpositive' | 'cap' | null {
  if (!Number.isFinite(v)) return 'undefined';
  if (panel.yLog && !(v > 0)) return 'nonpositive';
  if (panel.cap !== undefined && Math.abs(v) > panel.cap) return 'cap';
  return null;
}

/** The points of a panel (series in order, rows in order) and the sentence saying what was left out. */
export function panelPoints(run: PlotRun, panel: Panel): { points: Point[]; leftOutNote: string[] } {
  const t = run.columns.get('t')!;
  const rows = plottedRows(run);
  const points: Point[] = [];
  const notes: string[] = [];
  for (const s of panel.series) {
    const counts = { undefined: 0, nonpositive: 0, cap: 0 };
    let zeros = 0;
    for (const r of rows) {
      const v = s.values[r];
      const why = leftOut(v, panel);
      if (why) counts[why]++;
      if (why === 'nonpositive' && v === 0) zeros++;
      points.push({ t: t[r], series: titleOf(s.name), value: why ? null : v });
    }
    const parts: string[] = [];
    if (counts.undefined > 0) parts.push(`${counts.undefined} undefined (nan/inf)`);
    if (counts.nonpositive > 0) parts.push(zeros === counts.nonpositive ? `${zeros} zero` : `${counts.nonpositive} <= 0 (${zeros} zero)`);
    if (counts.cap > 0) parts.push(`${counts.cap} with |value| > ${panel.cap}`);
    const all = rows.length > 0 && counts.undefined + counts.nonpositive + counts.cap === rows.length;
    if (all) notes.push(`${shortTitle(s.name)}: nothing to draw (${parts.join(', ')} at every row)`);
    else if (parts.length > 0) notes.push(`${shortTitle(s.name)}: ${parts.join(', ')} of ${rows.length} rows`);
  }
  const lines: string[] = [];
  if (notes.length > 0) lines.push(`${panel.yLog ? 'left out (log axis; gaps in the lines)' : 'left out (gaps in the lines)'}: ${notes.join('; ')}`);
  const same = coincident(panel.series, rows);
  if (same.length > 0) lines.push(`drawn on top of each other (equal at every row, e.g. by the μ₁ ↔ μ₂ symmetry): ${same.join('; ')}`);
  return { points, leftOutNote: lines.flatMap((l) => wrap(l, NOTE_CHARS)) };
}

/** Characters per subtitle line: wider notes would widen the figure and shrink its plot in the PNG. */
const NOTE_CHARS = 130;

/** Splits a note after '; ' so that each line has at most `width` characters (a longer part stays whole). */
export function wrap(text: string, width: number): string[] {
  const parts = text.split('; ');
  const lines: string[] = [];
  let line = '';
  for (const [i, part] of parts.entries()) {
    const piece = i < parts.length - 1 ? `${part};` : part;
    if (line !== '' && line.length + 1 + piece.length > width) {
      lines.push(line);
      line = `    ${piece}`;
    } else line = line === '' ? piece : `${line} ${piece}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}

/**
 * Groups of series equal at every plotted row (to 1e-12 of the panel's largest value): the later
 * ones hide the first, so the panel says so. At Level T (and from symmetric starts) mu_1 and mu_2
 * are exchangeable and their curves coincide exactly.
 */
function coincident(series: Series[], rows: number[]): string[] {
  let scale = 0;
  for (const s of series) for (const r of rows) if (Number.isFinite(s.values[r])) scale = Math.max(scale, Math.abs(s.values[r]));
  const tol = 1e-12 * scale;
  const used = new Set<number>();
  const groups: string[] = [];
  for (let a = 0; a < series.length; a++) {
    if (used.has(a)) continue;
    const group = [a];
    for (let b = a + 1; b < series.length; b++) {
      if (used.has(b)) continue;
      const equal = rows.every((r) => {
        const x = series[a].values[r];
        const y = series[b].values[r];
        return Object.is(x, y) || Math.abs(x - y) <= tol;
      });
      if (equal) {
        group.push(b);
        used.add(b);
      }
    }
    if (group.length > 1) groups.push(group.map((i) => shortTitle(series[i].name)).join(' = '));
  }
  return groups;
}

/** A series' title without its trailing parenthesis (the lemma), for notes. */
function shortTitle(name: string): string {
  return titleOf(name).replace(/ \([^()]*\)$/, '');
}

/** A number for a label: 4 significant digits, no trailing zeros. */
export function short(x: number): string {
  return Number(x.toPrecision(4)).toString();
}

/**
 * Tick values of a log axis spanning `values` (all > 0), at most `maxTicks` of them: 1, 2, 5 times
 * the powers of ten if they fit, else the powers of ten, thinned to every k-th if needed. vega's
 * own log ticks label every multiple 1..9 of each power: an unreadable comb over the 10+ decades a
 * loss or a drift spans, and crowded labels on a time axis.
 */
export function logTicks(values: number[], maxTicks: number): number[] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!(v > 0) || !Number.isFinite(v)) continue;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (!(hi >= lo)) return [];
  const e0 = Math.floor(Math.log10(lo));
  const e1 = Math.ceil(Math.log10(hi));
  // Number('1e-7') is exactly the double nearest 10^-7, as the labels print it; 10 ** -7 is not.
  const pow = (e: number) => Number(`1e${e}`);
  const inside = (x: number) => x >= lo * (1 - 1e-9) && x <= hi * (1 + 1e-9);
  const rich: number[] = [];
  for (let e = e0; e <= e1; e++) for (const m of [1, 2, 5]) rich.push(Number(`${m}e${e}`));
  const richInside = rich.filter(inside);
  if (richInside.length <= maxTicks) return richInside;
  // Powers of ten: the axis's nice domain ends on them, so keep the end powers.
  const step = Math.max(1, Math.ceil((e1 - e0 + 1) / maxTicks));
  const ticks: number[] = [];
  for (let e = e1; e >= e0; e -= step) ticks.unshift(pow(e));
  return ticks;
}

function xTitle(run: PlotRun): string {
  return run.gd
    ? `t = step × lr (gradient descent, lr = ${run.lr}; log scale)`
    : 'gradient-flow time t (log scale)';
}

/** Tick labels: plain decimals between 1e-3 and 1e4, else exponent form (1e-9, 2.5e-9). */
const LABEL_EXPR = "abs(datum.value) >= 1e-3 && abs(datum.value) < 1e4 || datum.value == 0 ? format(datum.value, '~g') : format(datum.value, '.2~e')";

/** The x encoding every layer of a panel shares: log time, one explicit domain. */
function xEncoding(run: PlotRun, field: string, showAxis: boolean) {
  return {
    field,
    type: 'quantitative' as const,
    scale: { type: 'log' as const, domain: timeDomain(run), nice: false },
    axis: showAxis ? { title: xTitle(run), labelExpr: LABEL_EXPR, grid: false, values: logTicks(timeDomain(run), 20), labelSeparation: 8 } : null,
  };
}

/**
 * The phase shading, phase labels and T1 rule of a panel (Thm 3.1: Phase 1 ends at T1, when every
 * sample is classified correctly; Phase 2 follows). Without T1 the whole range is Phase 1.
 */
function phaseLayers(run: PlotRun, labels: boolean, height: number, showAxis: boolean): object[] {
  const [lo, hi] = timeDomain(run);
  const t1 = run.t1;
  const phases =
    t1 !== undefined && t1 > 0
      ? [
          { x: lo, x2: t1, phase: 'Phase 1', mid: Math.sqrt(lo * t1) },
          { x: t1, x2: hi, phase: 'Phase 2', mid: Math.sqrt(t1 * hi) },
        ]
      : [{ x: lo, x2: hi, phase: 'Phase 1 (T₁ not reached)', mid: Math.sqrt(lo * hi) }];
  const fill = {
    field: 'phase',
    type: 'nominal' as const,
    scale: { domain: ['Phase 1', 'Phase 2', 'Phase 1 (T₁ not reached)'], range: [PHASE_FILL.phase1, PHASE_FILL.phase2, PHASE_FILL.phase1] },
    legend: null,
  };
  const layers: object[] = [
    {
      data: { values: phases },
      mark: { type: 'rect', opacity: PHASE_FILL.opacity },
      encoding: { x: xEncoding(run, 'x', showAxis), x2: { field: 'x2' }, fill },
    },
  ];
  if (labels) {
    layers.push({
      data: { values: phases },
      mark: { type: 'text', fontSize: 14, fontWeight: 'bold', baseline: 'bottom', y: -5, color: '#555555' },
      encoding: { x: xEncoding(run, 'mid', showAxis), text: { field: 'phase' } },
    });
  }
  if (t1 !== undefined && t1 > 0) {
    layers.push({
      data: { values: [{ t1, label: `T₁ = ${short(t1)} (all correct)` }] },
      mark: { type: 'rule', color: T1_COLOUR, strokeWidth: 2, strokeDash: [6, 3] },
      encoding: { x: xEncoding(run, 't1', showAxis) },
    });
    if (labels) {
      layers.push({
        data: { values: [{ t1, label: `T₁ = ${short(t1)}` }] },
        mark: { type: 'text', fontSize: 13, align: 'left', baseline: 'bottom', dx: 5, y: height - 6, color: T1_COLOUR },
        encoding: { x: xEncoding(run, 't1', showAxis), text: { field: 'label' } },
      });
    }
  }
  return layers;
}

/** A panel: phases, reference rules, then the series' lines on top. */
function panelSpec(run: PlotRun, panel: Panel, first: boolean, last: boolean): { spec: object; leftOutNote: string[] } {
  const { points, leftOutNote } = panelPoints(run, panel);
  const titles = panel.series.map((s) => titleOf(s.name));
  const yAxis: Record<string, unknown> = { title: panel.yTitle, labelExpr: LABEL_EXPR };
  let narrowLog = false;
  if (panel.yLog) {
    const drawn = points.filter((p) => p.value !== null).map((p) => p.value as number);
    const refs = (panel.refs ?? []).map((r) => r.y).filter((y) => y > 0);
    const ticks = logTicks([...drawn, ...refs], panel.height >= PANEL_HEIGHT ? 14 : 7);
    // Within a decade or so there are too few 1-2-5 values: vega's own ticks then (1..9 x 10^k).
    if (ticks.length >= 3) yAxis.values = ticks;
    else narrowLog = true;
  }
  const y = {
    field: 'value',
    type: 'quantitative' as const,
    // A nice log domain ends on powers of ten: right over many decades, mostly empty over one.
    scale: panel.yLog ? { type: 'log' as const, nice: !narrowLog } : { zero: false },
    axis: yAxis,
  };
  // Every layer carries the same x encoding (axis included): layered axes merge, and a null axis in one layer would hide it.
  const layers: object[] = [...phaseLayers(run, first, panel.height, last)];
  for (const ref of panel.refs ?? []) {
    // A reference value off a log axis cannot be drawn; say nothing rather than wreck the scale.
    if (panel.yLog && !(ref.y > 0)) continue;
    layers.push({
      data: { values: [{ y: ref.y, label: ref.label }] },
      mark: { type: 'rule', color: '#777777', strokeWidth: 1.5, strokeDash: [2, 3] },
      encoding: { y: { field: 'y', type: 'quantitative' } },
    });
    layers.push({
      data: { values: [{ y: ref.y, label: ref.label }] },
      mark: { type: 'text', align: 'right', baseline: 'top', x: PANEL_WIDTH - 4, dy: 3, fontSize: 12, color: '#555555' },
      encoding: { y: { field: 'y', type: 'quantitative' }, text: { field: 'label' } },
    });
  }
  // One legend for colour, dash (and shape): vega-lite merges legends of one field when their properties agree.
  const legend = panel.legend === false ? null : panel.points ? { title: null, orient: 'right', symbolSize: 200, labelLimit: 420 } : { title: null, orient: 'right', symbolType: 'stroke', symbolSize: 500, labelLimit: 420 };
  const shapes = ['circle', 'triangle-up', 'square', 'diamond', 'cross', 'triangle-down'];
  layers.push({
    data: { values: points },
    mark: panel.points ? { type: 'line', strokeWidth: 2.2, clip: true, point: { filled: true, size: 28 } } : { type: 'line', strokeWidth: 2.2, clip: true },
    encoding: {
      ...(panel.points
        ? { shape: { field: 'series', type: 'nominal', scale: { domain: titles, range: titles.map((_, i) => shapes[i % shapes.length]) }, legend } }
        : {}),
      x: xEncoding(run, 't', last),
      y,
      color: {
        field: 'series',
        type: 'nominal',
        scale: { domain: titles, range: panel.series.map((s) => colourOf(s.name)) },
        legend,
      },
      strokeDash: {
        field: 'series',
        type: 'nominal',
        scale: { domain: titles, range: panel.series.map((s) => DASH[dashOf(s.name)]) },
        legend,
      },
    },
  });
  const subtitle = [...(panel.note ? [panel.note] : []), ...leftOutNote];
  const heading = panel.heading ?? (subtitle.length > 0 ? ' ' : undefined);
  return {
    spec: {
      width: PANEL_WIDTH,
      height: panel.height,
      ...(heading !== undefined ? { title: { text: heading, subtitle, anchor: 'start', frame: 'group', fontSize: 15, subtitleFontSize: 13, subtitleColor: '#333333' } } : {}),
      layer: layers,
    },
    leftOutNote,
  };
}

/** The notes under a figure's title: the run, the t = 0 row, T1, an early stop. */
function figureSubtitle(run: PlotRun): string[] {
  const lines = [`run: ${run.label}`];
  const t0 = run.rows - plottedRows(run).length;
  const notes = [`t = 0 row${t0 === 1 ? '' : 's'} left out (log time axis)`];
  notes.push(run.t1 !== undefined ? `T₁ = ${short(run.t1)}: every training sample classified correctly (Thm 3.1)` : 'T₁ not reached: some sample is still misclassified at the end');
  if (run.status !== 'success') notes.push(`run stopped early (${run.status})`);
  lines.push(notes.join(' · '));
  return lines;
}

function figure(run: PlotRun, title: string, panels: Panel[]): TopLevelSpec {
  const built = panels.map((p, i) => panelSpec(run, p, i === 0, i === panels.length - 1).spec);
  const head = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, subtitle: figureSubtitle(run), subtitleFontSize: 13, subtitleColor: '#333333', offset: 14 },
    padding: 16,
  };
  // A one-panel figure is a vconcat of one too: the panel's own title (its note) stays separate from the figure's.
  return {
    ...head,
    vconcat: built,
    spacing: 28,
    resolve: { scale: { y: 'independent', color: 'independent', strokeDash: 'independent', shape: 'independent', fill: 'independent' }, legend: { color: 'independent', strokeDash: 'independent', shape: 'independent' } },
  } as TopLevelSpec;
}

/** The series of `names` that the run recorded (older runs may lack some columns). */
function columns(run: PlotRun, names: string[]): Series[] {
  return names.filter((n) => run.columns.has(n)).map((n) => ({ name: n, values: run.columns.get(n)! }));
}

/** A derived series: the sum of columns, summed left to right in float64 (absent if a column is). */
function sumSeries(run: PlotRun, names: string[]): Series[] {
  if (!names.every((n) => run.columns.has(n))) return [];
  const cols = names.map((n) => run.columns.get(n)!);
  const values = new Float64Array(run.rows);
  for (let r = 0; r < run.rows; r++) {
    let s = cols[0][r];
    for (let c = 1; c < cols.length; c++) s += cols[c][r];
    values[r] = s;
  }
  return [{ name: names.join('+'), values }];
}

/** `name` minus its value at row 0 (the change since t = 0). */
function changeSeries(s: Series): Series {
  const values = new Float64Array(s.values.length);
  for (let r = 0; r < values.length; r++) values[r] = s.values[r] - s.values[0];
  return { name: s.name, values };
}

export const SCORE_COLUMNS = [1, 2, 3].flatMap((i) => [1, 2, 3].map((j) => `score_k${i}_q${j}`));

/** Paper Figure 1(a): the scores mu_i^T W_K^T W_Q mu_j; below them their change since t = 0, where the scores start away from 0 (random starts), since there the change is what Thm 3.2 is about. */
export function figure1a(run: PlotRun): TopLevelSpec {
  const scores = columns(run, SCORE_COLUMNS);
  const note = 'Thm 3.2 (Phase 2): μ₂ᵀW_KᵀW_Q μ₁, μ₁ᵀW_KᵀW_Q μ₂ increase; μ₃ᵀW_KᵀW_Q μ₁, μ₃ᵀW_KᵀW_Q μ₂ (key μ₃) decrease';
  const movedStart = scores.some((s) => s.values[0] !== 0);
  const panels: Panel[] = movedStart
    ? [
        { series: scores, yTitle: 'score (key μᵢ, query μⱼ)', height: PANEL_HEIGHT_SMALL + 40, heading: 'scores μᵢᵀW_KᵀW_Q μⱼ (unscaled)', note },
        { series: scores.map(changeSeries), yTitle: 'score(t) − score(0)', height: PANEL_HEIGHT_SMALL + 40, heading: 'change since t = 0', legend: false },
      ]
    : [{ series: scores, yTitle: 'score μᵢᵀW_KᵀW_Q μⱼ (key μᵢ, query μⱼ; unscaled)', height: PANEL_HEIGHT, note }];
  return figure(run, 'Attention scores (paper Fig. 1a)', panels);
}

/** Paper Figure 1(b): the total loss and the loss on each sample type, log y. */
export function figure1b(run: PlotRun): TopLevelSpec {
  // Linear above (the Phase 1 rise of Thm 3.1 is a few percent of the loss), log below (Phase 2's
  // decay, L ~ 1/(Theta(s1^2 m m1)(t - T1)) by Thm F.8, spans decades).
  const series = columns(run, ['loss', 'loss_I1', 'loss_I2', 'loss_I3', 'loss_I4']);
  return figure(run, 'Training loss by sample type (paper Fig. 1b)', [
    {
      series,
      yTitle: 'logistic loss',
      height: PANEL_HEIGHT_SMALL + 40,
      heading: 'linear scale',
      note: 'Thm 3.1: the losses on I₂, I₃ (one target word) first rise, then fall in Phase 1; every loss falls in Phase 2',
    },
    { series, yTitle: 'logistic loss (log scale)', yLog: true, height: PANEL_HEIGHT_SMALL + 40, heading: 'log scale', legend: false },
  ]);
}

/** Thm 3.1 / 3.2: G(mu_1..3), the sums Thm 3.2 bounds, and the minimum margin. */
export function figureG(run: PlotRun): TopLevelSpec {
  const series = [
    ...columns(run, ['G1', 'G2', 'G3']),
    ...sumSeries(run, ['G1', 'G2', 'G3']),
    ...sumSeries(run, ['G1', 'G3']),
    ...sumSeries(run, ['G2', 'G3']),
    ...columns(run, ['minMargin']),
  ];
  return figure(run, 'Linear MLP function G of the special tokens, and the margin', [
    {
      series,
      yTitle: 'G(μ) = Σⱼ aⱼ wⱼᵀW_V μ  ·  margin',
      height: PANEL_HEIGHT,
      refs: [{ y: 0, label: '0' }],
      note: 'Thm 3.1: G(μ₁), G(μ₂) ≥ Ω(1), G(μ₃) ≤ −Ω(1) by T₁ · Thm 3.2: G(μ₁)+G(μ₂)+G(μ₃) ≥ Ω(1), G(μ₁)+G(μ₃), G(μ₂)+G(μ₃) ≤ −Ω(1)',
    },
  ]);
}

/** Lemmas 4.3, 4.4, 4.5 and the value correlations of Thm 3.2, one panel each. */
export function figureBalance(run: PlotRun): TopLevelSpec {
  const h = PANEL_HEIGHT_SMALL;
  const panels: Panel[] = [
    {
      series: columns(run, ['lemma43_max', 'lemma43_sum']),
      yTitle: 'ratio of rates',
      cap: RATIO_CAP,
      height: h,
      heading: 'Lemma 4.3 (late Phase 1): −G′(μ₃) between (1 + C) max(G′(μ₁), G′(μ₂)) and (1 − C)(G′(μ₁) + G′(μ₂))',
      refs: [{ y: 1, label: '1' }],
    },
    {
      series: columns(run, ['balance44']),
      yTitle: 'ratio',
      cap: RATIO_CAP,
      height: h,
      heading: 'Lemma 4.4 (Phase 2): automatic balancing, the ratio stays ≤ C',
    },
    {
      series: columns(run, ['R45']),
      yTitle: 'R(t)',
      cap: RATIO_CAP,
      height: h,
      heading: 'Lemma 4.5: R(t) = (Σ_{I₂+I₃+I₄}g − Σ_{I₁}g) / (Σ_{I₁}g − Σ_{I₂}g) stays O(1), fixed point R* ∈ (1, 2), R(T₁) ∈ [1, 3]',
      refs: [
        { y: 1, label: '1' },
        { y: 2, label: '2' },
      ],
    },
    {
      series: columns(run, ['C12', 'C13', 'C23']),
      yTitle: 'μᵢᵀW_VᵀW_V μⱼ',
      height: h,
      heading: 'Thm 3.2: value correlation μ₁ᵀW_VᵀW_V μ₂ increases, μ₁ᵀW_VᵀW_V μ₃ and μ₂ᵀW_VᵀW_V μ₃ decrease',
    },
  ].filter((p) => p.series.length > 0);
  return figure(run, `Gradient balancing (Lemmas 4.3–4.5) and value correlations (Thm 3.2); ratios with |value| > ${RATIO_CAP} left out`, panels);
}

/** The balancedness invariants' relative drift since t = 0, log y, with the checker's band. */
export function figureConservation(run: PlotRun): TopLevelSpec {
  const band = run.gd ? DRIFT_GD_MAX : DRIFT_RTOL_FACTOR * run.rtol;
  const bandLabel = run.gd ? `GD band ${band} (docs/claims.md)` : `band ${DRIFT_RTOL_FACTOR} × rtol = ${short(band)} (docs/claims.md)`;
  return figure(run, 'Conservation: relative drift of the balancedness invariants', [
    {
      series: columns(run, ['drift_QK', 'drift_VW']),
      yTitle: 'relative drift since t = 0 (log scale)',
      yLog: true,
      height: PANEL_HEIGHT,
      refs: Number.isFinite(band) ? [{ y: band, label: bandLabel }] : [],
      points: true,
      note: run.gd
        ? 'gradient descent does not conserve them exactly (each step changes them by O(lr²))'
        : 'conserved exactly by any gradient flow of Eq. (1); the drift is the integrator’s error',
    },
  ]);
}

export const FIGURES: Record<FigureName, (run: PlotRun) => TopLevelSpec> = {
  figure1a,
  figure1b,
  G: figureG,
  balance: figureBalance,
  conservation: figureConservation,
};

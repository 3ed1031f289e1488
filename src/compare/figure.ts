import type { TopLevelSpec } from 'vega-lite';
import { DASH, OKABE_ITO } from '../plot/style.js';
import { FAMILIES, type Comparison } from './compare.js';

/**
 * The overlay figure of `coflow compare`: a few key observables of every run on one log-time
 * axis (one colour and dash per run), and below them, for each pair, the largest relative
 * deviation over the compared columns at each common time, on a log axis: where two descriptions
 * of the same flow depart, and how far.
 */

/** The observables overlaid, when every run records them (paper notation in the titles). */
export const OVERLAY_COLUMNS: ReadonlyArray<[string, string]> = [
  ['loss', 'loss L(t)'],
  ['G1', 'G(μ₁)'],
  ['G3', 'G(μ₃)'],
  ['minMargin', 'min_i y_i F_i'],
  ['score_k2_q1', 'μ₂ᵀW_KᵀW_Q μ₁'],
  ['s', 'S(t) = ‖Wᵀa‖²'],
];

/** Okabe-Ito (src/plot/style.ts), colour-blind safe, in a fixed order: run i gets colour i. */
export const SERIES_COLOURS = [
  OKABE_ITO.blue,
  OKABE_ITO.vermillion,
  OKABE_ITO.bluishGreen,
  OKABE_ITO.reddishPurple,
  OKABE_ITO.orange,
  OKABE_ITO.skyBlue,
  OKABE_ITO.grey,
  OKABE_ITO.black,
];
const DASHES = [DASH.solid, DASH.dashed, DASH.dotted, DASH.dashDot].map((d) => [...d]);

/** Relative deviations of exactly 0 are drawn at this floor (a log axis has no 0). */
export const DEVIATION_FLOOR = 1e-17;

export function runLabel(c: Comparison, i: number): string {
  const r = c.runs[i];
  return `${i}: ${r.level}/${r.method}/${r.init}`;
}

export function compareFigure(c: Comparison): TopLevelSpec {
  const overlay = OVERLAY_COLUMNS.filter(([col]) => c.columns.includes(col));
  const runLabels = c.runs.map((_, i) => runLabel(c, i));
  const values: Array<Record<string, number | string>> = [];
  c.runs.forEach((r, i) => {
    const t = r.columns.get('t')!;
    for (const [col, title] of overlay) {
      const x = r.columns.get(col)!;
      for (let k = 0; k < r.rows; k++) {
        // log-time axis: the t = 0 row cannot be drawn
        if (t[k] > 0 && Number.isFinite(x[k])) values.push({ run: runLabels[i], quantity: title, t: t[k], value: x[k] });
      }
    }
  });
  // one deviation panel per pair, one line per family of columns (src/compare/compare.ts FAMILIES)
  const familyNames = [...new Set(c.pairs.flatMap((p) => [...p.familyRowMaxRel.keys()]))];
  const known = FAMILIES.map((f) => f.name);
  familyNames.sort((x, y) => (known.includes(x) ? known.indexOf(x) : 99) - (known.includes(y) ? known.indexOf(y) : 99));
  const familyColours = familyNames.map((_, i) => SERIES_COLOURS[i % SERIES_COLOURS.length]);
  const familyDashes = familyNames.map((_, i) => DASHES[Math.floor(i / SERIES_COLOURS.length) % DASHES.length]);
  const t1Values = c.runs.filter((r) => r.T1 !== null && r.T1 > 0).map((r) => ({ t: r.T1 as number }));
  const deviationPanel = (pi: number) => {
    const p = c.pairs[pi];
    const devValues: Array<Record<string, number | string>> = [];
    for (const [fam, rel] of p.familyRowMaxRel) {
      for (let k = 0; k < p.t.length; k++) if (p.t[k] > 0) devValues.push({ family: fam, t: p.t[k], rel: Math.max(rel[k], DEVIATION_FLOOR) });
    }
    return {
      width: 1150,
      height: 240,
      title: { text: `relative deviation, ${runLabel(c, p.b)} vs ${runLabel(c, p.a)} (largest in each family of columns; dashed: T1 of each run)`, fontSize: 15 },
      layer: [
        {
          data: { values: devValues },
          mark: { type: 'line', strokeWidth: 2 },
          encoding: {
            x: { field: 't', type: 'quantitative', scale: { type: 'log', nice: false }, title: 'time t', axis: { format: '~g' } },
            y: { field: 'rel', type: 'quantitative', scale: { type: 'log' }, title: `|x_b − x_a| / family scale (0 at ${DEVIATION_FLOOR})`, axis: { format: '.0e' } },
            color: { field: 'family', type: 'nominal', sort: familyNames, scale: { domain: familyNames, range: familyColours }, title: 'columns' },
            strokeDash: { field: 'family', type: 'nominal', sort: familyNames, scale: { domain: familyNames, range: familyDashes }, title: 'columns' },
          },
        },
        {
          data: { values: t1Values },
          mark: { type: 'rule', strokeDash: [6, 4], strokeWidth: 1.5, color: '#555555' },
          encoding: { x: { field: 't', type: 'quantitative' } },
        },
      ],
    };
  };
  const cols = 3;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'coflow compare', subtitle: `${c.runs.length} runs from one start; t = 0 is not drawn (log time)` },
    vconcat: [
      {
        data: { values },
        facet: { field: 'quantity', type: 'nominal', sort: overlay.map(([, title]) => title), title: null, header: { labelFontSize: 15 } },
        columns: cols,
        spec: {
          width: 380,
          height: 190,
          mark: { type: 'line', strokeWidth: 2 },
          encoding: {
            x: { field: 't', type: 'quantitative', scale: { type: 'log', nice: false }, title: 'time t', axis: { format: '~g' } },
            y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
            color: { field: 'run', type: 'nominal', sort: runLabels, scale: { domain: runLabels, range: SERIES_COLOURS.slice(0, runLabels.length) }, title: 'run' },
            strokeDash: { field: 'run', type: 'nominal', sort: runLabels, scale: { domain: runLabels, range: runLabels.map((_, i) => DASHES[i % DASHES.length]) }, title: 'run' },
          },
        },
        resolve: { scale: { y: 'independent' } },
      },
      ...c.pairs.map((_, i) => deviationPanel(i)),
    ],
    resolve: { scale: { color: 'independent', strokeDash: 'independent' } },
  } as TopLevelSpec;
}

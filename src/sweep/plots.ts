/**
 * The fit figures of a sweep: for each fitted quantity, a log-log scatter of y against m with one
 * colour per seed, each seed's fitted line in its colour (or the pooled line in black), and the
 * exponent with its 95 % interval in the title. Rendered by the one figure path of
 * src/plot/render.ts, with the colour-blind-safe palette of src/plot/style.ts.
 */
import type { TopLevelSpec } from 'vega-lite';
import { writeFigure } from '../plot/render.js';
import { colourOf, OKABE_ITO } from '../plot/style.js';
import type { FitPoint, PowerFit } from './fit.js';

/** Seed colours: the Okabe-Ito palette without black (kept for the pooled line), cycled. */
const SEED_COLOURS = [OKABE_ITO.blue, OKABE_ITO.vermillion, OKABE_ITO.bluishGreen, OKABE_ITO.orange, OKABE_ITO.skyBlue, OKABE_ITO.reddishPurple, OKABE_ITO.grey];

function fmt(x: number): string {
  return Number(x.toPrecision(4)).toString();
}

export function fitFigureSpec(title: string, yLabel: string, points: readonly FitPoint[], fit: PowerFit): TopLevelSpec {
  const usable = points.filter((p) => p.y !== null && Number.isFinite(p.y) && p.y > 0 && p.m > 0);
  const seeds = [...new Set(usable.map((p) => p.seed))].sort((a, b) => a - b);
  const mMin = Math.min(...usable.map((p) => p.m));
  const mMax = Math.max(...usable.map((p) => p.m));
  const lines: { seed: string; m: number; y: number }[] = [];
  if (fit.method === 'per-seed') {
    for (const f of fit.perSeed) for (const m of [mMin, mMax]) lines.push({ seed: String(f.seed), m, y: Math.exp(f.intercept + f.slope * Math.log(m)) });
  } else if (fit.pooled) {
    for (const m of [mMin, mMax]) lines.push({ seed: 'pooled fit', m, y: Math.exp(fit.pooled.intercept + fit.pooled.slope * Math.log(m)) });
  }
  // The grid's m values as the x ticks (a sweep doubles m, so they are evenly spaced on the log axis).
  const allM = [...new Set(usable.map((p) => p.m))].sort((a, b) => a - b);
  const mValues = allM.length <= 16 ? allM : allM.filter((_, i) => i % Math.ceil(allM.length / 16) === 0);
  const xScale = { type: 'log', base: 2, nice: false, padding: 16 } as const;
  const domain = [...seeds.map(String), ...(fit.method === 'pooled-ols' ? ['pooled fit'] : [])];
  const range = domain.map((d, i) => (d === 'pooled fit' ? colourOf('loss') : SEED_COLOURS[i % SEED_COLOURS.length]));
  const color = { field: 'seed', type: 'nominal', title: 'seed', scale: { domain, range } } as const;
  const subtitle =
    fit.exponent === null
      ? 'no fit (too few usable points)'
      : `exponent ${fmt(fit.exponent)}${fit.ci95 ? `, 95% interval [${fmt(fit.ci95[0])}, ${fmt(fit.ci95[1])}]` : ''}; ${fit.method === 'per-seed' ? `mean of ${fit.n} per-seed slopes` : 'pooled OLS'}` +
        (fit.leftOut.missing + fit.leftOut.nonPositive > 0 ? `; left out: ${fit.leftOut.missing} missing, ${fit.leftOut.nonPositive} non-positive` : '');
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, subtitle },
    width: 900,
    height: 420,
    layer: [
      {
        data: { values: usable.map((p) => ({ seed: String(p.seed), m: p.m, y: p.y })) },
        mark: { type: 'point', filled: true, size: 70 },
        encoding: {
          x: { field: 'm', type: 'quantitative', scale: xScale, axis: { values: mValues, format: 'd' }, title: 'width m (log scale)' },
          y: { field: 'y', type: 'quantitative', scale: { type: 'log', nice: false, padding: 12 }, title: `${yLabel} (log scale)` },
          color,
        },
      },
      {
        data: { values: lines },
        mark: { type: 'line', strokeWidth: 2 },
        encoding: {
          x: { field: 'm', type: 'quantitative', scale: xScale },
          y: { field: 'y', type: 'quantitative', scale: { type: 'log', nice: false, padding: 12 } },
          color,
          detail: { field: 'seed' },
        },
      },
    ],
  } as TopLevelSpec;
}

export async function writeFitFigure(dir: string, name: string, title: string, yLabel: string, points: readonly FitPoint[], fit: PowerFit): Promise<void> {
  await writeFigure(dir, name, fitFigureSpec(title, yLabel, points, fit));
}

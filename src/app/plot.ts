import { join } from 'node:path';
import { makeDirectory } from '../io/atomic.js';
import { FIGURE_NAMES, FIGURES, plottedRows } from '../plot/figures.js';
import { RenderedFigure, renderVegaLite, writeRenderedFigure } from '../plot/render.js';
import { readPlotRun } from '../plot/runData.js';
import { UsageError } from '../errors.js';

/** The directory `coflow plot` and `coflow run` write the figures to by default. */
export const FIGURES_DIR = 'figures';

/**
 * Reads the run in `runDir` and renders every figure in memory (nothing is written yet, so bad
 * input leaves nothing behind). `command` names the coflow command in error messages.
 */
export async function renderRunFigures(runDir: string, command = 'plot'): Promise<Map<string, RenderedFigure>> {
  const run = readPlotRun(runDir, command);
  if (plottedRows(run).length === 0) {
    throw new UsageError(`${command} ${runDir}: trajectory.csv has no row after t = 0, so there is nothing to draw on a log time axis; run it longer`);
  }
  const out = new Map<string, RenderedFigure>();
  // One at a time, in a fixed order: the files do not depend on scheduling.
  for (const name of FIGURE_NAMES) out.set(name, await renderVegaLite(FIGURES[name](run)));
  return out;
}

/** Renders the figures of the run in `runDir` and writes NAME.svg, NAME.png for each into `outDir`. Returns the paths written. */
export async function writeRunFigures(runDir: string, outDir: string, flag: string, command = 'plot'): Promise<string[]> {
  const figures = await renderRunFigures(runDir, command);
  makeDirectory(outDir, flag);
  const paths: string[] = [];
  for (const [name, fig] of figures) paths.push(...writeRenderedFigure(outDir, name, fig));
  return paths;
}

/** `coflow plot RUN_DIR [--out DIR]`: the figures of a run (default DIR: RUN_DIR/figures). */
export async function plotCommand(runDir: string, out: string | undefined): Promise<void> {
  const outDir = out ?? join(runDir, FIGURES_DIR);
  const paths = await writeRunFigures(runDir, outDir, out !== undefined ? '--out' : 'plot');
  process.stdout.write(`wrote ${paths.length} files (${FIGURE_NAMES.map((n) => `${n}.svg/.png`).join(', ')}) to ${outDir}\n`);
}

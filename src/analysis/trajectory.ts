/**
 * The recorded trajectory of a run: one row per sample time, with the columns of
 * src/observe/derive.ts (docs/observables.md), the same names at every level. `drift_QK` and
 * `drift_VW` are the relative drifts of the two conserved quantities since t = 0
 * (max |I(t) - I(0)| / scale(0)); for an exact gradient flow they are zero, so at Level F they
 * measure integration error (at Level G/T the invariants are linear in the state and conserved by
 * every Runge-Kutta step, so they show round-off only; for GD they measure the O(lr^2) per-step
 * defect).
 */
export class Trajectory {
  readonly rows: number[][] = [];

  constructor(readonly columns: readonly string[]) {}

  add(row: number[]): void {
    if (row.length !== this.columns.length) throw new Error(`trajectory row has ${row.length} values for ${this.columns.length} columns`);
    this.rows.push(row);
  }

  column(name: string): number[] {
    const j = this.columns.indexOf(name);
    if (j < 0) throw new Error(`no trajectory column '${name}'`);
    return this.rows.map((r) => r[j]);
  }

  /**
   * CSV with every number printed as JavaScript's shortest round-trip decimal, so the file is
   * byte-identical for identical runs and parses back to the exact float64 values.
   */
  toCsv(): string {
    const lines = [this.columns.join(',')];
    for (const r of this.rows) lines.push(r.map(formatNumber).join(','));
    return lines.join('\n') + '\n';
  }
}

export function formatNumber(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  return String(x);
}

/** Relative drift of each conserved group: max |I(t) - I(0)| / scale(0). */
export function invariantDrift(
  initial: { groups: [Float64Array, Float64Array]; scales: [number, number] },
  now: { groups: [Float64Array, Float64Array] },
): [number, number] {
  const out: [number, number] = [0, 0];
  for (let g = 0; g < 2; g++) {
    let max = 0;
    const a = initial.groups[g];
    const b = now.groups[g];
    for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(b[i] - a[i]));
    out[g] = max / (initial.scales[g] > 0 ? initial.scales[g] : 1);
  }
  return out;
}

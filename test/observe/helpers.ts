/**
 * Independent references for the observation tests (docs/observables.md): every trajectory
 * column recomputed from the weights by straightforward loops over Eq. 1, written without the
 * project's kernels (no PairTable, no SIMD, no LossGrad, no logistic helpers), and comparison
 * helpers that compare rows column by column BY NAME.
 */
import { Dataset } from '../../src/data/dataset.js';
import { Trajectory } from '../../src/analysis/trajectory.js';
import { allocGrad, LossGrad } from '../../src/model/gradient.js';
import { cloneParams } from '../../src/model/init.js';
import { Params } from '../../src/model/params.js';
import { FullDynamics } from '../../src/run/fullDynamics.js';

/** A row as a name -> value map. */
export type Row = Record<string, number>;

export function rowObject(columns: readonly string[], row: readonly number[]): Row {
  if (columns.length !== row.length) throw new Error(`row has ${row.length} values for ${columns.length} columns`);
  return Object.fromEntries(columns.map((c, j) => [c, row[j]]));
}

/** A copy of the row with one column multiplied by `factor` (the negative control). */
export function scaled(row: Row, name: string, factor: number): Row {
  if (!(name in row)) throw new Error(`no column ${name}`);
  return { ...row, [name]: row[name] * factor };
}

/** Per-column tolerance: |got - ref| <= rel |ref| + abs. */
export interface Tol {
  rel: number;
  abs: number;
}

export interface Mismatch {
  column: string;
  got: number;
  ref: number;
  /** |got - ref| / (rel |ref| + abs): > 1 is a mismatch */
  ratio: number;
}

/**
 * Compares two rows by column name: the same set of names, and every value within its tolerance.
 * Returns the mismatching columns (empty: agreement). A NaN on either side that is not NaN on both
 * sides is a mismatch.
 */
export function compareRows(got: Row, ref: Row, tol: (column: string) => Tol): Mismatch[] {
  const out: Mismatch[] = [];
  const names = new Set([...Object.keys(got), ...Object.keys(ref)]);
  for (const c of names) {
    const g = got[c];
    const r = ref[c];
    if (g === undefined || r === undefined) {
      out.push({ column: c, got: g ?? NaN, ref: r ?? NaN, ratio: Infinity });
      continue;
    }
    if (Number.isNaN(g) && Number.isNaN(r)) continue;
    const { rel, abs } = tol(c);
    const allowed = rel * Math.abs(r) + abs;
    const diff = Math.abs(g - r);
    const ratio = diff === 0 ? 0 : diff / allowed;
    if (!(ratio <= 1)) out.push({ column: c, got: g, ref: r, ratio });
  }
  return out;
}

/** With COFLOW_MEASURE set, prints a measured agreement (for reporting tolerances' margins). */
export function measure(label: string, value: unknown): void {
  if (process.env.COFLOW_MEASURE) console.log(`[measure] ${label}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
}

/** The largest |got - ref| / |ref| over the named columns (|got - ref| where ref is 0). */
export function worstRelative(got: Row, ref: Row, columns: readonly string[]): { column: string; rel: number } {
  let worst = { column: '', rel: 0 };
  for (const c of columns) {
    const d = Math.abs(got[c] - ref[c]);
    const rel = ref[c] === 0 ? d : d / Math.abs(ref[c]);
    if (rel > worst.rel || Number.isNaN(rel)) worst = { column: c, rel };
  }
  return worst;
}

/** The largest |got - ref| / scale over the columns of ref (with its column). */
export function worstScaled(got: Row, ref: Row, scale: Row): { column: string; err: number } {
  let worst = { column: '', err: 0 };
  for (const c of Object.keys(ref)) {
    const e = Math.abs(got[c] - ref[c]) / scale[c];
    if (e > worst.err) worst = { column: c, err: e };
  }
  return worst;
}

/**
 * Column-by-column agreement of two trajectories (same number of rows, same times), each column
 * against its own scale max_t |ref|: returns per column max_t |a - b| / scale (|a - b| where the
 * reference column is identically 0).
 */
export function trajectoryColumnErrors(a: Trajectory, b: Trajectory, columns: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of columns) {
    const x = a.column(c);
    const y = b.column(c);
    if (x.length !== y.length) throw new Error(`column ${c}: ${x.length} rows vs ${y.length}`);
    let scale = 0;
    let diff = 0;
    for (let i = 0; i < y.length; i++) {
      scale = Math.max(scale, Math.abs(y[i]));
      const d = Math.abs(x[i] - y[i]);
      diff = Number.isNaN(d) ? Infinity : Math.max(diff, d);
    }
    out[c] = scale > 0 ? diff / scale : diff;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Plain-loop Level F reference (Eq. 1)
// ---------------------------------------------------------------------------------------------

/** u_t = G(mu_t) = a^T W W_V mu_t for every vocabulary token t, by the triple loop. */
export function plainG(p: Params): Float64Array {
  const { m, m1, d } = p;
  const u = new Float64Array(d);
  for (let t = 0; t < d; t++) {
    let s = 0;
    for (let j = 0; j < m1; j++) {
      let wv = 0;
      for (let c = 0; c < m; c++) wv += p.W[j * m + c] * p.WV[c * d + t];
      s += p.a[j] * wv;
    }
    u[t] = s;
  }
  return u;
}

/** Unscaled score <W_K mu_key, W_Q mu_query>. */
export function plainScore(p: Params, key: number, query: number): number {
  let s = 0;
  for (let c = 0; c < p.m; c++) s += p.WK[c * p.d + key] * p.WQ[c * p.d + query];
  return s;
}

/** <X mu_i, X mu_j> for an m x d matrix X. */
function colDot(X: Float64Array, m: number, d: number, i: number, j: number): number {
  let s = 0;
  for (let c = 0; c < m; c++) s += X[c * d + i] * X[c * d + j];
  return s;
}

/**
 * Eq. 1 for one sample: z_pl = <W_K x_p, W_Q x_l> / sqrt(m), P_pl = exp(z_pl) / sum_p' exp(z_p'l)
 * (softmax over the keys p of query l, no max shift), F = sum_l sum_p P_pl G(x_p).
 * Returns F and P (P[p * L + l]).
 */
export function plainSample(p: Params, u: Float64Array, tokens: Int32Array, i: number, L: number): { F: number; P: Float64Array } {
  const P = new Float64Array(L * L);
  let F = 0;
  for (let l = 0; l < L; l++) {
    let Z = 0;
    for (let q = 0; q < L; q++) {
      const e = Math.exp(plainScore(p, tokens[i * L + q], tokens[i * L + l]) / Math.sqrt(p.m));
      P[q * L + l] = e;
      Z += e;
    }
    for (let q = 0; q < L; q++) {
      P[q * L + l] /= Z;
      F += P[q * L + l] * u[tokens[i * L + q]];
    }
  }
  return { F, P };
}

const loss = (x: number) => Math.log(1 + Math.exp(-x));
const weight = (x: number) => 1 / (1 + Math.exp(x));

export interface PlainInput {
  /** the weights now, and at the run's start (movement columns) */
  p: Params;
  p0: Params;
  data: Dataset;
  t: number;
  step?: number | null;
  drift: readonly [number, number];
  /** dG(mu_1..3)/dt at p from an independent computation (see dGByDifference) */
  dG: readonly [number, number, number];
  test?: Dataset;
}

/**
 * Every trajectory column of docs/observables.md at p, computed by plain loops (the reference the
 * Observer's row is compared with), and for each column its CONDITION SCALE: the size of the
 * terms the column sums or differences (sum of |terms|, for G = sum_j sum_c a_j W_jc V_ct, for
 * C_ij and the scores sum_c |X_ci Y_cj|, for outputs sum_l sum_p P_pl |u_p|, for ratios the
 * first-order error bound of numerator and denominator). Any evaluation of a column in another
 * order differs from this one by a few ulps of its scale, not of its value: a column that is a
 * small result of cancelling terms (e.g. C_23 near 0) is compared at its terms' scale.
 * The drift columns are inputs (what the caller passes to Observer.row); dG is an input computed
 * by another independent route (dGByDifference).
 */
export function plainRow(x: PlainInput): { row: Row; scale: Row } {
  const { p, p0, data } = x;
  const { n, L, tokens } = data;
  const { m, m1, d } = p;
  const u = plainG(p);
  // sum of |terms| of G(mu_t) = sum_j a_j sum_c W_jc V_ct
  const uScale = new Float64Array(d);
  for (let t = 0; t < d; t++) {
    for (let j = 0; j < m1; j++) for (let c = 0; c < m; c++) uScale[t] += Math.abs(p.W[j * m + c] * p.WV[c * d + t]);
  }
  const absDot = (X: Float64Array, Y: Float64Array, i: number, j: number) => {
    let s = 0;
    for (let c = 0; c < m; c++) s += Math.abs(X[c * d + i] * Y[c * d + j]);
    return s;
  };
  const F: number[] = [];
  const Fscale: number[] = [];
  const Ps: Float64Array[] = [];
  const P0s: Float64Array[] = [];
  const u0 = plainG(p0);
  for (let i = 0; i < n; i++) {
    const smp = plainSample(p, u, tokens, i, L);
    F.push(smp.F);
    Ps.push(smp.P);
    let fs = 0;
    for (let q = 0; q < L; q++) for (let l = 0; l < L; l++) fs += smp.P[q * L + l] * (Math.abs(u[tokens[i * L + q]]) + uScale[tokens[i * L + q]]);
    Fscale.push(fs);
    P0s.push(plainSample(p0, u0, tokens, i, L).P);
  }
  const maxFscale = Math.max(...Fscale);
  const row: Row = { t: x.t };
  const scale: Row = {};
  if (x.step !== undefined) row.step = x.step ?? NaN;
  let total = 0;
  for (let i = 0; i < n; i++) total += loss(data.y[i] * F[i]);
  row.loss = total / n;
  for (let t = 1; t <= 4; t++) {
    let s = 0;
    let c = 0;
    for (let i = 0; i < n; i++) {
      if (data.type[i] === t) {
        s += loss(data.y[i] * F[i]);
        c++;
      }
    }
    row[`loss_I${t}`] = s / c;
  }
  for (let i = 1; i <= 3; i++) {
    row[`G${i}`] = u[i - 1];
    scale[`G${i}`] = uScale[i - 1];
  }
  for (let i = 1; i <= 3; i++) {
    for (let j = 1; j <= 3; j++) {
      row[`score_k${i}_q${j}`] = plainScore(p, i - 1, j - 1);
      scale[`score_k${i}_q${j}`] = absDot(p.WK, p.WQ, i - 1, j - 1);
    }
  }
  row.minMargin = Math.min(...F.map((f, i) => data.y[i] * f));
  scale.minMargin = maxFscale;
  row.drift_QK = x.drift[0];
  row.drift_VW = x.drift[1];
  row.maxAbsF = Math.max(...F.map(Math.abs));
  scale.maxAbsF = maxFscale;
  const sumg = [0, 0, 0, 0];
  for (let t = 1; t <= 4; t++) {
    let mg = Infinity;
    let g = 0;
    for (let i = 0; i < n; i++) {
      if (data.type[i] !== t) continue;
      mg = Math.min(mg, data.y[i] * F[i]);
      g += weight(data.y[i] * F[i]);
    }
    row[`margin_I${t}`] = mg;
    scale[`margin_I${t}`] = maxFscale;
    sumg[t - 1] = g / n;
  }
  for (let t = 1; t <= 4; t++) row[`sumg_I${t}`] = sumg[t - 1];
  const [g1, g2, g3, g4] = sumg;
  row.balance44 = Math.abs(g2 - g3) / Math.min(g2, g3);
  scale.balance44 = (g2 + g3) / Math.min(g2, g3) + row.balance44;
  const num = g2 + g3 + g4 - g1;
  const den = g1 - g2;
  row.R45 = num / den;
  scale.R45 = (g1 + g2 + g3 + g4) / Math.abs(den) + (Math.abs(num) * (g1 + g2)) / (den * den);
  for (const [i, j] of [[1, 1], [1, 2], [1, 3], [2, 2], [2, 3], [3, 3]]) {
    row[`C${i}${j}`] = colDot(p.WV, m, d, i - 1, j - 1);
    scale[`C${i}${j}`] = absDot(p.WV, p.WV, i - 1, j - 1);
  }
  let s = 0;
  for (let c = 0; c < m; c++) {
    let rc = 0;
    for (let j = 0; j < m1; j++) rc += p.a[j] * p.W[j * m + c];
    s += rc * rc;
  }
  row.s = s;
  const move = (X: Float64Array, X0: Float64Array): [number, number] => {
    let mv = 0;
    let sc = 0;
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        mv = Math.max(mv, Math.abs(colDot(X, m, d, i, j) - colDot(X0, m, d, i, j)));
        sc = Math.max(sc, absDot(X, X, i, j) + absDot(X0, X0, i, j));
      }
    }
    return [mv, sc];
  };
  [row.move_A, scale.move_A] = move(p.WQ, p0.WQ);
  [row.move_B, scale.move_B] = move(p.WK, p0.WK);
  [row.move_C, scale.move_C] = move(p.WV, p0.WV);
  // Co-occurring (key, query) pairs: both tokens in one sample (a token with itself included).
  const moveS = { tt: [0, 0], sf: [0, 0], ff: [0, 0] };
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < L; a++) {
      for (let b = 0; b < L; b++) {
        const key = tokens[i * L + a];
        const query = tokens[i * L + b];
        const id = `${key},${query}`;
        if (seen.has(id)) continue;
        seen.add(id);
        const dlt = Math.abs(plainScore(p, key, query) - plainScore(p0, key, query));
        const sc = absDot(p.WK, p.WQ, key, query) + absDot(p0.WK, p0.WQ, key, query);
        const fk = key >= 3;
        const fq = query >= 3;
        const cls = fk && fq ? moveS.ff : fk || fq ? moveS.sf : key <= 1 && query <= 1 ? moveS.tt : null;
        if (cls) {
          cls[0] = Math.max(cls[0], dlt);
          cls[1] = Math.max(cls[1], sc);
        }
      }
    }
  }
  [row.move_S_tt, scale.move_S_tt] = moveS.tt;
  [row.move_S_sf, scale.move_S_sf] = moveS.sf;
  [row.move_S_ff, scale.move_S_ff] = moveS.ff;
  const [d1, d2, d3] = x.dG;
  const dGmax = Math.max(Math.abs(d1), Math.abs(d2), Math.abs(d3));
  row.dG1 = d1;
  row.dG2 = d2;
  row.dG3 = d3;
  for (const c of ['dG1', 'dG2', 'dG3']) scale[c] = dGmax;
  row.lemma43_max = -d3 / Math.max(d1, d2);
  row.lemma43_sum = -d3 / (d1 + d2);
  scale.lemma43_max = (Math.abs(d3) + Math.abs(row.lemma43_max) * dGmax) / Math.abs(Math.max(d1, d2));
  scale.lemma43_sum = (Math.abs(d3) + 2 * Math.abs(row.lemma43_sum) * dGmax) / Math.abs(d1 + d2);
  let devU = 0;
  let devI = 0;
  for (let i = 0; i < n; i++) {
    for (let e = 0; e < L * L; e++) {
      devU = Math.max(devU, Math.abs(Ps[i][e] - 1 / L));
      devI = Math.max(devI, Math.abs(Ps[i][e] - P0s[i][e]));
    }
  }
  // differences of probabilities (<= 1)
  row.attn_dev_uniform = devU;
  row.attn_dev_init = devI;
  scale.attn_dev_uniform = 1;
  scale.attn_dev_init = 1;
  for (let t = 1; t <= 4; t++) {
    let sum = 0;
    let sc = 0;
    let c = 0;
    for (let i = 0; i < n; i++) {
      if (data.type[i] !== t) continue;
      c++;
      for (let q = 0; q < L; q++) {
        const tok = tokens[i * L + q];
        if (tok < 3) continue;
        let col = 0;
        for (let l = 0; l < L; l++) col += Ps[i][q * L + l];
        sum += col * u[tok];
        sc += col * (Math.abs(u[tok]) + uScale[tok]);
      }
    }
    row[`fillerF_I${t}`] = sum / c;
    scale[`fillerF_I${t}`] = sc / c;
  }
  let gf = 0;
  let gfs = 0;
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i] >= 3) {
      gf = Math.max(gf, Math.abs(u[tokens[i]]));
      gfs = Math.max(gfs, uScale[tokens[i]]);
    }
  }
  row.Gfiller_max = gf;
  scale.Gfiller_max = gfs;
  if (x.test) {
    const te = x.test;
    let tl = 0;
    let wrong = 0;
    for (let i = 0; i < te.n; i++) {
      const f = plainSample(p, u, te.tokens, i, te.L).F;
      tl += loss(te.y[i] * f);
      if (te.y[i] * f <= 0) wrong++;
    }
    row.test_loss = tl / te.n;
    row.test_error = wrong / te.n;
  }
  // Columns without an entry above (losses, g-sums, s, t, step, drifts, test columns) have no
  // cancellation: their scale is their own size.
  for (const c of Object.keys(row)) scale[c] = Math.max(scale[c] ?? 0, Math.abs(row[c]));
  return { row, scale };
}

/** The largest |entry| of a vector. */
export function maxAbs(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s = Math.max(s, Math.abs(x[i]));
  return s;
}

export function norm(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return Math.sqrt(s);
}

/** y + h f (a new array). */
export function axpy(y: Float64Array, h: number, f: Float64Array): Float64Array {
  const out = new Float64Array(y.length);
  for (let i = 0; i < y.length; i++) out[i] = y[i] + h * f[i];
  return out;
}

/** p + c q on the trainable matrices (a kept): a second state far from p. */
export function shifted(p: Params, q: Params, c: number): Params {
  const add = (x: Float64Array, z: Float64Array) => x.map((v, i) => v + c * z[i]);
  return { ...p, WQ: add(p.WQ, q.WQ), WK: add(p.WK, q.WK), WV: add(p.WV, q.WV), W: add(p.W, q.W) };
}

/**
 * dG(mu_1..3)/dt at the state y of `dyn` by a central difference along the Level F field f
 * (FullDynamics.field, i.e. -grad L from LossGrad): (G(y + h f) - G(y - h f)) / 2h with G by the
 * plain triple loop. G = a^T W W_V mu is quadratic in the state, so the central difference is
 * EXACT for any h (the h^2 terms cancel); h = |y| / |f| balances the rounding of the two G's.
 */
export function dGByDifference(dyn: FullDynamics, y: Float64Array): [number, number, number] {
  const f = new Float64Array(dyn.size);
  dyn.field(0, y, f);
  const h = norm(y) / norm(f);
  const gp = plainG(dyn.toParams(axpy(y, h, f)));
  const gm = plainG(dyn.toParams(axpy(y, -h, f)));
  return [0, 1, 2].map((i) => (gp[i] - gm[i]) / (2 * h)) as [number, number, number];
}

/**
 * Tolerances: |got - ref| <= 1e-12 x the column's condition scale (plainRow). Both sides evaluate
 * the same closed-form expressions in a different order (plain loops and exp without max shift
 * here; two-accumulator dots, SIMD scores and the shifted softmax in src/observe/full.ts; the
 * Gram blocks at Level G), so each column agrees to a few ulps (n eps, n <= m m1 = 48 terms) of
 * its terms' size; 1e-12 leaves a margin of > 100 over that. For the dG columns the scale is
 * max|dG|: the reference is a difference quotient whose rounding is eps |G(y +- h f)| / h, about
 * eps of the field's size. For t, step, drift, losses, g-sums, s and the test columns (no
 * cancellation) the scale is the value itself: 1e-12 relative. The negative control checks that
 * every such allowance stays below 1e-3 of the value.
 */
export function fullTolerances(scale: Row): (c: string) => Tol {
  return (c) => ({ rel: 0, abs: 1e-12 * (scale[c] ?? NaN) });
}

/**
 * The iterates p_0 .. p_steps of full-batch GD written out: p <- p - lr dL/dp with the analytic
 * gradient of LossGrad (src/model/gradient.ts), on copies.
 */
export function gdIterates(data: Dataset, p0: Params, lr: number, steps: number): Params[] {
  const p = cloneParams(p0);
  const lg = new LossGrad(data, p.m, p.m1);
  const g = allocGrad(p);
  const out: Params[] = [cloneParams(p)];
  for (let k = 0; k < steps; k++) {
    lg.lossAndGrad(p, g);
    for (const [w, dw] of [[p.WQ, g.dWQ], [p.WK, g.dWK], [p.WV, g.dWV], [p.W, g.dW]] as const) {
      for (let i = 0; i < w.length; i++) w[i] -= lr * dw[i];
    }
    out.push(cloneParams(p));
  }
  return out;
}

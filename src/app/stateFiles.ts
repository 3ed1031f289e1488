/**
 * What a state looks like on disk: the named arrays of initial.npz, final.npz and the snapshots,
 * per level. The file layout is the command's business (this folder), not the level's: the
 * level adapters of src/run expose their state's structure (Level F's weights, the Gram blocks
 * and token ids, Level T's orbit layout, Level P's phase), and only here do those become names.
 * docs/files.md documents each layout. The arrays may be views of y: read them before y changes.
 */
import { UsageError } from '../errors.js';
import { ORDERED_ORBITS, UNORDERED_ORBITS } from '../reduced/orbits.js';
import type { Dynamics } from '../run/dynamics.js';
import { FullDynamics } from '../run/fullDynamics.js';
import { GramDynamics } from '../run/gramDynamics.js';
import { PaperDynamics } from '../run/paperDynamics.js';
import { TypeDynamics } from '../run/typeDynamics.js';

/** Named arrays of a state file (row-major data with its shape). */
export type StateArrays = Record<string, { shape: number[]; data: Float64Array | Int32Array }>;

/** The state y of a run's level as the named arrays of its .npz files (t and step are added by the writer). */
export function stateArrays(dyn: Dynamics, y: Float64Array): StateArrays {
  if (y.length !== dyn.size) throw new UsageError(`a ${dyn.level}-level state has length ${y.length}, expected ${dyn.size}`);
  if (dyn instanceof FullDynamics) {
    // The paper's m x d weights, as coflow init and coflow grad read them.
    const p = dyn.toParams(y);
    return {
      WQ: { shape: [p.m, p.d], data: p.WQ },
      WK: { shape: [p.m, p.d], data: p.WK },
      WV: { shape: [p.m, p.d], data: p.WV },
      W: { shape: [p.m1, p.m], data: p.W },
      a: { shape: [p.m1], data: p.a.slice() },
    };
  }
  if (dyn instanceof GramDynamics) {
    // S, A, B, C: k x k; u: k; s: 1; and the vocabulary id of each local token.
    const { k, layout: lay } = dyn.model;
    // views of y (no copy; written at once by the caller)
    const block = (off: number, len: number): Float64Array => y.subarray(off, off + len);
    return {
      S: { shape: [k, k], data: block(lay.S, k * k) },
      A: { shape: [k, k], data: block(lay.A, k * k) },
      B: { shape: [k, k], data: block(lay.B, k * k) },
      C: { shape: [k, k], data: block(lay.C, k * k) },
      u: { shape: [k], data: block(lay.u, k) },
      s: { shape: [1], data: block(lay.s, 1) },
      token_ids: { shape: [k], data: dyn.model.index.globalOf.slice() },
    };
  }
  if (dyn instanceof PaperDynamics) {
    // C (k x k), u (k), s (1), the token ids, and the phase at this state.
    const model = dyn.model;
    const { k, layout: lay } = model;
    return {
      C: { shape: [k, k], data: y.slice(lay.C, lay.C + k * k) },
      u: { shape: [k], data: y.slice(lay.u, lay.u + k) },
      s: { shape: [1], data: y.slice(lay.s, lay.s + 1) },
      token_ids: { shape: [k], data: model.index.globalOf.slice() },
      phase: { shape: [1], data: Int32Array.of(model.phase(y)) },
    };
  }
  if (dyn instanceof TypeDynamics) {
    // The blocks S (ordered orbits), A, B, C (unordered), u (7), s; and every orbit variable
    // under its own name: the label of derivations/type-level.md with brackets, commas and
    // semicolons as dots (.npz keys are file names), e.g. `S.mu2.mu1` for S[mu2,mu1],
    // `A.f1.f1.same-sample` for A[f1,f1;same-sample], `u.mu3`. A reader then needs no table.
    const lay = dyn.system.layout;
    const block = (o: number, len: number) => ({ shape: [len], data: y.slice(o, o + len) });
    const out: StateArrays = {
      S: block(lay.S, ORDERED_ORBITS.length),
      A: block(lay.A, UNORDERED_ORBITS.length),
      B: block(lay.B, UNORDERED_ORBITS.length),
      C: block(lay.C, UNORDERED_ORBITS.length),
      u: block(lay.u, 7),
      s: block(lay.s, 1),
    };
    lay.names.forEach((name, i) => {
      if (name !== 's') out[name.replace(/[[\],;]+/g, '.').replace(/\.$/, '')] = { shape: [], data: Float64Array.of(y[i]) };
    });
    return out;
  }
  throw new Error(`no state file layout for level '${dyn.level}': add one to src/app/stateFiles.ts`);
}

/**
 * Derivation of Level P, the paper's own approximate system (docs/levels.md#level-p), as
 * symbolic transformations of Level G's derived equations (src/symbolic/derivation/gramSystem.ts)
 * and of its verified per-sample templates (src/symbolic/sample/closedForm.ts):
 *
 * Phase 1 (Thm 3.1 and its lemmas): the attention is frozen at uniform, P_pl = 1/L. The loss then
 *   no longer depends on the scores, so Gam = dL/dS = 0; substituting Gam = 0 into Level G's six
 *   equations drops every term of dS/dt, dA/dt, dB/dt (attention frozen) and leaves dC/dt, du/dt,
 *   ds/dt unchanged in form, with g_u now the count-weighted gradient of the bag-of-tokens model
 *   (the per-sample templates at P_pl = 1/L, simplified by mathjs: F = sum_p u_p, dF/du_p = 1).
 * Phase 2 (Def. F.1, Lemma F.6): additionally drop the value-correlation term -m1 C g_u of
 *   du/dt (Eq. 4's second term) and freeze C, keeping du/dt = -s g_u and Eq. (5).
 *
 * Every result is checked: closed in (C, u, s, g_u, m1); equal to the equations the paper states
 * (typed in below, as printed by the algebra); Phase 1 conserves m1 tr C - s and Phase 2 conserves
 * m1 u^T u - s^2/2 (proved by the algebra); the frozen-attention templates agree with mathjs's
 * derivative of the frozen-attention output for L = 2..5. Generation throws otherwise.
 */
import { derivative, MathNode, parse, simplify, SymbolNode } from 'mathjs';
import { Algebra, Poly } from '../symbolic/algebra/ncpoly.js';
import { parsePoly } from '../symbolic/algebra/parse.js';
import { GRAM_VARIABLES, GramSystem, GramVariable, deriveGramSystem } from '../symbolic/derivation/gramSystem.js';
import { IndexedFormula, SAMPLE_FORMULAS } from '../symbolic/sample/closedForm.js';
import { Rng } from '../random/rng.js';

/** Level P's state variables, in layout order (src/paper/layout.ts): the tail of Level G's. */
export const PAPER_VARIABLES = ['C', 'u', 's'] as const;
export type PaperVariable = (typeof PAPER_VARIABLES)[number];

/** Level G variables Level P does not evolve: the attention blocks, frozen at their initial values. */
export const FROZEN_VARIABLES = ['S', 'A', 'B'] as const;

/** Symbols a closed Level P equation may contain. */
export const PAPER_CLOSED_SYMBOLS: ReadonlySet<string> = new Set(['C', 'u', 's', 'gu', 'm1']);

/**
 * The equations as the paper states them (Eq. 4, Eq. 5 and the Phase 1 value flow), in the
 * algebra's notation; the derived equations must equal these.
 */
export const PAPER_STATED: Readonly<Record<'phase1' | 'phase2', Readonly<Record<PaperVariable, string>>>> = {
  phase1: { C: '-gu u^T - u gu^T', u: '-s gu - m1 C gu', s: '-2 m1 (u^T gu)' },
  phase2: { C: '0', u: '-s gu', s: '-2 m1 (u^T gu)' },
};

/** The per-sample formulas of the frozen-attention (bag-of-tokens) model, mathjs source. */
export interface FrozenSample {
  /** the uniform attention weight substituted for P_pl */
  readonly uniform: string;
  /** F = sum over p of `output` (the double sum over l and p, the l-sum done) */
  readonly output: IndexedFormula;
  /** dF/du_p (the l-sum done) */
  readonly dFdu: IndexedFormula;
  /** dF/dz_pl at uniform attention: it multiplies dz/dt = 0, so its term is dropped */
  readonly dFdzUniform: string;
  /** mathjs checks of the above against the frozen-attention definition, L = 2..5 */
  readonly maxError: number;
}

export interface PaperSystem {
  readonly gram: GramSystem;
  readonly alg: Algebra;
  /** Level G's six equations with Gam = 0 (S, A, B rates vanish) */
  readonly phase1All: Readonly<Record<GramVariable, Poly>>;
  readonly phase1: Readonly<Record<PaperVariable, Poly>>;
  readonly phase2: Readonly<Record<PaperVariable, Poly>>;
  /** Level G flow minus Phase 1, per variable: the terms Phase 1 drops */
  readonly dropped1: Readonly<Record<GramVariable, Poly>>;
  /** Phase 1 minus Phase 2, per variable: the terms Phase 2 drops in addition */
  readonly dropped2: Readonly<Record<PaperVariable, Poly>>;
  /** d/dt (m1 tr C - s) in each phase, and d/dt (m1 u^T u - s^2/2) in Phase 2 */
  readonly invariantRates: { readonly phase1V: Poly; readonly phase2V: Poly; readonly phase2U: Poly; readonly phase1U: Poly };
  /** dL/dt = g_u^T du/dt in each phase (L depends on u only) */
  readonly lossRate: { readonly phase1: Poly; readonly phase2: Poly };
  readonly sample: FrozenSample;
}

/** p with every term mentioning `sym` removed: the substitution sym = 0. */
export function substituteZero(p: Poly, sym: string): Poly {
  return Poly.fromTerms(
    p.alg,
    p.rows,
    p.cols,
    p.terms.filter((t) => !t.word.some((f) => f.sym === sym) && !t.scalars.some((s) => s.word.some((f) => f.sym === sym))),
  );
}

function assertClosed(name: string, p: Poly): void {
  for (const s of p.symbols()) {
    if (!PAPER_CLOSED_SYMBOLS.has(s)) throw new Error(`Level P derivation: '${name}' is not closed, it still contains '${s}': ${p}`);
  }
}

/** P_pl -> the uniform weight in a template, then the sum over l = 1..L of the (now l-free) result: L times it. */
function uniformSum(expr: string, uniform: string): MathNode {
  const sub = withUniform(expr, uniform);
  if (sub.toString().match(/_[a-z]*l\b/)) throw new Error(`Level P derivation: ${expr} still depends on l at uniform attention`);
  return simplify(parse(`L * (${sub.toString()})`));
}

function withUniform(expr: string, uniform: string): MathNode {
  return parse(expr).transform((n: MathNode) => ((n as SymbolNode).isSymbolNode && (n as SymbolNode).name === 'P_pl' ? parse(`(${uniform})`) : n));
}

/**
 * The frozen-attention templates, checked against mathjs's derivative of the frozen-attention
 * output F = sum_l sum_p (1/L) u_p built from its definition for L = 2..5.
 */
export function deriveFrozenSample(): FrozenSample {
  const uniform = '1 / L';
  // F = sum_l sum_p P_pl u_p: the l-sum of the query output template at P_pl = 1/L.
  const perKey = uniformSum(SAMPLE_FORMULAS.queryOutput.expr, uniform);
  // dF/du_p = sum over l of P_pl (the template's own l-sum)
  const dFdu = uniformSum(SAMPLE_FORMULAS.dFdu.expr, uniform);
  const dFdz = simplify(withUniform(SAMPLE_FORMULAS.dFdz.expr, uniform));
  for (const [what, node] of [['output', perKey], ['dF/du', dFdu]] as const) {
    for (const s of node.filter((n: MathNode) => (n as SymbolNode).isSymbolNode)) {
      const name = (s as SymbolNode).name;
      if (name !== 'u_p') throw new Error(`Level P derivation: the frozen-attention ${what} still contains '${name}' (${node.toString()})`);
    }
  }
  const rng = new Rng('paper-verify:1');
  let maxError = 0;
  for (const L of [2, 3, 4, 5]) {
    const idx = Array.from({ length: L }, (_, i) => i);
    const definition = parse(idx.map(() => idx.map((p) => `(1 / ${L}) * u_${p}`).join(' + ')).map((q) => `(${q})`).join(' + '));
    const templateF = parse(idx.map((p) => `(${perKey.toString().replace(/\bu_p\b/g, `u_${p}`)})`).join(' + '));
    for (let point = 0; point < 8; point++) {
      const scope: Record<string, number> = {};
      for (const p of idx) scope[`u_${p}`] = 4 * (rng.uniform() - 0.5);
      const err = (a: number, b: number) => Math.abs(a - b) / Math.max(1, Math.abs(b));
      maxError = Math.max(maxError, err(Number(templateF.evaluate(scope)), Number(definition.evaluate(scope))));
      for (const p of idx) {
        const want = Number(derivative(definition, `u_${p}`, { simplify: false }).evaluate(scope));
        const got = Number(parse(dFdu.toString().replace(/\bu_p\b/g, `u_${p}`)).evaluate(scope));
        maxError = Math.max(maxError, err(got, want));
      }
    }
  }
  if (!(maxError <= 1e-14)) throw new Error(`Level P derivation: frozen-attention templates differ from mathjs's derivative by ${maxError}`);
  return {
    uniform,
    output: { meaning: 'F = sum over the L queries and L keys of u_p / L', expr: perKey.toString(), sumOver: 'p' },
    dFdu: { meaning: 'dF/du_p = sum over l of 1/L', expr: dFdu.toString() },
    dFdzUniform: dFdz.toString(),
    maxError,
  };
}

export function derivePaperSystem(): PaperSystem {
  const gram = deriveGramSystem();
  const { alg } = gram;
  const stated = (src: string, like: Poly): Poly => (src === '0' ? alg.zero(like.rows, like.cols) : parsePoly(alg, src));
  const phase1All = {} as Record<GramVariable, Poly>;
  const dropped1 = {} as Record<GramVariable, Poly>;
  for (const v of GRAM_VARIABLES) {
    // Frozen attention: the loss does not depend on S, so Gam = dL/dS = 0 (Thm 3.1's Phase 1).
    phase1All[v] = substituteZero(gram.flow[v], 'Gam');
    dropped1[v] = gram.flow[v].sub(phase1All[v]);
  }
  for (const v of FROZEN_VARIABLES) {
    if (!phase1All[v].isZero()) throw new Error(`Level P derivation: d${v}/dt does not vanish with Gam = 0: ${phase1All[v]}`);
  }
  const phase1 = { C: phase1All.C, u: phase1All.u, s: phase1All.s };
  // Phase 2 (Def. F.1, Lemma F.6): drop Eq. 4's second term, the one through the value
  // correlations C, and freeze C (it then enters no other equation).
  const phase2 = {
    C: alg.zero(phase1.C.rows, phase1.C.cols),
    u: Poly.fromTerms(alg, phase1.u.rows, phase1.u.cols, phase1.u.terms.filter((t) => !t.word.some((f) => f.sym === 'C'))),
    s: phase1.s,
  };
  const dropped2 = { C: phase1.C.sub(phase2.C), u: phase1.u.sub(phase2.u), s: phase1.s.sub(phase2.s) };
  for (const [phase, eqs] of [['phase1', phase1], ['phase2', phase2]] as const) {
    for (const v of PAPER_VARIABLES) {
      assertClosed(`${phase} d${v}/dt`, eqs[v]);
      if (!eqs[v].sub(stated(PAPER_STATED[phase][v], eqs[v])).isZero()) {
        throw new Error(`Level P derivation: ${phase} d${v}/dt = ${eqs[v]} is not the paper's ${PAPER_STATED[phase][v]}`);
      }
    }
  }
  const m1 = alg.sym('m1');
  const u = alg.sym('u');
  const s = alg.sym('s');
  const gu = alg.sym('gu');
  const rateV = (e: Record<PaperVariable, Poly>) => m1.mul(e.C.trace()).sub(e.s);
  // d/dt (m1 u^T u - s^2/2) = m1 (du^T u + u^T du) - s ds/dt
  const rateU = (e: Record<PaperVariable, Poly>) => m1.mul(e.u.transpose().mul(u).add(u.transpose().mul(e.u))).sub(s.mul(e.s));
  const invariantRates = { phase1V: rateV(phase1), phase2V: rateV(phase2), phase1U: rateU(phase1), phase2U: rateU(phase2) };
  if (!invariantRates.phase1V.isZero()) throw new Error(`Level P derivation: Phase 1 does not conserve m1 tr C - s: rate ${invariantRates.phase1V}`);
  if (!invariantRates.phase2U.isZero()) throw new Error(`Level P derivation: Phase 2 does not conserve m1 u^T u - s^2/2: rate ${invariantRates.phase2U}`);
  const lossRate = { phase1: gu.transpose().mul(phase1.u), phase2: gu.transpose().mul(phase2.u) };
  return { gram, alg, phase1All, phase1, phase2, dropped1, dropped2, invariantRates, lossRate, sample: deriveFrozenSample() };
}

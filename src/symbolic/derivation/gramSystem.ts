/**
 * Derivation of Level G (docs/levels.md#level-g) in the matrix-polynomial algebra.
 *
 * Input: the gradient flow of the weights restricted to the k data tokens, from the chain rule
 * through S = K^T Q and u = V^T r (Gam = dL/dS, gu = dL/du):
 *   dL/dQ = K Gam   (dS = K^T dQ gives dL = tr(Gam^T K^T dQ)),
 *   dL/dK = Q Gam^T (dS = dK^T Q),
 *   dL/dV = r gu^T  (du = dV^T r),
 *   dL/dW = a gu^T V^T (du = V^T dW^T a, and r = W^T a),
 * so dQ/dt = -K Gam, dK/dt = -Q Gam^T, dV/dt = -r gu^T, dW/dt = -a gu^T V^T; a is fixed.
 * Derived here (not typed in): dr/dt = (dW/dt)^T a = -m1 V gu via a^T a = m1; the six Gram flow
 * equations by the product rule d(X^T Y) = dX^T Y + X^T dY; the exact GD map by expanding
 * X'^T Y' with X' = X + eta dX (the eta^2 terms included); the conservation laws as traces;
 * and the loss decrease rate dL/dt = tr(Gam^T dS) + gu^T du.
 * Every result is checked to be CLOSED: it may mention only the Gram variables, Gam, gu, eta, m1.
 */
import { Algebra, Poly, RewriteRuleText, SymbolSpec } from '../algebra/ncpoly.js';
import { parsePoly } from '../algebra/parse.js';
import { GRAM_BLOCK_ORDER } from '../../gram/layout.js';

/** The Gram variables in state order (the runtime layout's order, src/gram/layout.ts). */
export const GRAM_VARIABLES = GRAM_BLOCK_ORDER;
export type GramVariable = (typeof GRAM_VARIABLES)[number];

/** Each Gram variable is X^T Y for two weight blocks. */
export const GRAM_DEFINITIONS: Readonly<Record<GramVariable, { left: string; right: string; meaning: string }>> = {
  S: { left: 'K', right: 'Q', meaning: 'attention scores, S[b,a] = <K_b, Q_a> (key b, query a)' },
  A: { left: 'Q', right: 'Q', meaning: 'query correlations' },
  B: { left: 'K', right: 'K', meaning: 'key correlations' },
  C: { left: 'V', right: 'V', meaning: 'value correlations' },
  u: { left: 'V', right: 'r', meaning: 'MLP-value alignments, u_a = G(mu_a)' },
  s: { left: 'r', right: 'r', meaning: 'neuron correlation s = r^T r, r = W^T a' },
};

export const GRAM_SYMBOLS: readonly SymbolSpec[] = [
  // weights restricted to the data tokens (m x k), the MLP (m1 x m), a and r = W^T a
  { name: 'Q', rows: 'm', cols: 'k', tex: 'Q' },
  { name: 'K', rows: 'm', cols: 'k', tex: 'K' },
  { name: 'V', rows: 'm', cols: 'k', tex: 'V' },
  { name: 'W', rows: 'm1', cols: 'm', tex: 'W' },
  { name: 'a', rows: 'm1', cols: 1, tex: 'a' },
  { name: 'r', rows: 'm', cols: 1, tex: 'r' },
  // gradients of the loss with respect to S and u
  { name: 'Gam', rows: 'k', cols: 'k', tex: '\\Gamma' },
  { name: 'gu', rows: 'k', cols: 1, tex: 'g_u' },
  // Gram variables
  { name: 'S', rows: 'k', cols: 'k', tex: 'S' },
  { name: 'A', rows: 'k', cols: 'k', symmetric: true, tex: 'A' },
  { name: 'B', rows: 'k', cols: 'k', symmetric: true, tex: 'B' },
  { name: 'C', rows: 'k', cols: 'k', symmetric: true, tex: 'C' },
  { name: 'u', rows: 'k', cols: 1, tex: 'u' },
  { name: 's', rows: 1, cols: 1, tex: 's' },
  // scalars
  { name: 'eta', rows: 1, cols: 1, tex: '\\eta' },
  { name: 'm1', rows: 1, cols: 1, tex: 'm_1' },
];

export const GRAM_REWRITES: readonly RewriteRuleText[] = [
  { from: 'Q^T Q', to: 'A', why: 'definition of A' },
  { from: 'K^T K', to: 'B', why: 'definition of B' },
  { from: 'K^T Q', to: 'S', why: 'definition of S' },
  { from: 'Q^T K', to: 'S^T', why: 'transpose of S = K^T Q' },
  { from: 'V^T V', to: 'C', why: 'definition of C' },
  { from: 'V^T r', to: 'u', why: 'definition of u' },
  { from: 'r^T V', to: 'u^T', why: 'transpose of u = V^T r' },
  { from: 'r^T r', to: 's', why: 'definition of s' },
  { from: 'a^T a', to: 'm1', why: 'a has m1 entries of +1/-1' },
];

export function gramAlgebra(): Algebra {
  return new Algebra(GRAM_SYMBOLS, GRAM_REWRITES);
}

/** The weight-level gradient flow that is the input of the derivation (see the file comment). */
export const WEIGHT_FLOW_INPUT: Readonly<Record<'Q' | 'K' | 'V' | 'W', string>> = {
  Q: '-K Gam',
  K: '-Q Gam^T',
  V: '-r gu^T',
  W: '-a gu^T V^T',
};

/** Symbols a closed Level G equation may contain. */
export const CLOSED_SYMBOLS: ReadonlySet<string> = new Set(['S', 'A', 'B', 'C', 'u', 's', 'Gam', 'gu', 'eta', 'm1']);

export interface GramSystem {
  readonly alg: Algebra;
  /** dX/dt for X in Q, K, V, W (input) and r (derived) */
  readonly weightFlow: Readonly<Record<'Q' | 'K' | 'V' | 'W' | 'r', Poly>>;
  /** dG/dt for the six Gram variables */
  readonly flow: Readonly<Record<GramVariable, Poly>>;
  /** G after one full-batch GD step with rate eta */
  readonly gd: Readonly<Record<GramVariable, Poly>>;
  /** d/dt (tr A - tr B) and d/dt (m1 tr C - s): zero polynomials if conserved */
  readonly flowInvariantRates: { readonly QK: Poly; readonly V: Poly };
  /** change of (tr A - tr B) and (m1 tr C - s) over one GD step */
  readonly gdInvariantSteps: { readonly QK: Poly; readonly V: Poly };
  /** dL/dt = tr(Gam^T dS/dt) + gu^T du/dt along the flow */
  readonly lossRate: Poly;
}

function assertClosed(name: string, p: Poly): void {
  for (const s of p.symbols()) {
    if (!CLOSED_SYMBOLS.has(s)) throw new Error(`Gram derivation: '${name}' is not closed, it still contains '${s}': ${p}`);
  }
}

export function deriveGramSystem(): GramSystem {
  const alg = gramAlgebra();
  const P = (src: string): Poly => parsePoly(alg, src);
  const dQ = P(WEIGHT_FLOW_INPUT.Q);
  const dK = P(WEIGHT_FLOW_INPUT.K);
  const dV = P(WEIGHT_FLOW_INPUT.V);
  const dW = P(WEIGHT_FLOW_INPUT.W);
  // r = W^T a with a fixed: dr/dt = (dW/dt)^T a.
  const dr = dW.transpose().mul(alg.sym('a'));
  const d: Record<string, Poly> = { Q: dQ, K: dK, V: dV, r: dr };

  const eta = alg.sym('eta');
  const flow = {} as Record<GramVariable, Poly>;
  const gd = {} as Record<GramVariable, Poly>;
  for (const g of GRAM_VARIABLES) {
    const { left, right } = GRAM_DEFINITIONS[g];
    const X = alg.sym(left);
    const Y = alg.sym(right);
    // product rule: d(X^T Y) = dX^T Y + X^T dY
    flow[g] = d[left].transpose().mul(Y).add(X.transpose().mul(d[right]));
    // one GD step: X' = X - eta dL/dX = X + eta dX, then X'^T Y' expanded
    const Xn = X.add(eta.mul(d[left]));
    const Yn = Y.add(eta.mul(d[right]));
    gd[g] = Xn.transpose().mul(Yn);
    assertClosed(`d${g}/dt`, flow[g]);
    assertClosed(`${g}'`, gd[g]);
  }
  assertClosed('dr/dt (through u = V^T r)', dr.transpose().mul(alg.sym('V')));

  const m1 = alg.sym('m1');
  const trDiff = (a: Poly, b: Poly): Poly => a.trace().sub(b.trace());
  const flowInvariantRates = {
    QK: trDiff(flow.A, flow.B),
    V: m1.mul(flow.C.trace()).sub(flow.s),
  };
  const gdInvariantSteps = {
    QK: trDiff(gd.A.sub(alg.sym('A')), gd.B.sub(alg.sym('B'))),
    V: m1.mul(gd.C.sub(alg.sym('C')).trace()).sub(gd.s.sub(alg.sym('s'))),
  };
  // L depends on the state through S and u only: dL/dt = <Gam, dS/dt> + <gu, du/dt>.
  const lossRate = alg.sym('Gam').transpose().mul(flow.S).trace().add(alg.sym('gu').transpose().mul(flow.u));

  return {
    alg,
    weightFlow: { Q: dQ, K: dK, V: dV, W: dW, r: dr },
    flow,
    gd,
    flowInvariantRates,
    gdInvariantSteps,
    lossRate,
  };
}

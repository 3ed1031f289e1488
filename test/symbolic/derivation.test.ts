/**
 * The derived Level G equations (src/symbolic/derivation/gramSystem.ts):
 *  - equal, as term sets, the equations of docs/levels.md#level-g (typed in here independently);
 *  - agree numerically with the definitions at random weights: the flow by a central difference
 *    that is EXACT for these quadratic maps, the GD map by direct expansion;
 *  - are closed, conserve tr A - tr B and m1 tr C - s, and give dL/dt <= 0.
 */
import nerdamer from 'nerdamer';
import 'nerdamer/Algebra.js';
import { describe, expect, test } from 'vitest';
import { evaluatePoly } from '../../src/symbolic/algebra/evaluate.js';
import { Poly, Term } from '../../src/symbolic/algebra/ncpoly.js';
import { parsePoly } from '../../src/symbolic/algebra/parse.js';
import { CLOSED_SYMBOLS, GRAM_DEFINITIONS, GRAM_VARIABLES, deriveGramSystem } from '../../src/symbolic/derivation/gramSystem.js';
import { DIMS, T, add, maxAbs, maxAbsDiff, mul, randomEnv, scale } from './env.js';

const sys = deriveGramSystem();
const P = (s: string): Poly => parsePoly(sys.alg, s);

// docs/levels.md#level-g, typed in independently of the derivation
const EXPECTED_FLOW: Record<string, string> = {
  S: '-(Gam A + B Gam)',
  A: '-(Gam^T S + S^T Gam)',
  B: '-(Gam S^T + S Gam^T)',
  u: '-(s gu + m1 C gu)',
  C: '-(gu u^T + u gu^T)',
  s: '-2 m1 u^T gu',
};
const EXPECTED_GD: Record<string, string> = {
  A: 'A - eta (Gam^T S + S^T Gam) + eta^2 Gam^T B Gam',
  B: 'B - eta (Gam S^T + S Gam^T) + eta^2 Gam A Gam^T',
  S: 'S - eta (Gam A + B Gam) + eta^2 Gam S^T Gam',
  u: 'u - eta (s gu + m1 C gu) + eta^2 m1 (u^T gu) gu',
  C: 'C - eta (gu u^T + u gu^T) + eta^2 s gu gu^T',
  s: 's - 2 eta m1 u^T gu + eta^2 m1^2 gu^T C gu',
};

describe('derived Level G equations', () => {
  test('flow and GD map equal docs/levels.md (Level G) as term sets', () => {
    for (const v of GRAM_VARIABLES) {
      expect(sys.flow[v].termSet(), `d${v}/dt`).toEqual(P(EXPECTED_FLOW[v]).termSet());
      expect(sys.gd[v].termSet(), `${v}'`).toEqual(P(EXPECTED_GD[v]).termSet());
    }
    expect(sys.weightFlow.r.termSet()).toEqual(P('-m1 V gu').termSet());
    // negative control: one transposed factor makes a different equation
    expect(sys.gd.A.termSet()).not.toEqual(P('A - eta (Gam^T S + S Gam) + eta^2 Gam^T B Gam').termSet());
  });

  test('every equation is closed in S, A, B, C, u, s, Gam, gu, eta, m1', () => {
    for (const p of [...Object.values(sys.flow), ...Object.values(sys.gd)]) {
      for (const s of p.symbols()) expect(CLOSED_SYMBOLS.has(s), s).toBe(true);
    }
  });

  test('numerically: the flow is the exact derivative along the weight flow, the GD map the exact update', () => {
    for (const seed of [1, 2, 3]) {
      const e = randomEnv(seed);
      // weight velocities (Gam, gu free): dQ = -K Gam, dK = -Q Gam^T, dV = -r gu^T, dW = -a gu^T V^T
      const dQ = scale(mul(e.K, e.Gam), -1);
      const dK = scale(mul(e.Q, T(e.Gam)), -1);
      const dV = scale(mul(e.r, T(e.gu)), -1);
      const dW = scale(mul(e.a, T(e.gu), T(e.V)), -1);
      const at = (t: number) => {
        const Q = add(e.Q, dQ, t);
        const K = add(e.K, dK, t);
        const V = add(e.V, dV, t);
        const W = add(e.W, dW, t);
        const r = mul(T(W), e.a);
        const w: Record<string, typeof Q> = { Q, K, V, r };
        const out: Record<string, typeof Q> = {};
        for (const g of GRAM_VARIABLES) out[g] = mul(T(w[GRAM_DEFINITIONS[g].left]), w[GRAM_DEFINITIONS[g].right]);
        return out;
      };
      // every Gram variable is quadratic in t, so (G(1) - G(-1)) / 2 is its exact derivative at 0
      const plus = at(1);
      const minus = at(-1);
      const stepped = at(e.eta);
      for (const g of GRAM_VARIABLES) {
        const cd = scale(add(plus[g], minus[g], -1), 0.5);
        const flow = evaluatePoly(sys.flow[g], e.env, DIMS);
        expect(maxAbsDiff(flow, cd) / maxAbs(cd), `d${g}/dt`).toBeLessThan(1e-13);
        const gd = evaluatePoly(sys.gd[g], e.env, DIMS);
        expect(maxAbsDiff(gd, stepped[g]) / maxAbs(stepped[g]), `${g}'`).toBeLessThan(1e-13);
      }
      // negative control: dropping the eta^2 term of A' is visible
      const noSecond = evaluatePoly(P('A - eta (Gam^T S + S^T Gam)'), e.env, DIMS);
      expect(maxAbsDiff(noSecond, stepped.A) / maxAbs(stepped.A)).toBeGreaterThan(1e-3);
    }
  });

  test('invariants and loss rate', () => {
    expect(sys.flowInvariantRates.QK.isZero()).toBe(true);
    expect(sys.flowInvariantRates.V.isZero()).toBe(true);
    expect(sys.gdInvariantSteps.QK.termSet()).toEqual(P('eta^2 (tr(B Gam Gam^T) - tr(A Gam^T Gam))').termSet());
    expect(sys.gdInvariantSteps.V.termSet()).toEqual(P('eta^2 (m1 s gu^T gu - m1^2 gu^T C gu)').termSet());
    expect(sys.lossRate.termSet()).toEqual(P('-(tr(A Gam^T Gam) + tr(B Gam Gam^T) + s gu^T gu + m1 gu^T C gu)').termSet());
    // dL/dt = -|grad|^2 with grad = (K Gam, Q Gam^T, r gu^T, a gu^T V^T): check numerically
    const e = randomEnv(4);
    const fro = (x: ReturnType<typeof mul>): number => x.data.reduce((s, v) => s + v * v, 0);
    const normSq = fro(mul(e.K, e.Gam)) + fro(mul(e.Q, T(e.Gam))) + fro(mul(e.r, T(e.gu))) + fro(mul(e.a, T(e.gu), T(e.V)));
    const rate = evaluatePoly(sys.lossRate, e.env, DIMS).data[0];
    expect(Math.abs(rate + normSq) / normSq).toBeLessThan(1e-13);
  });

  test('nerdamer cross-check of the GD expansion in the commutative (1 x 1) shadow', () => {
    // With k = m = m1 = 1 every symbol is a number: expand (X - eta dX)(Y - eta dY) with nerdamer
    // and compare with the derived polynomial after substituting the Gram definitions. This is a
    // weaker check (it cannot see order or transposes) by an independent polynomial engine.
    const shadowName: Record<string, string> = { Gam: 'G', gu: 'g', eta: 'h', m1: '(a^2)' };
    // Gram symbols by their definitions in the weights, with r = W a
    const def: Record<string, string> = { S: '(K*Q)', A: '(Q*Q)', B: '(K*K)', C: '(V*V)', u: '(V*(W*a))', s: '((W*a)*(W*a))' };
    const sym = (name: string): string => def[name] ?? shadowName[name] ?? name;
    const termShadow = (t: Term): string => {
      const factors = [...t.scalars.flatMap((s) => s.word), ...t.word].map((f) => sym(f.sym));
      return `(${t.coef.toString()})*${factors.length > 0 ? factors.join('*') : '1'}`;
    };
    const polyShadow = (p: Poly): string => p.terms.map(termShadow).join(' + ');
    const step: Record<string, string> = {
      Q: '(Q - h*K*G)',
      K: '(K - h*Q*G)',
      V: '(V - h*(W*a)*g)',
      r: '((W - h*a*g*V)*a)',
    };
    for (const v of GRAM_VARIABLES) {
      const { left, right } = GRAM_DEFINITIONS[v];
      const direct = `${step[left]}*${step[right]}`;
      const diff = nerdamer(`expand((${direct}) - (${polyShadow(sys.gd[v])}))`).toString();
      expect(diff, v).toBe('0');
    }
    // negative control: a wrong eta^2 coefficient is seen by nerdamer too
    const wrong = nerdamer(`expand((Q - h*K*G)*(Q - h*K*G) - ((Q*Q) - 2*h*G*K*Q + 2*h^2*G*G*K*K))`).toString();
    expect(wrong).not.toBe('0');
  });
});

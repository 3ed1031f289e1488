/**
 * Verification of the per-sample templates (./closedForm.ts) against mathjs's own symbolic
 * differentiation, for concrete bag sizes L.
 *
 * For each L the sample output is built from the DEFINITION (Eq. 1 with one-hot tokens),
 *   F = sum_l sum_p [exp(z_pl) / sum_q exp(z_ql)] u_p,
 * as one mathjs expression in the 2L + L^2 symbols u_p, z_pl; mathjs differentiates it
 * (`derivative`, no simplification), and each derivative is compared with the template
 * instantiated at the same (p, l), by exact float64 evaluation at random points. mathjs is the
 * tool for this: nerdamer 1.1.13 gets d/du log(e^u + e^v) wrong (test/symbolic shows it).
 */
import { derivative, MathNode, parse, SymbolNode } from 'mathjs';
import { Rng } from '../../random/rng.js';
import { IndexedFormula, SAMPLE_DEFINITIONS, SAMPLE_FORMULAS, SampleFormulas } from './closedForm.js';

/** Largest accepted |template - reference| / max(1, |reference|). */
export const SAMPLE_VERIFY_TOLERANCE = 1e-14;

export interface SampleCheck {
  readonly L: number;
  /** which formula, e.g. 'dFdz' */
  readonly formula: keyof SampleFormulas;
  /** how many scalar comparisons (entries x points) */
  readonly comparisons: number;
  /** max |template - reference| / max(1, |reference|) */
  readonly maxError: number;
}

export interface SampleVerifyOptions {
  readonly Ls?: readonly number[];
  readonly points?: number;
  readonly seed?: number;
  /** replace templates (negative controls: a wrong formula must be caught) */
  readonly formulas?: Partial<SampleFormulas>;
}

type Scope = Record<string, number>;
type Compiled = { evaluate(scope: Scope): unknown };

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** exp(z_pl) / sum_q exp(z_ql) as mathjs source. */
function softmaxSource(L: number, p: number, l: number): string {
  return `exp(z_${p}_${l}) / (${range(L).map((q) => `exp(z_${q}_${l})`).join(' + ')})`;
}

/** F_l = sum_q P_ql u_q from the definition. */
function queryOutputSource(L: number, l: number): string {
  return range(L).map((q) => `(${softmaxSource(L, q, l)}) * u_${q}`).join(' + ');
}

/**
 * Substitutes concrete indices into a template: u_p -> u_2, z_pl -> z_2_0, P_pl -> the softmax
 * definition, F_l -> the definition of the query output. Other symbols (y, F) stay.
 */
function instantiate(template: string, L: number, idx: { p?: number; l?: number }): MathNode {
  const node = parse(template);
  return node.transform((n: MathNode) => {
    if (!(n as SymbolNode).isSymbolNode) return n;
    const m = /^([A-Za-z]+)_([pl]+)$/.exec((n as SymbolNode).name);
    if (!m) return n;
    const ix = [...m[2]].map((c) => {
      const v = idx[c as 'p' | 'l'];
      if (v === undefined) throw new Error(`template '${template}': index ${c} is not bound`);
      return v;
    });
    switch (m[1]) {
      case 'P':
        return parse(`(${softmaxSource(L, ix[0], ix[1])})`);
      case 'F':
        return parse(`(${queryOutputSource(L, ix[0])})`);
      default:
        return parse(`${m[1]}_${ix.join('_')}`);
    }
  });
}

/** Instantiates a formula, summing over its index if it has one. */
function instantiateFormula(f: IndexedFormula, L: number, idx: { p?: number; l?: number }): MathNode {
  if (!f.sumOver) return instantiate(f.expr, L, idx);
  const parts = range(L).map((v) => `(${instantiate(f.expr, L, { ...idx, [f.sumOver!]: v }).toString()})`);
  return parse(parts.join(' + '));
}

function relErr(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(1, Math.abs(b));
}

/** Compares pairs of compiled expressions at random points; returns the max relative error. */
function compare(pairs: [Compiled, Compiled][], points: Scope[]): number {
  let worst = 0;
  for (const scope of points) {
    for (const [got, want] of pairs) {
      const g = Number(got.evaluate(scope));
      const w = Number(want.evaluate(scope));
      const e = Number.isFinite(g) && Number.isFinite(w) ? relErr(g, w) : Infinity;
      if (e > worst) worst = e;
    }
  }
  return worst;
}

export function verifySampleFormulas(opts: SampleVerifyOptions = {}): SampleCheck[] {
  const Ls = opts.Ls ?? [2, 3, 4, 5];
  const nPoints = opts.points ?? 12;
  const f: SampleFormulas = { ...SAMPLE_FORMULAS, ...opts.formulas };
  const rng = new Rng(`symbolic-verify:${opts.seed ?? 1}`);
  const out: SampleCheck[] = [];

  for (const L of Ls) {
    // random points: scores of either sign and size, values of either sign, shifts, labels
    const points: Scope[] = range(nPoints).map(() => {
      const s: Scope = { y: rng.sign(), F: 12 * (rng.uniform() - 0.5) };
      for (const p of range(L)) {
        s[`u_${p}`] = 4 * (rng.uniform() - 0.5);
        s[`zmax_${p}`] = 6 * (rng.uniform() - 0.5);
        for (const l of range(L)) s[`z_${p}_${l}`] = 6 * (rng.uniform() - 0.5);
      }
      return s;
    });
    const check = (formula: keyof SampleFormulas, pairs: [MathNode, MathNode][]): void => {
      const compiled = pairs.map(([a, b]) => [a.compile(), b.compile()] as [Compiled, Compiled]);
      out.push({ L, formula, comparisons: pairs.length * nPoints, maxError: compare(compiled, points) });
    };

    const definitionF = parse(range(L).map((l) => `(${queryOutputSource(L, l)})`).join(' + '));

    // F_l and F as the kernel sums them, against the definition
    check('queryOutput', range(L).map((l) => [instantiateFormula(f.queryOutput, L, { l }), parse(queryOutputSource(L, l))]));
    check('output', [[instantiateFormula(f.output, L, {}), definitionF]]);

    // the shifted numerator, normalised, is the softmax for any shift zmax_l
    check(
      'shiftedExp',
      range(L).flatMap((l) =>
        range(L).map((p): [MathNode, MathNode] => {
          const num = instantiateFormula(f.shiftedExp, L, { p, l }).toString();
          const den = range(L).map((q) => `(${instantiateFormula(f.shiftedExp, L, { p: q, l }).toString()})`).join(' + ');
          return [parse(`(${num}) / (${den})`), parse(softmaxSource(L, p, l))];
        }),
      ),
    );

    // the derivatives: mathjs symbolic derivative of the definition vs the closed form
    check('dFdu', range(L).map((p) => [instantiateFormula(f.dFdu, L, { p }), derivative(definitionF, `u_${p}`, { simplify: false })]));
    check(
      'dFdz',
      range(L).flatMap((p) =>
        range(L).map((l): [MathNode, MathNode] => [
          instantiateFormula(f.dFdz, L, { p, l }),
          derivative(definitionF, `z_${p}_${l}`, { simplify: false }),
        ]),
      ),
    );
  }

  // the loss does not depend on L: check it once, on the same kind of random points
  const lossPoints: Scope[] = range(nPoints).map(() => ({ y: rng.sign(), F: 30 * (rng.uniform() - 0.5) }));
  const lossDef = parse(SAMPLE_DEFINITIONS.loss);
  out.push({
    L: 0,
    formula: 'loss',
    comparisons: nPoints,
    maxError: compare([[parse(f.loss.expr).compile(), lossDef.compile()]], lossPoints),
  });
  out.push({
    L: 0,
    formula: 'dLossdF',
    comparisons: nPoints,
    maxError: compare([[parse(f.dLossdF.expr).compile(), derivative(lossDef, 'F', { simplify: false }).compile()]], lossPoints),
  });
  return out;
}

/** Runs the verification and throws if any formula misses the tolerance. */
export function assertSampleFormulas(opts: SampleVerifyOptions = {}): SampleCheck[] {
  const checks = verifySampleFormulas(opts);
  const bad = checks.filter((c) => !(c.maxError <= SAMPLE_VERIFY_TOLERANCE));
  if (bad.length > 0) {
    const what = bad.map((c) => `${c.formula} (L=${c.L}): error ${c.maxError}`).join('; ');
    throw new Error(`per-sample closed form does not match the mathjs derivative: ${what}`);
  }
  return checks;
}

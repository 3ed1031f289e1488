/**
 * Emits src/paper/generated/paperField.ts (the Level P per-sample kernel and the vector field of
 * both phases, one function: Phase 2's terms are Phase 1's without the dropped ones) and
 * derivations/paper-system.md from the one derivation of ./derivation.ts, as src/symbolic/emit
 * does for Level G (whose per-sample templates, src/symbolic/emit/sampleTemplates.ts, the kernel
 * shares). Deterministic text: the golden test compares both files byte for byte; measured
 * numbers belong in docs/levels.md, not here.
 */
import { MathNode, parse, SymbolNode } from 'mathjs';
import { formatGrouped } from '../symbolic/algebra/display.js';
import { Factor, Poly, Term, asciiStyle, formatTermBody, scalarKey, texStyle, wordKey } from '../symbolic/algebra/ncpoly.js';
import { displayOrder } from '../symbolic/algebra/display.js';
import { GRAM_VARIABLES } from '../symbolic/derivation/gramSystem.js';
import { formulaJs, indented, sampleLossImport, sampleLossLines, sumLines } from '../symbolic/emit/sampleTemplates.js';
import { SAMPLE_FORMULAS } from '../symbolic/sample/closedForm.js';
import { Code } from '../symbolic/emit/code.js';
import { FROZEN_VARIABLES, PAPER_STATED, PAPER_VARIABLES, PaperSystem, PaperVariable } from './derivation.js';


/** JS for entry (i) of a k-vector operand, or (i, j) of C. */
function vectorAt(f: Factor, i: string): string {
  if (f.sym === 'gu') return `gu[${i}]`;
  if (f.sym === 'u') return `y[o_u + ${i}]`;
  throw new Error(`paper emit: no k-vector storage for '${f.sym}'`);
}

const SCALAR_JS: Readonly<Record<string, string>> = { m1: 'm1', s: 'sVal' };

/** The JS names of a set of equations' scalar factors: m1, s, and 1 x 1 products such as (gu^T u). */
function scalarPlan(polys: readonly Poly[]): { names: Map<string, string>; dots: [string, Factor[]][] } {
  const names = new Map<string, string>(Object.entries(SCALAR_JS));
  const dots: [string, Factor[]][] = [];
  for (const p of polys) {
    for (const t of p.terms) {
      for (const s of t.scalars) {
        const key = scalarKey(s);
        if (names.has(key)) continue;
        if (s.kind !== 'word' || s.word.length !== 2 || !s.word[0].t || s.word[1].t) throw new Error(`paper emit: cannot evaluate the scalar ${key}`);
        const name = `sc${dots.length}`;
        names.set(key, name);
        dots.push([name, [...s.word]]);
      }
    }
  }
  return { names, dots };
}

function coefficient(t: Term, names: ReadonlyMap<string, string>): string {
  const parts = t.scalars.map((s) => {
    const n = names.get(scalarKey(s));
    if (!n) throw new Error(`paper emit: no value for ${scalarKey(s)}`);
    return n;
  });
  const c = t.coef.abs();
  if (!c.isOne() || parts.length === 0) parts.unshift(c.den === 1n ? `${c.num}` : `(${c.num} / ${c.den})`);
  return (t.coef.isNegative() ? '-' : '') + parts.join(' * ');
}

/** Identity of a term (coefficient, scalars, word), to find Phase 1's terms in Phase 2. */
function termKey(t: Term): string {
  return `${t.coef} [${t.scalars.map(scalarKey).join(' ')}] ${wordKey(t.word)}`;
}

/**
 * Phase 1's terms of one equation, each marked with whether Phase 2 keeps it. Phase 2 must be
 * Phase 1 without some terms (the derivation drops terms, never adds or changes one), in the
 * same order, so that either phase adds its terms in the order its own equation lists them.
 */
function phaseTerms(v: PaperVariable, phase1: Poly, phase2: Poly): { term: Term; inPhase2: boolean }[] {
  const kept = new Set(phase2.terms.map(termKey));
  const marked = phase1.terms.map((term) => ({ term, inPhase2: kept.has(termKey(term)) }));
  const order = marked.filter((m) => m.inPhase2).map((m) => termKey(m.term));
  if (order.join('\n') !== phase2.terms.map(termKey).join('\n')) {
    throw new Error(`paper emit: Phase 2's d${v}/dt is not Phase 1's without some of its terms`);
  }
  return marked;
}

function shownEquation(p: Poly): string {
  return p.isZero() ? '0' : formatGrouped(p, asciiStyle(p.alg), { sym: 'eta', print: () => 'eta' });
}

/** out block of variable v += every term of its equation in the running phase, term by term. */
function emitEquation(code: Code, v: PaperVariable, phase1: Poly, phase2: Poly, names: ReadonlyMap<string, string>): void {
  const style = asciiStyle(phase1.alg);
  const [shown1, shown2] = [shownEquation(phase1), shownEquation(phase2)];
  if (phase1.isZero()) {
    if (!phase2.isZero()) throw new Error(`paper emit: Phase 2's d${v}/dt is not Phase 1's without some of its terms`);
    code.line(`// d${v}/dt = 0 (out is already zero there)`);
    return;
  }
  code.line(shown1 === shown2 ? `// d${v}/dt = ${shown1}` : `// d${v}/dt = ${shown1} (Phase 1), ${shown2} (Phase 2)`);
  for (const { term: t, inPhase2 } of phaseTerms(v, phase1, phase2)) {
    const sign = t.coef.isNegative() ? '-' : '+';
    code.line(`// d${v}/dt ${sign}= ${formatTermBody(displayOrder({ ...t, coef: t.coef.abs() }), style)}${inPhase2 ? '' : ' (Phase 1 only)'}`);
    code.open(inPhase2 ? '' : 'if (phase === 1)');
    code.line(`const coef = ${coefficient(t, names)};`);
    const w = t.word;
    if (v === 's' && w.length === 0) {
      code.line('out[o_s] += coef;');
    } else if (v === 'u' && w.length === 1) {
      code.line(`for (let i = 0; i < k; i++) out[o_u + i] += coef * ${vectorAt(w[0], 'i')};`);
    } else if (v === 'u' && w.length === 2 && w[0].sym === 'C') {
      code.open('for (let i = 0; i < k; i++)');
      code.line('let acc = 0;');
      code.line(`for (let l = 0; l < k; l++) acc += y[o_C + i * k + l] * ${vectorAt(w[1], 'l')};`);
      code.line('out[o_u + i] += coef * acc;');
      code.close();
    } else if (v === 'C' && w.length === 2 && !w[0].t && w[1].t) {
      code.open('for (let i = 0; i < k; i++)');
      code.line(`const x = coef * ${vectorAt(w[0], 'i')};`);
      code.line(`for (let j = 0; j < k; j++) out[o_C + i * k + j] += x * ${vectorAt(w[1], 'j')};`);
      code.close();
    } else {
      throw new Error(`paper emit: no loop for the term ${formatTermBody(t, style)} of d${v}/dt`);
    }
    code.close();
  }
}

/** The field of both phases as one function: Phase 2's terms are Phase 1's without the dropped ones. */
function emitField(sys: PaperSystem): string {
  const code = new Code(1);
  const polys = PAPER_VARIABLES.flatMap((v) => [sys.phase1[v], sys.phase2[v]]);
  const plan = scalarPlan(polys);
  code.line('const { k, m1, gu } = w;');
  // C's block is addressed only if its equation is nonzero or some term reads C.
  const usesC = !sys.phase1.C.isZero() || polys.some((p) => p.terms.some((t) => t.word.some((f) => f.sym === 'C')));
  if (usesC) code.line('const o_C = 0;');
  code.line('const o_u = k * k;');
  code.line('const o_s = k * k + k;');
  code.line('const sVal = y[o_s];');
  code.line('out.fill(0, 0, k * k + k + 1);');
  for (const [sc, word] of plan.dots) {
    code.line(`// ${sc} = (${word.map((f) => (f.t ? `${f.sym}^T` : f.sym)).join(' ')})`);
    code.line(`let ${sc} = 0;`);
    code.line(`for (let l = 0; l < k; l++) ${sc} += ${vectorAt(word[0], 'l')} * ${vectorAt(word[1], 'l')};`);
  }
  for (const v of PAPER_VARIABLES) emitEquation(code, v, sys.phase1[v], sys.phase2[v], plan.names);
  return `/**
 * dy/dt at state y into out, from gu of the last paperKernel call (with wantGrad) at the same y, in
 * Phase 1 (Thm 3.1: attention frozen at uniform) or Phase 2 (Def. F.1, Lemma F.6: also without
 * Eq. 4's value-correlation term, C frozen). Phase 2 skips the terms marked Phase 1 only.
 * Allocation-free.
 */
export function paperField(w: PaperWorkspace, phase: 1 | 2, y: Float64Array, out: Float64Array): void {
${code.lines.join('\n')}
}`;
}

/** Template of the Level P per-sample kernel; the holes are the frozen-attention formulas. */
function paperKernelTemplate(sys: PaperSystem): string[] {
  const fs = sys.sample;
  const dFdu = formulaJs(fs.dFdu.expr, {});
  return [
    '/**',
    ' * Per-sample outputs, the mean loss and (if wantGrad) gu = dL/du at state y, with the attention',
    ` * frozen at uniform (P_pl = ${fs.uniform}): F = sum over key positions p of ${fs.output.expr}, dF/du_p = ${fs.dFdu.expr}.`,
    ' * Templates of src/symbolic/sample/closedForm.ts at uniform attention, simplified by mathjs.',
    ' */',
    'export function paperKernel(w: PaperWorkspace, y: Float64Array, wantGrad: boolean): number {',
    '  const { n, L, k, tokens, labels, F, sampleLoss, gu } = w;',
    '  const o_u = k * k;',
    '  if (wantGrad) gu.fill(0, 0, k);',
    '  let total = 0;',
    '  for (let i = 0; i < n; i++) {',
    '    const base = i * L;',
    '    const yLabel = labels[i];',
    ...indented(sumLines('Fi', fs.output, { u_p: 'y[o_u + tokens[base + p]]' }), 2),
    ...indented(sampleLossLines(), 2),
    `    // ${fs.dFdu.meaning} = ${fs.dFdu.expr}: gu counts each occurrence of a token`,
    `    for (let p = 0; p < L; p++) gu[tokens[base + p]] += ${dFdu === '1' ? 'gF' : `gF * ${dFdu}`};`,
    '  }',
    '  return total / n;',
    '}',
  ];
}

/** Where the generated Level P field lives, relative to the repository root. */
export const PAPER_FIELD_PATH = 'src/paper/generated/paperField.ts';

/** The text of src/paper/generated/paperField.ts. */
export function generatePaperFieldSource(sys: PaperSystem): string {
  return `// GENERATED by coflow derive — do not edit.
// Source: src/paper/derivation.ts (derivation in derivations/paper-system.md); regenerate with \`coflow derive\`.
// Layout of a state y (src/paper/layout.ts): C (k x k, row-major), u (k), s (1).
import type { PaperWorkspace } from '../layout.js';
${sampleLossImport(PAPER_FIELD_PATH)}

${paperKernelTemplate(sys).join('\n')}

${emitField(sys)}
`;
}

// ---------------------------------------------------------------------------------------------
// the document

function tex(p: Poly): string {
  return p.isZero() ? '0' : formatGrouped(p, texStyle(p.alg), { sym: 'eta', print: () => '\\eta' });
}

function mathTex(expr: string): string {
  const node = parse(expr);
  return node
    .toTex({
      handler: (n: MathNode) => {
        if (!(n as SymbolNode).isSymbolNode) return undefined;
        const parts = (n as SymbolNode).name.split('_');
        return parts.length === 1 ? ` ${parts[0]}` : ` ${parts[0]}_{${parts.slice(1).join('')}}`;
      },
    })
    .trim();
}

const TEX_NAME: Record<string, string> = { S: 'S', A: 'A', B: 'B', C: 'C', u: 'u', s: 's' };

/** One row of the per-variable table: Level G, what Phase 1 keeps, what it drops. */
function row1(sys: PaperSystem, v: (typeof GRAM_VARIABLES)[number]): string {
  const kept = sys.phase1All[v];
  return `| $\\dot ${TEX_NAME[v]}$ | $${tex(sys.gram.flow[v])}$ | $${tex(kept)}$ | ${sys.dropped1[v].isZero() ? 'nothing' : `$${tex(sys.dropped1[v])}$`} |`;
}

function row2(sys: PaperSystem, v: PaperVariable): string {
  return `| $\\dot ${TEX_NAME[v]}$ | $${tex(sys.phase1[v])}$ | $${tex(sys.phase2[v])}$ | ${sys.dropped2[v].isZero() ? 'nothing' : `$${tex(sys.dropped2[v])}$`} |`;
}

/** The text of derivations/paper-system.md. */
export function generatePaperDoc(sys: PaperSystem): string {
  const fs = sys.sample;
  const F = SAMPLE_FORMULAS;
  const eq = (name: string, phase: Readonly<Record<PaperVariable, Poly>>) =>
    PAPER_VARIABLES.flatMap((v) => [`$$\\frac{d${TEX_NAME[v]}}{dt} = ${tex(phase[v])} \\qquad \\text{(${name})}$$`, '']);
  const lines = [
    "# Level P: the paper's approximate system",
    '',
    '<!-- GENERATED by coflow derive (src/paper/emit.ts) — do not edit. -->',
    '',
    "The paper's proofs do not analyse the exact flow of Level G (`gram-flow.md`); they approximate it,",
    'differently in each phase. Level P (`coflow run --level paper`) makes those approximations',
    'executable. Every equation below is printed from `src/paper/derivation.ts`, which obtains it by',
    "transforming Level G's derived equations in the same non-commutative algebra (and the per-sample",
    'templates of `gram-flow.md` with mathjs); the same polynomials are compiled into',
    '`src/paper/generated/paperField.ts`. Model and notation: `model.md`.',
    '',
    '## 1. The state',
    '',
    'Level P keeps, over the same $k$ tokens as Level G, only the value correlations $C = V^\\top V$, the',
    'token values $u = V^\\top r$ ($u_\\mu = G(\\mu)$) and $s = r^\\top r$ (the paper\'s $S(t)$): $k^2 + k + 1$ numbers,',
    "the last blocks of a Level G state, so it starts from any Level G start. The attention blocks",
    `$${FROZEN_VARIABLES.join(', ')}$ are not evolved: they stay at their initial values.`,
    '',
    '## 2. Phase 1: attention frozen at uniform (Thm 3.1 and its lemmas)',
    '',
    `Every attention weight is replaced by $P_{pl} = ${mathTex(fs.uniform)}$. In the per-sample templates of`,
    '`gram-flow.md` this gives (mathjs substitutes and simplifies; the $l$-sum of an $l$-free term is $L$ times it)',
    '',
    `$$F = \\sum_{l=1}^{L} \\sum_{p=1}^{L} P_{pl}\\, u_p = \\sum_{p=1}^{L} ${mathTex(fs.output.expr)}, \\qquad \\frac{\\partial F}{\\partial u_p} = \\sum_{l=1}^{L} P_{pl} = ${mathTex(fs.dFdu.expr)},$$`,
    '',
    'so $F(X)$ is the sum of $G$ over the tokens of $X$ (with multiplicity) and, with',
    '$g_i = 1/(1 + e^{y_i F_i})$ and $\\mathrm{count}_\\mu(X_i)$ the number of occurrences of $\\mu$ in $X_i$,',
    '',
    '$$(g_u)_\\mu = \\frac{\\partial \\mathcal L}{\\partial u_\\mu} = -\\frac1n \\sum_{i} g_i\\, y_i\\, \\mathrm{count}_\\mu(X_i).$$',
    '',
    `At Level G this gradient is attention-weighted, $\\sum_l P_{pl}$ per key occurrence; that weighting is what`,
    'Phase 1 drops in $g_u$, and with it in $\\dot u$ and $\\dot C$ (their form is unchanged).',
    `The softmax Jacobian $\\partial F/\\partial z_{pl} = ${mathTex(F.dFdz.expr)}$, at uniform attention $${mathTex(fs.dFdzUniform)}$, is not zero,`,
    'but it multiplies $\\dot z_{pl}$, and frozen attention means the loss no longer depends on the scores:',
    '$\\Gamma = \\partial\\mathcal L/\\partial S = 0$. Substituting $\\Gamma = 0$ into Level G\'s six equations:',
    '',
    '| rate | Level G (exact) | Phase 1 keeps | Phase 1 drops |',
    '| --- | --- | --- | --- |',
    ...GRAM_VARIABLES.map((v) => row1(sys, v)),
    '',
    'The score and the query and key correlation equations vanish entirely, consistently with freezing',
    "them; what is left is closed in $C, u, s$ (checked: the derivation throws otherwise):",
    '',
    ...eq('Phase 1', sys.phase1),
    "These are the paper's Eq. (4) with $p = 1/L$ and $\\mathcal S(t) = s$: its first term is $-s\\,g_u$, its",
    'second term (through $V^{(i)\\top} W_V \\mu$) is $-m_1 C g_u$; and Eq. (5):',
    '$\\dot s = -2 m_1 g_u^\\top u = \\frac{2 m_1}{n} \\sum_i g_i y_i F_i$.',
    'The model is then linear in $(W_V, W)$, and this system is exact for it: it is the Level G flow',
    'started with $Q = K = 0$ (then $S = A = B = 0$ stay $0$, since $\\dot Q = -K\\Gamma$ and $\\dot K = -Q\\Gamma^\\top$).',
    '',
    '## 3. Phase 2: also without the value-correlation term (Def. F.1, Lemma F.6)',
    '',
    "Once every sample is classified correctly the proofs also drop Eq. (4)'s second term: $u$ follows",
    'logistic regression on the bag of tokens with the time-varying rate $s(t)$, and $C$, which then enters',
    'no other equation, is frozen.',
    '',
    '| rate | Phase 1 | Phase 2 keeps | Phase 2 drops in addition |',
    '| --- | --- | --- | --- |',
    ...PAPER_VARIABLES.map((v) => row2(sys, v)),
    '',
    ...eq('Phase 2', sys.phase2),
    "The derivation checks both phases against the equations as the paper states them (typed in as",
    `\`${PAPER_STATED.phase1.u}\`, \`${PAPER_STATED.phase1.C}\`, \`${PAPER_STATED.phase1.s}\` and \`${PAPER_STATED.phase2.u}\`, \`${PAPER_STATED.phase2.C}\`, \`${PAPER_STATED.phase2.s}\`).`,
    '',
    '## 4. The phase switch',
    '',
    'Level P uses the Phase 1 equations while some training sample is misclassified,',
    '$\\min_i y_i F_i \\le 0$, and the Phase 2 equations once every sample is classified correctly',
    "($T_1$ of Thm 3.1). The phase is a function of the state (the margins are computed from $u$), so a",
    'checkpoint (the state) determines it and a resumed run continues exactly. The field is',
    'discontinuous across $\\min_i y_i F_i = 0$; the integrator\'s error control shrinks the steps that',
    'straddle it (the measured cost is in `docs/levels.md`, Level P).',
    '',
    '## 5. Conserved quantities',
    '',
    'Phase 1 conserves the trace of the balancedness invariant, as every gradient flow of a model does',
    '(here: of the frozen-attention model). Phase 2 is not a gradient flow of the model and breaks it,',
    'but conserves another quantity, because $\\dot u = -s\\,g_u$ and $\\dot s = -2 m_1 g_u^\\top u$:',
    '',
    `$$\\text{Phase 1:}\\quad \\frac{d}{dt}\\left(m_1 \\operatorname{tr} C - s\\right) = ${tex(sys.invariantRates.phase1V)}, \\qquad \\frac{d}{dt}\\left(m_1 u^\\top u - \\tfrac12 s^2\\right) = ${tex(sys.invariantRates.phase1U)},$$`,
    '',
    `$$\\text{Phase 2:}\\quad \\frac{d}{dt}\\left(m_1 \\operatorname{tr} C - s\\right) = ${tex(sys.invariantRates.phase2V)}, \\qquad \\frac{d}{dt}\\left(m_1 u^\\top u - \\tfrac12 s^2\\right) = ${tex(sys.invariantRates.phase2U)}.$$`,
    '',
    'The traces of $A$ and $B$ are frozen (so $\\operatorname{tr} A - \\operatorname{tr} B$ is trivially constant).',
    '',
    '## 6. The loss never increases',
    '',
    'The loss depends on the state through $u$ only, so $\\dot{\\mathcal L} = g_u^\\top \\dot u$:',
    '',
    `$$\\text{Phase 1:}\\quad \\frac{d\\mathcal L}{dt} = ${tex(sys.lossRate.phase1)}, \\qquad \\text{Phase 2:}\\quad \\frac{d\\mathcal L}{dt} = ${tex(sys.lossRate.phase2)},$$`,
    '',
    'both $\\le 0$ ($C$ is positive semidefinite and $s \\ge 0$).',
    '',
    '## 7. Checks run by the generator',
    '',
    'Closure in $C, u, s$; equality with the paper\'s stated equations; the two conservation laws',
    'above; and the frozen-attention templates ($F$ and $\\partial F/\\partial u_p$) against mathjs\'s symbolic',
    'derivative of $F = \\sum_l \\sum_p u_p / L$ built from its definition for $L = 2, \\dots, 5$ at random points',
    '(relative error at most $10^{-14}$).',
    '',
  ];
  return lines.join('\n');
}

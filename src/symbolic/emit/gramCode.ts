/**
 * Emits src/gram/generated/gramField.ts: the Level G vector field and exact GD map as loops over
 * Float64Array, term by term from the derived polynomials (../derivation/gramSystem.ts), and
 * the per-sample kernel from the verified templates (../sample/closedForm.ts).
 *
 * How a term becomes loops:
 *  - its coefficient (rational x scalars such as eta, m1, s, u^T gu) becomes one JS number;
 *  - its word f1 f2 ... fn is evaluated left to right, each intermediate product into a k x k
 *    scratch matrix (T1..T3), the last product accumulated into the output block;
 *  - Gam is sparse (only pairs of tokens that share a sample are nonzero), so every product
 *    with Gam or Gam^T loops over its nonzero list: O(nnz k) instead of O(k^3);
 *  - a term and its transpose with the same coefficient (e.g. -Gam^T S - S^T Gam) are computed
 *    once, X, and added as X + X^T.
 * The output is deterministic text (fixed term order), so a golden test can compare it byte for
 * byte with the committed file.
 */
import { Code } from './code.js';
import { parse } from 'mathjs';
import { Algebra, Factor, Poly, ScalarFactor, Term, asciiStyle, formatTermBody, scalarKey, wordKey } from '../algebra/ncpoly.js';
import { Rational } from '../algebra/rational.js';
import { displayOrder, formatGrouped } from '../algebra/display.js';
import { GRAM_VARIABLES, GramSystem, GramVariable } from '../derivation/gramSystem.js';
import { IndexedFormula, SAMPLE_FORMULAS } from '../sample/closedForm.js';
import { mathToJs } from './toJs.js';

type Ext = 1 | 'k';

interface DenseOp {
  readonly kind: 'dense';
  readonly rows: Ext;
  readonly cols: Ext;
  readonly symmetric: boolean;
  /** JS expression (also an lvalue for targets) of entry (i, j); an index of an extent-1 dim is '0' */
  at(i: string, j: string): string;
}
interface SparseOp {
  readonly kind: 'sparse';
  /** Gam^T instead of Gam */
  readonly t: boolean;
}
type Operand = DenseOp | SparseOp;


/** Row-major flat index of (i, j) with leading dimension ld; '0' indices drop out. */
function flat(i: string, j: string, ld: string): string {
  if (i === '0') return j;
  if (j === '0') return `${i} * ${ld}`;
  return `${i} * ${ld} + ${j}`;
}

/** coef * x, without a factor 1 */
function times(coef: string, x: string): string {
  return coef === '1' ? x : `${coef} * ${x}`;
}

function plus(off: string, idx: string): string {
  if (off === '0') return idx;
  return idx === '0' ? off : `${off} + ${idx}`;
}

function extOf(d: string | number): Ext {
  if (d === 1) return 1;
  if (d === 'k') return 'k';
  throw new Error(`gramCode: dimension ${d} cannot occur in a closed Level G equation`);
}

/** Index of a vector entry: the loop index of its extent-k side. */
function vecIndex(rows: Ext, i: string, j: string): string {
  return rows === 'k' ? i : j;
}

function denseBlock(array: string, off: string, rows: Ext, cols: Ext, symmetric: boolean, transposed: boolean): DenseOp {
  return {
    kind: 'dense',
    rows,
    cols,
    symmetric,
    at: (i, j) => {
      if (rows === 'k' && cols === 'k') return `${array}[${plus(off, transposed ? flat(j, i, 'k') : flat(i, j, 'k'))}]`;
      if (rows === 1 && cols === 1) return `${array}[${off}]`;
      return `${array}[${plus(off, vecIndex(rows, i, j))}]`;
    },
  };
}

function tempOp(name: string, rows: Ext, cols: Ext): DenseOp {
  return denseBlock(name, '0', rows, cols, false, false);
}

function sizeExpr(rows: Ext, cols: Ext): string {
  if (rows === 'k' && cols === 'k') return 'k * k';
  if (rows === 1 && cols === 1) return '1';
  return 'k';
}

/** Emits the loops of the Level G vector field / GD map for one set of equations. */
class TermEmitter {
  constructor(
    private readonly alg: Algebra,
    private readonly code: Code,
    private readonly scalarNames: ReadonlyMap<string, string>,
  ) {}

  private operand(f: Factor): Operand {
    if (f.sym === 'Gam') return { kind: 'sparse', t: f.t };
    const spec = this.alg.spec(f.sym);
    const [r, c] = f.t ? [spec.cols, spec.rows] : [spec.rows, spec.cols];
    if (f.sym === 'gu') return denseBlock('gu', '0', extOf(r), extOf(c), false, false);
    if ((GRAM_VARIABLES as readonly string[]).includes(f.sym)) {
      return denseBlock('y', `o_${f.sym}`, extOf(r), extOf(c), this.alg.isSymmetric(f.sym), f.t);
    }
    throw new Error(`gramCode: no storage for symbol '${f.sym}'`);
  }

  private shapeOf(op: Operand): [Ext, Ext] {
    return op.kind === 'sparse' ? ['k', 'k'] : [op.rows, op.cols];
  }

  /** The term's coefficient as one JS product, e.g. "-eta * m1" or "-2 * sc0 * m1". */
  coefficient(t: Term): string {
    const parts: string[] = [];
    for (const sc of t.scalars) {
      const name = this.scalarNames.get(scalarKey(sc));
      if (!name) throw new Error(`gramCode: no value for scalar ${scalarKey(sc)}`);
      parts.push(name);
    }
    const c = t.coef.abs();
    if (!c.isOne() || parts.length === 0) parts.unshift(c.den === 1n ? `${c.num}` : `(${c.num} / ${c.den})`);
    return (t.coef.isNegative() ? '-' : '') + parts.join(' * ');
  }

  private loops(rows: Ext, cols: Ext, body: (i: string, j: string) => void): void {
    const c = this.code;
    if (rows === 'k') c.open('for (let i = 0; i < k; i++)');
    if (cols === 'k') c.open('for (let j = 0; j < k; j++)');
    body(rows === 'k' ? 'i' : '0', cols === 'k' ? 'j' : '0');
    if (cols === 'k') c.close();
    if (rows === 'k') c.close();
  }

  private gamHeader(coef: string): void {
    const c = this.code;
    c.open('for (let e = 0; e < nnz; e++)');
    c.line('const b = nzRow[e];');
    c.line('const a = nzCol[e];');
    c.line(coef === '1' ? 'const g = Gam[b * k + a];' : `const g = ${coef} * Gam[b * k + a];`);
  }

  /** target(i, j) += coef * X(i, j) */
  private emitCopy(x: Operand, tgt: DenseOp, coef: string): void {
    if (x.kind === 'sparse') {
      this.gamHeader(coef);
      this.code.line(`${x.t ? tgt.at('a', 'b') : tgt.at('b', 'a')} += g;`);
      this.code.close();
      return;
    }
    this.loops(x.rows, x.cols, (i, j) => this.code.line(`${tgt.at(i, j)} += ${times(coef, x.at(i, j))};`));
  }

  /** target += coef * L R */
  private emitProduct(L: Operand, R: Operand, tgt: DenseOp, coef: string): void {
    const c = this.code;
    const [lr, lc] = this.shapeOf(L);
    const [rr, rc] = this.shapeOf(R);
    if (lc !== rr) throw new Error('gramCode: inner dimensions differ');
    if (L.kind === 'sparse' && R.kind === 'sparse') throw new Error('gramCode: Gam times Gam does not occur in the derived equations');
    if (L.kind === 'sparse') {
      // Gam[b, a]: as the left factor its (row, inner) index is (b, a), for Gam^T it is (a, b)
      const [iE, lE] = L.t ? ['a', 'b'] : ['b', 'a'];
      this.gamHeader(coef);
      if (rc === 'k') {
        c.line(`for (let j = 0; j < k; j++) ${tgt.at(iE, 'j')} += g * ${(R as DenseOp).at(lE, 'j')};`);
      } else {
        c.line(`${tgt.at(iE, '0')} += g * ${(R as DenseOp).at(lE, '0')};`);
      }
      c.close();
      return;
    }
    if (R.kind === 'sparse') {
      // as the right factor Gam's (inner, col) index is (b, a), for Gam^T it is (a, b)
      const [lE, jE] = R.t ? ['a', 'b'] : ['b', 'a'];
      this.gamHeader(coef);
      if (lr === 'k') {
        // a symmetric left factor is read along its row (contiguous) instead of its column
        const x = L.symmetric ? L.at(lE, 'i') : L.at('i', lE);
        c.line(`for (let i = 0; i < k; i++) ${tgt.at('i', jE)} += g * ${x};`);
      } else {
        c.line(`${tgt.at('0', jE)} += g * ${L.at('0', lE)};`);
      }
      c.close();
      return;
    }
    this.loops(lr, rc, (i, j) => {
      if (lc === 'k') {
        c.line('let acc = 0;');
        c.line(`for (let l = 0; l < k; l++) acc += ${L.at(i, 'l')} * ${R.at('l', j)};`);
        c.line(`${tgt.at(i, j)} += ${times(coef, 'acc')};`);
      } else {
        c.line(`${tgt.at(i, j)} += ${times(coef, `${L.at(i, '0')} * ${R.at('0', j)}`)};`);
      }
    });
  }

  /** target += coef * (word), intermediate products in the given scratch matrices */
  emitWord(word: readonly Factor[], tgt: DenseOp, coef: string, scratch: string[]): void {
    const ops = word.map((f) => this.operand(f));
    if (ops.length === 1) {
      this.emitCopy(ops[0], tgt, coef);
      return;
    }
    let cur = ops[0];
    let tmpIdx = 0;
    for (let n = 1; n < ops.length - 1; n++) {
      if (scratch.length === 0 || (ops.length > 3 && scratch.length < 2)) throw new Error('gramCode: not enough scratch matrices');
      const name = scratch[tmpIdx % Math.min(2, scratch.length)];
      tmpIdx++;
      const rows = this.shapeOf(cur)[0];
      const cols = this.shapeOf(ops[n])[1];
      this.code.line(`${name}.fill(0, 0, ${sizeExpr(rows, cols)});`);
      const t = tempOp(name, rows, cols);
      this.emitProduct(cur, ops[n], t, '1');
      cur = t;
    }
    this.emitProduct(cur, ops[ops.length - 1], tgt, coef);
  }

  /** Emits one equation: out block += every term. */
  emitEquation(name: string, p: Poly, tgt: DenseOp): void {
    const c = this.code;
    const done = new Set<number>();
    const style = asciiStyle(this.alg);
    p.terms.forEach((t, idx) => {
      if (done.has(idx)) return;
      done.add(idx);
      const tw = this.alg.transposeWord(t.word);
      const partnerIdx = p.terms.findIndex(
        (o, j) =>
          j !== idx &&
          !done.has(j) &&
          wordKey(o.word) === wordKey(tw) &&
          wordKey(o.word) !== wordKey(t.word) &&
          o.coef.equals(t.coef) &&
          o.scalars.map(scalarKey).join(' ') === t.scalars.map(scalarKey).join(' '),
      );
      const sign = t.coef.isNegative() ? '-' : '+';
      if (partnerIdx >= 0) {
        done.add(partnerIdx);
        const partner = p.terms[partnerIdx];
        // compute the one whose first factor is Gam (row-contiguous output), else the first
        const rep = partner.word[0]?.sym === 'Gam' && t.word[0]?.sym !== 'Gam' ? partner : t;
        const scal = formatTermBody(displayOrder({ ...rep, coef: rep.coef.abs(), word: [] }), style);
        const pre = scal === '1' ? '' : `${scal} `;
        c.line(`// ${name} ${sign}= ${pre}(X + X^T), X = ${formatTermBody({ coef: Rational.ONE, scalars: [], word: rep.word }, style)}`);
        c.open('');
        if (tgt.rows !== 'k' || tgt.cols !== 'k') throw new Error('gramCode: X + X^T needs a k x k block');
        c.line(`const coef = ${this.coefficient(rep)};`);
        c.line('T1.fill(0, 0, k * k);');
        this.emitWord(rep.word, tempOp('T1', 'k', 'k'), '1', ['T2', 'T3']);
        this.loops(tgt.rows, tgt.cols, (i, j) => c.line(`${tgt.at(i, j)} += coef * (T1[${flat(i, j, 'k')}] + T1[${flat(j, i, 'k')}]);`));
        c.close();
        return;
      }
      c.line(`// ${name} ${sign}= ${formatTermBody(displayOrder({ ...t, coef: t.coef.abs() }), style)}`);
      if (t.word.length > 1 && wordKey(tw) === wordKey(t.word) && tgt.rows === 'k' && tgt.cols === 'k') {
        // X = X^T in exact arithmetic (e.g. Gam^T B Gam); adding (X + X^T)/2 keeps the block
        // symmetric to the last bit, as A, B, C are (the code reads them as symmetric)
        c.open('');
        c.line(`const coef = ${this.coefficient(t)};`);
        c.line('T1.fill(0, 0, k * k);');
        this.emitWord(t.word, tempOp('T1', 'k', 'k'), '1', ['T2', 'T3']);
        this.loops('k', 'k', (i, j) => c.line(`${tgt.at(i, j)} += 0.5 * coef * (T1[${flat(i, j, 'k')}] + T1[${flat(j, i, 'k')}]);`));
        c.close();
        return;
      }
      if (t.word.length === 0) {
        c.line(`${tgt.at('0', '0')} += ${this.coefficient(t)};`);
        return;
      }
      c.open('');
      c.line(`const coef = ${this.coefficient(t)};`);
      this.emitWord(t.word, tgt, 'coef', ['T1', 'T2', 'T3']);
      c.close();
    });
  }
}

/** The scalar factors of a set of equations, with the JS name that will hold each. */
function scalarPlan(polys: readonly Poly[]): { names: Map<string, string>; computed: ScalarFactor[] } {
  const names = new Map<string, string>([
    ['eta', 'eta'],
    ['m1', 'm1'],
    ['s', 'sVal'],
  ]);
  const computed: ScalarFactor[] = [];
  for (const p of polys) {
    for (const t of p.terms) {
      for (const s of t.scalars) {
        const key = scalarKey(s);
        if (names.has(key)) continue;
        if (s.kind === 'trace') throw new Error(`gramCode: trace ${key} in an equation`);
        if (s.word.length === 1) throw new Error(`gramCode: no value for the scalar symbol ${key}`);
        names.set(key, `sc${computed.length}`);
        computed.push(s);
      }
    }
  }
  return { names, computed };
}

function emitSystemFunction(
  code: Code,
  sys: GramSystem,
  fn: { name: string; doc: string[]; params: string; equations: Readonly<Record<GramVariable, Poly>>; label: (v: string) => string },
): void {
  const { alg } = sys;
  const polys = GRAM_VARIABLES.map((v) => fn.equations[v]);
  const plan = scalarPlan(polys);
  code.line('/**');
  for (const d of fn.doc) code.line(` * ${d}`.trimEnd());
  code.line(' */');
  code.open(`export function ${fn.name}(${fn.params}): void`);
  const destructure = code.lines.length;
  code.line('const { WORKSPACE } = w;');
  emitOffsets(code, alg);
  code.line('const sVal = y[o_s];');
  code.line('out.fill(0, 0, o_end);');
  const em = new TermEmitter(alg, code, plan.names);
  plan.computed.forEach((s, i) => {
    code.line(`// ${plan.names.get(scalarKey(s))} = ${scalarKey(s)}`);
    code.line(`let sc${i} = 0;`);
    code.open('');
    const scalarTarget: DenseOp = { kind: 'dense', rows: 1, cols: 1, symmetric: true, at: () => `sc${i}` };
    em.emitWord(s.word, scalarTarget, '1', ['T1', 'T2', 'T3']);
    code.close();
  });
  for (const v of GRAM_VARIABLES) {
    const spec = alg.spec(v);
    const tgt = denseBlock('out', `o_${v}`, extOf(spec.rows), extOf(spec.cols), false, false);
    const shown = formatGrouped(fn.equations[v], asciiStyle(alg), { sym: 'eta', print: (j) => (j === 1 ? 'eta' : `eta^${j}`) });
    code.line(`// ${fn.label(v)} = ${shown}`);
    em.emitEquation(fn.label(v), fn.equations[v], tgt);
  }
  code.close();
  // destructure only the workspace fields the body uses
  const body = code.lines
    .slice(destructure + 1)
    .map((l) => l.replace(/\/\/.*$/, ''))
    .join('\n');
  const used = ['k', 'm1', 'Gam', 'gu', 'nzRow', 'nzCol', 'nnz', 'T1', 'T2', 'T3'].filter((f) => new RegExp(`\\b${f}\\b`).test(body));
  code.lines[destructure] = code.lines[destructure].replace('WORKSPACE', used.join(', '));
}

/** Block offsets in layout order, e.g. o_B = 2 * k * k, o_s = 4 * k * k + k. */
function emitOffsets(code: Code, alg: Algebra): void {
  const count = { kk: 0, k: 0, one: 0 };
  const expr = (): string => {
    const parts: string[] = [];
    if (count.kk > 0) parts.push(count.kk === 1 ? 'k * k' : `${count.kk} * k * k`);
    if (count.k > 0) parts.push(count.k === 1 ? 'k' : `${count.k} * k`);
    if (count.one > 0) parts.push(`${count.one}`);
    return parts.length === 0 ? '0' : parts.join(' + ');
  };
  for (const v of GRAM_VARIABLES) {
    code.line(`const o_${v} = ${expr()};`);
    const spec = alg.spec(v);
    const size = sizeExpr(extOf(spec.rows), extOf(spec.cols));
    if (size === 'k * k') count.kk++;
    else if (size === 'k') count.k++;
    else count.one++;
  }
  code.line(`const o_end = ${expr()};`);
}

/** JS for a template formula in a given context (symbol -> JS expression). */
function formulaJs(f: IndexedFormula, symbols: Readonly<Record<string, string>>): string {
  return mathToJs(parse(f.expr), symbols);
}

function emitSampleKernel(code: Code): void {
  const F = SAMPLE_FORMULAS;
  const uAt = (idx: string): string => `y[o_u + tokens[base + ${idx}]]`;
  code.line('/**');
  code.line(' * Per-sample outputs, the mean loss, and (if wantGrad) Gam = dL/dS and gu = dL/du at state y.');
  code.line(' * For sample i with local tokens x_1..x_L: z_pl = S[x_p, x_l] / sqrt(m), P_pl = softmax over p,');
  code.line(' * F_l = sum_p P_pl u[x_p], F = sum_l F_l; dL/dS[x_p, x_l] += (dl/dF / n) (dF/dz_pl) / sqrt(m) and');
  code.line(' * dL/du[x_p] += (dl/dF / n) dF/du_p, accumulating over repeated tokens (each (p, l) is its own');
  code.line(' * path from S to the loss). The formula bodies are the verified templates of');
  code.line(' * src/symbolic/sample/closedForm.ts, printed as JavaScript.');
  code.line(' */');
  code.open('export function sampleKernel(w: GramWorkspace, y: Float64Array, wantGrad: boolean): number');
  code.line('const { n, L, k, invSqrtM, tokens, labels, P, Fl, F, sampleLoss, Gam, gu } = w;');
  code.line('const o_S = 0;');
  code.line('const o_u = 4 * k * k;');
  code.open('if (wantGrad)');
  code.line('Gam.fill(0, 0, k * k);');
  code.line('gu.fill(0, 0, k);');
  code.close();
  code.line('let total = 0;');
  code.open('for (let i = 0; i < n; i++)');
  code.line('const base = i * L;');
  code.line('const yLabel = labels[i];');
  code.open('for (let l = 0; l < L; l++)');
  code.line('const query = tokens[base + l];');
  code.line('let zmax_l = -Infinity;');
  code.open('for (let p = 0; p < L; p++)');
  code.line('const z_pl = y[o_S + tokens[base + p] * k + query] * invSqrtM;');
  code.line('P[p * L + l] = z_pl;');
  code.line('if (z_pl > zmax_l) zmax_l = z_pl;');
  code.close();
  code.line('let Z = 0;');
  code.open('for (let p = 0; p < L; p++)');
  code.line('const z_pl = P[p * L + l];');
  code.line(`// ${F.shiftedExp.meaning}`);
  code.line(`const num = ${formulaJs(F.shiftedExp, { z_pl: 'z_pl', zmax_l: 'zmax_l' })};`);
  code.line('P[p * L + l] = num;');
  code.line('Z += num;');
  code.close();
  code.line('const invZ = 1 / Z;');
  code.line('for (let p = 0; p < L; p++) P[p * L + l] *= invZ;');
  code.line(`// ${F.queryOutput.meaning}: sum over p of ${F.queryOutput.expr}`);
  code.line('let F_l = 0;');
  code.line(`for (let p = 0; p < L; p++) F_l += ${formulaJs(F.queryOutput, { P_pl: 'P[p * L + l]', u_p: uAt('p') })};`);
  code.line('Fl[l] = F_l;');
  code.close();
  code.line(`// ${F.output.meaning}: sum over l of ${F.output.expr}`);
  code.line('let Fi = 0;');
  code.line(`for (let l = 0; l < L; l++) Fi += ${formulaJs(F.output, { F_l: 'Fl[l]' })};`);
  code.line('F[i] = Fi;');
  code.line(`// ${F.loss.meaning}`);
  code.line(`const lossI = ${formulaJs(F.loss, { y: 'yLabel', F: 'Fi' })};`);
  code.line('sampleLoss[i] = lossI;');
  code.line('total += lossI;');
  code.line('if (!wantGrad) continue;');
  code.line(`// dL/dF_i for the mean loss: (${F.dLossdF.expr}) / n`);
  code.line(`const gF = ${formulaJs(F.dLossdF, { y: 'yLabel', F: 'Fi' })} / n;`);
  code.line('const gz = gF * invSqrtM;');
  code.open('for (let p = 0; p < L; p++)');
  code.line('const key = tokens[base + p];');
  code.line(`// ${F.dFdu.meaning}: sum over l of ${F.dFdu.expr}`);
  code.line('let dFdu = 0;');
  code.line(`for (let l = 0; l < L; l++) dFdu += ${formulaJs(F.dFdu, { P_pl: 'P[p * L + l]' })};`);
  code.line('gu[key] += gF * dFdu;');
  code.line(`// ${F.dFdz.meaning}: ${F.dFdz.expr}`);
  code.line('const row = key * k;');
  code.line('const u_p = y[o_u + key];');
  code.line(
    `for (let l = 0; l < L; l++) Gam[row + tokens[base + l]] += gz * ${formulaJs(F.dFdz, { P_pl: 'P[p * L + l]', u_p: 'u_p', F_l: 'Fl[l]' })};`,
  );
  code.close();
  code.close();
  code.line('return total / n;');
  code.close();
}

/** The full text of src/gram/generated/gramField.ts. */
export function generateGramFieldSource(sys: GramSystem): string {
  const code = new Code();
  code.line('// GENERATED by coflow derive — do not edit.');
  code.line('// Source: src/symbolic (derivation in derivations/gram-flow.md); regenerate with `coflow derive`.');
  code.line('// Layout of a state y (src/gram/layout.ts): S, A, B, C (k x k, row-major), u (k), s (1).');
  code.line("import type { GramWorkspace } from '../buffers.js';");
  code.line();
  emitSampleKernel(code);
  code.line();
  emitSystemFunction(code, sys, {
    name: 'gramField',
    doc: [
      'Gradient flow dy/dt at state y, written into out, from Gam and gu of the last sampleKernel',
      'call (with wantGrad) at the same y. Allocation-free.',
    ],
    params: 'w: GramWorkspace, y: Float64Array, out: Float64Array',
    equations: sys.flow,
    label: (v) => `d${v}/dt`,
  });
  code.line();
  emitSystemFunction(code, sys, {
    name: 'gramGdMap',
    doc: [
      "State after one full-batch GD step with rate eta, written into out (out must not be y),",
      'from Gam and gu of the last sampleKernel call at y. Exact (not a Taylor expansion):',
      "Q' = Q - eta K Gam etc. make every Gram variable a quadratic polynomial in eta.",
    ],
    params: 'w: GramWorkspace, eta: number, y: Float64Array, out: Float64Array',
    equations: sys.gd,
    label: (v) => `${v}'`,
  });
  return code.lines.join('\n') + '\n';
}

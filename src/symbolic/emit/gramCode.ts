/**
 * Emits src/gram/generated/gramField.ts: the Level G vector field and exact GD map, term by term
 * from the derived polynomials (../derivation/gramSystem.ts), and the per-sample kernel from the
 * verified templates (../sample/closedForm.ts).
 *
 * How terms become kernel calls. The k x k blocks (S, A, B, C) are computed by the kernels of
 * src/gram/kernels.ts (`km`: WebAssembly SIMD on matrices in its own memory). Before the first
 * kernel use the state is copied in (km.loadState, and km.loadGu for gu); the emitter then
 * tracks, per generated function, what each kernel matrix holds:
 *  - each block is accumulated in the kernel matrix O, term by term in the derived order, and
 *    copied into out (km.store) when its equation ends; its first term starts from +0 (init)
 *    instead of reading O, as the zero-filled output did;
 *  - a copy term (e.g. S' += S) is km.copy;
 *  - a product with the sparse Gam runs over Gam's nonzeros grouped by rows or by columns:
 *    Gam X and Gam^T X give rows of the product (km.gamRows / km.gamCols over the rows of X);
 *    X Gam and X Gam^T give rows of the product's transpose (km.gamCols / km.gamRows over the
 *    rows of X^T; for a symmetric X the rows of X itself, the entries the scalar loops read). So
 *    O is held either as the block or as its transpose: it is transposed in place
 *    (km.transposeInPlace) only where the next term needs the other orientation, a fresh block
 *    takes the orientation of the next Gam product, and a block held transposed is transposed
 *    back before it is stored;
 *  - the transpose of a state block (S^T) is materialised once per call (km.transpose into the
 *    kernel matrix ST); an intermediate product (T1, T2: a word of three factors, evaluated left
 *    to right) is transposed in place when the next factor needs its rows the other way;
 *  - a term and its transpose with the same coefficient (e.g. -Gam^T S - S^T Gam) are computed
 *    once, X in T1, and added as X + X^T (km.symmetrize; km.outerSym for X = x z^T of two
 *    vectors); a term equal to its own transpose (e.g. Gam^T B Gam) is added as (X + X^T) / 2,
 *    so A, B, C stay symmetric to the last bit. X + X^T is the same whichever orientation X or
 *    O is held in;
 *  - in the vector equations and scalar factors, M x and x^T M with a state block M (C gu,
 *    gu^T C) are km.matVec / km.vecMat; everything else there stays plain loops along rows.
 * Every output element thus gets the same floating-point operations in the same order as the
 * scalar loops the terms used to be printed as (see src/gram/kernels.ts), so the results are the
 * same bits. The generated file lists the kernel matrices it uses (GRAM_KERNEL_SLOTS; GramModel
 * allocates them) and destructures only the workspace fields each function uses.
 * The output is deterministic text (fixed term order), so a golden test can compare it byte for
 * byte with the committed file.
 */
import { Code } from './code.js';
import { parse } from 'mathjs';
import { Algebra, Factor, Poly, ScalarFactor, Term, asciiStyle, formatTermBody, scalarKey, wordKey } from '../algebra/ncpoly.js';
import { Rational } from '../../exact/rational.js';
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
  /** the symbol it stores (a state block or gu) and whether it is read transposed */
  readonly sym?: string;
  readonly t?: boolean;
  /** the scratch array, for an intermediate */
  readonly scratch?: string;
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
  return { ...denseBlock(name, '0', rows, cols, false, false), scratch: name };
}

function sizeExpr(rows: Ext, cols: Ext): string {
  if (rows === 'k' && cols === 'k') return 'k * k';
  if (rows === 1 && cols === 1) return '1';
  return 'k';
}

/** How the terms of one equation are emitted (pairs X + X^T found once). */
type Item =
  /** rep and its transpose with equal coefficients: coef (X + X^T), X = rep's word */
  | { kind: 'pair'; rep: Term }
  /** a word equal to its own transpose: coef (X + X^T) / 2 */
  | { kind: 'selfTranspose'; term: Term }
  | { kind: 'plain'; term: Term };

function planTerms(alg: Algebra, p: Poly, square: boolean): Item[] {
  const items: Item[] = [];
  const done = new Set<number>();
  p.terms.forEach((t, idx) => {
    if (done.has(idx)) return;
    done.add(idx);
    const tw = alg.transposeWord(t.word);
    const partnerIdx = p.terms.findIndex(
      (o, j) =>
        j !== idx &&
        !done.has(j) &&
        wordKey(o.word) === wordKey(tw) &&
        wordKey(o.word) !== wordKey(t.word) &&
        o.coef.equals(t.coef) &&
        o.scalars.map(scalarKey).join(' ') === t.scalars.map(scalarKey).join(' '),
    );
    if (partnerIdx >= 0) {
      done.add(partnerIdx);
      const partner = p.terms[partnerIdx];
      // compute the one whose first factor is Gam (its rows come straight from Gam's rows), else the first
      const rep = partner.word[0]?.sym === 'Gam' && t.word[0]?.sym !== 'Gam' ? partner : t;
      if (!square) throw new Error('gramCode: X + X^T needs a k x k block');
      items.push({ kind: 'pair', rep });
      return;
    }
    if (t.word.length > 1 && wordKey(tw) === wordKey(t.word) && square) {
      items.push({ kind: 'selfTranspose', term: t });
      return;
    }
    items.push({ kind: 'plain', term: t });
  });
  return items;
}

/** The comment line of an item, e.g. "dA/dt -= (X + X^T), X = Gam^T S". */
function itemComment(alg: Algebra, name: string, item: Item): string {
  const style = asciiStyle(alg);
  if (item.kind === 'pair') {
    const rep = item.rep;
    const sign = rep.coef.isNegative() ? '-' : '+';
    const scal = formatTermBody(displayOrder({ ...rep, coef: rep.coef.abs(), word: [] }), style);
    const pre = scal === '1' ? '' : `${scal} `;
    return `// ${name} ${sign}= ${pre}(X + X^T), X = ${formatTermBody({ coef: Rational.ONE, scalars: [], word: rep.word }, style)}`;
  }
  const t = item.term;
  return `// ${name} ${t.coef.isNegative() ? '-' : '+'}= ${formatTermBody(displayOrder({ ...t, coef: t.coef.abs() }), style)}`;
}

/** The coefficient of a term (rational x scalars such as eta, m1, s, u^T gu) as one JS product. */
function coefficientJs(t: Term, scalarNames: ReadonlyMap<string, string>): string {
  const parts: string[] = [];
  for (const sc of t.scalars) {
    const name = scalarNames.get(scalarKey(sc));
    if (!name) throw new Error(`gramCode: no value for scalar ${scalarKey(sc)}`);
    parts.push(name);
  }
  const c = t.coef.abs();
  if (!c.isOne() || parts.length === 0) parts.unshift(c.den === 1n ? `${c.num}` : `(${c.num} / ${c.den})`);
  return (t.coef.isNegative() ? '-' : '') + parts.join(' * ');
}

/**
 * Emits plain loops for the vector and scalar blocks (u, s) and the scalar factors: targets of
 * at most k entries, so every loop runs along rows of the state.
 */
class TermEmitter {
  constructor(
    private readonly alg: Algebra,
    private readonly code: Code,
    private readonly scalarNames: ReadonlyMap<string, string>,
    /** for the products with a k x k state block, which run as kernels */
    private readonly kernels: KernelEmitter,
  ) {}

  private operand(f: Factor): Operand {
    if (f.sym === 'Gam') return { kind: 'sparse', t: f.t };
    const spec = this.alg.spec(f.sym);
    const [r, c] = f.t ? [spec.cols, spec.rows] : [spec.rows, spec.cols];
    if (f.sym === 'gu') return { ...denseBlock('gu', '0', extOf(r), extOf(c), false, false), sym: f.sym, t: f.t };
    if ((GRAM_VARIABLES as readonly string[]).includes(f.sym)) {
      return { ...denseBlock('y', `o_${f.sym}`, extOf(r), extOf(c), this.alg.isSymmetric(f.sym), f.t), sym: f.sym, t: f.t };
    }
    throw new Error(`gramCode: no storage for symbol '${f.sym}'`);
  }

  private shapeOf(op: Operand): [Ext, Ext] {
    return op.kind === 'sparse' ? ['k', 'k'] : [op.rows, op.cols];
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
    if (x.kind === 'sparse') throw new Error('gramCode: Gam alone in a vector or scalar equation');
    this.loops(x.rows, x.cols, (i, j) => this.code.line(`${tgt.at(i, j)} += ${times(coef, x.at(i, j))};`));
  }

  /** target += coef * L R; fresh: the target is a zero-filled scratch */
  private emitProduct(L: Operand, R: Operand, tgt: DenseOp, coef: string, fresh: boolean): void {
    const c = this.code;
    const [lr, lc] = this.shapeOf(L);
    const [rr, rc] = this.shapeOf(R);
    if (lc !== rr) throw new Error('gramCode: inner dimensions differ');
    if (L.kind === 'sparse' || R.kind === 'sparse') {
      // Gam x (k x 1 or 1 x k): one pass over the nonzero list
      if (L.kind === 'sparse' && R.kind === 'dense' && rc === 1) {
        const [iE, lE] = L.t ? ['a', 'b'] : ['b', 'a'];
        this.gamHeader(coef);
        c.line(`${tgt.at(iE, '0')} += g * ${R.at(lE, '0')};`);
        c.close();
        return;
      }
      if (R.kind === 'sparse' && L.kind === 'dense' && lr === 1) {
        const [lE, jE] = R.t ? ['a', 'b'] : ['b', 'a'];
        this.gamHeader(coef);
        c.line(`${tgt.at('0', jE)} += g * ${L.at('0', lE)};`);
        c.close();
        return;
      }
      throw new Error('gramCode: a k x k product with Gam outside the kernels');
    }
    const stateMatrix = (op: DenseOp) => op.rows === 'k' && op.cols === 'k' && op.sym !== undefined && !op.t;
    if (lr === 1 && lc === 'k' && rc === 'k' && fresh && coef === '1' && tgt.scratch && L.sym !== undefined && stateMatrix(R)) {
      // x^T M into a zero-filled vector, along the rows of M (kernel vecMat): t[j] =
      // ((0 + x_0 M[0, j]) + x_1 M[1, j]) + ..., the sums of a dot product down column j (whose
      // zero start adds nothing)
      c.line(`km.vecMat(${tgt.scratch}, ${this.kernels.vector(L.sym)}, ${this.kernels.matrix(R.sym!)});`);
      return;
    }
    if (lr === 'k' && lc === 'k' && rc === 1 && stateMatrix(L) && R.sym !== undefined) {
      // M x (kernel matVec): the row dot products acc, then target += coef * acc
      const v = tgt.scratch === 'V1' ? 'V2' : 'V1';
      c.line(`km.matVec(${v}, ${this.kernels.matrix(L.sym!)}, ${this.kernels.vector(R.sym)});`);
      this.loops(lr, rc, (i, j) => c.line(`${tgt.at(i, j)} += ${times(coef, `${v}[${i}]`)};`));
      return;
    }
    if (lr === 'k' && rc === 'k') throw new Error('gramCode: a k x k product outside the kernels');
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

  /** target += coef * (word), intermediate vectors in the scratch vectors V1, V2 */
  emitWord(word: readonly Factor[], tgt: DenseOp, coef: string): void {
    const ops = word.map((f) => this.operand(f));
    if (ops.length === 1) {
      this.emitCopy(ops[0], tgt, coef);
      return;
    }
    let cur = ops[0];
    for (let n = 1; n < ops.length - 1; n++) {
      const name = `V${1 + ((n - 1) % 2)}`;
      const rows = this.shapeOf(cur)[0];
      const cols = this.shapeOf(ops[n])[1];
      if (rows === 'k' && cols === 'k') throw new Error('gramCode: a k x k intermediate outside the kernels');
      this.code.line(`${name}.fill(0, 0, ${sizeExpr(rows, cols)});`);
      const t = tempOp(name, rows, cols);
      this.emitProduct(cur, ops[n], t, '1', true);
      cur = t;
    }
    this.emitProduct(cur, ops[ops.length - 1], tgt, coef, false);
  }

  /** Emits one vector or scalar equation: out block += every term. */
  emitEquation(name: string, p: Poly, tgt: DenseOp): void {
    const c = this.code;
    for (const item of planTerms(this.alg, p, false)) {
      if (item.kind !== 'plain') throw new Error('gramCode: X + X^T in a vector or scalar equation');
      const t = item.term;
      c.line(itemComment(this.alg, name, item));
      if (t.word.length === 0) {
        c.line(`${tgt.at('0', '0')} += ${coefficientJs(t, this.scalarNames)};`);
        continue;
      }
      c.open('');
      c.line(`const coef = ${coefficientJs(t, this.scalarNames)};`);
      this.emitWord(t.word, tgt, 'coef');
      c.close();
    }
  }
}

/** A k x k matrix operand of the kernels. */
type KMat =
  /** a state block, or its transpose (t) */
  | { readonly kind: 'state'; readonly sym: string; readonly t: boolean; readonly symmetric: boolean }
  /** a product M in kernel matrix `slot`, held as M or as M^T (mutable: transposed in place) */
  | { readonly kind: 'scratch'; readonly slot: string; held: Orientation };
/** a vector operand (k x 1 or 1 x k): gu or a state vector */
type KVec = { readonly kind: 'vector'; readonly sym: string };
type KOperand = KMat | KVec | { readonly kind: 'gam'; readonly t: boolean };
type Orientation = 'normal' | 'transposed';
/** the matrix being accumulated: its slot and how it is held so far (fresh: nothing added yet) */
interface KTarget {
  readonly slot: string;
  held: Orientation | 'fresh';
}

const SCRATCH = ['T1', 'T2', 'T3'];

/**
 * Emits the k x k equations as calls of src/gram/kernels.ts (see the file comment). One
 * instance per generated function: it tracks what is in kernel memory during the call.
 */
class KernelEmitter {
  /** state block -> kernel matrix holding its transpose */
  private readonly transposed = new Map<string, string>();
  private stateLoaded = false;
  private guLoaded = false;
  private readonly live = new Set<string>();

  constructor(
    private readonly alg: Algebra,
    private readonly code: Code,
    private readonly scalarNames: ReadonlyMap<string, string>,
    /** kernel matrices used (collected for the generated list of slots) */
    private readonly slotsUsed: Set<string>,
  ) {}

  private use(slot: string): string {
    this.slotsUsed.add(slot);
    return slot;
  }

  /**
   * Copies the state into kernel memory before its first use there. The whole state, with one
   * TypedArray.set: copying only the blocks used would need a subarray of y (an allocation) or a
   * JS loop, which measured slower than copying everything.
   */
  private ensureState(): void {
    if (this.stateLoaded) return;
    this.code.line('km.loadState(y);');
    this.stateLoaded = true;
  }

  private operand(f: Factor): KOperand {
    if (f.sym === 'Gam') return { kind: 'gam', t: f.t };
    const spec = this.alg.spec(f.sym);
    const [r, c] = f.t ? [spec.cols, spec.rows] : [spec.rows, spec.cols];
    if (r === 'k' && c === 'k') {
      if (!(GRAM_VARIABLES as readonly string[]).includes(f.sym)) throw new Error(`gramCode: no storage for symbol '${f.sym}'`);
      return { kind: 'state', sym: f.sym, t: f.t, symmetric: this.alg.isSymmetric(f.sym) };
    }
    if ((r === 'k' && c === 1) || (r === 1 && c === 'k')) {
      if (f.sym !== 'gu' && !(GRAM_VARIABLES as readonly string[]).includes(f.sym)) throw new Error(`gramCode: no storage for symbol '${f.sym}'`);
      return { kind: 'vector', sym: f.sym };
    }
    throw new Error(`gramCode: the factor ${f.sym} cannot occur in a k x k term`);
  }

  /** JS index of the vector gu or a state vector in kernel memory (loaded on first use) */
  vector(sym: string): string {
    if (sym === 'gu') {
      if (!this.guLoaded) this.code.line('km.loadGu(gu);');
      this.guLoaded = true;
      return 'km.gu';
    }
    this.ensureState();
    return `km.state + o_${sym}`;
  }

  /** JS index of a k x k state block in kernel memory (copied in on first use) */
  matrix(sym: string): string {
    this.ensureState();
    return `km.state + o_${sym}`;
  }

  /** JS index of a matrix whose rows are the rows of m (or of m^T when transposed) */
  private rows(m: KMat, transposed: boolean): string {
    if (m.kind === 'state') {
      if (m.t === transposed) return this.matrix(m.sym);
      let slot = this.transposed.get(m.sym);
      if (!slot) {
        slot = this.use(`${m.sym}T`);
        this.code.line(`km.transpose(${slot}, ${this.matrix(m.sym)}); // ${m.sym}^T, once per call`);
        this.transposed.set(m.sym, slot);
      }
      return slot;
    }
    const want: Orientation = transposed ? 'transposed' : 'normal';
    if (m.held !== want) {
      this.code.line(`km.transposeInPlace(${m.slot});`);
      m.held = want;
    }
    return m.slot;
  }

  private freeScratch(): string {
    const s = SCRATCH.find((n) => !this.live.has(n));
    if (!s) throw new Error('gramCode: not enough kernel scratch matrices');
    this.live.add(s);
    return this.use(s);
  }

  /** Orientation in which the product L R comes out of the kernels, or null if not a Gam product. */
  private static natural(L: KOperand, R: KOperand): Orientation | null {
    if (L.kind === 'gam' && R.kind !== 'gam') return 'normal';
    if (R.kind === 'gam' && L.kind !== 'gam') return 'transposed';
    return null;
  }

  /** Brings the target to orientation o (transposing it in place if needed); true if it was fresh. */
  private orient(tgt: KTarget, o: Orientation): boolean {
    if (tgt.held === 'fresh') {
      tgt.held = o;
      return true;
    }
    if (tgt.held !== o) {
      this.code.line(`km.transposeInPlace(${tgt.slot});`);
      tgt.held = o;
    }
    return false;
  }

  /** target += coef * L R, one factor Gam or Gam^T */
  private product(L: KOperand, R: KOperand, tgt: KTarget, coef: string): void {
    let fn: string;
    let src: string;
    if (L.kind === 'gam' && R.kind !== 'gam' && R.kind !== 'vector') {
      // rows of Gam X (Gam^T X): over the rows (columns) of Gam, rows of X
      fn = L.t ? 'gamCols' : 'gamRows';
      src = this.rows(R, false);
    } else if (R.kind === 'gam' && L.kind !== 'gam' && L.kind !== 'vector') {
      // rows of (X Gam)^T = Gam^T X^T ((X Gam^T)^T = Gam X^T); a symmetric state block is read
      // along its own rows, as the scalar loops read it
      fn = R.t ? 'gamRows' : 'gamCols';
      src = this.rows(L, !(L.kind === 'state' && L.symmetric));
    } else {
      throw new Error('gramCode: a k x k product without exactly one Gam factor does not occur in the derived equations');
    }
    const init = this.orient(tgt, KernelEmitter.natural(L, R)!);
    this.code.line(`km.${fn}(${tgt.slot}, ${src}, ${coef}, ${init});`);
    if (L.kind === 'scratch') this.live.delete(L.slot);
    if (R.kind === 'scratch') this.live.delete(R.slot);
  }

  /** target += coef * word (a product of two or more factors), left to right */
  private word(word: readonly Factor[], tgt: KTarget, coef: string): void {
    const ops = word.map((f) => this.operand(f));
    let cur = ops[0];
    for (let n = 1; n < ops.length - 1; n++) {
      const slot = this.freeScratch();
      const t: KTarget = { slot, held: 'fresh' };
      this.product(cur, ops[n], t, '1');
      cur = { kind: 'scratch', slot, held: t.held as Orientation };
    }
    this.product(cur, ops[ops.length - 1], tgt, coef);
  }

  /** The orientation the item's last product comes out in (null: any, e.g. X + X^T). */
  private itemOrientation(item: Item): Orientation | null {
    if (item.kind !== 'plain' || item.term.word.length < 2) return null;
    const w = item.term.word;
    return KernelEmitter.natural(this.operand(w[w.length - 2]), this.operand(w[w.length - 1]));
  }

  /** out block o_v = the equation p, accumulated in kernel matrix O */
  equation(v: string, name: string, p: Poly): void {
    const c = this.code;
    const O: KTarget = { slot: this.use('O'), held: 'fresh' };
    const items = planTerms(this.alg, p, true);
    items.forEach((item, idx) => {
      c.line(itemComment(this.alg, name, item));
      c.open('');
      if (item.kind === 'pair' || item.kind === 'selfTranspose') {
        const t = item.kind === 'pair' ? item.rep : item.term;
        c.line(`const coef = ${coefficientJs(t, this.scalarNames)};`);
        const scale = item.kind === 'pair' ? 'coef' : '0.5 * coef';
        const ops = t.word.map((f) => this.operand(f));
        const outer = ops.length === 2 && ops[0].kind === 'vector' && ops[1].kind === 'vector';
        let X: KTarget | null = null;
        if (!outer) {
          X = { slot: this.freeScratch(), held: 'fresh' };
          this.word(t.word, X, '1');
        }
        const xz = outer ? `${this.vector((ops[0] as KVec).sym)}, ${this.vector((ops[1] as KVec).sym)}` : X!.slot;
        // X + X^T is the same in either orientation of X and of O
        const init = O.held === 'fresh';
        if (init) O.held = 'normal';
        c.line(`km.${outer ? 'outerSym' : 'symmetrize'}(O, ${xz}, ${scale}, ${init});`);
        if (X) this.live.delete(X.slot);
      } else {
        const t = item.term;
        c.line(`const coef = ${coefficientJs(t, this.scalarNames)};`);
        if (t.word.length === 1) {
          const x = this.operand(t.word[0]);
          if (x.kind !== 'state') throw new Error(`gramCode: the k x k term ${wordKey(t.word)} is not a state block`);
          if (O.held === 'fresh') {
            // take the orientation the next Gam product will need
            const next = items.slice(idx + 1).map((it) => this.itemOrientation(it)).find((o) => o !== null);
            O.held = next ?? 'normal';
            c.line(`km.copy(O, ${this.rows(x, O.held === 'transposed')}, coef, true);`);
          } else {
            c.line(`km.copy(O, ${this.rows(x, O.held === 'transposed')}, coef, false);`);
          }
        } else if (t.word.length >= 2) {
          this.word(t.word, O, 'coef');
        } else {
          throw new Error('gramCode: a scalar term in a k x k equation');
        }
      }
      c.close();
    });
    if (O.held === 'fresh') {
      c.line(`out.fill(0, o_${v}, o_${v} + k * k);`);
      return;
    }
    if (O.held === 'transposed') c.line('km.transposeInPlace(O);');
    c.line(`km.store(out, o_${v}, O);`);
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

function isMatrixBlock(alg: Algebra, v: string): boolean {
  const spec = alg.spec(v);
  return extOf(spec.rows) === 'k' && extOf(spec.cols) === 'k';
}

function emitSystemFunction(
  code: Code,
  sys: GramSystem,
  fn: { name: string; doc: string[]; params: string; equations: Readonly<Record<GramVariable, Poly>>; label: (v: string) => string },
  slotsUsed: Set<string>,
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
  code.line('const { SLOTS } = km.slots;');
  emitOffsets(code, alg);
  code.line('const sVal = y[o_s];');
  // the kernels store every k x k block whole; the vector and scalar blocks after them are
  // accumulated from +0
  const firstSmall = GRAM_VARIABLES.findIndex((v) => !isMatrixBlock(alg, v));
  if (firstSmall < 0 || GRAM_VARIABLES.slice(firstSmall).some((v) => isMatrixBlock(alg, v))) {
    throw new Error('gramCode: the layout must put the k x k blocks before the vector and scalar blocks');
  }
  code.line(`out.fill(0, o_${GRAM_VARIABLES[firstSmall]}, o_end);`);
  const fnSlots = new Set<string>();
  const kem = new KernelEmitter(alg, code, plan.names, fnSlots);
  const em = new TermEmitter(alg, code, plan.names, kem);
  plan.computed.forEach((s, i) => {
    code.line(`// ${plan.names.get(scalarKey(s))} = ${scalarKey(s)}`);
    code.line(`let sc${i} = 0;`);
    code.open('');
    const scalarTarget: DenseOp = { kind: 'dense', rows: 1, cols: 1, symmetric: true, at: () => `sc${i}` };
    em.emitWord(s.word, scalarTarget, '1');
    code.close();
  });
  for (const v of GRAM_VARIABLES) {
    const spec = alg.spec(v);
    const shown = formatGrouped(fn.equations[v], asciiStyle(alg), { sym: 'eta', print: (j) => (j === 1 ? 'eta' : `eta^${j}`) });
    code.line(`// ${fn.label(v)} = ${shown}`);
    if (isMatrixBlock(alg, v)) {
      kem.equation(v, fn.label(v), fn.equations[v]);
    } else {
      em.emitEquation(fn.label(v), fn.equations[v], denseBlock('out', `o_${v}`, extOf(spec.rows), extOf(spec.cols), false, false));
    }
  }
  code.close();
  for (const s of fnSlots) slotsUsed.add(s);
  // destructure only the workspace fields and kernel matrices the body uses
  const body = code.lines
    .slice(destructure + 2)
    .map((l) => l.replace(/\/\/.*$/, ''))
    .join('\n');
  const usedIn = (names: readonly string[]) => names.filter((f) => new RegExp(`\\b${f}\\b`).test(body));
  const slots = usedIn([...fnSlots].sort());
  const fields = usedIn(['k', 'm1', 'Gam', 'gu', 'nzRow', 'nzCol', 'nnz', 'V1', 'V2', 'km']);
  code.lines[destructure] = code.lines[destructure].replace('WORKSPACE', fields.join(', '));
  if (slots.length > 0) code.lines[destructure + 1] = code.lines[destructure + 1].replace('SLOTS', slots.join(', '));
  else code.lines.splice(destructure + 1, 1);
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
  code.line('const { n, L, k, invSqrtM, tokens, labels, P, Fl, F, sampleLoss, Gam, gu, nzRow, nzCol, nnz } = w;');
  code.line('const o_S = 0;');
  code.line('const o_u = 4 * k * k;');
  code.open('if (wantGrad)');
  code.line('// only the pattern entries of Gam are ever written: zero those (not all k^2)');
  code.line('for (let e = 0; e < nnz; e++) Gam[nzRow[e] * k + nzCol[e]] = 0;');
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
  const slotsLine = code.lines.length;
  code.line();
  emitSampleKernel(code);
  code.line();
  const slots = new Set<string>();
  emitSystemFunction(code, sys, {
    name: 'gramField',
    doc: [
      'Gradient flow dy/dt at state y, written into out, from Gam and gu of the last sampleKernel',
      'call (with wantGrad) at the same y. Allocation-free.',
    ],
    params: 'w: GramWorkspace, y: Float64Array, out: Float64Array',
    equations: sys.flow,
    label: (v) => `d${v}/dt`,
  }, slots);
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
  }, slots);
  code.lines.splice(
    slotsLine,
    0,
    '/** The k x k kernel matrices (src/gram/kernels.ts) the functions below use; GramModel allocates them. */',
    `export const GRAM_KERNEL_SLOTS = [${[...slots].sort().map((s) => `'${s}'`).join(', ')}] as const;`,
  );
  return code.lines.join('\n') + '\n';
}

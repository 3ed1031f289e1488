/**
 * Emits src/gram/generated/gramField.ts: the Level G vector field and exact GD map, term by term
 * from the derived polynomials (../derivation/gramSystem.ts), and the per-sample kernel from the
 * verified templates (../sample/closedForm.ts).
 *
 * How terms become kernel calls. The k x k blocks (S, A, B, C) are computed by the kernels of
 * src/gram/kernels.ts (`km`: WebAssembly SIMD on matrices in its own memory). Before the first
 * kernel use the state is bound (km.bindState: read in place when y lives in that memory, else
 * copied in; km.loadGu copies gu); the emitter then tracks, per generated function, what each
 * kernel matrix holds:
 *  - each block is accumulated term by term in the derived order where km.target puts it: in out
 *    itself when out lives in the kernels' memory, else in the kernel matrix O, copied into out
 *    (km.store) when its equation ends; its first term starts from +0 (init) instead of
 *    reading the destination, as the zero-filled output did;
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
 * same bits. The coefficients are arguments of the kernel calls (each evaluated once per call,
 * as a local would be); s and the scalar factors such as u^T gu are computed where the body first
 * uses them. The generated file lists the kernel matrices it uses (GRAM_KERNEL_SLOTS; GramModel
 * allocates them), and each function destructures only the workspace fields, block offsets (of
 * the GramLayout) and kernel matrices its body uses: the emitter records each one as it prints
 * it (FunctionBody). The per-sample kernel is a template (./sampleTemplates.ts).
 * The output is deterministic text (fixed term order), so a golden test can compare it byte for
 * byte with the committed file.
 */
import { Code, RecordingBody } from './code.js';
import { Algebra, Factor, Poly, ScalarFactor, Term, asciiStyle, formatTermBody, scalarKey, wordKey } from '../algebra/ncpoly.js';
import { Rational } from '../../exact/rational.js';
import { displayOrder, formatGrouped } from '../algebra/display.js';
import { GRAM_VARIABLES, GramSystem, GramVariable } from '../derivation/gramSystem.js';
import { gramKernelTemplate, sampleLossImport } from './sampleTemplates.js';

type Ext = 1 | 'k';

/** Where the generated Level G field lives, relative to the repository root. */
export const GRAM_FIELD_PATH = 'src/gram/generated/gramField.ts';

/** The GramWorkspace fields (src/gram/buffers.ts) a generated field function may read, in the order it destructures them. */
const WORKSPACE_FIELDS = ['k', 'm1', 'Gam', 'gu', 'nzRow', 'nzCol', 'nnz', 'V1', 'V2', 'km', 'layout'] as const;
type WorkspaceField = (typeof WORKSPACE_FIELDS)[number];

/**
 * The body of one generated function and the names it references: every workspace field, block
 * offset and kernel matrix is printed through ws(), offset() or slot(), which record it, so the
 * function destructures exactly what its body uses; a local is defined where it is first used.
 */
class FunctionBody extends RecordingBody<WorkspaceField, GramVariable | 'end'> {
  /** the kernel matrices used (src/gram/kernels.ts), for GRAM_KERNEL_SLOTS */
  readonly slots = new Set<string>();

  constructor() {
    super('gramCode');
  }

  slot(name: string): string {
    this.slots.add(name);
    return name;
  }

  /** `km.name`: a member of the kernels object */
  km(member: string): string {
    return `${this.ws('km')}.${member}`;
  }

  /** The destructuring of the workspace and of the kernel matrices this body uses. */
  destructuring(): string[] {
    const slots = this.slots.size > 0 ? [`const { ${[...this.slots].sort().join(', ')} } = ${this.km('slots')};`] : [];
    const used = [...GRAM_VARIABLES, 'end' as const].filter((v) => this.offsets.has(v));
    const offsets = used.length > 0 ? [`const { ${used.map((v) => `${v === 'end' ? 'size' : v}: o_${v}`).join(', ')} } = ${this.ws('layout')};`] : [];
    return [`const { ${WORKSPACE_FIELDS.filter((f) => this.fields.has(f)).join(', ')} } = w;`, ...slots, ...offsets];
  }
}

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


/** Row-major flat index of (i, j) in a k x k block; '0' indices drop out. */
function flat(f: FunctionBody, i: string, j: string): string {
  if (i === '0') return j;
  if (j === '0') return `${i} * ${f.ws('k')}`;
  return `${i} * ${f.ws('k')} + ${j}`;
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

function denseBlock(f: FunctionBody, array: string, off: string, rows: Ext, cols: Ext, symmetric: boolean, transposed: boolean): DenseOp {
  return {
    kind: 'dense',
    rows,
    cols,
    symmetric,
    at: (i, j) => {
      if (rows === 'k' && cols === 'k') return `${array}[${plus(off, transposed ? flat(f, j, i) : flat(f, i, j))}]`;
      if (rows === 1 && cols === 1) return `${array}[${off}]`;
      return `${array}[${plus(off, vecIndex(rows, i, j))}]`;
    },
  };
}

function tempOp(f: FunctionBody, name: string, rows: Ext, cols: Ext): DenseOp {
  return { ...denseBlock(f, name, '0', rows, cols, false, false), scratch: name };
}

function sizeExpr(f: FunctionBody, rows: Ext, cols: Ext): string {
  if (rows === 'k' && cols === 'k') return `${f.ws('k')} * ${f.ws('k')}`;
  if (rows === 1 && cols === 1) return '1';
  return f.ws('k');
}

/** How the terms of one equation are emitted (pairs X + X^T found once; Level T's emitter, typeCode.ts, pairs the same way). */
export type Item =
  /** rep and its transpose with equal coefficients: coef (X + X^T), X = rep's word */
  | { kind: 'pair'; rep: Term }
  /** a word equal to its own transpose: coef (X + X^T) / 2 */
  | { kind: 'selfTranspose'; term: Term }
  | { kind: 'plain'; term: Term };

export function planTerms(alg: Algebra, p: Poly, square: boolean): Item[] {
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

/** The JS that reads each scalar of the equations (eta, m1, s, products such as u^T gu), by scalarKey. */
type ScalarNames = ReadonlyMap<string, () => string>;

/** The coefficient of a term (rational x scalars such as eta, m1, s, u^T gu) as one JS product. */
function coefficientJs(t: Term, scalarNames: ScalarNames): string {
  const parts: string[] = [];
  for (const sc of t.scalars) {
    const name = scalarNames.get(scalarKey(sc));
    if (!name) throw new Error(`gramCode: no value for scalar ${scalarKey(sc)}`);
    parts.push(name());
  }
  const c = t.coef.abs();
  if (!c.isOne() || parts.length === 0) parts.unshift(c.den === 1n ? `${c.num}` : `(${c.num} / ${c.den})`);
  return (t.coef.isNegative() ? '-' : '') + parts.join(' * ');
}

/** 0.5 * coef, the coefficient of each half of X + X^T for a word X equal to its own transpose */
function halfOf(coef: string): string {
  return /^[\w.]+$/.test(coef) ? `0.5 * ${coef}` : `0.5 * (${coef})`;
}

/**
 * Emits plain loops for the vector and scalar blocks (u, s) and the scalar factors: targets of
 * at most k entries, so every loop runs along rows of the state.
 */
class TermEmitter {
  private readonly code: Code;

  constructor(
    private readonly alg: Algebra,
    private readonly f: FunctionBody,
    private readonly scalarNames: ScalarNames,
    /** for the products with a k x k state block, which run as kernels */
    private readonly kernels: KernelEmitter,
  ) {
    this.code = f.code;
  }

  private operand(fac: Factor): Operand {
    if (fac.sym === 'Gam') return { kind: 'sparse', t: fac.t };
    const spec = this.alg.spec(fac.sym);
    const [r, c] = fac.t ? [spec.cols, spec.rows] : [spec.rows, spec.cols];
    if (fac.sym === 'gu') return { ...denseBlock(this.f, this.f.ws('gu'), '0', extOf(r), extOf(c), false, false), sym: fac.sym, t: fac.t };
    if ((GRAM_VARIABLES as readonly string[]).includes(fac.sym)) {
      const v = fac.sym as GramVariable;
      return { ...denseBlock(this.f, 'y', this.f.offset(v), extOf(r), extOf(c), this.alg.isSymmetric(v), fac.t), sym: v, t: fac.t };
    }
    throw new Error(`gramCode: no storage for symbol '${fac.sym}'`);
  }

  private shapeOf(op: Operand): [Ext, Ext] {
    return op.kind === 'sparse' ? ['k', 'k'] : [op.rows, op.cols];
  }

  private loops(rows: Ext, cols: Ext, body: (i: string, j: string) => void): void {
    const c = this.code;
    if (rows === 'k') c.open(`for (let i = 0; i < ${this.f.ws('k')}; i++)`);
    if (cols === 'k') c.open(`for (let j = 0; j < ${this.f.ws('k')}; j++)`);
    body(rows === 'k' ? 'i' : '0', cols === 'k' ? 'j' : '0');
    if (cols === 'k') c.close();
    if (rows === 'k') c.close();
  }

  private gamHeader(coef: string): void {
    const c = this.code;
    const f = this.f;
    c.open(`for (let e = 0; e < ${f.ws('nnz')}; e++)`);
    c.line(`const b = ${f.ws('nzRow')}[e];`);
    c.line(`const a = ${f.ws('nzCol')}[e];`);
    c.line(`const g = ${times(coef, `${f.ws('Gam')}[b * ${f.ws('k')} + a]`)};`);
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
      c.line(`${this.f.km('vecMat')}(${tgt.scratch}, ${this.kernels.vector(L.sym)}, ${this.kernels.matrix(R.sym!)});`);
      return;
    }
    if (lr === 'k' && lc === 'k' && rc === 1 && stateMatrix(L) && R.sym !== undefined) {
      // M x (kernel matVec): the row dot products acc, then target += coef * acc
      const v = this.f.ws(tgt.scratch === 'V1' ? 'V2' : 'V1');
      c.line(`${this.f.km('matVec')}(${v}, ${this.kernels.matrix(L.sym!)}, ${this.kernels.vector(R.sym)});`);
      this.loops(lr, rc, (i, j) => c.line(`${tgt.at(i, j)} += ${times(coef, `${v}[${i}]`)};`));
      return;
    }
    if (lr === 'k' && rc === 'k') throw new Error('gramCode: a k x k product outside the kernels');
    this.loops(lr, rc, (i, j) => {
      if (lc === 'k') {
        c.line('let acc = 0;');
        c.line(`for (let l = 0; l < ${this.f.ws('k')}; l++) acc += ${L.at(i, 'l')} * ${R.at('l', j)};`);
        c.line(`${tgt.at(i, j)} += ${times(coef, 'acc')};`);
      } else {
        c.line(`${tgt.at(i, j)} += ${times(coef, `${L.at(i, '0')} * ${R.at('0', j)}`)};`);
      }
    });
  }

  /** target += coef * (word), intermediate vectors in the scratch vectors V1, V2 */
  emitWord(word: readonly Factor[], tgt: DenseOp, coef: string): void {
    const ops = word.map((fac) => this.operand(fac));
    if (ops.length === 1) {
      this.emitCopy(ops[0], tgt, coef);
      return;
    }
    let cur = ops[0];
    for (let n = 1; n < ops.length - 1; n++) {
      const name = this.f.ws(n % 2 === 1 ? 'V1' : 'V2');
      const rows = this.shapeOf(cur)[0];
      const cols = this.shapeOf(ops[n])[1];
      if (rows === 'k' && cols === 'k') throw new Error('gramCode: a k x k intermediate outside the kernels');
      this.code.line(`${name}.fill(0, 0, ${sizeExpr(this.f, rows, cols)});`);
      const t = tempOp(this.f, name, rows, cols);
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
      // first: a scalar factor is computed where it is first used, outside any block
      const coef = coefficientJs(t, this.scalarNames);
      c.line(itemComment(this.alg, name, item));
      if (t.word.length === 0) {
        c.line(`${tgt.at('0', '0')} += ${coef};`);
        continue;
      }
      // the coefficient once, outside the loops
      c.open('');
      c.line(`const coef = ${coef};`);
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
  private readonly code: Code;

  constructor(
    private readonly alg: Algebra,
    private readonly f: FunctionBody,
    private readonly scalarNames: ScalarNames,
  ) {
    this.code = f.code;
  }

  /** one kernel call, `km.fn(args);` */
  private call(fn: string, ...args: string[]): void {
    this.code.line(`${this.f.km(fn)}(${args.join(', ')});`);
  }

  /**
   * Binds the state before its first use in kernel memory: read in place when y lives there,
   * else copied in whole, with one TypedArray.set (copying only the blocks used would need a
   * subarray of y, an allocation, or a JS loop, which measured slower than copying everything).
   */
  private ensureState(): void {
    if (this.stateLoaded) return;
    this.call('bindState', 'y');
    this.stateLoaded = true;
  }

  private operand(fac: Factor): KOperand {
    if (fac.sym === 'Gam') return { kind: 'gam', t: fac.t };
    const spec = this.alg.spec(fac.sym);
    const [r, c] = fac.t ? [spec.cols, spec.rows] : [spec.rows, spec.cols];
    if (r === 'k' && c === 'k') {
      if (!(GRAM_VARIABLES as readonly string[]).includes(fac.sym)) throw new Error(`gramCode: no storage for symbol '${fac.sym}'`);
      return { kind: 'state', sym: fac.sym, t: fac.t, symmetric: this.alg.isSymmetric(fac.sym) };
    }
    if ((r === 'k' && c === 1) || (r === 1 && c === 'k')) {
      if (fac.sym !== 'gu' && !(GRAM_VARIABLES as readonly string[]).includes(fac.sym)) throw new Error(`gramCode: no storage for symbol '${fac.sym}'`);
      return { kind: 'vector', sym: fac.sym };
    }
    throw new Error(`gramCode: the factor ${fac.sym} cannot occur in a k x k term`);
  }

  /** JS index of the vector gu or a state vector in kernel memory (loaded on first use) */
  vector(sym: string): string {
    if (sym === 'gu') {
      if (!this.guLoaded) this.call('loadGu', this.f.ws('gu'));
      this.guLoaded = true;
      return this.f.km('gu');
    }
    return this.matrix(sym);
  }

  /** JS index of a state block in kernel memory (the state is copied in on first use) */
  matrix(sym: string): string {
    this.ensureState();
    return `${this.f.km('state')} + ${this.f.offset(sym as GramVariable)}`;
  }

  /** JS index of a matrix whose rows are the rows of m (or of m^T when transposed) */
  private rows(m: KMat, transposed: boolean): string {
    if (m.kind === 'state') {
      if (m.t === transposed) return this.matrix(m.sym);
      let slot = this.transposed.get(m.sym);
      if (!slot) {
        slot = this.f.slot(`${m.sym}T`);
        this.code.line(`${this.f.km('transpose')}(${slot}, ${this.matrix(m.sym)}); // ${m.sym}^T, once per call`);
        this.transposed.set(m.sym, slot);
      }
      return slot;
    }
    const want: Orientation = transposed ? 'transposed' : 'normal';
    if (m.held !== want) {
      this.call('transposeInPlace', m.slot);
      m.held = want;
    }
    return m.slot;
  }

  private freeScratch(): string {
    const s = SCRATCH.find((n) => !this.live.has(n));
    if (!s) throw new Error('gramCode: not enough kernel scratch matrices');
    this.live.add(s);
    return this.f.slot(s);
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
      this.call('transposeInPlace', tgt.slot);
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
    this.call(fn, tgt.slot, src, coef, `${init}`);
    if (L.kind === 'scratch') this.live.delete(L.slot);
    if (R.kind === 'scratch') this.live.delete(R.slot);
  }

  /** target += coef * word (a product of two or more factors), left to right */
  private word(word: readonly Factor[], tgt: KTarget, coef: string): void {
    const ops = word.map((fac) => this.operand(fac));
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

  /**
   * out block o_v = the equation p, accumulated in kernel matrix O. The coefficients are
   * arguments of the kernel calls: each is evaluated once per call, as a local would be.
   */
  equation(v: GramVariable, name: string, p: Poly): void {
    const c = this.code;
    const items = planTerms(this.alg, p, true);
    // The block is built where km.target says: in out itself when out lives in the kernels'
    // memory (an integrator's vector there), else in the kernel matrix O, copied out by km.store.
    const O: KTarget = { slot: `d_${v}`, held: 'fresh' };
    if (items.length > 0) {
      this.ensureState();
      c.line(`const d_${v} = ${this.f.km('target')}(out, ${this.f.offset(v)}, ${this.f.slot('O')});`);
    }
    items.forEach((item, idx) => {
      const t = item.kind === 'pair' ? item.rep : item.term;
      // first: a scalar factor is computed where it is first used
      const coef = coefficientJs(t, this.scalarNames);
      c.line(itemComment(this.alg, name, item));
      if (item.kind === 'pair' || item.kind === 'selfTranspose') {
        const ops = t.word.map((fac) => this.operand(fac));
        const outer = ops.length === 2 && ops[0].kind === 'vector' && ops[1].kind === 'vector';
        let X: KTarget | null = null;
        if (!outer) {
          X = { slot: this.freeScratch(), held: 'fresh' };
          this.word(t.word, X, '1');
        }
        const xz = outer ? [this.vector((ops[0] as KVec).sym), this.vector((ops[1] as KVec).sym)] : [X!.slot];
        // X + X^T is the same in either orientation of X and of O
        const init = O.held === 'fresh';
        if (init) O.held = 'normal';
        this.call(outer ? 'outerSym' : 'symmetrize', O.slot, ...xz, item.kind === 'pair' ? coef : halfOf(coef), `${init}`);
        if (X) this.live.delete(X.slot);
      } else {
        if (t.word.length === 1) {
          const x = this.operand(t.word[0]);
          if (x.kind !== 'state') throw new Error(`gramCode: the k x k term ${wordKey(t.word)} is not a state block`);
          const init = O.held === 'fresh';
          // a fresh block takes the orientation the next Gam product will need
          if (init) O.held = items.slice(idx + 1).map((it) => this.itemOrientation(it)).find((o) => o !== null) ?? 'normal';
          this.call('copy', O.slot, this.rows(x, O.held === 'transposed'), coef, `${init}`);
        } else if (t.word.length >= 2) {
          this.word(t.word, O, coef);
        } else {
          throw new Error('gramCode: a scalar term in a k x k equation');
        }
      }
    });
    if (O.held === 'fresh') {
      c.line(`out.fill(0, ${this.f.offset(v)}, ${this.f.offset(v)} + ${this.f.ws('k')} * ${this.f.ws('k')});`);
      return;
    }
    if (O.held === 'transposed') this.call('transposeInPlace', O.slot);
    this.call('store', 'out', this.f.offset(v), O.slot);
  }
}

/**
 * The scalar factors of a set of equations by scalarKey, each as the JS that reads it: eta, m1,
 * s (sVal, read from y where first used) and the products such as u^T gu (sc0, sc1, ...,
 * computed by `compute` where first used).
 */
function scalarPlan(f: FunctionBody, polys: readonly Poly[], compute: (name: string, s: ScalarFactor) => void): ScalarNames {
  const names = new Map<string, () => string>([
    ['eta', () => 'eta'],
    ['m1', () => f.ws('m1')],
    ['s', () => f.local('sVal', () => f.code.line(`const sVal = y[${f.offset('s')}];`))],
  ]);
  let count = 0;
  for (const p of polys) {
    for (const t of p.terms) {
      for (const s of t.scalars) {
        const key = scalarKey(s);
        if (names.has(key)) continue;
        if (s.kind === 'trace') throw new Error(`gramCode: trace ${key} in an equation`);
        if (s.word.length === 1) throw new Error(`gramCode: no value for the scalar symbol ${key}`);
        const name = `sc${count++}`;
        names.set(key, () => f.local(name, () => compute(name, s)));
      }
    }
  }
  return names;
}

function isMatrixBlock(alg: Algebra, v: string): boolean {
  const spec = alg.spec(v);
  return extOf(spec.rows) === 'k' && extOf(spec.cols) === 'k';
}

/** What one generated system function is: its name, documentation, parameters and equations. */
export interface SystemFunction {
  readonly name: string;
  readonly doc: readonly string[];
  readonly params: string;
  readonly equations: Readonly<Record<GramVariable, Poly>>;
  readonly label: (v: string) => string;
}

/** Template of a generated function: documentation, signature, then its body. */
function functionTemplate(doc: readonly string[], signature: string, body: readonly string[]): string {
  return ['/**', ...doc.map((d) => ` * ${d}`.trimEnd()), ' */', `export function ${signature} {`, ...body, '}'].join('\n');
}

/**
 * The flow or the GD map as one function, term by term from the derived equations; returns its
 * text and the kernel matrices it uses.
 */
function emitSystemFunction(sys: GramSystem, fn: SystemFunction): { text: string; slots: ReadonlySet<string> } {
  const { alg } = sys;
  const f = new FunctionBody();
  const code = f.code;
  // the kernels store every k x k block whole; the vector and scalar blocks after them are
  // accumulated from +0
  const firstSmall = GRAM_VARIABLES.findIndex((v) => !isMatrixBlock(alg, v));
  if (firstSmall < 0 || GRAM_VARIABLES.slice(firstSmall).some((v) => isMatrixBlock(alg, v))) {
    throw new Error('gramCode: the layout must put the k x k blocks before the vector and scalar blocks');
  }
  const names = scalarPlan(f, GRAM_VARIABLES.map((v) => fn.equations[v]), (name, s) => {
    code.line(`// ${name} = ${scalarKey(s)}`);
    code.line(`let ${name} = 0;`);
    code.open('');
    const scalarTarget: DenseOp = { kind: 'dense', rows: 1, cols: 1, symmetric: true, at: () => name };
    em.emitWord(s.word, scalarTarget, '1');
    code.close();
  });
  const kem = new KernelEmitter(alg, f, names);
  const em = new TermEmitter(alg, f, names, kem);
  GRAM_VARIABLES.forEach((v, idx) => {
    const spec = alg.spec(v);
    const shown = formatGrouped(fn.equations[v], asciiStyle(alg), { sym: 'eta', print: (j) => (j === 1 ? 'eta' : `eta^${j}`) });
    if (idx === firstSmall) code.line(`out.fill(0, ${f.offset(v)}, ${f.offset('end')});`);
    code.line(`// ${fn.label(v)} = ${shown}`);
    if (isMatrixBlock(alg, v)) {
      kem.equation(v, fn.label(v), fn.equations[v]);
    } else {
      em.emitEquation(fn.label(v), fn.equations[v], denseBlock(f, 'out', f.offset(v), extOf(spec.rows), extOf(spec.cols), false, false));
    }
  });
  const body = [...f.destructuring().map((l) => `  ${l}`), ...code.lines];
  return { text: functionTemplate(fn.doc, `${fn.name}(${fn.params}): void`, body), slots: f.slots };
}

/** The full text of src/gram/generated/gramField.ts. */
export function generateGramFieldSource(sys: GramSystem): string {
  const flow = emitSystemFunction(sys, {
    name: 'gramField',
    doc: [
      'Gradient flow dy/dt at state y, written into out, from Gam and gu of the last sampleKernel',
      'call (with wantGrad) at the same y. Allocation-free.',
    ],
    params: 'w: GramWorkspace, y: Float64Array, out: Float64Array',
    equations: sys.flow,
    label: (v) => `d${v}/dt`,
  });
  const gd = emitSystemFunction(sys, {
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
  const slots = [...new Set([...flow.slots, ...gd.slots])].sort();
  return `// GENERATED by coflow derive — do not edit.
// Source: src/symbolic (derivation in derivations/gram-flow.md); regenerate with \`coflow derive\`.
// Layout of a state y (src/gram/layout.ts): S, A, B, C (k x k, row-major), u (k), s (1).
import type { GramWorkspace } from '../buffers.js';
${sampleLossImport(GRAM_FIELD_PATH)}

/** The k x k kernel matrices (src/gram/kernels.ts) the functions below use; GramModel allocates them. */
export const GRAM_KERNEL_SLOTS = [${slots.map((s) => `'${s}'`).join(', ')}] as const;

${gramKernelTemplate().join('\n')}

${flow.text}

${gd.text}
`;
}

/**
 * Emits src/reduced/generated/typeField.ts: the Level T vector field and exact GD map, printed
 * from the same derived polynomials as Level G (../derivation/gramSystem.ts) by an orbit-product
 * backend. A state of Level T (src/reduced/orbits.ts) stores S per ordered orbit, the symmetric
 * A, B, C per unordered orbit, u per class and s; a k x k matrix of the symmetric subspace is a
 * vector over ordered orbits, and its products are the orbit products of src/reduced/tables.ts.
 *
 * How each kind of term becomes code:
 *  - a k x k state factor (S, A, B, C) used in a product is expanded once per call into an
 *    ordered-orbit work vector (A[o] = A at the unordered orbit of o); Gam is the kernel's
 *    ordered-orbit vector; X^T is the orbit product's transpose flag;
 *  - a word of k x k factors is evaluated right to left, Gam S^T Gam = Gam (S^T Gam), each
 *    product one `orbitProduct` call into a work vector; a word (or sub-word) that occurs again
 *    in the same function reads the same work vector (B Gam in S' and in Gam^T B Gam);
 *  - a k x 1 word (C gu) is `orbitMatVec` into a class work vector, again right to left;
 *  - a 1 x 1 word (u^T gu, gu^T C gu) is `tokenDot`, read in the orientation that ends with gu
 *    (the gradient is the vector the products act on, as in C gu), the canonical one if both or
 *    neither do;
 *  - an outer product x z^T of two vectors (gu u^T) is x[row class] z[column class] at each orbit;
 *  - in a k x k equation, a term whose transpose is another term with the same coefficient
 *    (Gam^T S and S^T Gam; the pairing of Level G, gramCode.ts planTerms) is computed once, for
 *    the one starting with Gam, and its partner reads that product at the transposed orbit;
 *  - S is written per ordered orbit, A, B, C per unordered orbit at its representative ordered
 *    orbit, u per class, s once. An orbit or class with no pairs in this (n, L) is not a
 *    coordinate: the flow writes 0 there and the GD map keeps the state's value.
 * The floating-point order follows the grouped display of the equation (display.ts
 * formatGrouped, as in derivations/gram-flow.md): terms grouped by the power of eta in ascending
 * order; a group of one term is one left-to-right product, coefficient, eta power (e2 = eta *
 * eta), the scalars eta, m1, s, then products such as u^T gu, then the factors of the word; a
 * group of several terms is the eta power times the parenthesised sum of its terms in display
 * order, a common sign pulled out: S' = S - eta * (B Gam + Gam A) + e2 * Gam S^T Gam, and the
 * flow is -(Gam A + B Gam). The output is deterministic text, compared byte for byte with the
 * committed file by test/symbolic/golden.test.ts.
 */
import { RecordingBody } from './code.js';
import { Algebra, Factor, Poly, ScalarFactor, Term, Word, asciiStyle, scalarKey, wordKey } from '../algebra/ncpoly.js';
import { displayOrder, formatGrouped } from '../algebra/display.js';
import { GRAM_VARIABLES, GramSystem, GramVariable } from '../derivation/gramSystem.js';
import { planTerms, type SystemFunction as GramSystemFunction } from './gramCode.js';

/** Where the generated Level T field lives, relative to the repository root. */
export const TYPE_FIELD_PATH = 'src/reduced/generated/typeField.ts';

/** The TypeWorkspace fields (src/reduced/workspace.ts) a generated function may read, in the order it destructures them. */
const WORKSPACE_FIELDS = ['tab', 'm1', 'gam', 'gu', 'transposeOf', 'unorderedOf', 'rowClass', 'colClass', 'repOrdered', 'symActive', 'ord', 'cls'] as const;
type WorkspaceField = (typeof WORKSPACE_FIELDS)[number];

/** The runtime names the generated file imports, and the module of each. */
const IMPORTS = {
  orbitProduct: '../tables.js',
  orbitMatVec: '../tables.js',
  tokenDot: '../tables.js',
  NUM_ORDERED: '../orbits.js',
  NUM_UNORDERED: '../orbits.js',
  NUM_CLASSES: '../orbits.js',
} as const;
type Import = keyof typeof IMPORTS;

/** An operand of orbitProduct: array, offset, transposed. */
interface MatOperand {
  readonly arr: string;
  readonly t: boolean;
}
/** A class vector: array and offset. */
interface VecOperand {
  readonly arr: string;
  readonly off: string;
}

/** Where an equation's entries are written: per ordered orbit o, per unordered orbit v (o its representative), per class c, or once. */
type Target = 'ordered' | 'unordered' | 'class' | 'scalar';

/** How a term is read at the target entry: its own word, or the word of its pair partner at the transposed orbit. */
interface TermRead {
  readonly word: Word;
  readonly transposed: boolean;
}

function isGu(f: Factor | undefined): boolean {
  return f !== undefined && f.sym === 'gu';
}

/**
 * One generated function: its body, the work vectors, locals, workspace fields, offsets and
 * imports it uses (each recorded as it is printed, so the function destructures exactly those).
 */
class TypeFunction extends RecordingBody<WorkspaceField, GramVariable> {
  /** word key -> ordered-orbit work vector; state symbol -> its expansion */
  private readonly ordByKey = new Map<string, string>();
  private readonly ordLines: string[] = [];
  private readonly expanded = new Map<string, string>();
  private readonly clsByKey = new Map<string, string>();
  private readonly clsLines: string[] = [];
  private readonly scalars = new Map<string, string>();
  /** set while an equation's expression is built: it reads its representative orbit o */
  private usesO = false;

  constructor(
    private readonly alg: Algebra,
    readonly imports: Set<Import>,
  ) {
    super('typeCode');
  }

  get orbitVectors(): number {
    return STATE_SLOTS.length + this.ordLines.length;
  }

  get classVectors(): number {
    return this.clsLines.length;
  }

  use(name: Import): string {
    this.imports.add(name);
    return name;
  }

  /** A work vector for a computed word; the first STATE_SLOTS.length vectors hold the state blocks. */
  private newOrd(comment: string): string {
    const name = `W${this.ordLines.length}`;
    this.ordLines.push(`const ${name} = ${this.ws('ord')}[${STATE_SLOTS.length + this.ordLines.length}]; // ${comment}`);
    return name;
  }

  private isStateMatrix(sym: string): boolean {
    if (!(GRAM_VARIABLES as readonly string[]).includes(sym)) return false;
    const spec = this.alg.spec(sym);
    return spec.rows === 'k' && spec.cols === 'k';
  }

  /** The ordered-orbit expansion of a k x k state block, in its fixed slot (filled by expandStateBlocks). */
  private expand(sym: string): string {
    if (!STATE_SLOTS.includes(sym as GramVariable)) throw new Error(`typeCode: ${sym} is not a k x k state block`);
    const name = `x${sym}`;
    this.expanded.set(sym, name);
    return name;
  }

  /** An operand of orbitProduct: Gam, an expanded state block, or a computed word. */
  private matOperand(w: Word): MatOperand {
    if (w.length === 1) {
      const f = w[0];
      if (f.sym === 'Gam') return { arr: this.ws('gam'), t: f.t };
      if (this.isStateMatrix(f.sym)) return { arr: this.expand(f.sym), t: f.t };
      throw new Error(`typeCode: no ordered-orbit storage for the factor ${f.sym}`);
    }
    return { arr: this.matrixWord(w), t: false };
  }

  /** The work vector holding the k x k word w (two or more k x k factors), evaluated right to left. */
  private matrixWord(w: Word): string {
    const key = wordKey(w);
    const known = this.ordByKey.get(key);
    if (known) return known;
    if (this.alg.boundaryDims(w).some((d) => d !== 'k')) throw new Error(`typeCode: '${key}' is not a product of k x k factors`);
    const L = this.matOperand(w.slice(0, 1));
    const R = this.matOperand(w.slice(1));
    const name = this.newOrd(key);
    this.code.line(`${this.use('orbitProduct')}(${this.ws('tab')}, ${L.arr}, 0, ${L.t}, ${R.arr}, 0, ${R.t}, ${name}); // ${key}`);
    this.ordByKey.set(key, name);
    return name;
  }

  /** A k x 1 word as a class vector: gu, u (in the state), or X v by orbitMatVec, right to left. */
  private vectorWord(w: Word): VecOperand {
    if (w.length === 1) {
      const f = w[0];
      if (f.t) throw new Error(`typeCode: ${wordKey(w)} is not a column vector`);
      if (f.sym === 'gu') return { arr: this.ws('gu'), off: '0' };
      if ((GRAM_VARIABLES as readonly string[]).includes(f.sym)) return { arr: 'y', off: this.offset(f.sym as GramVariable) };
      throw new Error(`typeCode: no class storage for the factor ${f.sym}`);
    }
    const key = wordKey(w);
    const known = this.clsByKey.get(key);
    if (known) return { arr: known, off: '0' };
    const X = this.matOperand(w.slice(0, 1));
    if (X.t) throw new Error(`typeCode: orbitMatVec has no transposed form (${key})`);
    const v = this.vectorWord(w.slice(1));
    const name = `V${this.clsLines.length}`;
    this.clsLines.push(`const ${name} = ${this.ws('cls')}[${this.clsLines.length}]; // ${key}`);
    this.code.line(`${this.use('orbitMatVec')}(${this.ws('tab')}, ${X.arr}, ${v.arr}, ${v.off}, ${name}); // ${key}`);
    this.clsByKey.set(key, name);
    return { arr: name, off: '0' };
  }

  private static at(v: VecOperand, idx: string): string {
    return `${v.arr}[${v.off === '0' ? idx : `${v.off} + ${idx}`}]`;
  }

  /** The JS of a scalar factor: eta, m1, s, or a 1 x 1 word by tokenDot (a local computed where first used). */
  scalar(sc: ScalarFactor): string {
    const key = scalarKey(sc);
    if (sc.kind === 'trace') throw new Error(`typeCode: trace ${key} in an equation`);
    if (key === 'eta') return 'eta';
    if (key === 'm1') return this.ws('m1');
    if (key === 's') return this.local('s', () => this.code.line(`const s = y[${this.offset('s')}];`));
    if (sc.word.length === 1) throw new Error(`typeCode: no value for the scalar symbol ${key}`);
    const known = this.scalars.get(key);
    if (known) return known;
    const wt = this.alg.transposeWord(sc.word);
    const w = isGu(sc.word[sc.word.length - 1]) || !isGu(wt[wt.length - 1]) ? sc.word : wt;
    const first = w[0];
    const x = this.vectorWord([{ sym: first.sym, t: !first.t }]);
    const rest = this.vectorWord(w.slice(1));
    const name = `sc${this.scalars.size}`;
    this.local(name, () =>
      this.code.line(`const ${name} = ${this.use('tokenDot')}(${this.ws('tab')}, ${x.arr}, ${x.off}, ${rest.arr}, ${rest.off}); // ${wordKey(w)}`),
    );
    this.scalars.set(key, name);
    return name;
  }

  /** The factors (joined by *) of a word's value at the target entry. */
  private wordValue(read: TermRead, target: Target): string[] {
    const w = read.word;
    if (w.length === 0) return [];
    const dims = this.alg.boundaryDims(w);
    const rows = dims[0];
    const cols = dims[w.length];
    if (rows === 'k' && cols === 'k') {
      if (target !== 'ordered' && target !== 'unordered') throw new Error(`typeCode: k x k term ${wordKey(w)} in a ${target} equation`);
      this.usesO = true;
      const oT = `${this.ws('transposeOf')}[o]`;
      const inner = dims.slice(1, -1).findIndex((d) => d === 1);
      if (inner >= 0) {
        // outer product x z^T: x at the row class, z at the column class
        const x = this.vectorWord(w.slice(0, inner + 1));
        const z = this.vectorWord(this.alg.transposeWord(w.slice(inner + 1)));
        if (read.transposed) throw new Error('typeCode: an outer product is read directly, never transposed');
        return [TypeFunction.at(x, `${this.ws('rowClass')}[o]`), TypeFunction.at(z, `${this.ws('colClass')}[o]`)];
      }
      if (w.length === 1) {
        const f = w[0];
        if (read.transposed) throw new Error('typeCode: a single factor is read directly, never transposed');
        if (f.sym === 'Gam') return [`${this.ws('gam')}[${f.t ? oT : 'o'}]`];
        if (!this.isStateMatrix(f.sym)) throw new Error(`typeCode: no storage for ${f.sym}`);
        if (this.alg.isSymmetric(f.sym)) {
          return [`y[${this.offset(f.sym as GramVariable)} + ${target === 'unordered' ? 'v' : `${this.ws('unorderedOf')}[o]`}]`];
        }
        return [`y[${this.offset(f.sym as GramVariable)} + ${f.t ? oT : 'o'}]`];
      }
      return [`${this.matrixWord(w)}[${read.transposed ? oT : 'o'}]`];
    }
    if (rows === 'k' && cols === 1) {
      if (target !== 'class') throw new Error(`typeCode: vector term ${wordKey(w)} in a ${target} equation`);
      return [TypeFunction.at(this.vectorWord(w), 'c')];
    }
    throw new Error(`typeCode: a ${rows} x ${cols} word ${wordKey(w)} cannot be written`);
  }

  /** How each term of a k x k equation is read: pairs X + X^T computed once (the rep), the partner at the transposed orbit. */
  private reads(p: Poly, target: Target): Map<Term, TermRead> {
    const out = new Map<Term, TermRead>();
    if (target === 'ordered' || target === 'unordered') {
      for (const item of planTerms(this.alg, p, true)) {
        if (item.kind !== 'pair') {
          out.set(item.term, { word: item.term.word, transposed: false });
          continue;
        }
        const rep = item.rep;
        const tw = wordKey(this.alg.transposeWord(rep.word));
        const partner = p.terms.find((t) => t !== rep && wordKey(t.word) === tw && !out.has(t));
        if (!partner) throw new Error(`typeCode: no partner of ${wordKey(rep.word)}`);
        out.set(rep, { word: rep.word, transposed: false });
        // an orbit product is read at the transposed orbit; a single factor or an outer product is read directly
        const product = rep.word.length >= 2 && this.alg.boundaryDims(rep.word).every((d) => d === 'k');
        out.set(partner, product ? { word: rep.word, transposed: true } : { word: partner.word, transposed: false });
      }
    } else {
      for (const t of p.terms) out.set(t, { word: t.word, transposed: false });
    }
    return out;
  }

  /** The factors of a term without its sign and without `skip` (the eta power of its group). */
  private termParts(t: Term, read: TermRead, target: Target, lead: string | null): string[] {
    const parts: string[] = [];
    const c = t.coef.abs();
    if (!c.isOne()) parts.push(c.den === 1n ? `${c.num}` : `(${c.num} / ${c.den})`);
    if (lead !== null) parts.push(lead);
    for (const sc of displayOrder(t).scalars) if (scalarKey(sc) !== 'eta') parts.push(this.scalar(sc));
    parts.push(...this.wordValue(read, target));
    return parts.length > 0 ? parts : ['1'];
  }

  /** The eta power as JS: eta, or the local e2 = eta * eta. */
  private etaPower(j: number): string | null {
    if (j === 0) return null;
    if (j === 1) return 'eta';
    if (j === 2) return this.local('e2', () => this.code.line('const e2 = eta * eta;'));
    throw new Error(`typeCode: eta^${j} does not occur in an exact GD map of quadratic weights`);
  }

  /** The expression of an equation at one target entry, grouped as in the file comment. */
  expression(p: Poly, target: Target): { expr: string; usesO: boolean } {
    this.usesO = false;
    if (p.isZero()) return { expr: '0', usesO: false };
    const reads = this.reads(p, target);
    const power = (t: Term): number => t.scalars.filter((s) => scalarKey(s) === 'eta').length;
    const groups = new Map<number, Term[]>();
    for (const t of p.terms) groups.set(power(t), [...(groups.get(power(t)) ?? []), t]);
    const pieces: string[] = [];
    for (const j of [...groups.keys()].sort((a, b) => a - b)) {
      // display order inside a group (display.ts formatGrouped): shorter words, then fewer scalars
      const terms = groups.get(j)!.sort((a, b) => a.word.length - b.word.length || a.scalars.length - b.scalars.length);
      const eta = this.etaPower(j);
      let body: string;
      let neg: boolean;
      if (terms.length === 1) {
        neg = terms[0].coef.isNegative();
        body = this.termParts(terms[0], reads.get(terms[0])!, target, eta).join(' * ');
      } else {
        const allNeg = terms.every((t) => t.coef.isNegative());
        neg = allNeg;
        const inner = terms
          .map((t, i) => {
            const b = this.termParts(t, reads.get(t)!, target, null).join(' * ');
            const tNeg = t.coef.isNegative() !== allNeg;
            return i === 0 ? (tNeg ? `-${b}` : b) : tNeg ? ` - ${b}` : ` + ${b}`;
          })
          .join('');
        body = eta === null ? `(${inner})` : `${eta} * (${inner})`;
      }
      if (pieces.length === 0) pieces.push(neg ? `-${body}` : body);
      else pieces.push(neg ? ` - ${body}` : ` + ${body}`);
    }
    return { expr: pieces.join(''), usesO: this.usesO };
  }

  /** Destructuring, work vectors and the expansion of the state blocks: the lines before the body. */
  header(): string[] {
    // the state blocks by ordered orbit, in their slots (holes for the ones this function does not read)
    const expansion: string[] = [];
    if (this.expanded.size > 0) {
      const names = STATE_SLOTS.map((v) => this.expanded.get(v) ?? '');
      while (names[names.length - 1] === '') names.pop();
      expansion.push(`const [${names.join(', ')}] = ${this.ws('ord')};`);
      expansion.push('expandStateBlocks(w, y);');
    }
    const lines = [`const { ${WORKSPACE_FIELDS.filter((f) => this.fields.has(f)).join(', ')} } = w;`];
    const used = GRAM_VARIABLES.filter((v) => this.offsets.has(v));
    if (used.length > 0) lines.push(`const { ${used.map((v) => `${v}: o_${v}`).join(', ')} } = w.layout;`);
    return [...lines, ...expansion, ...this.ordLines, ...this.clsLines];
  }
}

/** The k x k state blocks, in the order of their work-vector slots ord[0..3]. */
const STATE_SLOTS: readonly GramVariable[] = ['S', 'A', 'B', 'C'];

/**
 * The one function both generated functions call first: each k x k state block copied into its
 * slot by ordered orbit (a symmetric block reads its unordered orbit). Copies only, so where the
 * blocks live does not change a bit.
 */
function expandStateBlocksSource(alg: Algebra, imports: Set<Import>): string {
  imports.add('NUM_ORDERED');
  const body = STATE_SLOTS.map((v, slot) => `    ord[${slot}][o] = y[layout.${v} + ${alg.isSymmetric(v) ? 'unorderedOf[o]' : 'o'}];`);
  return [
    '/** The k x k state blocks of y by ordered orbit, into w.ord[0..3] (S, A, B, C; a symmetric block reads its unordered orbit). */',
    'function expandStateBlocks(w: TypeWorkspace, y: Float64Array): void {',
    '  const { ord, unorderedOf, layout } = w;',
    '  for (let o = 0; o < NUM_ORDERED; o++) {',
    ...body,
    '  }',
    '}',
  ].join('\n');
}

/** A generated function as for Level G (gramCode.ts), and what it writes on empty orbits. */
interface SystemFunction extends GramSystemFunction {
  /** the value written where the block has no pairs: 0 (flow) or the state's own value (GD map) */
  readonly hold: 'zero' | 'keep';
}

function targetOf(alg: Algebra, v: GramVariable): Target {
  const spec = alg.spec(v);
  if (spec.rows === 'k' && spec.cols === 'k') return alg.isSymmetric(v) ? 'unordered' : 'ordered';
  if (spec.rows === 'k' && spec.cols === 1) return 'class';
  if (spec.rows === 1 && spec.cols === 1) return 'scalar';
  throw new Error(`typeCode: no orbit layout for a ${spec.rows} x ${spec.cols} block`);
}

function emitSystemFunction(sys: GramSystem, fn: SystemFunction, imports: Set<Import>): { text: string; orbitVectors: number; classVectors: number } {
  const { alg } = sys;
  const f = new TypeFunction(alg, imports);
  const code = f.code;
  for (const v of GRAM_VARIABLES) {
    const p = fn.equations[v];
    const target = targetOf(alg, v);
    code.line(`// ${fn.label(v)} = ${formatGrouped(p, asciiStyle(alg), { sym: 'eta', print: (j) => (j === 1 ? 'eta' : `eta^${j}`) })}`);
    // the expression first: it prints the products and scalars it reads, outside the loop
    const { expr, usesO } = f.expression(p, target);
    const off = f.offset(v);
    if (target === 'scalar') {
      code.line(`out[${off}] = ${expr};`);
      continue;
    }
    const idx = target === 'ordered' ? 'o' : target === 'unordered' ? 'v' : 'c';
    const hold = fn.hold === 'zero' ? '0' : `y[${off} + ${idx}]`;
    const active =
      target === 'ordered' ? `${f.ws('tab')}.orbitActive[o]` : target === 'unordered' ? `${f.ws('symActive')}[v]` : `${f.ws('tab')}.classActive[c]`;
    const count = target === 'ordered' ? 'NUM_ORDERED' : target === 'unordered' ? 'NUM_UNORDERED' : 'NUM_CLASSES';
    const write = `out[${off} + ${idx}] = ${active} ? ${expr} : ${hold};`;
    if (target === 'unordered' && usesO) {
      code.open(`for (let v = 0; v < ${f.use(count)}; v++)`);
      code.line(`const o = ${f.ws('repOrdered')}[v];`);
      code.line(write);
      code.close();
    } else {
      code.line(`for (let ${idx} = 0; ${idx} < ${f.use(count)}; ${idx}++) ${write}`);
    }
  }
  const header = f.header().map((l) => `  ${l}`);
  const text = ['/**', ...fn.doc.map((d) => ` * ${d}`.trimEnd()), ' */', `export function ${fn.name}(${fn.params}): void {`, ...header, ...code.lines, '}'].join('\n');
  return { text, orbitVectors: f.orbitVectors, classVectors: f.classVectors };
}

/** The full text of src/reduced/generated/typeField.ts. */
export function generateTypeFieldSource(sys: GramSystem): string {
  const imports = new Set<Import>();
  const flow = emitSystemFunction(
    sys,
    {
      name: 'typeField',
      doc: [
        'Gradient flow dy/dt at the orbit state y, written into out (out must not be y), from gam and',
        'gu of the last TypeKernel.evaluate (with the gradient) at the same y. Allocation-free.',
      ],
      params: 'w: TypeWorkspace, y: Float64Array, out: Float64Array',
      equations: sys.flow,
      label: (v) => `d${v}/dt`,
      hold: 'zero',
    },
    imports,
  );
  const gd = emitSystemFunction(
    sys,
    {
      name: 'typeGdMap',
      doc: [
        'Orbit state after one full-batch GD step with rate eta, written into out (out must not be y),',
        'from gam and gu of the last TypeKernel.evaluate at y. Exact: the Level G map with its eta^2',
        'terms. Allocation-free.',
      ],
      params: 'w: TypeWorkspace, eta: number, y: Float64Array, out: Float64Array',
      equations: sys.gd,
      label: (v) => `${v}'`,
      hold: 'keep',
    },
    imports,
  );
  const expandText = expandStateBlocksSource(sys.alg, imports);
  const byModule = new Map<string, string[]>();
  for (const name of Object.keys(IMPORTS) as Import[]) {
    if (!imports.has(name)) continue;
    byModule.set(IMPORTS[name], [...(byModule.get(IMPORTS[name]) ?? []), name]);
  }
  const importLines = [...byModule.keys()].sort().map((m) => `import { ${byModule.get(m)!.sort().join(', ')} } from '${m}';`);
  return `// GENERATED by coflow derive — do not edit.
// Source: src/symbolic (the Level G derivation, derivations/gram-flow.md) through the orbit-product
// backend src/symbolic/emit/typeCode.ts; regenerate with \`coflow derive --code .\`.
// Layout of a state y (src/reduced/orbits.ts): S per ordered orbit, A, B, C per unordered orbit,
// u per class, s.
${importLines.join('\n')}
import type { TypeWorkspace } from '../workspace.js';

/** The ordered-orbit and class work vectors the functions below use; TypeSystem allocates them. */
export const TYPE_ORBIT_VECTORS = ${Math.max(flow.orbitVectors, gd.orbitVectors)};
export const TYPE_CLASS_VECTORS = ${Math.max(flow.classVectors, gd.classVectors)};

${expandText}

${flow.text}

${gd.text}
`;
}

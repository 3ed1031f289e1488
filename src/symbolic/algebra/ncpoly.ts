/**
 * A small NON-COMMUTATIVE polynomial algebra over matrix symbols, enough to derive the Gram
 * flow of docs/levels.md#level-g by the product rule instead of by hand.
 *
 * A polynomial is a sum of terms; a term is
 *     rational coefficient x commuting scalar factors x word of matrix factors,
 * e.g. -2 m1 (u^T gu) or eta^2 Gam^T B Gam. Products concatenate words (no reordering: matrix
 * products do not commute); a transpose reverses a word and flips every factor.
 *
 * Normal form of a term (applied after every operation, so equal polynomials print equally):
 *  1. X^T -> X for symmetric symbols (Gram matrices A, B, C and every 1 x 1 symbol);
 *  2. rewrite rules on adjacent pairs (e.g. K^T Q -> S). Every rule has a transposed left
 *     factor and a plain right factor, so two rules can never overlap and the rewriting is
 *     confluent (the result does not depend on the order of application);
 *  3. every 1 x 1 sub-word (found from the dimensions at the word's internal boundaries, e.g.
 *     u^T gu inside gu u^T gu) is a scalar: it commutes with everything, so it moves into the
 *     scalar factors, as the canonical one of itself and its transpose (a 1 x 1 matrix equals its
 *     transpose);
 *  4. scalar factors are sorted.
 * Traces (only used to prove invariants) are canonical under cyclic rotation and transposition.
 */
import { Rational } from '../../exact/rational.js';

/** A matrix dimension: the literal 1 or a named size. */
export type Dim = 1 | 'k' | 'm' | 'm1';

export interface SymbolSpec {
  readonly name: string;
  readonly rows: Dim;
  readonly cols: Dim;
  /** X^T = X (Gram matrices; every 1 x 1 symbol is symmetric automatically) */
  readonly symmetric?: boolean;
  /** LaTeX for the symbol */
  readonly tex: string;
}

export interface Factor {
  readonly sym: string;
  /** transposed */
  readonly t: boolean;
}
export type Word = readonly Factor[];

/** A commuting 1 x 1 factor: a 1 x 1 word (a symbol like eta, or u^T gu) or a trace tr(w). */
export interface ScalarFactor {
  readonly kind: 'word' | 'trace';
  readonly word: Word;
}

export interface Term {
  readonly coef: Rational;
  readonly scalars: readonly ScalarFactor[];
  readonly word: Word;
}

/** X^T Y -> Z: `from` is the pair as text ("K^T Q"), `to` a single factor ("S" or "S^T"). */
export interface RewriteRuleText {
  readonly from: string;
  readonly to: string;
  /** why the rule holds, for the generated documentation */
  readonly why: string;
}

export class Algebra {
  private readonly specs = new Map<string, SymbolSpec>();
  private readonly rules = new Map<string, Factor>();
  readonly ruleTexts: readonly RewriteRuleText[];

  constructor(specs: readonly SymbolSpec[], rules: readonly RewriteRuleText[]) {
    for (const s of specs) {
      if (!/^[A-Za-z][A-Za-z0-9]*$/.test(s.name) || s.name === 'tr') throw new Error(`Algebra: bad symbol name '${s.name}'`);
      if (this.specs.has(s.name)) throw new Error(`Algebra: symbol '${s.name}' defined twice`);
      this.specs.set(s.name, s);
    }
    for (const r of rules) {
      const from = r.from.trim().split(/\s+/).map((f) => this.parseFactorText(f));
      const to = this.parseFactorText(r.to.trim());
      if (from.length !== 2 || !from[0].t || from[1].t) {
        throw new Error(`Algebra: rule '${r.from}' must be X^T Y (transposed left factor, plain right factor)`);
      }
      const [rl, rc] = this.factorShape(from[0]);
      const [ll, lc] = this.factorShape(from[1]);
      const [tr, tc] = this.factorShape(to);
      if (rc !== ll || rl !== tr || lc !== tc) throw new Error(`Algebra: rule '${r.from} -> ${r.to}' changes the shape`);
      this.rules.set(wordKey(from), to);
    }
    this.ruleTexts = rules;
  }

  spec(name: string): SymbolSpec {
    const s = this.specs.get(name);
    if (!s) throw new Error(`Algebra: unknown symbol '${name}'`);
    return s;
  }

  hasSymbol(name: string): boolean {
    return this.specs.has(name);
  }

  symbols(): SymbolSpec[] {
    return [...this.specs.values()];
  }

  isSymmetric(name: string): boolean {
    const s = this.spec(name);
    return s.symmetric === true || (s.rows === 1 && s.cols === 1);
  }

  factorShape(f: Factor): [Dim, Dim] {
    const s = this.spec(f.sym);
    return f.t ? [s.cols, s.rows] : [s.rows, s.cols];
  }

  /** Dimensions at the n+1 boundaries of a word of n factors. */
  boundaryDims(w: Word): Dim[] {
    if (w.length === 0) return [1];
    const dims: Dim[] = [this.factorShape(w[0])[0]];
    for (let i = 0; i < w.length; i++) {
      const [r, c] = this.factorShape(w[i]);
      if (r !== dims[i]) throw new Error(`Algebra: shape mismatch in '${wordKey(w)}' at factor ${i}`);
      dims.push(c);
    }
    return dims;
  }

  /** The polynomial of one symbol. */
  sym(name: string): Poly {
    const s = this.spec(name);
    return Poly.fromTerms(this, s.rows, s.cols, [{ coef: Rational.ONE, scalars: [], word: [{ sym: name, t: false }] }]);
  }

  zero(rows: Dim, cols: Dim): Poly {
    return new Poly(this, rows, cols, []);
  }

  constant(c: Rational): Poly {
    return Poly.fromTerms(this, 1, 1, [{ coef: c, scalars: [], word: [] }]);
  }

  /** Brings a term to normal form (see the file comment); null when the coefficient is 0. */
  normalizeTerm(coef: Rational, scalars: readonly ScalarFactor[], word: Word): Term | null {
    if (coef.isZero()) return null;
    let w = this.rewrite(word.map((f) => this.canonFactor(f)));
    const out: ScalarFactor[] = [...scalars];
    const dims = this.boundaryDims(w);
    const ones: number[] = [];
    for (let i = 0; i < dims.length; i++) if (dims[i] === 1) ones.push(i);
    if (w.length > 0 && ones.length >= 2) {
      for (let j = 0; j + 1 < ones.length; j++) out.push(this.canonScalarWord(w.slice(ones[j], ones[j + 1])));
      w = [...w.slice(0, ones[0]), ...w.slice(ones[ones.length - 1])];
    }
    out.sort((a, b) => cmp(scalarKey(a), scalarKey(b)));
    return { coef, scalars: out, word: w };
  }

  private canonFactor(f: Factor): Factor {
    return f.t && this.isSymmetric(f.sym) ? { sym: f.sym, t: false } : f;
  }

  /** Applies the rewrite rules to adjacent pairs until none applies. */
  rewrite(word: Word): Factor[] {
    const w = [...word];
    let i = 0;
    while (i + 1 < w.length) {
      const hit = this.rules.get(`${factorKey(w[i])} ${factorKey(w[i + 1])}`);
      if (hit) {
        w.splice(i, 2, this.canonFactor(hit));
        i = Math.max(0, i - 1);
      } else {
        i++;
      }
    }
    return w;
  }

  transposeWord(w: Word): Factor[] {
    return this.rewrite(
      [...w].reverse().map((f) => this.canonFactor({ sym: f.sym, t: !f.t })),
    );
  }

  /** A 1 x 1 word equals its transpose: keep the one with the smaller key. */
  private canonScalarWord(w: Word): ScalarFactor {
    const wt = this.transposeWord(w);
    return { kind: 'word', word: cmp(wordKey(wt), wordKey(w)) < 0 ? wt : w };
  }

  /** tr of a square term: cyclic rotations and transposition leave the trace unchanged. */
  traceTerm(t: Term): Term | null {
    const w = t.word;
    if (w.length === 0) return t;
    const dims = this.boundaryDims(w);
    if (dims[0] !== dims[w.length]) throw new Error(`Algebra: trace of the non-square word '${wordKey(w)}'`);
    // A boundary of dimension 1 turns the trace into a product of 1 x 1 words: rotate to it.
    const one = dims.findIndex((d, i) => d === 1 && i < w.length);
    if (one >= 0) return this.normalizeTerm(t.coef, t.scalars, [...w.slice(one), ...w.slice(0, one)]);
    let best: Factor[] | null = null;
    for (const base of [w, this.transposeWord(w)]) {
      for (let i = 0; i < base.length; i++) {
        const rot = this.rewrite([...base.slice(i), ...base.slice(0, i)]);
        if (
          best === null ||
          rot.length < best.length ||
          (rot.length === best.length && cmp(wordKey(rot), wordKey(best)) < 0)
        ) {
          best = rot;
        }
      }
    }
    const tr: ScalarFactor = { kind: 'trace', word: best! };
    return this.normalizeTerm(t.coef, [...t.scalars, tr], []);
  }

  parseFactorText(text: string): Factor {
    const m = /^([A-Za-z][A-Za-z0-9]*)(\^T)?$/.exec(text);
    if (!m) throw new Error(`Algebra: cannot read factor '${text}'`);
    this.spec(m[1]);
    return { sym: m[1], t: m[2] !== undefined };
  }
}

export class Poly {
  constructor(
    readonly alg: Algebra,
    readonly rows: Dim,
    readonly cols: Dim,
    /** combined, non-zero, sorted by key */
    readonly terms: readonly Term[],
  ) {}

  /** Normalises and combines like terms. */
  static fromTerms(alg: Algebra, rows: Dim, cols: Dim, raw: readonly Term[]): Poly {
    const byKey = new Map<string, Term>();
    for (const r of raw) {
      const t = alg.normalizeTerm(r.coef, r.scalars, r.word);
      if (!t) continue;
      const key = termKey(t);
      const old = byKey.get(key);
      byKey.set(key, old ? { ...t, coef: old.coef.add(t.coef) } : t);
    }
    const terms = [...byKey.entries()]
      .filter(([, t]) => !t.coef.isZero())
      .sort((a, b) => cmp(a[0], b[0]))
      .map(([, t]) => t);
    return new Poly(alg, rows, cols, terms);
  }

  isScalar(): boolean {
    return this.rows === 1 && this.cols === 1;
  }

  add(o: Poly): Poly {
    if (o.rows !== this.rows || o.cols !== this.cols) {
      throw new Error(`Poly.add: shapes ${this.rows}x${this.cols} and ${o.rows}x${o.cols} differ`);
    }
    return Poly.fromTerms(this.alg, this.rows, this.cols, [...this.terms, ...o.terms]);
  }

  neg(): Poly {
    return this.scale(Rational.ONE.neg());
  }

  sub(o: Poly): Poly {
    return this.add(o.neg());
  }

  scale(c: Rational): Poly {
    return Poly.fromTerms(
      this.alg,
      this.rows,
      this.cols,
      this.terms.map((t) => ({ ...t, coef: t.coef.mul(c) })),
    );
  }

  /** Matrix product; a 1 x 1 factor multiplies as a scalar. */
  mul(o: Poly): Poly {
    let rows: Dim;
    let cols: Dim;
    if (this.cols === o.rows) {
      rows = this.rows;
      cols = o.cols;
    } else if (this.isScalar()) {
      rows = o.rows;
      cols = o.cols;
    } else if (o.isScalar()) {
      rows = this.rows;
      cols = this.cols;
    } else {
      throw new Error(`Poly.mul: cannot multiply ${this.rows}x${this.cols} by ${o.rows}x${o.cols}`);
    }
    const raw: Term[] = [];
    for (const a of this.terms) {
      for (const b of o.terms) {
        raw.push({ coef: a.coef.mul(b.coef), scalars: [...a.scalars, ...b.scalars], word: [...a.word, ...b.word] });
      }
    }
    return Poly.fromTerms(this.alg, rows, cols, raw);
  }

  transpose(): Poly {
    return Poly.fromTerms(
      this.alg,
      this.cols,
      this.rows,
      this.terms.map((t) => ({ ...t, word: this.alg.transposeWord(t.word) })),
    );
  }

  trace(): Poly {
    if (this.rows !== this.cols) throw new Error(`Poly.trace: ${this.rows}x${this.cols} is not square`);
    const raw: Term[] = [];
    for (const t of this.terms) {
      const tt = this.alg.traceTerm(t);
      if (tt) raw.push(tt);
    }
    return Poly.fromTerms(this.alg, 1, 1, raw);
  }

  isZero(): boolean {
    return this.terms.length === 0;
  }

  equals(o: Poly): boolean {
    return this.rows === o.rows && this.cols === o.cols && this.sub(o).isZero();
  }

  /** Every symbol that occurs (in words, scalar words and traces). */
  symbols(): Set<string> {
    const out = new Set<string>();
    for (const t of this.terms) {
      for (const f of t.word) out.add(f.sym);
      for (const s of t.scalars) for (const f of s.word) out.add(f.sym);
    }
    return out;
  }

  /** Term keys: the canonical text of each term with its coefficient (for set comparison). */
  termSet(): string[] {
    return this.terms.map((t) => `${t.coef.toString()} * ${termKey(t)}`);
  }

  toString(): string {
    return formatTerms(this.terms, asciiStyle(this.alg));
  }

  toTex(): string {
    return formatTerms(this.terms, texStyle(this.alg));
  }
}

// ---------------------------------------------------------------------------------------------
// keys and printing

export function factorKey(f: Factor): string {
  return f.t ? `${f.sym}^T` : f.sym;
}

export function wordKey(w: Word): string {
  return w.map(factorKey).join(' ');
}

export function scalarKey(s: ScalarFactor): string {
  if (s.kind === 'trace') return `tr(${wordKey(s.word)})`;
  return s.word.length === 1 ? factorKey(s.word[0]) : `(${wordKey(s.word)})`;
}

export function termKey(t: Term): string {
  return `${t.scalars.map(scalarKey).join(' ')} | ${wordKey(t.word)}`;
}

/** Plain string order (not locale-dependent), so output is the same on every machine. */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface PrintStyle {
  factor(f: Factor): string;
  /** a scalar factor raised to a power (power >= 1) */
  scalar(s: ScalarFactor, power: number): string;
  coef(c: Rational): string;
  join: string;
}

export function asciiStyle(_alg: Algebra): PrintStyle {
  return {
    factor: factorKey,
    scalar: (s, p) => (p === 1 ? scalarKey(s) : `${scalarKey(s)}^${p}`),
    coef: (c) => c.toString(),
    join: ' ',
  };
}

export function texStyle(alg: Algebra): PrintStyle {
  const texFactor = (f: Factor): string => {
    const tex = alg.spec(f.sym).tex;
    return f.t ? `${tex}^\\top` : tex;
  };
  const texWord = (w: Word): string => w.map(texFactor).join(' ');
  return {
    factor: texFactor,
    scalar: (s, p) => {
      let base: string;
      if (s.kind === 'trace') base = `\\operatorname{tr}(${texWord(s.word)})`;
      else if (s.word.length === 1) base = texFactor(s.word[0]);
      else base = `(${texWord(s.word)})`;
      return p === 1 ? base : `${base}^{${p}}`;
    },
    coef: (c) => c.toTex(),
    join: ' ',
  };
}

/** The body of a term without its sign, e.g. "2 m1 (u^T gu)". */
export function formatTermBody(t: Term, style: PrintStyle): string {
  const parts: string[] = [];
  const c = t.coef.abs();
  let i = 0;
  const scalarParts: string[] = [];
  while (i < t.scalars.length) {
    let j = i + 1;
    while (j < t.scalars.length && scalarKey(t.scalars[j]) === scalarKey(t.scalars[i])) j++;
    scalarParts.push(style.scalar(t.scalars[i], j - i));
    i = j;
  }
  const body = [...scalarParts, ...t.word.map(style.factor)];
  if (!c.isOne() || body.length === 0) parts.push(style.coef(c));
  parts.push(...body);
  return parts.join(style.join);
}

export function formatTerms(terms: readonly Term[], style: PrintStyle): string {
  if (terms.length === 0) return '0';
  return terms
    .map((t, i) => {
      const body = formatTermBody(t, style);
      if (i === 0) return t.coef.isNegative() ? `-${body}` : body;
      return t.coef.isNegative() ? ` - ${body}` : ` + ${body}`;
    })
    .join('');
}

/**
 * Reads matrix polynomials written the way they are printed, e.g.
 *   "A - eta Gam^T S - eta S^T Gam + eta^2 Gam^T B Gam"
 *   "(K - eta Q Gam^T)^T (Q - eta K Gam)"      "-2 m1 (u^T gu)"      "tr(Gam S^T)"
 * Grammar: expr := [+|-] term {(+|-) term};  term := [int [/ int]] factor*;
 *          factor := (symbol | tr(expr) | (expr)) {^T | ^int}.
 * Juxtaposition (or '*') is the matrix product, so word order is exactly the written order.
 */
import { Algebra, Poly } from './ncpoly.js';
import { Rational } from '../../exact/rational.js';

type Tok = { kind: 'id' | 'int' | 'op'; text: string };

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  const re = /\s*(?:([A-Za-z][A-Za-z0-9]*)|(\d+)|(\^T\b|[-+*/()^]))/y;
  let pos = 0;
  while (pos < src.length) {
    if (/^\s*$/.test(src.slice(pos))) break;
    re.lastIndex = pos;
    const m = re.exec(src);
    if (!m) throw new Error(`parsePoly: cannot read '${src.slice(pos)}' in '${src}'`);
    if (m[1] !== undefined) out.push({ kind: 'id', text: m[1] });
    else if (m[2] !== undefined) out.push({ kind: 'int', text: m[2] });
    else out.push({ kind: 'op', text: m[3] });
    pos = re.lastIndex;
  }
  return out;
}

export function parsePoly(alg: Algebra, src: string): Poly {
  const toks = tokenize(src);
  let i = 0;
  const peek = (): Tok | undefined => toks[i];
  const isOp = (text: string): boolean => peek()?.kind === 'op' && peek()!.text === text;
  const expect = (text: string): void => {
    if (!isOp(text)) throw new Error(`parsePoly: expected '${text}' at token ${i} of '${src}'`);
    i++;
  };

  const startsFactor = (): boolean => {
    const t = peek();
    return t !== undefined && (t.kind === 'id' || (t.kind === 'op' && t.text === '('));
  };

  function factor(): Poly {
    const t = peek()!;
    let p: Poly;
    if (t.kind === 'id' && t.text === 'tr') {
      i++;
      expect('(');
      p = expr().trace();
      expect(')');
    } else if (t.kind === 'id') {
      i++;
      p = alg.sym(t.text);
    } else {
      expect('(');
      p = expr();
      expect(')');
    }
    for (;;) {
      if (isOp('^T')) {
        i++;
        p = p.transpose();
      } else if (isOp('^') && toks[i + 1]?.kind === 'int') {
        const n = Number(toks[i + 1].text);
        i += 2;
        if (!p.isScalar() && n !== 1) throw new Error(`parsePoly: power of a non-scalar in '${src}'`);
        let q = alg.constant(Rational.ONE);
        for (let j = 0; j < n; j++) q = q.mul(p);
        p = q;
      } else {
        return p;
      }
    }
  }

  function term(): Poly {
    let p: Poly | null = null;
    if (peek()?.kind === 'int') {
      const num = BigInt(toks[i++].text);
      let den = 1n;
      if (isOp('/')) {
        i++;
        const d = peek();
        if (d?.kind !== 'int') throw new Error(`parsePoly: expected a denominator in '${src}'`);
        den = BigInt(d.text);
        i++;
      }
      p = alg.constant(new Rational(num, den));
    }
    while (startsFactor() || isOp('*')) {
      if (isOp('*')) i++;
      const f = factor();
      p = p === null ? f : p.mul(f);
    }
    if (p === null) throw new Error(`parsePoly: empty term at token ${i} of '${src}'`);
    return p;
  }

  function expr(): Poly {
    let sign = 1;
    if (isOp('-') || isOp('+')) {
      sign = peek()!.text === '-' ? -1 : 1;
      i++;
    }
    let p = term();
    if (sign < 0) p = p.neg();
    while (isOp('+') || isOp('-')) {
      const minus = peek()!.text === '-';
      i++;
      const q = term();
      p = minus ? p.sub(q) : p.add(q);
    }
    return p;
  }

  const result = expr();
  if (i !== toks.length) throw new Error(`parsePoly: unexpected '${toks[i].text}' in '${src}'`);
  return result;
}

/**
 * Human-readable printing of derived equations: terms grouped by the power of one scalar
 * (eta for the GD map), scalars in a natural order (eta, m1, s before products such as
 * u^T gu), and a common sign pulled out of each group:
 *   A' = A - eta (Gam^T S + S^T Gam) + eta^2 Gam^T B Gam
 * Printing only: the canonical term order of Poly (used for keys and comparisons) is unchanged.
 */
import { Rational } from '../../exact/rational.js';
import { Poly, PrintStyle, ScalarFactor, Term, formatTermBody, scalarKey } from './ncpoly.js';

const SCALAR_ORDER = ['eta', 'm1', 's'];

function scalarRank(s: ScalarFactor): number {
  const i = SCALAR_ORDER.indexOf(scalarKey(s));
  return i >= 0 ? i : SCALAR_ORDER.length;
}

export function displayOrder(t: Term): Term {
  const scalars = [...t.scalars].sort((a, b) => scalarRank(a) - scalarRank(b) || (scalarKey(a) < scalarKey(b) ? -1 : scalarKey(a) > scalarKey(b) ? 1 : 0));
  return { ...t, scalars };
}

function powerOf(t: Term, sym: string): number {
  return t.scalars.filter((s) => scalarKey(s) === sym).length;
}

function withoutPower(t: Term, sym: string): Term {
  return { ...t, scalars: t.scalars.filter((s) => scalarKey(s) !== sym) };
}

/**
 * `power` is the symbol to group by (e.g. 'eta'); `powerTex` how to print it raised to j
 * (j >= 1). Groups are printed in ascending power.
 */
export function formatGrouped(p: Poly, style: PrintStyle, power: { sym: string; print: (j: number) => string }): string {
  if (p.terms.length === 0) return '0';
  const groups = new Map<number, Term[]>();
  for (const t of p.terms) {
    const j = powerOf(t, power.sym);
    groups.set(j, [...(groups.get(j) ?? []), displayOrder(withoutPower(t, power.sym))]);
  }
  const out: string[] = [];
  for (const j of [...groups.keys()].sort((a, b) => a - b)) {
    const terms = groups.get(j)!.sort((a, b) => a.word.length - b.word.length || a.scalars.length - b.scalars.length);
    const allNeg = terms.every((t) => t.coef.isNegative());
    const first = out.length === 0;
    if (j === 0) {
      terms.forEach((t, i) => {
        const body = formatTermBody(t, style);
        const neg = t.coef.isNegative();
        out.push(first && i === 0 ? (neg ? `-${body}` : body) : neg ? ` - ${body}` : ` + ${body}`);
      });
      continue;
    }
    const pre = power.print(j);
    let inner: string;
    if (terms.length === 1) {
      // the coefficient goes before the power: 2 eta m1 (...), not eta 2 m1 (...)
      const c = terms[0].coef.abs();
      const body = formatTermBody({ ...terms[0], coef: Rational.ONE }, style);
      const text = `${c.isOne() ? '' : style.coef(c) + style.join}${power.print(j)}${style.join}${body}`;
      const neg = terms[0].coef.isNegative();
      out.push(first ? (neg ? `-${text}` : text) : neg ? ` - ${text}` : ` + ${text}`);
      continue;
    } else {
      inner = terms
        .map((t, i) => {
          const body = formatTermBody(t, style);
          const neg = allNeg ? false : t.coef.isNegative();
          return i === 0 ? (neg ? `-${body}` : body) : neg ? ` - ${body}` : ` + ${body}`;
        })
        .join('');
      inner = `(${inner})`;
    }
    const neg = allNeg;
    const text = `${pre}${style.join}${inner}`;
    out.push(first ? (neg ? `-${text}` : text) : neg ? ` - ${text}` : ` + ${text}`);
  }
  return out.join('');
}

/** Plain display order (no grouping), scalars ordered eta, m1, s, products. */
export function formatDisplay(p: Poly, style: PrintStyle): string {
  if (p.terms.length === 0) return '0';
  const terms = p.terms.map(displayOrder).sort((a, b) => a.word.length - b.word.length || a.scalars.length - b.scalars.length);
  return terms
    .map((t, i) => {
      const body = formatTermBody(t, style);
      const neg = t.coef.isNegative();
      return i === 0 ? (neg ? `-${body}` : body) : neg ? ` - ${body}` : ` + ${body}`;
    })
    .join('');
}

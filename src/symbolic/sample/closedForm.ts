/**
 * The per-sample output of the model and its derivatives, as index TEMPLATES: one mathjs
 * expression per formula, written with index-suffixed symbols (P_pl = attention weight of key p
 * for query l, u_p = value of the token at key position p, F_l = output at query l, z_pl =
 * scaled score). The same template is
 *   - instantiated for concrete L (2..5) and checked against mathjs's symbolic derivative of F
 *     (./verify.ts), and
 *   - printed as JavaScript into the generated per-sample kernel (../emit/gramCode.ts),
 * so the code runs exactly the formula that was verified, for every L.
 *
 * For one sample with local tokens x_1..x_L (paper Eq. 1 with one-hot embeddings):
 *   z_pl = S[x_p, x_l] / sqrt(m),  P_pl = exp(z_pl) / sum_q exp(z_ql)  (softmax over keys p),
 *   F_l = sum_p P_pl u_p,  F = sum_l F_l,  loss = log(1 + exp(-y F)).
 */

export type SampleIndex = 'p' | 'l';

export interface IndexedFormula {
  /** the quantity it defines, for comments and documentation */
  readonly meaning: string;
  /** mathjs source, in the template symbols */
  readonly expr: string;
  /** if set, the quantity is the sum of `expr` over this index */
  readonly sumOver?: SampleIndex;
}

/** The formulas the kernel evaluates, keyed by role. */
export interface SampleFormulas {
  /** exp(z_pl - zmax_l): the softmax numerator shifted by the column maximum */
  readonly shiftedExp: IndexedFormula;
  /** F_l = sum_p P_pl u_p */
  readonly queryOutput: IndexedFormula;
  /** F = sum_l F_l */
  readonly output: IndexedFormula;
  /** dF/du_p */
  readonly dFdu: IndexedFormula;
  /** dF/dz_pl */
  readonly dFdz: IndexedFormula;
  /** the logistic loss in a form that cannot overflow */
  readonly loss: IndexedFormula;
  /** d loss / dF */
  readonly dLossdF: IndexedFormula;
}

export const SAMPLE_FORMULAS: SampleFormulas = {
  shiftedExp: {
    meaning: 'softmax numerator, shifted by zmax_l = max_q z_ql (softmax is shift invariant)',
    expr: 'exp(z_pl - zmax_l)',
  },
  queryOutput: { meaning: 'output at query l', expr: 'P_pl * u_p', sumOver: 'p' },
  output: { meaning: 'the sample output F (summed over queries, Eq. 1)', expr: 'F_l', sumOver: 'l' },
  dFdu: { meaning: 'dF/du_p', expr: 'P_pl', sumOver: 'l' },
  dFdz: { meaning: 'dF/dz_pl (softmax Jacobian)', expr: 'P_pl * (u_p - F_l)' },
  loss: {
    meaning: 'log(1 + exp(-y F)) = max(-yF, 0) + log1p(exp(-|yF|))',
    expr: 'max(-(y * F), 0) + log1p(exp(-abs(y * F)))',
  },
  dLossdF: { meaning: 'd/dF log(1 + exp(-y F)) = -y g, g = 1/(1 + exp(y F))', expr: '-y / (1 + exp(y * F))' },
};

/** The definitions the templates are verified against (mathjs source, template symbols). */
export const SAMPLE_DEFINITIONS = {
  /** P_pl before the shift */
  softmax: 'exp(z_pl) / sum_q exp(z_ql)',
  loss: 'log(1 + exp(-(y * F)))',
} as const;

/**
 * One visual language for every coflow figure: a colour-blind-safe palette (Okabe & Ito, "Color
 * Universal Design", 2008), one fixed colour per quantity family, a dash pattern that tells apart
 * the members of a family drawn together, and the paper's notation for every trajectory column
 * (docs/notation.md, docs/observables.md). Every figure module takes its colours and axis/legend
 * titles from here, so a reader sees mu_1 in the same blue in every figure.
 *
 * Families (the sample types follow their target words: I2 holds only mu_1, I3 only mu_2):
 * - mu_1 / I2: blue; mu_2 / I3: vermillion; mu_3: bluish green;
 * - I1 and the co-occurring pair {mu_1, mu_2}: orange (I1 is exactly the samples holding both);
 * - the pair {mu_1, mu_3}: sky blue; the pair {mu_2, mu_3}: reddish purple;
 * - I4 (neither target): grey;
 * - totals and quantities that combine every type (loss, minMargin, G1+G2+G3, s, R(t), Lemma 4.4's
 *   ratio, the conservation drifts): black.
 */

/** The Okabe-Ito colours used (hex, as vega-lite takes them). Yellow (#F0E442) is left out: too pale on white. */
export const OKABE_ITO = {
  black: '#000000',
  orange: '#E69F00',
  skyBlue: '#56B4E9',
  bluishGreen: '#009E73',
  blue: '#0072B2',
  vermillion: '#D55E00',
  reddishPurple: '#CC79A7',
  grey: '#999999',
} as const;

export type Family = 'mu1' | 'mu2' | 'mu3' | 'mu1mu2' | 'mu1mu3' | 'mu2mu3' | 'I4' | 'total';

export const FAMILY_COLOUR: Record<Family, string> = {
  mu1: OKABE_ITO.blue,
  mu2: OKABE_ITO.vermillion,
  mu3: OKABE_ITO.bluishGreen,
  mu1mu2: OKABE_ITO.orange,
  mu1mu3: OKABE_ITO.skyBlue,
  mu2mu3: OKABE_ITO.reddishPurple,
  I4: OKABE_ITO.grey,
  total: OKABE_ITO.black,
};

/** Light fills of the two phases (Thm 3.1's Phase 1 = [0, T1], Thm 3.2's Phase 2 = [T1, end]). */
export const PHASE_FILL = { phase1: '#56B4E9', phase2: '#E69F00', opacity: 0.1 } as const;
/** Colour of the T1 rule (the all-correct event). */
export const T1_COLOUR = '#444444';

/** vega-lite strokeDash patterns: solid, dashed, dotted, dash-dot. */
export const DASH = { solid: [1, 0], dashed: [8, 4], dotted: [2, 3], dashDot: [8, 3, 2, 3] } as const;
export type DashName = keyof typeof DASH;

const SUB = ['₀', '₁', '₂', '₃', '₄'];
const mu = (i: number | string): string => `μ${SUB[Number(i)]}`;
const I = (t: number | string): string => `I${SUB[Number(t)]}`;

/** The token family of a set of special-token indices (1, 2, 3). */
function familyOfTokens(tokens: number[]): Family {
  const set = [...new Set(tokens)].sort().join('');
  switch (set) {
    case '1':
      return 'mu1';
    case '2':
      return 'mu2';
    case '3':
      return 'mu3';
    case '12':
      return 'mu1mu2';
    case '13':
      return 'mu1mu3';
    case '23':
      return 'mu2mu3';
    default:
      return 'total';
  }
}

/** The family of a sample type: I1 holds mu_1 and mu_2, I2 only mu_1, I3 only mu_2, I4 neither. */
function familyOfType(t: number): Family {
  return (['mu1mu2', 'mu1', 'mu2', 'I4'] as const)[t - 1];
}

/** The family of a trajectory column (or of a derived series named like 'G1+G3'); unknown names are 'total'. */
export function familyOf(column: string): Family {
  let m = /^score_k([123])_q([123])$/.exec(column);
  if (m) return familyOfTokens([Number(m[1]), Number(m[2])]);
  m = /^C([123])([123])$/.exec(column);
  if (m) return familyOfTokens([Number(m[1]), Number(m[2])]);
  m = /^d?G([123])$/.exec(column);
  if (m) return familyOfTokens([Number(m[1])]);
  m = /^G([123])(?:\+G([123]))(?:\+G([123]))?$/.exec(column);
  if (m) return familyOfTokens(m.slice(1).filter((x) => x !== undefined).map(Number));
  m = /^(?:loss|margin|sumg|fillerF)_I([1-4])$/.exec(column);
  if (m) return familyOfType(Number(m[1]));
  // Lemma 4.3 compares the rate of G(mu_3) with the targets' rates: the mu_3 family.
  if (column === 'lemma43_max' || column === 'lemma43_sum') return 'mu3';
  return 'total';
}

/** The colour of a column: its family's colour. */
export function colourOf(column: string): string {
  return FAMILY_COLOUR[familyOf(column)];
}

/**
 * The dash of a column, for members of one family drawn together: a score with key after query
 * (score_k2_q1, score_k3_q1: the scores Thm 3.2 names) dashed, so it stays visible where it lies
 * on its transpose (equal at Level T by symmetry); the second of two related columns dashed.
 */
export function dashOf(column: string): DashName {
  const m = /^score_k([123])_q([123])$/.exec(column);
  if (m) return Number(m[1]) > Number(m[2]) ? 'dashed' : 'solid';
  switch (column) {
    case 'lemma43_sum':
    case 'drift_VW':
    case 'G1+G2+G3':
      return 'dashed';
    case 'minMargin':
      return 'dashDot';
    default:
      return 'solid';
  }
}

const TITLES: Record<string, string> = {
  t: 'time t',
  step: 'GD step',
  loss: 'loss L (all samples)',
  minMargin: 'min margin minᵢ yᵢF(Xᵢ)',
  drift_QK: 'drift of W_QW_Qᵀ − W_KW_Kᵀ',
  drift_VW: 'drift of WᵀW − W_VW_Vᵀ',
  maxAbsF: 'maxᵢ |F(Xᵢ)|',
  balance44: '|Σ_{I₂}g − Σ_{I₃}g| / min(Σ_{I₂}g, Σ_{I₃}g) (Lemma 4.4)',
  R45: 'R(t) (Lemma 4.5)',
  s: 'S(t) = ‖Wᵀa‖²',
  move_A: 'max |Δ μᵢᵀW_QᵀW_Q μⱼ|',
  move_B: 'max |Δ μᵢᵀW_KᵀW_K μⱼ|',
  move_C: 'max |Δ μᵢᵀW_VᵀW_V μⱼ|',
  move_S_tt: 'max |Δ score|, target-target',
  move_S_sf: 'max |Δ score|, special-filler',
  move_S_ff: 'max |Δ score|, filler-filler',
  lemma43_max: "−G'(μ₃) / max(G'(μ₁), G'(μ₂)) (Lemma 4.3: ≥ 1 + C)",
  lemma43_sum: "−G'(μ₃) / (G'(μ₁) + G'(μ₂)) (Lemma 4.3: ≤ 1 − C)",
  attn_dev_uniform: 'max |P − 1/L|',
  attn_dev_init: 'max |P(t) − P(0)|',
  Gfiller_max: 'max |G(filler)|',
  test_loss: 'test loss',
  test_error: 'test error',
};

/** The paper-notation title of a trajectory column (or of a derived series like 'G1+G3'); unknown names are returned as they are. */
export function titleOf(column: string): string {
  if (column in TITLES) return TITLES[column];
  let m = /^score_k([123])_q([123])$/.exec(column);
  if (m) return `${mu(m[1])}ᵀW_KᵀW_Q ${mu(m[2])}`;
  m = /^C([123])([123])$/.exec(column);
  if (m) return `${mu(m[1])}ᵀW_VᵀW_V ${mu(m[2])}`;
  m = /^G([123])$/.exec(column);
  if (m) return `G(${mu(m[1])})`;
  m = /^dG([123])$/.exec(column);
  if (m) return `dG(${mu(m[1])})/dt`;
  if (/^G[123](\+G[123])+$/.test(column)) return column.split('+').map((g) => `G(${mu(g.slice(1))})`).join(' + ');
  m = /^loss_I([1-4])$/.exec(column);
  if (m) return `loss on ${I(m[1])}`;
  m = /^margin_I([1-4])$/.exec(column);
  if (m) return `min margin on ${I(m[1])}`;
  m = /^sumg_I([1-4])$/.exec(column);
  if (m) return `(1/n) Σ_{i∈${I(m[1])}} gᵢ`;
  m = /^fillerF_I([1-4])$/.exec(column);
  if (m) return `filler part of F on ${I(m[1])}`;
  return column;
}

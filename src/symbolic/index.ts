/** Level G symbolic stage: derivation, verification, code and document generation. */
export { Rational } from '../exact/rational.js';
export { Algebra, Poly } from './algebra/ncpoly.js';
export type { Dim, Factor, ScalarFactor, SymbolSpec, Term, Word } from './algebra/ncpoly.js';
export { parsePoly } from './algebra/parse.js';
export { evaluatePoly } from './algebra/evaluate.js';
export type { DenseMatrix, DimValues, Env } from './algebra/evaluate.js';
export { formatDisplay, formatGrouped } from './algebra/display.js';
export {
  CLOSED_SYMBOLS,
  GRAM_DEFINITIONS,
  GRAM_REWRITES,
  GRAM_SYMBOLS,
  GRAM_VARIABLES,
  WEIGHT_FLOW_INPUT,
  deriveGramSystem,
  gramAlgebra,
} from './derivation/gramSystem.js';
export type { GramSystem, GramVariable } from './derivation/gramSystem.js';
export { SAMPLE_DEFINITIONS, SAMPLE_FORMULAS } from './sample/closedForm.js';
export type { IndexedFormula, SampleFormulas } from './sample/closedForm.js';
export { SAMPLE_VERIFY_TOLERANCE, assertSampleFormulas, verifySampleFormulas } from './sample/verify.js';
export type { SampleCheck, SampleVerifyOptions } from './sample/verify.js';
export { GRAM_ARTIFACT_PATHS, generateGramArtifacts } from './artifacts.js';

/** Level G: the exact Gram-matrix flow (docs/levels.md#level-g). */
export { GRAM_BLOCK_ORDER, checkDataset, gramLayout, tokenIndex } from './layout.js';
export type { GramLayout, TokenIndex } from './layout.js';
export { GramModel } from './flow.js';
export type { GramOutputs } from './flow.js';
export { gramInvariants } from './invariants.js';
export { liftParams } from './lift.js';
export { meanGramState, sampleGramState, sampleWishartDiag } from './wishart.js';
export type { GramInitConfig, GramSampleConfig, WishartMethod } from './wishart.js';
export { sampleChiSquare, sampleGamma } from './gamma.js';

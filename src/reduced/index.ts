/**
 * Level T: the symmetry-reduced ("type-level") system, exact for a theory-conforming data set
 * started at the mean state (docs/levels.md#level-t). See derivations/type-level.md.
 */
export { TypeSystem, type TypeSystemConfig, type TypeOutputs } from './typeSystem.js';
export { orthogonalParams, orthonormalColumns, type OrthogonalInit } from './orthogonal.js';
export { generateTypeLevelDoc } from './doc.js';
export { expandToGram, restrictFromGram } from './gramBridge.js';
export {
  CLASS_NAMES,
  NUM_CLASSES,
  NUM_ORDERED,
  NUM_UNORDERED,
  ORDERED_ORBITS,
  UNORDERED_ORBITS,
  TYPE_LAYOUT,
  datasetOrbits,
  orbitId,
  type DatasetOrbits,
  type OrderedOrbit,
  type TypeLayout,
  type UnorderedOrbit,
} from './orbits.js';
export {
  classSize,
  countExpr,
  countTex,
  deriveMatVecTerms,
  deriveProductTerms,
  evaluateCount,
  orbitSize,
  type MatVecTerm,
  type ProductTerm,
  type SymCount,
} from './derive.js';
export { buildTables, type MultiplicityTables } from './tables.js';

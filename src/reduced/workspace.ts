/**
 * What the generated Level T functions (generated/typeField.ts, printed by
 * src/symbolic/emit/typeCode.ts) read besides the state: the multiplicity tables, Gam and gu of
 * the last kernel evaluation, the orbit index maps, and the work vectors, all allocated once so
 * that a field or GD call allocates nothing.
 */
import { NUM_CLASSES, NUM_ORDERED, ORDERED_ORBITS, TYPE_LAYOUT, TypeLayout, UNORDERED_ORBITS } from './orbits.js';
import type { MultiplicityTables } from './tables.js';

export interface TypeWorkspace {
  readonly layout: TypeLayout;
  readonly tab: MultiplicityTables;
  /** MLP width: a^T a = m1 */
  readonly m1: number;
  /** Gam = dL/dS by ordered orbit and gu = dL/du by class (filled by TypeKernel.evaluate) */
  readonly gam: Float64Array;
  readonly gu: Float64Array;
  /** per ordered orbit: its transpose, its unordered orbit, its row and column classes */
  readonly transposeOf: Int32Array;
  readonly unorderedOf: Int32Array;
  readonly rowClass: Int32Array;
  readonly colClass: Int32Array;
  /** per unordered orbit: its representative ordered orbit (lowClass, highClass) and whether it has pairs */
  readonly repOrdered: Int32Array;
  readonly symActive: Uint8Array;
  /** ordered-orbit work vectors (expanded state blocks and orbit products) and class work vectors */
  readonly ord: readonly Float64Array[];
  readonly cls: readonly Float64Array[];
}

/** `orbitVectors` and `classVectors`: the counts the generated file asks for. */
export function createTypeWorkspace(
  tab: MultiplicityTables,
  m1: number,
  gam: Float64Array,
  gu: Float64Array,
  orbitVectors: number,
  classVectors: number,
): TypeWorkspace {
  return {
    layout: TYPE_LAYOUT,
    tab,
    m1,
    gam,
    gu,
    transposeOf: Int32Array.from(ORDERED_ORBITS, (o) => o.transpose),
    unorderedOf: Int32Array.from(ORDERED_ORBITS, (o) => o.unordered),
    rowClass: Int32Array.from(ORDERED_ORBITS, (o) => o.rowClass),
    colClass: Int32Array.from(ORDERED_ORBITS, (o) => o.colClass),
    repOrdered: Int32Array.from(UNORDERED_ORBITS, (o) => o.ordered),
    symActive: Uint8Array.from(UNORDERED_ORBITS, (o) => tab.orbitActive[o.ordered]),
    ord: Array.from({ length: orbitVectors }, () => new Float64Array(NUM_ORDERED)),
    cls: Array.from({ length: classVectors }, () => new Float64Array(NUM_CLASSES)),
  };
}

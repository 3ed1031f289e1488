/**
 * Level T's generated field and GD map (src/reduced/generated/typeField.ts, printed from the
 * Level G polynomials by src/symbolic/emit/typeCode.ts) equal, bit for bit, the hand-written
 * orbit-form equations they replaced. The oracle is a FROZEN copy of that hand-written code
 * (frozenHandWrittenField / frozenHandWrittenGdStep below): do not edit it to make a test pass.
 * States: random orbit states (every coordinate, also those of orbits with no pairs, so the
 * 0 / keep rule of inactive orbits is checked), for (n, L) with and without empty orbits.
 * Negative controls: one coefficient of one derived polynomial perturbed before emitting gives a
 * different file, and that file's functions, loaded and run, differ from the oracle; the same
 * loading path applied to the unperturbed generator output reproduces the oracle; and a change of
 * floating-point association alone (same mathematics) is caught too.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Rational } from '../../src/exact/rational.js';
import { Rng } from '../../src/random/rng.js';
import { TypeSystem } from '../../src/reduced/index.js';
import { NUM_CLASSES, NUM_ORDERED, NUM_UNORDERED, ORDERED_ORBITS, UNORDERED_ORBITS } from '../../src/reduced/orbits.js';
import { orbitMatVec, orbitProduct, tokenDot } from '../../src/reduced/tables.js';
import { TYPE_CLASS_VECTORS, TYPE_ORBIT_VECTORS } from '../../src/reduced/generated/typeField.js';
import { TypeWorkspace, createTypeWorkspace } from '../../src/reduced/workspace.js';
import { Poly } from '../../src/symbolic/algebra/ncpoly.js';
import { GramSystem, GramVariable, deriveGramSystem } from '../../src/symbolic/derivation/gramSystem.js';
import { generateTypeFieldSource } from '../../src/symbolic/emit/typeCode.js';

// ------------------------------------------------------------------------------------------------
// FROZEN ORACLE: the hand-written TypeSystem.field / gdStep as they were before Level T's field
// was generated (orbit products in the same order, same sums). Frozen: never edit.

function frozenWork(ts: TypeSystem) {
  return {
    Sord: new Float64Array(NUM_ORDERED),
    Aord: new Float64Array(NUM_ORDERED),
    Bord: new Float64Array(NUM_ORDERED),
    Cord: new Float64Array(NUM_ORDERED),
    P1: new Float64Array(NUM_ORDERED),
    P2: new Float64Array(NUM_ORDERED),
    P3: new Float64Array(NUM_ORDERED),
    P4: new Float64Array(NUM_ORDERED),
    Cgu: new Float64Array(NUM_CLASSES),
    next: new Float64Array(ts.layout.size),
    repOrdered: Int32Array.from(UNORDERED_ORBITS, (o) => o.ordered),
    repTranspose: Int32Array.from(UNORDERED_ORBITS, (o) => ORDERED_ORBITS[o.ordered].transpose),
    symActive: Uint8Array.from(UNORDERED_ORBITS, (o) => ts.tables.orbitActive[o.ordered]),
    symLow: Int32Array.from(UNORDERED_ORBITS, (o) => o.lowClass),
    symHigh: Int32Array.from(UNORDERED_ORBITS, (o) => o.highClass),
    unorderedOf: Int32Array.from(ORDERED_ORBITS, (o) => o.unordered),
  };
}
type FrozenWork = ReturnType<typeof frozenWork>;

function frozenLoadMatrices(ts: TypeSystem, w: FrozenWork, y: Float64Array): void {
  const lay = ts.layout;
  for (let o = 0; o < NUM_ORDERED; o++) {
    const u = w.unorderedOf[o];
    w.Sord[o] = y[lay.S + o];
    w.Aord[o] = y[lay.A + u];
    w.Bord[o] = y[lay.B + u];
    w.Cord[o] = y[lay.C + u];
  }
}

function frozenHandWrittenField(ts: TypeSystem, w: FrozenWork, y: Float64Array, dydt: Float64Array): void {
  const lay = ts.layout;
  const tab = ts.tables;
  const { Sord, Aord, Bord, Cord, P1, P2, Cgu, repOrdered, repTranspose, symActive, symLow, symHigh } = w;
  ts.kernel.evaluate(y, lay, true);
  const { gam, gu } = ts.kernel;
  frozenLoadMatrices(ts, w, y);
  const active = tab.orbitActive;
  orbitProduct(tab, gam, 0, false, Aord, 0, false, P1);
  orbitProduct(tab, Bord, 0, false, gam, 0, false, P2);
  for (let o = 0; o < NUM_ORDERED; o++) dydt[lay.S + o] = active[o] ? -(P1[o] + P2[o]) : 0;
  orbitProduct(tab, gam, 0, true, Sord, 0, false, P1);
  orbitProduct(tab, gam, 0, false, Sord, 0, true, P2);
  for (let v = 0; v < NUM_UNORDERED; v++) {
    const o = repOrdered[v];
    const ot = repTranspose[v];
    dydt[lay.A + v] = symActive[v] ? -(P1[o] + P1[ot]) : 0;
    dydt[lay.B + v] = symActive[v] ? -(P2[o] + P2[ot]) : 0;
    dydt[lay.C + v] = symActive[v] ? -(gu[symLow[v]] * y[lay.u + symHigh[v]] + y[lay.u + symLow[v]] * gu[symHigh[v]]) : 0;
  }
  const s = y[lay.s];
  orbitMatVec(tab, Cord, gu, 0, Cgu);
  for (let c = 0; c < NUM_CLASSES; c++) dydt[lay.u + c] = tab.classActive[c] ? -(s * gu[c] + ts.m1 * Cgu[c]) : 0;
  dydt[lay.s] = -2 * ts.m1 * tokenDot(tab, y, lay.u, gu, 0);
}

function frozenSymmetricGdStep(w: FrozenWork, off: number, y: Float64Array, eta: number): void {
  const { P1, P3, repOrdered, repTranspose, symActive, next } = w;
  const e2 = eta * eta;
  for (let v = 0; v < NUM_UNORDERED; v++) {
    if (!symActive[v]) continue;
    const o = repOrdered[v];
    next[off + v] = y[off + v] - eta * (P1[o] + P1[repTranspose[v]]) + e2 * P3[o];
  }
}

function frozenHandWrittenGdStep(ts: TypeSystem, w: FrozenWork, eta: number, y: Float64Array, yNext: Float64Array): void {
  const lay = ts.layout;
  const tab = ts.tables;
  const { Sord, Aord, Bord, Cord, P1, P2, P3, P4, Cgu, symActive, symLow, symHigh, next } = w;
  const m1 = ts.m1;
  const e2 = eta * eta;
  ts.kernel.evaluate(y, lay, true);
  const { gam, gu } = ts.kernel;
  frozenLoadMatrices(ts, w, y);
  const active = tab.orbitActive;
  next.set(y);
  orbitProduct(tab, gam, 0, false, Aord, 0, false, P1);
  orbitProduct(tab, Bord, 0, false, gam, 0, false, P2);
  orbitProduct(tab, Sord, 0, true, gam, 0, false, P3);
  orbitProduct(tab, gam, 0, false, P3, 0, false, P4);
  for (let o = 0; o < NUM_ORDERED; o++) if (active[o]) next[lay.S + o] = y[lay.S + o] - eta * (P1[o] + P2[o]) + e2 * P4[o];
  orbitProduct(tab, gam, 0, true, Sord, 0, false, P1);
  orbitProduct(tab, Bord, 0, false, gam, 0, false, P2);
  orbitProduct(tab, gam, 0, true, P2, 0, false, P3);
  frozenSymmetricGdStep(w, lay.A, y, eta);
  orbitProduct(tab, gam, 0, false, Sord, 0, true, P1);
  orbitProduct(tab, Aord, 0, false, gam, 0, true, P2);
  orbitProduct(tab, gam, 0, false, P2, 0, false, P3);
  frozenSymmetricGdStep(w, lay.B, y, eta);
  const s = y[lay.s];
  const ugu = tokenDot(tab, y, lay.u, gu, 0);
  orbitMatVec(tab, Cord, gu, 0, Cgu);
  for (let c = 0; c < NUM_CLASSES; c++) {
    if (tab.classActive[c]) next[lay.u + c] = y[lay.u + c] - eta * (s * gu[c] + m1 * Cgu[c]) + e2 * m1 * ugu * gu[c];
  }
  for (let v = 0; v < NUM_UNORDERED; v++) {
    if (!symActive[v]) continue;
    const lo = symLow[v];
    const hi = symHigh[v];
    next[lay.C + v] = y[lay.C + v] - eta * (gu[lo] * y[lay.u + hi] + y[lay.u + lo] * gu[hi]) + e2 * s * gu[lo] * gu[hi];
  }
  next[lay.s] = s - 2 * eta * m1 * ugu + e2 * m1 * m1 * tokenDot(tab, gu, 0, Cgu, 0);
  yNext.set(next);
}
// END OF FROZEN ORACLE
// ------------------------------------------------------------------------------------------------

/** Index of the first entry whose bits differ (+0 and -0 differ), or -1. */
function firstBitDifference(a: Float64Array, b: Float64Array): number {
  const x = new BigUint64Array(a.buffer, a.byteOffset, a.length);
  const z = new BigUint64Array(b.buffer, b.byteOffset, b.length);
  if (x.length !== z.length) return 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== z[i]) return i;
  return -1;
}

/** A random orbit state: S of both signs, positive diagonal-ish A, B, C scales, u, s > 0. */
function randomState(ts: TypeSystem, rng: Rng, scale: number): Float64Array {
  const y = new Float64Array(ts.size);
  for (let i = 0; i < y.length; i++) y[i] = scale * rng.normal();
  y[ts.layout.s] = Math.abs(y[ts.layout.s]) + 0.5;
  return y;
}

const CASES = [
  { n: 12, L: 5, m: 16, m1: 8 },
  { n: 6, L: 4, m: 32, m1: 16 }, // orbits with no pairs
  { n: 6, L: 3, m: 8, m1: 4 }, // more empty orbits
  { n: 18, L: 6, m: 64, m1: 32 },
];
const ETAS = [0.3, 1e-3, 7.5];

interface Functions {
  typeField(w: TypeWorkspace, y: Float64Array, out: Float64Array): void;
  typeGdMap(w: TypeWorkspace, eta: number, y: Float64Array, out: Float64Array): void;
  TYPE_ORBIT_VECTORS: number;
  TYPE_CLASS_VECTORS: number;
}

/** Worst case over CASES x random states: first differing index of field and GD map vs the oracle (-1: identical). */
function compareWithOracle(run: (ts: TypeSystem) => { field(y: Float64Array, out: Float64Array): void; gd(eta: number, y: Float64Array, out: Float64Array): void }): {
  fieldDiffs: number;
  gdDiffs: number;
  checks: number;
} {
  let fieldDiffs = 0;
  let gdDiffs = 0;
  let checks = 0;
  for (const [ci, { n, L, m, m1 }] of CASES.entries()) {
    const ts = new TypeSystem({ n, L, m, m1 });
    const fw = frozenWork(ts);
    const gen = run(ts);
    const rng = new Rng(`typeField-${ci}`);
    for (let trial = 0; trial < 6; trial++) {
      const y = randomState(ts, rng, trial < 3 ? 0.1 : 1);
      const a = new Float64Array(ts.size);
      const b = new Float64Array(ts.size);
      frozenHandWrittenField(ts, fw, y, a);
      gen.field(y, b);
      if (firstBitDifference(a, b) >= 0) fieldDiffs++;
      checks++;
      for (const eta of ETAS) {
        frozenHandWrittenGdStep(ts, fw, eta, y, a);
        gen.gd(eta, y, b);
        if (firstBitDifference(a, b) >= 0) gdDiffs++;
        checks++;
      }
    }
  }
  return { fieldDiffs, gdDiffs, checks };
}

describe('generated Level T field and GD map = the frozen hand-written equations, bit for bit', () => {
  it('TypeSystem.field and TypeSystem.gdStep (the generated code) on random orbit states', () => {
    const r = compareWithOracle((ts) => ({
      field: (y, out) => ts.field(0, y, out),
      gd: (eta, y, out) => ts.gdStep(eta, y, out),
    }));
    expect(r.checks).toBe(CASES.length * 6 * (1 + ETAS.length));
    expect(r).toEqual({ fieldDiffs: 0, gdDiffs: 0, checks: r.checks });
  });

  it('gdStep in place (yNext = y) equals the oracle', () => {
    const ts = new TypeSystem({ n: 12, L: 5, m: 16, m1: 8 });
    const fw = frozenWork(ts);
    const y = randomState(ts, new Rng('inplace'), 0.5);
    const ref = new Float64Array(ts.size);
    frozenHandWrittenGdStep(ts, fw, 0.3, y, ref);
    ts.gdStep(0.3, y, y);
    expect(firstBitDifference(ref, y)).toBe(-1);
  });

  it('oracle sanity: the frozen field is not trivially zero and depends on the state', () => {
    const ts = new TypeSystem({ n: 12, L: 5, m: 16, m1: 8 });
    const fw = frozenWork(ts);
    const rng = new Rng('sanity');
    const a = new Float64Array(ts.size);
    const b = new Float64Array(ts.size);
    frozenHandWrittenField(ts, fw, randomState(ts, rng, 0.3), a);
    frozenHandWrittenField(ts, fw, randomState(ts, rng, 0.3), b);
    expect(a.some((v) => v !== 0)).toBe(true);
    expect(firstBitDifference(a, b)).toBeGreaterThanOrEqual(0);
  });
});

// ------------------------------------------------------------------------------------------------
// Negative controls: emit from perturbed polynomials, load the emitted file, run it.

const ROOT = join(import.meta.dirname, '..', '..');
const written: string[] = [];
afterAll(() => {
  for (const p of written) rmSync(p, { force: true });
});

/** Writes generated source next to this test (imports pointed at src/reduced) and imports it. */
async function loadGenerated(source: string, tag: string): Promise<Functions> {
  const rel = source.replace(/from '\.\.\/(tables|orbits|workspace)\.js'/g, "from '../../src/reduced/$1.js'");
  const path = join(import.meta.dirname, `.generated-${tag}-${process.pid}.ts`);
  writeFileSync(path, rel);
  written.push(path);
  return (await import(path)) as Functions;
}

function runner(mod: Functions) {
  return (ts: TypeSystem) => {
    const w = createTypeWorkspace(ts.tables, ts.m1, ts.kernel.gam, ts.kernel.gu, mod.TYPE_ORBIT_VECTORS, mod.TYPE_CLASS_VECTORS);
    const next = new Float64Array(ts.size);
    return {
      field: (y: Float64Array, out: Float64Array) => {
        ts.kernel.evaluate(y, ts.layout, true);
        mod.typeField(w, y, out);
      },
      gd: (eta: number, y: Float64Array, out: Float64Array) => {
        ts.kernel.evaluate(y, ts.layout, true);
        mod.typeGdMap(w, eta, y, next);
        out.set(next);
      },
    };
  };
}

/** The system with the coefficient of term `index` of flow or gd equation `v` multiplied by `factor`. */
function perturbed(sys: GramSystem, which: 'flow' | 'gd', v: GramVariable, index: number, factor: Rational): GramSystem {
  const p = sys[which][v];
  const terms = p.terms.map((t, i) => (i === index ? { ...t, coef: t.coef.mul(factor) } : t));
  const q = Poly.fromTerms(sys.alg, p.rows, p.cols, terms);
  return { ...sys, [which]: { ...sys[which], [v]: q } };
}

describe('negative controls: a perturbed derivation emits different code that fails the oracle', () => {
  const sys = deriveGramSystem();
  const committed = readFileSync(join(ROOT, 'src/reduced/generated/typeField.ts'), 'utf8');

  it('the loading path itself reproduces the oracle for the unperturbed generator output', async () => {
    const text = generateTypeFieldSource(sys);
    expect(text).toBe(committed);
    const mod = await loadGenerated(text, 'plain');
    expect(mod.TYPE_ORBIT_VECTORS).toBe(TYPE_ORBIT_VECTORS);
    expect(mod.TYPE_CLASS_VECTORS).toBe(TYPE_CLASS_VECTORS);
    expect(compareWithOracle(runner(mod))).toMatchObject({ fieldDiffs: 0, gdDiffs: 0 });
  });

  it("S' with its eta^2 term Gam S^T Gam doubled: the text differs and every GD check fails", async () => {
    const idx = sys.gd.S.terms.findIndex((t) => t.word.map((f) => f.sym).join(' ') === 'Gam S Gam');
    expect(idx).toBeGreaterThanOrEqual(0);
    const text = generateTypeFieldSource(perturbed(sys, 'gd', 'S', idx, new Rational(2n)));
    expect(text).not.toBe(committed);
    expect(text).toContain('+ 2 * e2 * W3[o]');
    const r = compareWithOracle(runner(await loadGenerated(text, 'gdS')));
    expect(r.fieldDiffs).toBe(0); // the flow was not touched
    expect(r.gdDiffs).toBe(CASES.length * 6 * ETAS.length);
  });

  it('dA/dt with S^T Gam scaled by 3 (no longer the transpose partner of Gam^T S): the field fails', async () => {
    const idx = sys.flow.A.terms.findIndex((t) => t.word.map((f) => `${f.sym}${f.t ? '^T' : ''}`).join(' ') === 'S^T Gam');
    expect(idx).toBeGreaterThanOrEqual(0);
    const text = generateTypeFieldSource(perturbed(sys, 'flow', 'A', idx, new Rational(3n)));
    expect(text).not.toBe(committed);
    const r = compareWithOracle(runner(await loadGenerated(text, 'flowA')));
    expect(r.fieldDiffs).toBe(CASES.length * 6);
    expect(r.gdDiffs).toBe(0);
  });

  it("a change of association only (S' as S - eta Gam A - eta B Gam instead of S - eta (Gam A + B Gam)) is caught", async () => {
    const text = generateTypeFieldSource(sys);
    const from = 'y[o_S + o] - eta * (W0[o] + W1[o]) + e2 * W3[o]';
    expect(text).toContain(from);
    const mod = await loadGenerated(text.replace(from, 'y[o_S + o] - eta * W0[o] - eta * W1[o] + e2 * W3[o]'), 'assoc');
    const r = compareWithOracle(runner(mod));
    expect(r.fieldDiffs).toBe(0);
    expect(r.gdDiffs).toBeGreaterThan(0);
  });
});

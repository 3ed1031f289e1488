/**
 * The one Python interpreter of the external oracles: the PyTorch gradient check
 * (test/model/gradient.test.ts running bench/python/torch_grad.py) and the NumPy interop tests
 * (test/io/numpy.test.ts) use the interpreter chosen here, so both run against the same NumPy.
 *
 * Choice, in order:
 *   1. $COFLOW_PYTHON, if set (used as given, even if it lacks a module: that is then reported);
 *   2. /usr/bin/python3, if it imports numpy (Debian's python3-numpy / python3-torch live there);
 *   3. python3 from PATH.
 *
 * Outside CI an oracle whose modules are missing is skipped (a skip is never a pass). In CI
 * (CI=true, as GitHub Actions and .ci/run set it) a missing oracle is a FAILURE naming the
 * interpreter and the missing modules: .ci/run installs python3-numpy and python3-torch, so a
 * skip there would hide a broken setup.
 */
import { spawnSync } from 'node:child_process';

const SYSTEM_PYTHON = '/usr/bin/python3';

function importsAll(python: string, modules: readonly string[]): boolean {
  const r = spawnSync(python, ['-c', modules.map((m) => `import ${m}`).join('; ')], { encoding: 'utf8' });
  return r.status === 0;
}

function choosePython(): { python: string; why: string } {
  const env = process.env.COFLOW_PYTHON;
  if (env !== undefined && env.trim() !== '') return { python: env.trim(), why: '$COFLOW_PYTHON' };
  if (importsAll(SYSTEM_PYTHON, ['numpy'])) return { python: SYSTEM_PYTHON, why: `${SYSTEM_PYTHON} imports numpy` };
  return { python: 'python3', why: `${SYSTEM_PYTHON} cannot import numpy, so python3 from PATH` };
}

const chosen = choosePython();

/** The interpreter every Python oracle runs with. */
export const PYTHON = chosen.python;
/** Why PYTHON was chosen (for messages). */
export const PYTHON_REASON = chosen.why;

/** True in CI (CI=true or CI=1), where a missing oracle fails instead of skipping. */
export const IN_CI = /^(true|1)$/i.test(process.env.CI ?? '');

const cache = new Map<string, boolean>();

/** The modules of `modules` that PYTHON cannot import (empty when all import). */
export function missingModules(modules: readonly string[]): string[] {
  return modules.filter((m) => {
    if (!cache.has(m)) cache.set(m, importsAll(PYTHON, [m]));
    return !cache.get(m);
  });
}

export interface OracleGate {
  /** the oracle's modules all import */
  available: boolean;
  /** run the test: available, or in CI (where it must then fail with `problem`) */
  run: boolean;
  /** null when available; otherwise what is missing and how to get it */
  problem: string | null;
}

/** What an oracle test needs, and whether it runs (see the file comment for CI). */
export function oracleGate(what: string, modules: readonly string[]): OracleGate {
  const missing = missingModules(modules);
  if (missing.length === 0) return { available: true, run: true, problem: null };
  const problem =
    `${what}: ${PYTHON} (${PYTHON_REASON}) cannot import ${missing.join(', ')}. ` +
    `Install them (Debian: apt-get install --no-install-recommends python3-numpy python3-torch; .ci/run does this) ` +
    `or point COFLOW_PYTHON at an interpreter that has them.` +
    (IN_CI ? ' In CI (CI=true) a missing oracle fails instead of being skipped.' : '');
  return { available: false, run: IN_CI, problem };
}

/**
 * For a test file that depends on the oracle as a whole: true when the modules import; false
 * (skip) outside CI when they do not; in CI, throws, so the file fails with the reason.
 */
export function requireOracle(what: string, modules: readonly string[]): boolean {
  const gate = oracleGate(what, modules);
  if (gate.available) return true;
  if (IN_CI) throw new Error(gate.problem ?? what);
  return false;
}

import type { Probe } from '../observe/primitives.js';
import type { Dynamics, ProbeTest } from './dynamics.js';

export type { ProbeTest } from './dynamics.js';

/**
 * The observation probe (src/observe) of a level's dynamics: each level's adapter builds its own
 * (Dynamics.probe), so a new level needs no line here.
 */
export function probeFor(dyn: Dynamics, test?: ProbeTest): Probe {
  return dyn.probe(test);
}

/**
 * Your own ODE with coflow's integrator: the Lotka-Volterra predator-prey system
 *
 *   x' = alpha x - beta x y,   y' = delta x y - gamma y,
 *
 * solved with `solve` (Dormand-Prince 5(4), adaptive, dense output) and checked against its
 * conserved quantity V = delta x - gamma ln x + beta y - alpha ln y, which the exact solution
 * keeps constant. An event finds the times the prey x crosses 5 going down.
 *
 *   node dist-examples/lotka-volterra.js
 *
 * Prints one JSON line: the status, the work done, the largest |V(t) - V(0)| over the outputs,
 * and each event's time and prey count (5, where it was located).
 */
import { solve } from 'coflow';

const alpha = 1.5, beta = 1, gamma = 3, delta = 1;

const result = solve(
  // f writes into dydt and allocates nothing: it runs at every stage of every step.
  (_t, u, dydt) => {
    const x = u[0];
    const y = u[1];
    dydt[0] = alpha * x - beta * x * y;
    dydt[1] = delta * x * y - gamma * y;
  },
  [0, 15],
  [10, 5],
  {
    rtol: 1e-10,
    atol: 1e-12,
    tEval: Array.from({ length: 151 }, (_, i) => i / 10),
    events: [{ name: 'prey-below-5', fn: (_t, y) => y[0] - 5, direction: -1 }],
  },
);

const V = (x: number, y: number): number => delta * x - gamma * Math.log(x) + beta * y - alpha * Math.log(y);
const v0 = V(result.y[0][0], result.y[0][1]);
const drift = Math.max(...result.y.map(([x, y]) => Math.abs(V(x, y) - v0)));
console.log(JSON.stringify({ status: result.status, outputs: result.t.length, stats: result.stats, drift, events: result.events.map((e) => ({ t: e.t, x: e.y[0] })) }));

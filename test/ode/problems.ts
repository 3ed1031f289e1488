/** Test problems with exact solutions or exact invariants (oracles for the integrator tests). */
import type { VectorField } from '../../src/ode/types.js';

/** y1' = y1 cos t, y2' = -t y2^2; y(0) = (1, 1): y1 = exp(sin t), y2 = 1 / (1 + t^2/2). */
export const smoothNonlinear: { f: VectorField; exact: (t: number) => number[] } = {
  f: (t, y, d) => {
    d[0] = y[0] * Math.cos(t);
    d[1] = -t * y[1] * y[1];
  },
  exact: (t) => [Math.exp(Math.sin(t)), 1 / (1 + (t * t) / 2)],
};

/** y' = -y. */
export const decay: VectorField = (_t, y, d) => {
  d[0] = -y[0];
};

/** y' = A y with A the 3x3 Jordan block of eigenvalue -1: exp(At) = e^-t [[1,t,t^2/2],[0,1,t],[0,0,1]]. */
export const jordan: { f: VectorField; exact: (t: number, y0: readonly number[]) => number[] } = {
  f: (_t, y, d) => {
    d[0] = -y[0] + y[1];
    d[1] = -y[1] + y[2];
    d[2] = -y[2];
  },
  exact: (t, [a, b, c]) => {
    const e = Math.exp(-t);
    return [e * (a + t * b + ((t * t) / 2) * c), e * (b + t * c), e * c];
  },
};

/** Harmonic rotation x' = -y, y' = x: (cos t, sin t) from (1, 0); invariant x^2 + y^2. */
export const rotation: VectorField = (_t, y, d) => {
  d[0] = -y[1];
  d[1] = y[0];
};

/** Lotka-Volterra x' = a x - b x y, y' = c x y - d y with the conserved V = c x - d ln x + b y - a ln y. */
export const LV = { a: 2 / 3, b: 4 / 3, c: 1, d: 1 };
export const lotkaVolterra: VectorField = (_t, y, dy) => {
  dy[0] = LV.a * y[0] - LV.b * y[0] * y[1];
  dy[1] = LV.c * y[0] * y[1] - LV.d * y[1];
};
export function lvInvariant(x: number, y: number): number {
  return LV.c * x - LV.d * Math.log(x) + LV.b * y - LV.a * Math.log(y);
}

/** Max over components of |y - exact| / (atol + rtol |exact|): the global error in tolerance units. */
export function toleranceUnits(y: ArrayLike<number>, exact: ArrayLike<number>, rtol: number, atol: number): number {
  let m = 0;
  for (let i = 0; i < y.length; i++) m = Math.max(m, Math.abs(y[i] - exact[i]) / (atol + rtol * Math.abs(exact[i])));
  return m;
}

/** Least-squares slope of log(err) against log(h). */
export function logLogSlope(h: number[], err: number[]): number {
  const x = h.map(Math.log);
  const y = err.map(Math.log);
  const mx = x.reduce((p, q) => p + q) / x.length;
  const my = y.reduce((p, q) => p + q) / y.length;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
  }
  return sxy / sxx;
}

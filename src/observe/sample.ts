/**
 * The per-sample part of Eq. 1 that Level F and Level G share once a sample's key-query scores
 * and token values are gathered (each level gathers them from its own state): the softmax over
 * keys for every query, F, the filler part of F, gu = dL/du, and dF/dt. Keeping it in one place
 * means the two levels cannot compute these differently.
 */

/** One sample's gathered inputs, reused across samples (allocated once per probe). */
export class SampleScratch {
  /** scaled scores z[p * L + l] = S[x_p, x_l] / sqrt(m) (key p, query l) */
  readonly z: Float64Array;
  /** u[p] = G(x_p) */
  readonly u: Float64Array;
  /** index of x_p in the level's gu vector */
  readonly ids: Int32Array;
  /** whether x_p is a filler token */
  readonly filler: Uint8Array;
  /** dz/dt and du/dt along the flow (for sampleRate) */
  readonly zdot: Float64Array;
  readonly udot: Float64Array;

  constructor(readonly L: number) {
    this.z = new Float64Array(L * L);
    this.u = new Float64Array(L);
    this.ids = new Int32Array(L);
    this.filler = new Uint8Array(L);
    this.zdot = new Float64Array(L * L);
    this.udot = new Float64Array(L);
  }
}

/** Softmax over keys p for each query l into P[o + p L + l]; returns F = sum_l sum_p P_pl u_p. */
export function sampleForward(s: SampleScratch, P: Float64Array, o: number): number {
  const { L, z, u } = s;
  let F = 0;
  for (let l = 0; l < L; l++) {
    let zmax = -Infinity;
    for (let p = 0; p < L; p++) zmax = Math.max(zmax, z[p * L + l]);
    let Z = 0;
    for (let p = 0; p < L; p++) {
      const e = Math.exp(z[p * L + l] - zmax);
      P[o + p * L + l] = e;
      Z += e;
    }
    for (let p = 0; p < L; p++) {
      const w = P[o + p * L + l] / Z;
      P[o + p * L + l] = w;
      F += w * u[p];
    }
  }
  return F;
}

/**
 * With dL/dF = w for this sample, adds w dF/du_p = w sum_l P_pl to gu[ids[p]]; returns the part
 * of F carried by filler keys, sum over filler p of (sum_l P_pl) u_p (Def. F.1).
 */
export function sampleBackward(s: SampleScratch, P: Float64Array, o: number, w: number, gu: Float64Array): number {
  const { L, u, ids, filler } = s;
  let part = 0;
  for (let p = 0; p < L; p++) {
    let colSum = 0;
    for (let l = 0; l < L; l++) colSum += P[o + p * L + l];
    gu[ids[p]] += w * colSum;
    if (filler[p]) part += colSum * u[p];
  }
  return part;
}

/** dF/dt = sum_l sum_p P_pl ((u_p - F_l) dz_pl/dt + du_p/dt), F_l = sum_p P_pl u_p (softmax Jacobian). */
export function sampleRate(s: SampleScratch, P: Float64Array, o: number): number {
  const { L, u, zdot, udot } = s;
  let rate = 0;
  for (let l = 0; l < L; l++) {
    let Fl = 0;
    for (let p = 0; p < L; p++) Fl += P[o + p * L + l] * u[p];
    for (let p = 0; p < L; p++) rate += P[o + p * L + l] * ((u[p] - Fl) * zdot[p * L + l] + udot[p]);
  }
  return rate;
}

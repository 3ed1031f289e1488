import seedrandom from 'seedrandom';

/**
 * Seeded random numbers for every sampler in coflow.
 *
 * The generator is Brent's xor4096 from seedrandom (no systematic BigCrush failures reported;
 * 2.4-2.7x faster per double() than seedrandom's default ARC4 on Node 20;
 * docs/levels.md#random-numbers). `double()` gives 53 random bits, so uniform draws are full
 * float64 resolution. Normals use the Box-Muller transform with both outputs used
 * (cached), which keeps the stream deterministic for a given seed and call sequence.
 */
export const RNG_ALGORITHM = 'seedrandom.xor4096';

export class Rng {
  private readonly source: seedrandom.PRNG;
  private spare = 0;
  private hasSpare = false;

  constructor(seed: number | string) {
    this.source = seedrandom.xor4096(`coflow:${seed}`);
  }

  /** Uniform on [0, 1) with 53 random bits. */
  uniform(): number {
    return this.source.double();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal N(0, 1) by Box-Muller. */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    // 1 - u is in (0, 1], so the log is finite.
    const u1 = 1 - this.uniform();
    const u2 = this.uniform();
    const radius = Math.sqrt(-2 * Math.log(u1));
    const angle = 2 * Math.PI * u2;
    this.spare = radius * Math.sin(angle);
    this.hasSpare = true;
    return radius * Math.cos(angle);
  }

  /** Fill `out` with N(0, std^2) draws. */
  fillNormal(out: Float64Array, std: number): Float64Array {
    for (let i = 0; i < out.length; i++) out[i] = std * this.normal();
    return out;
  }

  /** +1 or -1 with probability 1/2 each. */
  sign(): number {
    return this.uniform() < 0.5 ? -1 : 1;
  }

  /** Fisher-Yates shuffle in place. */
  shuffle<T>(items: T[] | Int32Array): void {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
  }
}

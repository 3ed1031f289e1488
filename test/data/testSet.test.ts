/**
 * generateTestSet: n i.i.d. samples of the Def. 2.1 distribution on a stream of their own.
 * Oracles: the distribution's definition (type probabilities 1/2, 1/6, 1/6, 1/6 by a chi-square
 * test with an exactly computed tail probability; uniform mu_3 position; uniform fillers), the
 * AND rule, and pinned SHA-256 digests of generateDataset's output from before the test set
 * existed (the training stream must not change).
 */
import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { Dataset } from '../../src/data/dataset.js';
import { generateDataset, generateTestSet } from '../../src/data/generate.js';
import { UsageError } from '../../src/errors.js';
import { Rng } from '../../src/random/rng.js';

/** Regularised upper incomplete gamma Q(nu/2, x/2) = P(chi2_nu > x), exact for integer nu. */
function chiSquareSf(x: number, nu: number): number {
  const h = x / 2;
  if (nu % 2 === 0) {
    // Q(j, h) = e^-h sum_{i<j} h^i / i!
    let term = Math.exp(-h);
    let sum = term;
    for (let i = 1; i < nu / 2; i++) {
      term *= h / i;
      sum += term;
    }
    return sum;
  }
  // Q(j + 1/2, h) = erfc(sqrt h) + e^-h sum_{i=1..j} h^(i-1/2) / Gamma(i + 1/2)
  let sum = erfc(Math.sqrt(h));
  let term = Math.exp(-h) * Math.sqrt(h) / (Math.sqrt(Math.PI) / 2); // i = 1: h^(1/2) / Gamma(3/2)
  for (let i = 1; i <= (nu - 1) / 2; i++) {
    sum += term;
    term *= h / (i + 0.5);
  }
  return sum;
}

/** erfc by its continued fraction (x > 0 large) or series; accurate to ~1e-14 relative here. */
function erfc(x: number): number {
  if (x < 2) {
    // erf series: 2/sqrt(pi) sum (-1)^n x^(2n+1) / (n! (2n+1))
    let sum = 0;
    let term = x;
    for (let n = 0; n < 60; n++) {
      sum += term / (2 * n + 1);
      term *= (-x * x) / (n + 1);
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum;
  }
  // Lentz continued fraction: erfc x = e^-x^2 / sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))
  let f = x;
  let C = x;
  let D = 0;
  for (let n = 1; n < 200; n++) {
    const an = n / 2;
    D = x + an * D;
    D = 1 / D;
    C = x + an / C;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

/** The x with P(chi2_nu > x) = alpha (bisection on the exact tail). */
function chiSquareCritical(alpha: number, nu: number): number {
  let lo = 0;
  let hi = nu + 100 * Math.sqrt(2 * nu) + 100;
  for (let it = 0; it < 200; it++) {
    const mid = (lo + hi) / 2;
    if (chiSquareSf(mid, nu) > alpha) lo = mid;
    else hi = mid;
  }
  return hi;
}

function chiSquare(counts: number[], probs: number[]): number {
  const n = counts.reduce((s, c) => s + c, 0);
  return counts.reduce((s, c, i) => s + (c - n * probs[i]) ** 2 / (n * probs[i]), 0);
}

/**
 * False-alarm rate of every chi-square test below: 1e-6 (the seeds are fixed, so the tests are
 * deterministic; the rate says how unlucky a change of seed would have to be to fail them).
 */
const ALPHA = 1e-6;

function row(data: Dataset, i: number): number[] {
  return Array.from(data.tokens.subarray(i * data.L, (i + 1) * data.L));
}

function digest(data: Dataset): string {
  const h = createHash('sha256');
  for (const x of [data.tokens, data.y, data.type]) h.update(Buffer.from(x.buffer, x.byteOffset, x.byteLength));
  return h.digest('hex').slice(0, 32);
}

describe('chi-square tail (the oracle of the frequency tests)', () => {
  test('known quantiles', () => {
    // textbook 5% points and the closed form for 3 degrees of freedom
    expect(chiSquareSf(3.841458820694124, 1)).toBeCloseTo(0.05, 12);
    expect(chiSquareSf(5.991464547107979, 2)).toBeCloseTo(0.05, 12);
    expect(chiSquareSf(7.814727903251178, 3)).toBeCloseTo(0.05, 12);
    expect(chiSquareSf(11.070497693516351, 5)).toBeCloseTo(0.05, 12);
    for (const x of [0.5, 4, 20, 40]) {
      const closed = erfc(Math.sqrt(x / 2)) + Math.sqrt((2 * x) / Math.PI) * Math.exp(-x / 2);
      expect(Math.abs(chiSquareSf(x, 3) / closed - 1)).toBeLessThan(1e-12);
    }
    // the threshold used for the type frequencies (3 dof): about 30.7
    expect(chiSquareCritical(ALPHA, 3)).toBeGreaterThan(30.6);
    expect(chiSquareCritical(ALPHA, 3)).toBeLessThan(30.7);
  });
});

describe('generateTestSet (i.i.d. samples of paper Def. 2.1)', () => {
  test('type frequencies match 1/2, 1/6, 1/6, 1/6 (chi-square, 3 dof, false-alarm rate 1e-6)', () => {
    const n = 60000;
    const data = generateTestSet({ n, L: 5, d: 64, seed: 11 });
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < n; i++) counts[data.type[i] - 1]++;
    const crit = chiSquareCritical(ALPHA, 3);
    const stat = chiSquare(counts, [1 / 2, 1 / 6, 1 / 6, 1 / 6]);
    expect(stat).toBeLessThan(crit);
    // the types really are random (not exact proportions as in a training set)
    expect(counts).not.toEqual([n / 2, n / 6, n / 6, n / 6]);
    // negative controls: the test has power against wrong type probabilities (at n = 60000 a
    // 3-point shift of P(I1) gives an expected statistic near 240, far above the threshold)
    expect(chiSquare(counts, [1 / 4, 1 / 4, 1 / 4, 1 / 4])).toBeGreaterThan(crit);
    expect(chiSquare(counts, [0.47, 0.17, 0.18, 0.18])).toBeGreaterThan(crit);
    console.log(`type counts ${counts.join(', ')}: chi-square ${stat.toFixed(2)} (threshold ${crit.toFixed(2)} at false-alarm rate ${ALPHA})`);
  });

  test('labels = AND of mu_1, mu_2 present; mu_3 exactly once; mu_1, mu_2 at most once; fillers distinct within a sample', () => {
    for (const [L, d] of [
      [3, 5],
      [5, 7], // d = L + 2: an I4 sample uses every filler token
      [5, 64],
      [8, 30],
    ]) {
      const data = generateTestSet({ n: 3000, L, d, seed: L * 100 + d });
      expect(data.n).toBe(3000);
      expect(data.tokens.length).toBe(3000 * L);
      for (let i = 0; i < data.n; i++) {
        const toks = row(data, i);
        const has1 = toks.includes(0);
        const has2 = toks.includes(1);
        expect(data.y[i]).toBe(has1 && has2 ? 1 : -1);
        expect(data.type[i]).toBe(has1 && has2 ? 1 : has1 ? 2 : has2 ? 3 : 4);
        expect(toks.filter((t) => t === 2).length).toBe(1);
        expect(toks.filter((t) => t === 0).length).toBeLessThanOrEqual(1);
        expect(toks.filter((t) => t === 1).length).toBeLessThanOrEqual(1);
        const fillers = toks.filter((t) => t >= 3);
        expect(fillers.length).toBe(L - 1 - (has1 ? 1 : 0) - (has2 ? 1 : 0));
        expect(new Set(fillers).size).toBe(fillers.length);
        for (const t of toks) expect(Number.isInteger(t) && t >= 0 && t < d).toBe(true);
      }
    }
  });

  test('mu_3 position and filler tokens are uniform (chi-square, false-alarm rate 1e-6)', () => {
    const L = 6;
    const d = 40;
    const n = 20000;
    const data = generateTestSet({ n, L, d, seed: 5 });
    const pos = new Array(L).fill(0);
    const fill = new Array(d - 3).fill(0);
    for (let i = 0; i < n; i++) {
      const toks = row(data, i);
      pos[toks.indexOf(2)]++;
      for (const t of toks) if (t >= 3) fill[t - 3]++;
    }
    expect(chiSquare(pos, new Array(L).fill(1 / L))).toBeLessThan(chiSquareCritical(ALPHA, L - 1));
    // Fillers within a sample are drawn without replacement, which makes the token counts less
    // variable than multinomial: the test is conservative (its false-alarm rate is below 1e-6).
    expect(chiSquare(fill, new Array(d - 3).fill(1 / (d - 3)))).toBeLessThan(chiSquareCritical(ALPHA, d - 4));
    // negative control: a filler draw that never picks the last token would be caught
    const skewed = new Array(d - 3).fill(1 / (d - 4));
    skewed[d - 4] = 1e-9;
    expect(chiSquare(fill, skewed)).toBeGreaterThan(chiSquareCritical(ALPHA, d - 4));
  });

  test('a test set brings tokens its training set never uses', () => {
    const train = generateDataset({ n: 12, L: 5, d: 100, seed: 3, fillers: 'distinct' });
    const test_ = generateTestSet({ n: 200, L: 5, d: 100, seed: 3 });
    const seen = new Set(train.tokens);
    const unseen = new Set(Array.from(test_.tokens).filter((t) => !seen.has(t)));
    expect(unseen.size).toBeGreaterThan(30);
  });

  test('deterministic in the seed, different across seeds', () => {
    const a = generateTestSet({ n: 50, L: 5, d: 64, seed: 9 });
    const b = generateTestSet({ n: 50, L: 5, d: 64, seed: 9 });
    const c = generateTestSet({ n: 50, L: 5, d: 64, seed: 10 });
    expect(digest(a)).toBe(digest(b));
    expect(Array.from(a.tokens)).not.toEqual(Array.from(c.tokens));
  });

  test('its own RNG stream: not the training set of the same seed, and the training set is unchanged', () => {
    for (let seed = 0; seed < 20; seed++) {
      const train = generateDataset({ n: 6, L: 5, d: 64, seed, fillers: 'repeat' });
      const testSet = generateTestSet({ n: 6, L: 5, d: 64, seed });
      // the first sample of both is drawn first from their stream; equal rows would mean a shared stream
      expect(row(testSet, 0), `seed ${seed}`).not.toEqual(row(train, 0));
      expect(Array.from(testSet.tokens)).not.toEqual(Array.from(train.tokens));
    }
    // generateDataset's output is byte-identical to what it was before test sets existed
    expect(digest(generateDataset({ n: 60, L: 5, d: 64, seed: 0, fillers: 'repeat' }))).toBe('3af1c021e8b5fc7426d92ffd86e55300');
    expect(digest(generateDataset({ n: 24, L: 6, d: 96, seed: 1, fillers: 'distinct' }))).toBe('3e27310afcb2aa9370771cb9e1d7a24a');
  });

  test('the documented draw order on the stream test:${seed} reproduces the set (and the training stream does not)', () => {
    // per sample: the type from one int(6), a shuffle of the L positions, then a partial
    // Fisher-Yates over the filler pool for the fillers, written in the shuffled positions
    const replay = (stream: string, n: number, L: number, d: number): Int32Array => {
      const rng = new Rng(stream);
      const out = new Int32Array(n * L);
      const pool = Array.from({ length: d - 3 }, (_, i) => i + 3);
      const pos = Int32Array.from({ length: L }, (_, i) => i);
      for (let i = 0; i < n; i++) {
        const roll = rng.int(6);
        const t = roll < 3 ? 1 : roll - 1;
        const special = [2, ...(t === 1 || t === 2 ? [0] : []), ...(t === 1 || t === 3 ? [1] : [])];
        rng.shuffle(pos);
        special.forEach((tok, s) => (out[i * L + pos[s]] = tok));
        for (let s = special.length; s < L; s++) {
          const j = s - special.length;
          const pick = j + rng.int(pool.length - j);
          [pool[j], pool[pick]] = [pool[pick], pool[j]];
          out[i * L + pos[s]] = pool[j];
        }
      }
      return out;
    };
    const data = generateTestSet({ n: 300, L: 6, d: 30, seed: 4 });
    expect(Array.from(replay('test:4', 300, 6, 30))).toEqual(Array.from(data.tokens));
    expect(Array.from(replay('data:4', 300, 6, 30))).not.toEqual(Array.from(data.tokens));
  });

  test('any n >= 1 (no multiple of 6 needed); bad input is a UsageError naming --test-n', () => {
    expect(generateTestSet({ n: 1, L: 5, d: 64, seed: 0 }).n).toBe(1);
    expect(generateTestSet({ n: 7, L: 5, d: 64, seed: 0 }).n).toBe(7);
    for (const n of [0, -3, 1.5, NaN]) {
      expect(() => generateTestSet({ n, L: 5, d: 64, seed: 0 })).toThrow(UsageError);
      expect(() => generateTestSet({ n, L: 5, d: 64, seed: 0 })).toThrow(/^--test-n must be a positive integer/);
    }
    expect(() => generateTestSet({ n: 10, L: 5, d: 6, seed: 0 })).toThrow(/--test-n needs d >= L \+ 2 = 7/);
    expect(() => generateTestSet({ n: 10, L: 2, d: 64, seed: 0 })).toThrow(/^L must be an integer >= 3/);
    expect(() => generateTestSet({ n: 10, L: 5, d: 64, seed: 0.5 })).toThrow(/^seed must be an integer/);
  });
});

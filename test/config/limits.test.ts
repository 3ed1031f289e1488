/** The size limits of src/config/limits.ts at their boundaries: one past is refused, the boundary accepted. */
import { describe, expect, it } from 'vitest';
import {
  checkDataLimits,
  checkGradLimits,
  checkInitLimits,
  checkRunLimits,
  gramTokensBound,
  MAX_ARRAY_ENTRIES,
  MAX_MEMORY_BYTES,
  MAX_NPZ_BYTES,
  RunShape,
  runMemoryEstimate,
} from '../../src/config/limits.js';
import { UsageError } from '../../src/errors.js';

const F: RunShape = {
  n: 24, L: 6, d: 96, m: 128, m1: 64, fillers: 'distinct', level: 'full', init: 'gaussian', method: 'dopri5',
  samples: 200, testN: 0, snapshots: 0, dataFromFile: false, paramsFromFile: false,
};

describe('limits', () => {
  it('data: n*L entries and the .npz size', () => {
    expect(() => checkDataLimits({ n: MAX_ARRAY_ENTRIES, L: 3, d: 64 })).toThrow(/data: the tokens array \(n\*L = 2147483647\*3\) would be 6442450941 entries/);
    // .npz: 4 n L + 12 n + 1 KiB <= 2^31 - 1 at L = 4: n <= (2^31 - 1 - 1024) / 28
    const nMax = Math.floor((MAX_NPZ_BYTES - 1024) / 28);
    expect(() => checkDataLimits({ n: nMax + 1, L: 4, d: 64 })).toThrow(/data: the \.npz file .* above the 2 GiB coflow can write or read as one \.npz file; lower --n or --L/);
    expect(() => checkDataLimits({ n: nMax, L: 4, d: 64 })).not.toThrow();
  });

  it('init: each weight matrix in one array, the .npz size', () => {
    expect(() => checkInitLimits({ m: 2 ** 16, m1: 2 ** 15, d: 4 })).toThrow(/W \(m1\*m = 32768\*65536\) would be 2147483648 entries/);
    expect(() => checkInitLimits({ m: 2 ** 16, m1: 1, d: 2 ** 15 })).toThrow(/W_Q \(m\*d = 65536\*32768\) would be 2147483648 entries/);
    // 8 (3 m d + m1 m + m1) + 1 KiB <= 2^31 - 1 at m1 = 1, d = 1: 8 (4 m + 1) <= ...
    const mMax = Math.floor(((MAX_NPZ_BYTES - 1024) / 8 - 1) / 4);
    expect(() => checkInitLimits({ m: mMax + 1, m1: 1, d: 1 })).toThrow(/init: the \.npz file/);
    expect(() => checkInitLimits({ m: mMax, m1: 1, d: 1 })).not.toThrow();
  });

  it('grad: the pair table and the gradient file from the files\' shapes', () => {
    expect(() => checkGradLimits({ n: 2 ** 21, L: 32, d: 64, m: 4, m1: 4 })).toThrow(/grad: the pair table \(n\*L\*L = 2097152\*32\*32\) would be 2147483648 entries/);
    expect(() => checkGradLimits({ n: 60, L: 5, d: 64, m: 128, m1: 256 })).not.toThrow();
  });

  it('run: the weights Level F (and Level G from gaussian/orthogonal) form, at one array (2^31 - 1)', () => {
    // 3 m d + m1 m = m (3 d + m1); d = 96, m1 = 64: m (352)
    const mMax = Math.floor(MAX_ARRAY_ENTRIES / 352);
    expect(() => checkRunLimits({ ...F, m: mMax + 1 })).toThrow(
      /^--m 6100806 --m1 64 means 2147483712 weights, above the 2147483647 \(2\^31 - 1\) entries coflow allows in one array; lower --m, --m1 or --d, or use --level gram --init wishart \(or mean\), which never forms them$/,
    );
    // at the boundary the weights pass, and final.npz (8 bytes per state value) is refused
    expect(() => checkRunLimits({ ...F, m: mMax })).toThrow(/^run: final\.npz \(8 bytes per state value\) would be 16\.0 GiB, above the 2 GiB coflow can write or read as one \.npz file/);
    expect(() => checkRunLimits({ ...F, level: 'gram', init: 'orthogonal', m: mMax + 1 })).toThrow(/means 2147483712 weights, .*; use --level gram --init wishart/);
    expect(() => checkRunLimits({ ...F, level: 'gram', init: 'wishart', m: mMax + 1, samples: 2 })).not.toThrow();
    expect(() => checkRunLimits({ ...F, paramsFromFile: true, level: 'gram', m: mMax + 1, samples: 2 })).not.toThrow();
    // no limit from the kernels' memory: 2^24 + 160 weights (refused while the integrator's
    // WebAssembly memory capped them) and 8 million are accepted, their vectors inside 8 GiB
    for (const m of [Math.floor(2 ** 24 / 352) + 1, 22728]) expect(() => checkRunLimits({ ...F, m, samples: 2 }), `m = ${m}`).not.toThrow();
  });

  it('run: Level G tokens bound, state entries, memory estimate (no limit from the kernels\' memory)', () => {
    expect(gramTokensBound({ ...F, level: 'gram' })).toBe(3 + (24 * 11) / 3);
    expect(gramTokensBound({ ...F, level: 'gram', fillers: 'repeat', d: 10 ** 6 })).toBe(3 + 24 * 5);
    expect(gramTokensBound({ ...F, level: 'gram', testN: 100, d: 10 ** 6 })).toBe(3 + 88 + 600);
    expect(gramTokensBound({ ...F, level: 'gram', dataFromFile: true, d: 50 })).toBe(50);
    const G = (k: number, method: RunShape['method']): RunShape => ({ ...F, level: 'gram', init: 'mean', fillers: 'repeat', n: 6 * k, L: 3, d: k, method });
    // dopri5 was refused from 13 * 8 * (4k^2 + k + 1) > 2^31 (its vectors in one WebAssembly
    // memory); above that cap they are plain arrays now, and only the memory estimate binds
    let kOld = 1;
    while (13 * 8 * (4 * (kOld + 1) ** 2 + kOld + 2) <= 2 ** 31) kOld++;
    expect(kOld).toBe(2271);
    expect(() => checkRunLimits({ ...G(kOld + 1, 'dopri5'), samples: 2 })).not.toThrow();
    expect(() => checkRunLimits({ ...G(3000, 'dopri5'), samples: 2 })).not.toThrow();
    expect(() => checkRunLimits(G(4000, 'dopri5'))).toThrow(/run: these settings need about [\d.]+ GiB of memory \(mostly 20 vectors of the 64004001-value state \(dopri5 at Level G\)/);
    // GD: the memory estimate binds first
    expect(() => checkRunLimits(G(7000, 'gd'))).toThrow(/run: these settings need about [\d.]+ GiB of memory \(mostly 10 vectors of the 196007001-value state/);
    expect(runMemoryEstimate(G(7000, 'gd')).total).toBeGreaterThan(MAX_MEMORY_BYTES);
    expect(runMemoryEstimate(G(4000, 'gd')).total).toBeLessThan(MAX_MEMORY_BYTES);
    expect(() => checkRunLimits({ ...G(4000, 'gd'), samples: 2 })).not.toThrow();
    expect(() => checkRunLimits(G(30000, 'gd'))).toThrow(/the state \(3600030001 values\) would be 3600030001 entries/);
  });

  it('run: odex keeps a state per row; more rows are refused, fewer accepted', () => {
    const odex = { ...F, method: 'odex' as const, m: 1000 };
    expect(() => checkRunLimits({ ...odex, samples: 100000 })).toThrow(/mostly the states odex keeps, one per recorded row/);
    expect(() => checkRunLimits({ ...odex, samples: 200 })).not.toThrow();
  });

  it('refusals are UsageErrors on one line', () => {
    try {
      checkRunLimits({ ...F, n: 6 * 10 ** 6, L: 30, fillers: 'repeat', m: 4, m1: 4, d: 1000 });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(UsageError);
      expect((e as Error).message).toMatch(/^run: the pair table \(n\*L\*L = 6000000\*30\*30\) would be 5400000000 entries, above .*; lower --n or --L$/);
    }
  });
});

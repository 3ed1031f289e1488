/**
 * Interoperability with real NumPy (skipped, not passed, when `python3 -c "import numpy"`
 * fails). Oracles: numpy.load's view of our files (dtype, shape, SHA-256 of the C-order
 * little-endian bytes), Python's zipfile CRC check, numpy.save's own bytes for the same array,
 * and files written by numpy.savez / numpy.savez_compressed read back here.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateDataset } from '../../src/data/generate.js';
import { UsageError } from '../../src/errors.js';
import { readDatasetNpz, readParamsNpz, writeDatasetNpz, writeParamsNpz } from '../../src/io/files.js';
import { f8Array, i4Array, type NpyArray } from '../../src/io/npy.js';
import { readNpz, writeNpz } from '../../src/io/npz.js';
import { initParams } from '../../src/model/init.js';
import { errorOf, scratchDir } from './helpers.js';

// The interpreter of every Python oracle (test/oracles/python.ts); in CI a missing numpy fails this file.
import { PYTHON, requireOracle } from '../oracles/python.js';
const hasNumpy = requireOracle('NumPy interop (test/io/numpy.test.ts)', ['numpy']);

function python(script: string, args: string[]): string {
  const r = spawnSync(PYTHON, ['-c', script, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** SHA-256 of the array's values as little-endian bytes in C order (what arr.tobytes() gives for '<' dtypes). */
function sha(a: NpyArray): string {
  const item = a.dtype === '<f8' ? 8 : 4;
  const buf = Buffer.alloc(item * a.data.length);
  a.data.forEach((v, i) => (a.dtype === '<f8' ? buf.writeDoubleLE(v, 8 * i) : buf.writeInt32LE(v, 4 * i)));
  return createHash('sha256').update(buf).digest('hex');
}

// Prints, for every array of an .npz: key, dtype, shape, sha256(C-order bytes), and whether
// numpy.save of that array reproduces the archive member byte for byte; plus zipfile's CRC test.
const DESCRIBE_NPZ = `
import hashlib, io, json, sys, zipfile
import numpy as np
path = sys.argv[1]
out = {'testzip': zipfile.ZipFile(path).testzip(), 'arrays': {}}
with zipfile.ZipFile(path) as zf, np.load(path) as z:
    for k in z.files:
        a = z[k]
        buf = io.BytesIO(); np.save(buf, a)
        out['arrays'][k] = {'dtype': a.dtype.str, 'shape': list(a.shape),
                            'sha': hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest(),
                            'same_as_np_save': buf.getvalue() == zf.read(k + '.npy')}
print(json.dumps(out))
`;

// Writes arrays with NumPy and prints the expected hashes (int64 compared after narrowing to int32).
const WRITE_NPZ = `
import hashlib, json, sys
import numpy as np
out_stored, out_compressed, out_data = sys.argv[1:4]
rng = np.random.default_rng(12345)
arrays = {
    'M': rng.standard_normal((7, 5)),
    'v': np.array([0.0, -0.0, np.inf, -np.inf, 5e-324, 1/3]),
    'i64': np.array([[0, -3], [2147483647, -2147483648]]),
    'i32': np.arange(-5, 5, dtype=np.int32),
    'scalar': np.float64(2.75),
}
np.savez(out_stored, **arrays)
np.savez_compressed(out_compressed, **arrays)
tokens = np.array([[0, 1, 2, 7], [0, 2, 5, 6], [1, 2, 3, 4], [2, 8, 9, 10]])  # int64, no 'd' key
np.savez_compressed(out_data, tokens=tokens, y=np.array([1.0, -1, -1, -1]), type=np.array([1, 2, 3, 4], dtype=np.int32))
sha = lambda a: hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()
print(json.dumps({k: sha(a.astype('<i4') if a.dtype == np.int64 else a) for k, a in arrays.items()}))
`;

const dir = scratchDir('numpy');

describe.skipIf(!hasNumpy)('NumPy interop (python3 with numpy)', () => {
  it('numpy.load reads our params / dataset / generic files with the same dtypes, shapes and bits', () => {
    const p = initParams({ m: 4, m1: 3, d: 33, s0: 0.3, s1: 0.9, seed: 8 });
    const data = generateDataset({ n: 6, L: 5, d: 33, seed: 9, fillers: 'distinct' });
    const files: Array<[string, Record<string, NpyArray>]> = [
      [
        'params.npz',
        { WQ: f8Array(p.WQ, [4, 33]), WK: f8Array(p.WK, [4, 33]), WV: f8Array(p.WV, [4, 33]), W: f8Array(p.W, [3, 4]), a: f8Array(p.a) },
      ],
      [
        'data.npz',
        { tokens: i4Array(data.tokens, [6, 5]), y: f8Array(data.y), type: i4Array(data.type), d: i4Array(Int32Array.of(33)) },
      ],
      [
        'misc.npz',
        {
          scalar: f8Array(Float64Array.of(-0), []),
          cube: f8Array(Float64Array.from({ length: 24 }, (_, i) => i / 7), [2, 3, 4]),
          empty: f8Array(new Float64Array(0), [0]),
          special: f8Array(Float64Array.of(NaN, Infinity, -Infinity, 5e-324, -1e308)),
        },
      ],
    ];
    writeParamsNpz(join(dir, 'params.npz'), p);
    writeDatasetNpz(join(dir, 'data.npz'), data);
    writeNpz(join(dir, 'misc.npz'), files[2][1]);
    for (const [name, expected] of files) {
      const info = JSON.parse(python(DESCRIBE_NPZ, [join(dir, name)]));
      expect(info.testzip, `${name}: zipfile CRC test`).toBeNull();
      expect(Object.keys(info.arrays).sort()).toEqual(Object.keys(expected).sort());
      for (const [key, arr] of Object.entries(expected)) {
        const got = info.arrays[key];
        expect(got.dtype, `${name}/${key}`).toBe(arr.dtype);
        expect(got.shape, `${name}/${key}`).toEqual(arr.shape);
        expect(got.sha, `${name}/${key}`).toBe(sha(arr));
        expect(got.same_as_np_save, `${name}/${key}: bytes equal numpy.save's`).toBe(true);
      }
    }
  });

  it('reads files written by numpy.savez and numpy.savez_compressed (int64 narrowed to int32)', () => {
    const stored = join(dir, 'np_stored.npz');
    const compressed = join(dir, 'np_compressed.npz');
    const dataPath = join(dir, 'np_data.npz');
    const hashes: Record<string, string> = JSON.parse(python(WRITE_NPZ, [stored, compressed, dataPath]));
    for (const path of [stored, compressed]) {
      const z = readNpz(path);
      expect([...z.keys()].sort()).toEqual(Object.keys(hashes).sort());
      for (const [key, h] of Object.entries(hashes)) expect(sha(z.get(key)!), `${path}/${key}`).toBe(h);
      expect(z.get('i64')!.dtype).toBe('<i4');
      expect(z.get('M')!.shape).toEqual([7, 5]);
      expect(z.get('scalar')!.shape).toEqual([]);
    }
    // NumPy's local headers carry zip64 extra fields (force_zip64): a cut inside an entry is
    // still traced to its key.
    const bytes = readFileSync(stored);
    const cut = join(dir, 'np_cut.npz');
    writeFileSync(cut, bytes.subarray(0, bytes.indexOf(Buffer.from('M.npy')) + 200));
    expect(errorOf(() => readNpz(cut)).message).toBe(`${cut}: file truncated inside key 'M' (ZIP end record missing); re-create the file`);

    const data = readDatasetNpz(dataPath);
    expect([data.n, data.L, data.d]).toEqual([4, 4, 11]); // no 'd' key: max token 10 + 1
    expect(Array.from(data.tokens.subarray(0, 4))).toEqual([0, 1, 2, 7]);
  });

  it("reads NumPy's big-endian and Fortran-order arrays into C order; rejects float32 naming the key", () => {
    const path = join(dir, 'np_orders.npz');
    const expected: Record<string, number[]> = JSON.parse(
      python(
        `import json, sys, numpy as np
a = np.arange(6, dtype=np.float64).reshape(2, 3) / 7
arrays = {'be': a.astype('>f8'), 'fo': np.asfortranarray(a), 't': a.T, 'both': np.asfortranarray(a).astype('>f8', order='F'),
          'i': np.asfortranarray(np.arange(-3, 3).reshape(3, 2)).astype('>i4', order='F'), 'l': np.asfortranarray(np.arange(-4, 4).reshape(2, 2, 2))}
np.savez(sys.argv[1], **arrays)
print(json.dumps({k: [float(x) for x in np.ascontiguousarray(v).ravel()] for k, v in arrays.items()}))`,
        [path],
      ),
    );
    const z = readNpz(path);
    const headers = new TextDecoder('latin1').decode(readFileSync(path));
    expect(headers).toMatch(/'descr': '>f8', 'fortran_order': True/); // NumPy really wrote both variants
    for (const [key, values] of Object.entries(expected)) {
      expect(Array.from(z.get(key)!.data), key).toEqual(values);
    }
    expect(z.get('t')!.shape).toEqual([3, 2]);
    expect(z.get('l')!.shape).toEqual([2, 2, 2]);
    expect(z.get('i')!.descr).toBe('>i4');

    python(`import sys, numpy as np\nnp.savez(sys.argv[1], WQ=np.ones((2, 3), dtype='<f4'), WK=np.ones((2, 3)))`, [path]);
    const e = errorOf(() => readParamsNpz(path));
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toMatch(/key 'WQ': unsupported dtype '<f4' \(float32\); save it as float64 with a\.astype\(np\.float64\)/);
    expect(e.message.startsWith(path)).toBe(true);
  });
});

/** Reading .npz shapes from headers only (src/config/npzShape.ts), against the full readers. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { peekDataDims, peekNpz, peekParamDims } from '../../src/config/npzShape.js';
import { generateDataset } from '../../src/data/generate.js';
import { writeDatasetNpz, writeParamsNpz } from '../../src/io/files.js';
import { initParams } from '../../src/model/init.js';
import { encodeNpy, f8Array } from '../../src/io/npy.js';
import { buildStoredZip } from '../../src/io/zip.js';

describe('peekNpz', () => {
  const dir = mkdtempSync(join(tmpdir(), 'coflow-peek-'));

  it('gives n, L, d of a data file and m, m1, d of a parameter file', () => {
    const D = join(dir, 'D.npz');
    writeDatasetNpz(D, generateDataset({ n: 12, L: 5, d: 70, seed: 0, fillers: 'repeat' }));
    expect(peekDataDims(D)).toEqual({ n: 12, L: 5, d: 70 });
    const P = join(dir, 'P.npz');
    writeParamsNpz(P, initParams({ m: 7, m1: 3, d: 11, s0: 1, s1: 1, seed: 0 }));
    expect(peekParamDims(P)).toEqual({ m: 7, m1: 3, d: 11 });
    expect(peekDataDims(P)).toBeNull();
    expect(peekParamDims(D)).toBeNull();
  });

  it('gives null for what it cannot read (missing, not a zip, compressed entries, odd headers); the full reader reports those', () => {
    expect(peekNpz(join(dir, 'missing.npz'))).toBeNull();
    writeFileSync(join(dir, 'junk.npz'), 'not a zip at all');
    expect(peekNpz(join(dir, 'junk.npz'))).toBeNull();
    const stored = buildStoredZip([{ name: 'x.npy', data: encodeNpy(f8Array(new Float64Array(6), [2, 3])) }]);
    writeFileSync(join(dir, 'ok.npz'), stored);
    expect(peekNpz(join(dir, 'ok.npz'))?.get('x')?.shape).toEqual([2, 3]);
    // the same entry deflated: method 8 in the directory
    const bytes = Buffer.from(stored);
    const cd = bytes.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    bytes.writeUInt16LE(8, cd + 10);
    writeFileSync(join(dir, 'deflated.npz'), bytes);
    expect(peekNpz(join(dir, 'deflated.npz'))).toBeNull();
  });
});

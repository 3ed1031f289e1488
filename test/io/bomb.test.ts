/**
 * Deflate bombs: a member whose .npy header declares shape (60, 5) float64 (2528 bytes) but
 * whose DEFLATE stream inflates to 1.5 GiB. The stream is built cheaply (about 1.6 MB: one
 * compressed 1 MiB zero block repeated 1536 times, see helpers.zeroBombStream), and the
 * reader must refuse it after inflating no more than the declared size: in well under a
 * second and without a large allocation. This file runs in its own process (vitest forks),
 * so the peak-RSS baseline is not raised by other tests.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { crc32 } from '../../src/io/crc32.js';
import { UsageError } from '../../src/errors.js';
import { decodeNpz, readNpz } from '../../src/io/npz.js';
import { bounded, buildZip, concatBytes, npyDict, npyImage, scratchDir, zeroBombStream } from './helpers.js';

const HEADER = npyImage(npyDict('<f8', [60, 5]), new Uint8Array(0)); // the 128-byte header alone
const DECLARED = HEADER.length + 60 * 5 * 8; // 2528
const BOMB_MIB = 1536; // 1.5 GiB of zeros after the header
const TRUE_SIZE = HEADER.length + BOMB_MIB * 2 ** 20;

/** One-member .npz 'WQ' with the given DEFLATE stream and directory size / CRC. */
function npz(stream: Uint8Array, size: number, crc = 0): Uint8Array {
  return buildZip([{ name: 'WQ.npy', content: new Uint8Array(0), method: 8, stored: stream, size, crc }]).bytes;
}

const report = (label: string, r: { ms: number; peakRssMB: number; arrayBuffersMB: number }) => {
  if (process.env.COFLOW_MEASURE) {
    console.log(`[measure] ${label}: ${r.ms.toFixed(1)} ms, peak RSS +${r.peakRssMB.toFixed(1)} MB, arrayBuffers +${r.arrayBuffersMB.toFixed(1)} MB`);
  }
};

describe('deflate bomb: header says (60, 5) float64, the stream inflates to 1.5 GiB', () => {
  const stream = zeroBombStream(HEADER, BOMB_MIB);

  it('the bomb is small on disk', () => {
    expect(stream.length).toBeLessThan(2e6);
  });

  it('directory agreeing with the header: inflation stops at 2528 bytes (< 1 s, < 100 MB)', () => {
    const bytes = npz(stream, DECLARED);
    const r = bounded(() => decodeNpz(bytes, 'bomb.npz'));
    report('bomb, directory = header', r);
    expect(r.error).toBeInstanceOf(UsageError);
    expect((r.error as Error).message).toBe(
      "bomb.npz: key 'WQ': inflates to more than the 2528 bytes its .npy header declares (a decompression bomb or a corrupted file); inflation stopped there; re-create the file",
    );
    expect(r.ms).toBeLessThan(1000);
    expect(r.peakRssMB).toBeLessThan(100);
    expect(r.arrayBuffersMB).toBeLessThan(100);
  });

  it('directory declaring the true 1.5 GiB: refused from the header, before inflating', () => {
    const bytes = npz(stream, TRUE_SIZE);
    const r = bounded(() => decodeNpz(bytes, 'bomb.npz'));
    report('bomb, directory = true size', r);
    expect(r.error).toBeInstanceOf(UsageError);
    expect((r.error as Error).message).toBe(
      `bomb.npz: key 'WQ': its .npy header declares shape (60, 5) float64 ('<f8'), 2528 bytes in all, but the ZIP directory says ${TRUE_SIZE} bytes; re-create the file`,
    );
    expect(r.ms).toBeLessThan(1000);
    expect(r.peakRssMB).toBeLessThan(100);
  });

  it('an honest header declaring 1.5 GiB is refused by a lower cap, from the header alone', () => {
    const bigHeader = npyImage(npyDict('<f8', [BOMB_MIB * 2 ** 17]), new Uint8Array(0));
    const honest = zeroBombStream(bigHeader, BOMB_MIB);
    const cap = { maxMemberBytes: 64 * 2 ** 20 };
    // directory honest: refused from the directory
    let r = bounded(() => decodeNpz(npz(honest, bigHeader.length + BOMB_MIB * 2 ** 20), 'big.npz', cap));
    expect((r.error as Error).message).toMatch(/^big\.npz: key 'WQ': declares 1610612864 bytes, more than the 67108864 accepted per member/);
    // directory lying small: refused from the .npy header
    r = bounded(() => decodeNpz(npz(honest, 1000), 'big.npz', cap));
    expect((r.error as Error).message).toMatch(/^big\.npz: key 'WQ': shape \(201326592,\) of float64 \('<f8'\) needs 1610612864 bytes, more than the 67108864 bytes \(64 MiB\) accepted per array/);
    expect(r.ms).toBeLessThan(1000);
    expect(r.peakRssMB).toBeLessThan(100);
  });

  it('read from a file, the same refusal', () => {
    const path = join(scratchDir('bomb'), 'bomb.npz');
    writeFileSync(path, npz(stream, DECLARED));
    const r = bounded(() => readNpz(path));
    expect((r.error as Error).message).toMatch(/key 'WQ': inflates to more than the 2528 bytes/);
    expect(r.ms).toBeLessThan(1000);
    expect(r.peakRssMB).toBeLessThan(100);
  });

  it('negative control: the same construction with the declared 2400 zero bytes reads fine', () => {
    const content = concatBytes([HEADER, new Uint8Array(2400)]);
    const ok = zeroBombStream(HEADER, 0, 2400);
    const z = decodeNpz(npz(ok, DECLARED, crc32(content)), 'ok.npz');
    const a = z.get('WQ')!;
    expect(a.shape).toEqual([60, 5]);
    expect(a.data.length).toBe(300);
    expect(a.data.every((v) => v === 0)).toBe(true);
    // and one MiB of zeros too many is refused: the check is the size, not the construction
    const over = zeroBombStream(HEADER, 1, 2400);
    expect(() => decodeNpz(npz(over, DECLARED, crc32(content)), 'ok.npz')).toThrow(/inflates to more than the 2528 bytes/);
  });
});

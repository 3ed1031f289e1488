/**
 * Running one block of kernel tests on both paths of every kernel family: the WebAssembly SIMD
 * kernels, and the plain arrays and loops a family falls back to above the kernel memory's cap
 * (src/wasm/memory.ts; forced here by a cap of 0 bytes). The same oracles then hold both.
 */
import { afterAll, beforeAll, describe } from 'vitest';
import { setKernelMemoryCapForTests } from '../../src/wasm/memory.js';

export type KernelPath = 'SIMD' | 'plain';

/** The path of the describeBothPaths block now running ('SIMD' outside them). */
export const kernelPath: { current: KernelPath } = { current: 'SIMD' };

/** describe(`${title} (SIMD)`, body) and describe(`${title} (plain)`, body) with the cap forced to 0. */
export function describeBothPaths(title: string, body: () => void): void {
  for (const path of ['SIMD', 'plain'] as const) {
    describe(`${title} (${path})`, () => {
      let savedCap = Infinity;
      beforeAll(() => {
        kernelPath.current = path;
        if (path === 'plain') savedCap = setKernelMemoryCapForTests(0);
      });
      afterAll(() => {
        kernelPath.current = 'SIMD';
        if (path === 'plain') setKernelMemoryCapForTests(savedCap);
      });
      body();
    });
  }
}

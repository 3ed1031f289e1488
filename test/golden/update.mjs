#!/usr/bin/env node
/**
 * Regenerates test/golden/hashes.json: builds coflow (tsc, as the test's global setup does), runs
 * the four reference runs of golden.mjs with the built CLI and writes their hashes.
 *
 *   node test/golden/update.mjs
 *
 * Only when a change of numbers is intended; say why in the commit.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { goldenFile, HASHES_FILE, ROOT, runAll, RUNS } from './golden.mjs';

execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.json')], { stdio: 'inherit' });
const base = mkdtempSync(join(tmpdir(), 'coflow-golden-'));
try {
  const done = await runAll(base);
  for (const run of RUNS) process.stdout.write(`${run.name}: ${(done[run.name].result.ms / 1000).toFixed(1)} s\n`);
  writeFileSync(HASHES_FILE, `${JSON.stringify(goldenFile(done), null, 2)}\n`);
  process.stdout.write(`wrote ${HASHES_FILE} (Node ${process.version})\n`);
} finally {
  rmSync(base, { recursive: true, force: true });
}

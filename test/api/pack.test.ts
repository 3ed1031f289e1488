/**
 * coflow as an npm package, the way a TypeScript user gets it: `npm pack`, installed into an empty
 * project with TypeScript and @types/node, and a strict program (skipLibCheck off, so every
 * declaration coflow ships is type-checked in the user's project) that imports solve, readParams,
 * readDataset and lossAndGradient from 'coflow' compiles and runs. Oracles: its lossAndGradient
 * equals what `coflow grad` (the installed package's own CLI) writes for the same files, entry for
 * entry; its solve meets its tolerance on y' = -y, whose solution is e^-t.
 *
 * The install uses npm's cache first (--prefer-offline): `npm ci` has put every dependency there.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { readGradNpz } from '../../src/io/files.js';
import { tmp } from '../cli/helpers.js';

const ROOT = process.cwd();
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const project = tmp('coflow-consumer-');
const pkgDir = tmp('coflow-pack-');

const MAIN = `import { writeFileSync } from 'node:fs';
import { lossAndGradient, readDataset, readParams, solve } from 'coflow';

const [paramsPath, dataPath, outPath] = process.argv.slice(2);
const g = lossAndGradient(readParams(paramsPath), readDataset(dataPath));
const r = solve((_t, y, dydt) => { dydt[0] = -y[0]; }, [0, 5], [1], { rtol: 1e-8, atol: 1e-12, tEval: [1, 5] });
writeFileSync(outPath, JSON.stringify({
  loss: g.loss, F: Array.from(g.F), dWQ: Array.from(g.dWQ), dWK: Array.from(g.dWK), dWV: Array.from(g.dWV), dW: Array.from(g.dW),
  status: r.status, t: Array.from(r.t), y: r.y.map((v) => v[0]),
}));
`;

const TSCONFIG = {
  compilerOptions: { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', skipLibCheck: false, types: ['node'], outDir: 'out', noEmitOnError: true },
  include: ['main.ts'],
};

function sh(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

beforeAll(() => {
  // dist/ is fresh (the global setup built it), so pack without running prepare again.
  sh(NPM, ['pack', '--ignore-scripts', '--pack-destination', pkgDir], ROOT);
  const tgz = readdirSync(pkgDir).find((f) => f.endsWith('.tgz'))!;
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(TSCONFIG));
  writeFileSync(join(project, 'main.ts'), MAIN);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
  sh(NPM, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', join(pkgDir, tgz), `typescript@${pkg.devDependencies.typescript}`, `@types/node@${pkg.devDependencies['@types/node']}`], project);
}, 300_000);

describe('npm pack, installed into an empty project', () => {
  test('a strict TypeScript program importing solve, readParams, readDataset, lossAndGradient compiles', () => {
    const r = spawnSync(process.execPath, [join(project, 'node_modules/typescript/bin/tsc'), '-p', '.'], { cwd: project, encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  }, 120_000);

  test('it runs: lossAndGradient equals coflow grad on the same files, and solve meets its tolerance', () => {
    const cli = join(project, 'node_modules/coflow/dist/src/cli/main.js');
    for (const args of [['data', '--preset', 'paper-fig1', '--out', 'd.npz'], ['init', '--preset', 'paper-fig1', '--out', 'p.npz'], ['grad', '--params', 'p.npz', '--data', 'd.npz', '--out', 'g.npz']]) {
      execFileSync(process.execPath, [cli, ...args], { cwd: project, stdio: 'pipe' });
    }
    sh(process.execPath, [join(project, 'out/main.js'), 'p.npz', 'd.npz', 'r.json'], project);
    const r = JSON.parse(readFileSync(join(project, 'r.json'), 'utf8')) as Record<string, number[] | number | string>;
    const ref = readGradNpz(join(project, 'g.npz'));
    expect(r.loss).toBe(ref.loss);
    // JSON keeps every float64 exactly (shortest round-trip decimals).
    expect(r.F).toEqual(Array.from(ref.F));
    expect(r.dWQ).toEqual(Array.from(ref.grad.dWQ));
    expect(r.dWK).toEqual(Array.from(ref.grad.dWK));
    expect(r.dWV).toEqual(Array.from(ref.grad.dWV));
    expect(r.dW).toEqual(Array.from(ref.grad.dW));
    expect((r.dWQ as number[]).some((x) => x !== 0)).toBe(true);
    expect(r.status).toBe('success');
    expect(r.t).toEqual([1, 5]);
    // Local error control at rtol 1e-8: the global error stays within a few tolerance units.
    (r.y as number[]).forEach((y, i) => {
      const exact = Math.exp(-(r.t as number[])[i]);
      expect(Math.abs(y - exact)).toBeLessThan(10 * (1e-8 * exact + 1e-12));
    });
  }, 120_000);
});

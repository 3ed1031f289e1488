import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { coflowChild, sleep, tmp, waitFor } from '../cli/helpers.js';
import { jsonl, parseCsv, read, SMALL_SPEC, sweep, writeSpec } from './helpers.js';

const OUTPUTS = ['results.csv', 'results.jsonl', 'fits.json'];

function same(a: string, b: string): string[] {
  return OUTPUTS.filter((f) => !read(a, f).equals(read(b, f)));
}

describe('coflow sweep through the CLI', () => {
  const spec = writeSpec(SMALL_SPEC);
  const root = tmp('coflow-sweep-');
  const one = join(root, 'w1');
  const two = join(root, 'w2');

  it('--workers 1 and --workers 2 give byte-identical results.csv, results.jsonl and fits.json', () => {
    const a = sweep(['--spec', spec, '--workers', '1', '--out', one]);
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    expect(a.stdout).toMatch(/6 points and their references; 9 run directories: 9 ran/);
    expect(a.stdout).toMatch(/T1_vs_m: exponent -?\d/);
    const b = sweep(['--spec', spec, '--workers', '2', '--out', two, '--no-plots']);
    expect(b.code).toBe(0);
    expect(same(one, two)).toEqual([]);
    // one directory per point and per distinct reference (seed fixed to 0: one per m)
    expect(readdirSync(join(one, 'runs')).sort()).toEqual(['m=128,seed=0', 'm=128,seed=1', 'm=256,seed=0', 'm=256,seed=1', 'm=512,seed=0', 'm=512,seed=1']);
    expect(readdirSync(join(one, 'refs')).sort()).toEqual(['m=128,seed=0', 'm=256,seed=0', 'm=512,seed=0']);
    // both worker threads took part in the two-worker sweep (timing.csv names them)
    const workers = new Set(parseCsv(read(two, 'timing.csv').toString()).map((r) => r.worker));
    expect(workers.size).toBe(2);
    // figures: written by default, not with --no-plots
    for (const f of ['fit_T1_vs_m', 'fit_gap_vs_m', 'fit_C12_vs_m']) {
      expect(existsSync(join(one, `${f}.png`)) && existsSync(join(one, `${f}.svg`))).toBe(true);
      expect(existsSync(join(two, `${f}.png`))).toBe(false);
    }
    // a run directory is an ordinary coflow run, checked
    for (const f of ['config.json', 'trajectory.csv', 'summary.json', 'final.npz', 'claims.json']) expect(existsSync(join(one, 'runs', 'm=256,seed=1', f))).toBe(true);
  });

  it('negative control: the byte comparison sees a changed row', () => {
    const copy = join(root, 'w1-edited');
    mkdirSync(copy);
    for (const f of OUTPUTS) writeFileSync(join(copy, f), read(one, f));
    const rows = read(one, 'results.csv').toString().split('\n');
    [rows[1], rows[2]] = [rows[2], rows[1]];
    writeFileSync(join(copy, 'results.csv'), rows.join('\n'));
    expect(same(one, copy)).toEqual(['results.csv']);
  });

  it('every result column agrees with an independent reading of the run directories (and a wrong reading does not)', () => {
    const rows = jsonl(one);
    expect(rows.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5]);
    const csv = parseCsv(read(one, 'results.csv').toString());
    let wrong = 0;
    for (const [i, r] of rows.entries()) {
      const dir = join(one, 'runs', r.name as string);
      const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
      const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
      const lines = readFileSync(join(dir, 'trajectory.csv'), 'utf8').trimEnd().split('\n');
      const head = lines[0].split(',');
      const first = lines[1].split(',').map(Number);
      const last = lines[lines.length - 1].split(',').map(Number);
      const T1 = summary.events.find((e: { name: string }) => e.name === 'all-correct').t;
      expect(r.status).toBe(summary.status);
      expect(r.T1).toBe(T1);
      expect(r.T1_m).toBe(T1 * config.settings.m);
      expect(r.final_loss).toBe(last[head.indexOf('loss')]);
      expect(r.end_G3).toBe(last[head.indexOf('G3')]);
      expect(r.G2).toBe(summary.allCorrectRow.G2);
      expect(r.score_k3_q2).toBe(summary.allCorrectRow.score_k3_q2);
      expect(r.C12).toBe(summary.allCorrectRow.C12);
      expect(r.C12_thm33).toBe(last[head.indexOf('score_k1_q2')] - first[head.indexOf('score_k1_q2')]);
      expect(r.m).toBe(config.settings.m);
      expect(r.seed).toBe(config.settings.seed);
      expect(r['t-end']).toBe(50 / config.settings.m);
      const verdicts = JSON.parse(readFileSync(join(dir, 'claims.json'), 'utf8')).claims.map((c: { verdict: string }) => c.verdict);
      expect([r.n_pass, r.n_fail, r.n_outside, r.n_not_evaluable]).toEqual(['PASS', 'FAIL', 'OUTSIDE-HYPOTHESES', 'NOT-EVALUABLE'].map((v) => verdicts.filter((x: string) => x === v).length));
      // gap: max over common times of max_i |G_i - G_i^ref|, recomputed from the two CSV files' text
      const ref = readFileSync(join(one, 'refs', r.ref_name as string, 'trajectory.csv'), 'utf8').trimEnd().split('\n');
      const refByT = new Map(ref.slice(1).map((l) => [l.split(',')[0], l.split(',').map(Number)]));
      let gap = 0;
      for (const l of lines.slice(1)) {
        const v = l.split(',');
        const w = refByT.get(v[0]);
        if (w) for (const c of ['G1', 'G2', 'G3']) gap = Math.max(gap, Math.abs(Number(v[head.indexOf(c)]) - w[head.indexOf(c)]));
      }
      expect(r.gap).toBe(gap);
      expect(r.ref_T1).toBe(JSON.parse(readFileSync(join(one, 'refs', r.ref_name as string, 'summary.json'), 'utf8')).events.find((e: { name: string }) => e.name === 'all-correct').t);
      // results.csv holds the same values as results.jsonl
      for (const c of ['T1', 'final_loss', 'gap', 'C12_thm33', 'n_outside']) expect(Number(csv[i][c])).toBe(r[c]);
      // negative control: a wrong reading (the second-to-last row; another event's time) disagrees
      if (r.final_loss !== Number(lines[lines.length - 2].split(',')[head.indexOf('loss')])) wrong++;
      if (r.T1 !== summary.events.find((e: { name: string }) => e.name !== 'all-correct')?.t) wrong++;
    }
    expect(wrong).toBe(2 * rows.length);
  });

  it('a rerun skips finished runs (not rerun: timing.csv and mtimes) and redoes deleted or half-written ones, with byte-identical results', () => {
    const dir = join(root, 'resume');
    expect(sweep(['--spec', spec, '--out', dir, '--no-plots']).code).toBe(0);
    const keep = join(dir, 'runs', 'm=128,seed=0', 'summary.json');
    const mtime = statSync(keep).mtimeMs;
    rmSync(join(dir, 'runs', 'm=256,seed=1'), { recursive: true });
    rmSync(join(dir, 'runs', 'm=512,seed=0', 'summary.json')); // half-written: config.json but no summary
    rmSync(join(dir, 'runs', 'm=512,seed=1', 'claims.json')); // the check only
    rmSync(join(dir, 'runs', 'm=256,seed=0', 'claims.md')); // killed between the two reports
    // what a sweep killed while writing the reports leaves: temp files of a process now gone
    const stale = ['claims.json.tmp-4194303', 'claims.md.tmp-4194303'];
    for (const name of ['m=512,seed=1', 'm=256,seed=0']) for (const f of stale) writeFileSync(join(dir, 'runs', name, f), 'partial');
    rmSync(join(dir, 'results.csv'));
    const r = sweep(['--spec', spec, '--out', dir, '--no-plots']);
    expect(r.code).toBe(0);
    const timing = parseCsv(read(dir, 'timing.csv').toString());
    const action = Object.fromEntries(timing.map((t) => [`${t.kind}:${t.name}`, t.action]));
    expect(action).toEqual({
      'point:m=128,seed=0': 'skipped',
      'point:m=128,seed=1': 'skipped',
      'point:m=256,seed=0': 'checked',
      'point:m=256,seed=1': 'ran',
      'point:m=512,seed=0': 'redone',
      'point:m=512,seed=1': 'checked',
      'ref:m=128,seed=0': 'skipped',
      'ref:m=256,seed=0': 'skipped',
      'ref:m=512,seed=0': 'skipped',
    });
    expect(statSync(keep).mtimeMs).toBe(mtime);
    expect(same(one, dir)).toEqual([]);
    for (const name of ['m=512,seed=1', 'm=256,seed=0']) {
      const files = readdirSync(join(dir, 'runs', name));
      expect(files.filter((f) => f.includes('.tmp-'))).toEqual([]);
      expect(files).toEqual(expect.arrayContaining(['claims.json', 'claims.md']));
      // the reports are the ones the first sweep wrote (the check is deterministic)
      expect(read(join(dir, 'runs', name), 'claims.md').equals(read(join(one, 'runs', name), 'claims.md'))).toBe(true);
    }
  });

  it('a sweep killed mid-run, then rerun, gives the results of an uninterrupted sweep; finished runs are skipped', async () => {
    const dir = join(root, 'killed');
    const { child, done } = coflowChild(['sweep', '--quiet', '--no-plots', '--workers', '1', '--spec', spec, '--out', dir]);
    // With one worker the runs go in grid order: once the third point has started, the first two are finished.
    await waitFor(join(dir, 'runs', 'm=256,seed=0', 'config.json'), 60_000);
    await sleep(40); // into the third run (a few hundred ms long)
    child.kill('SIGKILL');
    await done;
    expect(existsSync(join(dir, 'results.csv'))).toBe(false);
    const finished = readdirSync(join(dir, 'runs')).filter((n) => existsSync(join(dir, 'runs', n, 'claims.json')));
    expect(finished.length).toBeGreaterThanOrEqual(2);
    const r = sweep(['--spec', spec, '--out', dir, '--no-plots']);
    expect(r.code).toBe(0);
    const timing = parseCsv(read(dir, 'timing.csv').toString());
    for (const n of finished) expect(timing.find((t) => t.kind === 'point' && t.name === n)!.action).toBe('skipped');
    expect(timing.filter((t) => t.action === 'redone').length + timing.filter((t) => t.action === 'ran').length).toBeGreaterThan(0);
    expect(same(one, dir)).toEqual([]);
    expect(readdirSync(join(dir, 'runs', 'm=256,seed=0')).filter((f) => /\.tmp-|^checkpoint\.|run\.lock/.test(f))).toEqual([]);
  });

  it('shards 0/2 and 1/2, merged, equal the unsharded sweep byte for byte', () => {
    const s0 = join(root, 'shard0');
    const s1 = join(root, 'shard1');
    expect(sweep(['--spec', spec, '--shard', '0/2', '--out', s0, '--no-plots']).code).toBe(0);
    expect(sweep(['--spec', spec, '--shard', '1/2', '--out', s1, '--no-plots']).code).toBe(0);
    expect(jsonl(s0).map((r) => r.index)).toEqual([0, 2, 4]);
    expect(jsonl(s1).map((r) => r.index)).toEqual([1, 3, 5]);
    const merged = join(root, 'merged');
    const m = sweep(['--merge', s1, s0, '--out', merged]);
    expect(m.stderr).toBe('');
    expect(m.code).toBe(0);
    expect(same(one, merged)).toEqual([]);
    expect(read(one, 'sweep.json').equals(read(merged, 'sweep.json'))).toBe(true);
    expect(existsSync(join(merged, 'fit_T1_vs_m.png'))).toBe(true);
    // the merged directory is a complete sweep: running its spec there runs nothing
    const again = sweep(['--spec', spec, '--out', merged, '--no-plots']);
    expect(again.stdout).toMatch(/0 ran, 0 redone, 0 checked, 9 skipped/);

    // refused, one line, exit 2, nothing written
    const refusedMerge = (dirs: string[], pattern: RegExp) => {
      const out = join(root, `bad-merge-${Math.random().toString(36).slice(2)}`);
      const r = sweep(['--merge', ...dirs, '--out', out]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(pattern);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(existsSync(out)).toBe(false);
    };
    refusedMerge([s0], /3 of 6 points are in none of the shards \(m=128,seed=1; m=256,seed=1; m=512,seed=1\)/);
    refusedMerge([s0, s1, one], /point m=128,seed=0 is in both .*shard0 and .*w1 \(overlapping shards\)/);
    const otherSpec = writeSpec({ ...SMALL_SPEC, grid: { m: [128, 256, 512], seed: [0, 2] } });
    const other = join(root, 'other-shard1');
    expect(sweep(['--spec', otherSpec, '--shard', '1/2', '--out', other, '--no-plots']).code).toBe(0);
    refusedMerge([s0, other], /is a sweep of another spec than .*shard0/);
    refusedMerge([s0, join(root, 'nowhere')], /no such directory/);
  });

  it('a bad point refuses the whole spec before anything is written (exit 2, one line)', () => {
    const bad = writeSpec({ ...SMALL_SPEC, base: { ...SMALL_SPEC.base, 't-end': '(m - 512) / m' } });
    const out = join(root, 'bad');
    const r = sweep(['--spec', bad, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^coflow: .*spec\.json point m=128,seed=0: 't-end' must be a finite number > 0 \(got -3\)\n$/);
    expect(existsSync(out)).toBe(false);
    const typo = writeSpec({ ...SMALL_SPEC, grid: { m: [128], seeds: [0] } });
    const t = sweep(['--spec', typo, '--out', out]);
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(/unknown key 'grid\.seeds' \(did you mean 'seed'\?\)/);
    expect(existsSync(out)).toBe(false);
    // flags: --shard, --merge with --spec, a DIR of another spec
    expect(sweep(['--spec', spec, '--shard', '2/2', '--out', out]).stderr).toMatch(/--shard must be i\/n with integers 0 <= i < n/);
    expect(sweep(['--merge', one, '--spec', spec, '--out', out]).stderr).toMatch(/--spec does not apply with --merge/);
    expect(sweep(['--out', out]).stderr).toMatch(/--spec <file.json> is required/);
    const typoSpec = writeSpec({ ...SMALL_SPEC, grid: { m: [128], seed: [5] } });
    const clash = sweep(['--spec', typoSpec, '--out', one]);
    expect(clash.code).toBe(2);
    expect(clash.stderr).toMatch(/holds a sweep of another spec/);
    expect(existsSync(out)).toBe(false);
  });

  it('a run that stops early is a result (exit 0); a run that throws is recorded with its error (exit 1)', () => {
    const dir = join(root, 'early');
    const early = writeSpec({ base: { preset: 'theory', level: 'type', init: 'mean', 't-end': 1, samples: 20, 'max-steps': 3 }, grid: { m: [128, 256] } });
    const r = sweep(['--spec', early, '--out', dir, '--no-plots']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/2 runs stopped early \(status max-steps; kept in the results\)/);
    expect(jsonl(dir).map((x) => x.status)).toEqual(['max-steps', 'max-steps']);

    // A file where a run directory belongs makes that run throw (coflow run refuses such an --out).
    const failing = join(root, 'failing');
    const spec2 = writeSpec({ base: { preset: 'theory', level: 'type', init: 'mean', 't-end': 1, samples: 20 }, grid: { m: [128, 256] } });
    expect(sweep(['--spec', spec2, '--out', failing, '--no-plots']).code).toBe(0);
    rmSync(join(failing, 'runs', 'm=256'), { recursive: true });
    writeFileSync(join(failing, 'runs', 'm=256'), 'not a directory');
    const f = sweep(['--spec', spec2, '--out', failing, '--no-plots']);
    expect(f.code).toBe(1);
    expect(f.stderr).toMatch(/coflow sweep: 1 of 2 runs failed/);
    const rows = jsonl(failing);
    expect(rows.map((x) => x.status)).toEqual(['success', 'error']);
    expect(rows[1].error).toMatch(/exists and is not a directory/);
    expect(rows[1].T1).toBeNull();
    // fixed, a rerun retries only the failed run
    rmSync(join(failing, 'runs', 'm=256'));
    const g = sweep(['--spec', spec2, '--out', failing, '--no-plots']);
    expect(g.code).toBe(0);
    expect(g.stdout).toMatch(/1 ran, 0 redone, 0 checked, 1 skipped/);
  });
});

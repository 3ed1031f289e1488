import { Command, Option } from 'commander';
import { presetNames } from '../config/presets.js';
import { resolveSettings } from '../config/resolve.js';
import { parseChoiceFlag, parseIntFlag, parseNumberFlag } from './parse.js';
import { UsageError } from '../errors.js';

/** Flags shared by every command that builds a data set or parameters from a preset. */
function settingFlags(cmd: Command): Command {
  return cmd
    .option('--preset <name>', `settings preset: ${presetNames().join(' | ')}`, 'paper-fig1')
    .option('--seed <int>', 'seed for the data set and the initialisation (default: the preset\'s)', parseIntFlag('--seed'))
    .option('--n <int>', 'number of samples (multiple of 6)', parseIntFlag('--n'))
    .option('--L <int>', 'sequence length', parseIntFlag('--L'))
    .option('--d <int>', 'vocabulary size', parseIntFlag('--d'))
    .addOption(new Option('--fillers <mode>', 'filler tokens: distinct (Assumption 2.3) or repeat (paper App. A)').argParser(parseChoiceFlag('--fillers', ['distinct', 'repeat'] as const)))
    .option('--m <int>', 'attention/value width m', parseIntFlag('--m'))
    .option('--m1 <int>', 'MLP width m1', parseIntFlag('--m1'))
    .addOption(new Option('--scale <scheme>', 'initial scales: theory (s0=1/sqrt(Lm), s1=1/sqrt(m1)) | theory-small (s0 1000x smaller, so |F(0)| is small) | kaiming (s0=sqrt(2/d), s1=sqrt(2/m))').argParser(parseChoiceFlag('--scale', ['theory', 'theory-small', 'kaiming'] as const)))
    .option('--s0 <x>', 'std of W_Q, W_K, W_V entries (overrides --scale)', parseNumberFlag('--s0'))
    .option('--s1 <x>', 'std of W entries (overrides --scale)', parseNumberFlag('--s1'));
}

export type SettingFlags = {
  preset: string;
  seed?: number;
  n?: number;
  L?: number;
  d?: number;
  fillers?: 'distinct' | 'repeat';
  m?: number;
  m1?: number;
  scale?: 'theory' | 'theory-small' | 'kaiming';
  s0?: number;
  s1?: number;
};

export function settingsFrom(flags: SettingFlags) {
  const { preset, ...rest } = flags;
  return resolveSettings(preset, rest);
}

export function registerCommands(program: Command): void {
  settingFlags(
    program
      .command('data')
      .description('build a training set (paper Def. 2.1) and write it as .npz (tokens, y, type, d)'),
  )
    .requiredOption('--out <file.npz>', 'output file')
    .action(async (opts: SettingFlags & { out: string }) => (await import('../app/files.js')).dataCommand(settingsFrom(opts), opts.out));

  settingFlags(
    program
      .command('init')
      .description('draw initial parameters (W_Q, W_K, W_V, W, a) and write them as .npz'),
  )
    .requiredOption('--out <file.npz>', 'output file')
    .action(async (opts: SettingFlags & { out: string }) => (await import('../app/files.js')).initCommand(settingsFrom(opts), opts.out));

  program
    .command('grad')
    .description('loss, per-sample outputs F and the analytic gradient at given parameters and data')
    .requiredOption('--params <file.npz>', 'parameters (WQ, WK, WV, W, a)')
    .requiredOption('--data <file.npz>', 'data set (tokens, y, type)')
    .requiredOption('--out <file.npz>', 'output: loss, F, dWQ, dWK, dWV, dW')
    .option('--check', 'also run the reverse-mode autodiff oracle and print the max relative difference')
    .action(async (opts: { params: string; data: string; out: string; check?: boolean }) =>
      (await import('../app/files.js')).gradCommand(opts.params, opts.data, opts.out, opts.check === true),
    );

  program
    .command('derive')
    .description('regenerate the derivation documents (Markdown + LaTeX) from the symbolic stage')
    .option('--out <dir>', 'directory for the documents', 'derivations')
    .option('--code <root>', 'also regenerate the Level G code (src/gram/generated) under this repository root')
    .action(async (opts: { out: string; code?: string }) => (await import('../app/derive.js')).deriveCommand(opts.out, opts.code));

  program
    .command('check')
    .description("check the paper's claims on a run directory (written by coflow run); writes claims.json and claims.md into it")
    .argument('<RUN_DIR>', 'the --out directory of a coflow run')
    .option('--strict', 'exit 1 if a claim whose hypotheses all hold FAILs')
    .addHelpText('after', '\nVerdicts: PASS, FAIL, OUTSIDE-HYPOTHESES (a needed hypothesis fails; measured anyway), NOT-EVALUABLE (the run lacks what the claim needs). See docs/claims.md.\nExit codes: 0 the check ran (whatever the verdicts), 1 with --strict and a FAIL, 2 bad input (nothing written).')
    .action(async (dir: string, opts: { strict?: boolean }) => {
      const code = (await import('../app/check.js')).checkCommand(dir, opts.strict === true);
      // main() keeps a non-zero exit code an action has set (src/cli/main.ts).
      if (code !== 0) process.exitCode = code;
    });

  program
    .command('presets')
    .description("list every preset's settings and which of the theorems' hypotheses it meets or breaks at its defaults (max|F(0)| from its own data and initial weights)")
    .option('--json', 'print the same as JSON')
    .action(async (opts: { json?: boolean }) => (await import('../app/presets.js')).presetsCommand(opts.json === true));

  settingFlags(
    program
      .command('run')
      .description('train: gradient flow (dopri5, odex) or gradient descent (gd) at level full, gram or type; writes config.json, trajectory.csv, final.npz, summary.json into --out')
      .addHelpText(
        'after',
        '\nEvery setting of the preset can be overridden by the flag of the same name.\n' +
          'Exit codes: 0 success, 2 bad input, 3 the run stopped early (non-finite values, step too small, max steps); what was computed is kept.\n' +
          'A checkpoint is written every --checkpoint-every seconds; continue a killed run with coflow run --resume DIR.',
      ),
  )
    .option('--params <file.npz>', 'start from these weights (Level F, or lifted to Level G)')
    .option('--data <file.npz>', 'use this data set instead of generating one (n, L, d come from the file)')
    .addOption(new Option('--level <level>', 'full (Level F) | gram (Level G) | type (Level T)').argParser(parseChoiceFlag('--level', ['full', 'gram', 'type'] as const)))
    .addOption(new Option('--init <start>', 'gaussian | wishart (gram) | orthogonal (full, gram) | mean (gram, type)').argParser(parseChoiceFlag('--init', ['gaussian', 'wishart', 'orthogonal', 'mean'] as const)))
    .addOption(new Option('--method <method>', 'dopri5 (ours) | gd (gradient descent) | odex (independent cross-check; restarts at every recorded row, so slow)').argParser(parseChoiceFlag('--method', ['dopri5', 'gd', 'odex'] as const)))
    .option('--t-end <t>', 'gradient flow end time', parseNumberFlag('--t-end'))
    .option('--rtol <x>', 'relative tolerance (flow)', parseNumberFlag('--rtol'))
    .option('--atol <x>', 'absolute tolerance (flow)', parseNumberFlag('--atol'))
    .option('--max-steps <int>', 'step budget of the integrator', parseIntFlag('--max-steps'))
    .addOption(new Option('--controller <kind>', 'step-size controller: I (as scipy RK45) | PI (Hairer)').argParser(parseChoiceFlag('--controller', ['I', 'PI'] as const)))
    .option('--lr <eta>', 'GD learning rate', parseNumberFlag('--lr'))
    .option('--steps <int>', 'GD steps', parseIntFlag('--steps'))
    .option('--samples <int>', 'trajectory rows (log-spaced in time, plus t = 0)', parseIntFlag('--samples'))
    .option('--test-n <int>', 'also draw a held-out test set of this size (own seed stream) and record test_loss, test_error per row (Level F, G)', parseIntFlag('--test-n'))
    .option('--snapshots <int>', 'also write the state at this many log-spaced recorded rows (snapshots/snapshot_NNN.npz)', parseIntFlag('--snapshots'))
    .option('--out <dir>', 'output directory')
    .option('--resume <dir>', 'continue the run in <dir> from its last checkpoint (other flags are ignored)')
    .option('--checkpoint-every <seconds>', 'wall seconds between checkpoints', parseNumberFlag('--checkpoint-every'), 30)
    .option('--quiet', 'no progress bar')
    .action(async (opts: SettingFlags & RunFlags) => {
      // Commands load their modules on use, so `coflow --help` starts fast.
      const { resumeCommand, runCommand } = await import('../app/run.js');
      if (!(opts.checkpointEvery > 0)) throw new UsageError(`--checkpoint-every must be > 0 (got ${opts.checkpointEvery})`);
      if (opts.resume) {
        await resumeCommand(opts.resume, opts.quiet === true, opts.checkpointEvery);
        return;
      }
      if (!opts.out) throw new UsageError('--out <dir> is required (the directory for config.json, trajectory.csv, final.npz)');
      const { params, data, out, resume, checkpointEvery, quiet, level, init, method, tEnd, rtol, atol, maxSteps, controller, lr, steps, samples, testN, snapshots, ...settingFlags } = opts;
      void resume;
      const s = resolveSettings(settingFlags.preset, {
        ...withoutPreset(settingFlags),
        level,
        init,
        method,
        tEnd,
        rtol,
        atol,
        maxSteps,
        controller,
        lr,
        steps,
        samples,
        testN,
        snapshots,
      });
      await runCommand(s, { out, paramsPath: params, dataPath: data, quiet: quiet === true, checkpointSeconds: checkpointEvery });
    });
}

type RunFlags = {
  params?: string;
  data?: string;
  level?: 'full' | 'gram' | 'type';
  init?: 'gaussian' | 'wishart' | 'orthogonal' | 'mean';
  method?: 'dopri5' | 'gd' | 'odex';
  tEnd?: number;
  rtol?: number;
  atol?: number;
  maxSteps?: number;
  controller?: 'I' | 'PI';
  lr?: number;
  steps?: number;
  samples?: number;
  testN?: number;
  snapshots?: number;
  out?: string;
  resume?: string;
  checkpointEvery: number;
  quiet?: boolean;
};

function withoutPreset(flags: SettingFlags): Omit<SettingFlags, 'preset'> {
  const { preset, ...rest } = flags;
  void preset;
  return rest;
}

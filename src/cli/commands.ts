import { Command, Option } from 'commander';
import { presetNames } from '../config/presets.js';
import { resolveSettings } from '../config/resolve.js';
import { parseChoiceFlag, parseIntFlag, parseNumberFlag } from './parse.js';
import { dataCommand, gradCommand, initCommand } from '../app/files.js';

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
    .addOption(new Option('--scale <scheme>', 'initial scales: theory (s0=1/sqrt(Lm), s1=1/sqrt(m1)) | kaiming (s0=sqrt(2/d), s1=sqrt(2/m))').argParser(parseChoiceFlag('--scale', ['theory', 'kaiming'] as const)))
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
  scale?: 'theory' | 'kaiming';
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
    .action((opts: SettingFlags & { out: string }) => dataCommand(settingsFrom(opts), opts.out));

  settingFlags(
    program
      .command('init')
      .description('draw initial parameters (W_Q, W_K, W_V, W, a) and write them as .npz'),
  )
    .requiredOption('--out <file.npz>', 'output file')
    .action((opts: SettingFlags & { out: string }) => initCommand(settingsFrom(opts), opts.out));

  program
    .command('grad')
    .description('loss, per-sample outputs F and the analytic gradient at given parameters and data')
    .requiredOption('--params <file.npz>', 'parameters (WQ, WK, WV, W, a)')
    .requiredOption('--data <file.npz>', 'data set (tokens, y, type)')
    .requiredOption('--out <file.npz>', 'output: loss, F, dWQ, dWK, dWV, dW')
    .option('--check', 'also run the reverse-mode autodiff oracle and print the max relative difference')
    .action((opts: { params: string; data: string; out: string; check?: boolean }) =>
      gradCommand(opts.params, opts.data, opts.out, opts.check === true),
    );
}

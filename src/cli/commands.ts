import { Command, Option } from 'commander';
import { presetNames } from '../config/presets.js';
import { CommandName, flagOf, Key } from '../config/keys.js';
import {
  checkDataLimits,
  checkGradLimits,
  checkInitLimits,
  DEFAULT_CHECKPOINT_SECONDS,
  MAX_ARRAY_ENTRIES,
  MAX_SAMPLES,
  MAX_SNAPSHOTS,
  MAX_STEPS,
  MAX_TEST_N,
  MAX_VOCAB,
} from '../config/limits.js';
import { getPreset } from '../config/resolve.js';
import { checkInitApplicable } from '../config/rules.js';
import { DEFAULT_PRESET, Gathered, gatherFrom, required, settingsOf } from '../config/gather.js';
import { keyParser } from './parse.js';
import { UsageError } from '../errors.js';

/**
 * The commands. Every option value is read by the parsers of src/cli/parse.ts, with the rules of
 * src/config/keys.ts that --config files share. Options have no commander defaults: a value is
 * either given (a flag, or a key of --config; flags win) or taken from the preset / the run
 * config / the defaults applied here, so the code can tell which settings the user gave.
 */

const DEFAULT_DERIVE_OUT = 'derivations';

/** A value option of a config key, parsed by its rule. */
function opt(key: Key, arg: string, description: string): Option {
  return new Option(`${flagOf(key)} <${arg}>`, description).argParser(keyParser(key));
}

const CONFIG_HELP =
  "read options from this JSON file: keys are this command's flags in camelCase (e.g. tEnd for --t-end); flags given on the command line override it (see docs/options.md)";

function configOption(cmd: Command, runConfig: boolean): Command {
  return cmd.option('--config <file.json>', runConfig ? `${CONFIG_HELP}; a run's config.json is accepted too` : CONFIG_HELP);
}

/** Flags shared by every command that builds a data set from a preset. */
function dataFlags(cmd: Command): Command {
  return cmd
    .addOption(opt('preset', 'name', `settings preset: ${presetNames().join(' | ')} (default: ${DEFAULT_PRESET})`))
    .addOption(opt('seed', 'int', "seed for the data set and the initialisation, an integer in [0, 2^53 - 1] (default: the preset's)"))
    .addOption(opt('n', 'int', 'number of samples (a multiple of 6)'))
    .addOption(opt('L', 'int', 'sequence length (>= 3)'))
    .addOption(opt('d', 'int', `vocabulary size (4 .. 2^24 = ${MAX_VOCAB})`))
    .addOption(opt('fillers', 'mode', 'filler tokens: distinct (Assumption 2.3) or repeat (paper App. A)'));
}

/** Flags of the initial weights. */
function weightFlags(cmd: Command): Command {
  return cmd
    .addOption(opt('m', 'int', 'attention/value width m'))
    .addOption(opt('m1', 'int', 'MLP width m1'))
    .addOption(opt('scale', 'scheme', 'initial scales: theory (s0=1/sqrt(Lm), s1=1/sqrt(m1)) | theory-small (s0 1000x smaller, so |F(0)| is small) | kaiming (s0=sqrt(2/d), s1=sqrt(2/m))'))
    .addOption(opt('s0', 'x', 'std of W_Q, W_K, W_V entries, > 0 (overrides --scale)'))
    .addOption(opt('s1', 'x', 'std of W entries, > 0 (overrides --scale)'));
}

/** Merges --config (if any) and the flags; flags override the file. */
async function gather(command: CommandName, opts: Record<string, unknown>): Promise<Gathered> {
  const config = typeof opts.config === 'string' ? (await import('../config/configFile.js')).readConfigFile(opts.config, command) : undefined;
  return gatherFrom(command, opts, config);
}

const LIMITS_HEAD = 'Limits (each refused at once, before anything is built; see docs/options.md):';
const DATA_LIMITS =
  `${LIMITS_HEAD}\n  --seed <= 2^53 - 1; --d <= 2^24 = ${MAX_VOCAB}; n*L <= 2^31 - 1 tokens; the .npz file (4 n L + 12 n bytes) <= 2 GiB.`;
const INIT_LIMITS =
  `${LIMITS_HEAD}\n  --seed <= 2^53 - 1; --d <= 2^24 = ${MAX_VOCAB}; m*d and m1*m <= 2^31 - 1 entries; the .npz file (8 (3 m d + m1 m + m1) bytes) <= 2 GiB.`;
const RUN_LIMITS =
  `${LIMITS_HEAD}\n` +
  `  --seed <= 2^53 - 1; --d <= 2^24 = ${MAX_VOCAB}; --n, --L, --m, --m1 <= 2^31 - 1; --samples <= ${MAX_SAMPLES}; --snapshots <= ${MAX_SNAPSHOTS} (and <= samples - 1);\n` +
  `  --test-n <= ${MAX_TEST_N}; --steps, --max-steps <= ${MAX_STEPS};\n` +
  `  no array above 2^31 - 1 = ${MAX_ARRAY_ENTRIES} entries (tokens n*L, pair table n*L*L, the state,\n` +
  '  the weights 3*m*d + m1*m when they are formed: Level F, Level G from --init gaussian or orthogonal);\n' +
  '  each .npz file <= 2 GiB; the estimated memory <= 8 GiB.';

export function registerCommands(program: Command): void {
  configOption(
    dataFlags(
      program
        .command('data')
        .description('build a training set (paper Def. 2.1) and write it as .npz (tokens, y, type, d)'),
    ),
    true,
  )
    .addOption(opt('out', 'file.npz', 'output file (required)'))
    .addHelpText('after', `\nWith a run's config.json as --config, writes that run's data.npz again (byte for byte).\n${DATA_LIMITS}`)
    .action(async (opts: Record<string, unknown>) => {
      const g = await gather('data', opts);
      const out = required(g, 'out', 'file.npz', 'the output file');
      const s = settingsOf(g, 'data', false);
      checkDataLimits(s);
      (await import('../app/files.js')).dataCommand(s, out);
    });

  configOption(
    weightFlags(
      program
        .command('init')
        .description('draw initial parameters (W_Q, W_K, W_V, W, a) and write them as .npz')
        .addOption(opt('preset', 'name', `settings preset: ${presetNames().join(' | ')} (default: ${DEFAULT_PRESET})`))
        .addOption(opt('seed', 'int', "seed of the weights, an integer in [0, 2^53 - 1] (default: the preset's)"))
        .addOption(opt('L', 'int', 'sequence length: sets s0 = 1/sqrt(L m) of --scale theory / theory-small (an error otherwise)'))
        .addOption(opt('d', 'int', `vocabulary size, the width of W_Q, W_K, W_V (4 .. 2^24 = ${MAX_VOCAB})`)),
    ),
    true,
  )
    .addOption(opt('out', 'file.npz', 'output file (required)'))
    .addHelpText('after', `\n--scale together with both --s0 and --s1 is an error (they replace its scales).\n${INIT_LIMITS}`)
    .action(async (opts: Record<string, unknown>) => {
      const g = await gather('init', opts);
      const out = required(g, 'out', 'file.npz', 'the output file');
      const s = settingsOf(g, 'init', false);
      const scheme = (g.values.scale as string | undefined) ?? g.config?.run?.settings.scale ?? getPreset((g.values.preset as string | undefined) ?? DEFAULT_PRESET).scale;
      checkInitApplicable(scheme, g.given);
      checkInitLimits(s);
      (await import('../app/files.js')).initCommand(s, out);
    });

  configOption(
    program
      .command('grad')
      .description('loss, per-sample outputs F and the analytic gradient at given parameters and data')
      .addOption(opt('params', 'file.npz', 'parameters (WQ, WK, WV, W, a) (required)'))
      .addOption(opt('data', 'file.npz', 'data set (tokens, y, type) (required)'))
      .addOption(opt('out', 'file.npz', 'output: loss, F, dWQ, dWK, dWV, dW (required)'))
      .option('--check', 'also run the reverse-mode autodiff oracle and print the max relative difference'),
    false,
  ).action(async (opts: Record<string, unknown>) => {
    const g = await gather('grad', opts);
    const params = required(g, 'params', 'file.npz', 'the parameters');
    const data = required(g, 'data', 'file.npz', 'the data set');
    const out = required(g, 'out', 'file.npz', 'the output file');
    const { peekDataDims, peekParamDims } = await import('../config/npzShape.js');
    const p = peekParamDims(params);
    const x = peekDataDims(data);
    if (p && x) checkGradLimits({ ...p, n: x.n, L: x.L });
    (await import('../app/files.js')).gradCommand(params, data, out, g.values.check === true);
  });

  configOption(
    program
      .command('derive')
      .description('regenerate the derivation documents (Markdown + LaTeX) from the symbolic stage')
      .addOption(opt('out', 'dir', `directory for the documents (default: ${DEFAULT_DERIVE_OUT})`))
      .addOption(opt('code', 'root', 'also regenerate the Level G code (src/gram/generated) under this repository root')),
    false,
  ).action(async (opts: Record<string, unknown>) => {
    const g = await gather('derive', opts);
    (await import('../app/derive.js')).deriveCommand((g.values.out as string | undefined) ?? DEFAULT_DERIVE_OUT, g.values.code as string | undefined);
  });

  configOption(
    program
      .command('check')
      .description("check the paper's claims on a run directory (written by coflow run); writes claims.json and claims.md into it")
      .argument('<RUN_DIR>', 'the --out directory of a coflow run')
      .option('--strict', 'exit 1 if a claim whose hypotheses all hold FAILs'),
    false,
  )
    .addHelpText('after', '\nVerdicts: PASS, FAIL, OUTSIDE-HYPOTHESES (a needed hypothesis fails; measured anyway), NOT-EVALUABLE (the run lacks what the claim needs). See docs/claims.md.\nExit codes: 0 the check ran (whatever the verdicts), 1 with --strict and a FAIL, 2 bad input (nothing written).')
    .action(async (dir: string, opts: Record<string, unknown>) => {
      const g = await gather('check', opts);
      const code = (await import('../app/check.js')).checkCommand(dir, g.values.strict === true);
      // main() keeps a non-zero exit code an action has set (src/cli/main.ts).
      if (code !== 0) process.exitCode = code;
    });

  configOption(
    program
      .command('report')
      .description('write a self-contained HTML report (and report.md beside it) of runs or of a sweep: figures, hypotheses and claims with verdicts, configuration, solver statistics, timings, derivations')
      .argument('<DIR...>', 'run directories (written by coflow run), or one sweep directory (written by coflow sweep)')
      .addOption(opt('out', 'file.html', 'the report file (default: DIR/report.html for one directory; required for several runs)')),
    false,
  )
    .addHelpText(
      'after',
      '\nThe claims are checked and the figures drawn now, by the code of coflow check and coflow plot; the derivations come from coflow derive. ' +
        'With several runs, each also gets its own page, RUN_DIR/report.html, and the --out page links to them. ' +
        'The page loads nothing from the network: math is rendered by KaTeX into the file, with its fonts inlined. See docs/report.md.\n' +
        'Prints one line per run (claims passed, failed, outside the hypotheses, not evaluable) and last "report: FILE".\n' +
        'Exit codes: 0 written, 2 bad input (nothing written).',
    )
    .action(async (dirs: string[], opts: Record<string, unknown>) => {
      const g = await gather('report', opts);
      await (await import('../app/report.js')).reportCommand(dirs, g.values.out as string | undefined);
    });

  configOption(
    program
      .command('compare')
      .description('compare runs of different levels or methods from the same start: compare.csv (deviation of each shared column over common times, per pair), compare.json (max abs / rel deviation per column), compare.svg/png (overlay)')
      .argument('<RUN_DIR...>', 'two or more --out directories of coflow runs')
      .addOption(opt('out', 'dir', 'directory for compare.csv, compare.json, compare.svg, compare.png (required)'))
      .option('--force', 'replace an earlier comparison in --out'),
    false,
  )
    .addHelpText(
      'after',
      '\nRows are aligned on common recorded times: the same steps when both runs are GD runs, the same t otherwise (give flows the same --t-end and --samples). ' +
        'A relative deviation divides by the scale of the column\'s family (e.g. G3 by the largest |G1|, |G2|, |G3|; ratios by at least 1); the drift columns are not compared. ' +
        'Runs with other n, L, d, m, m1, another data set, or another state at t = 0 are refused. See docs/compare.md.\n' +
        'Exit codes: 0 written, 2 bad input (nothing written).',
    )
    .action(async (dirs: string[], opts: Record<string, unknown>) => {
      const g = await gather('compare', opts);
      const out = required(g, 'out', 'dir', 'the directory for the comparison');
      await (await import('../app/compare.js')).compareCommand(dirs, { out, force: g.values.force === true });
    });

  configOption(
    program
      .command('sweep')
      .description('run a grid of runs (in parallel, resumable, shardable) and fit power laws in m: results.csv, results.jsonl, fits.json, fit figures, timing.csv in --out')
      .addOption(opt('spec', 'file.json', 'the sweep: {"base": {settings}, "grid": {setting: [values]}, "reference": {overrides}} (see docs/sweeps.md)'))
      .addOption(opt('workers', 'k', 'worker threads, 1 .. 256 (default: the available parallelism)'))
      .addOption(opt('shard', 'i/n', 'run only the grid points whose index % n == i (0 <= i < n); combine the parts with --merge'))
      .option('--merge <dirs...>', 'combine the --out directories of --shard sweeps of one spec into --out (instead of --spec)')
      .addOption(opt('out', 'dir', 'the sweep directory (required)'))
      .option('--quiet', 'no progress bar')
      .option('--no-plots', 'write no fit figures (per-run figures are never drawn in sweeps)'),
    false,
  )
    .addHelpText(
      'after',
      '\nEvery grid point is checked with the rules of coflow run before anything runs (a bad spec writes nothing, exit 2). ' +
        'Each point becomes DIR/runs/<name> (e.g. m=128,seed=0), a run directory of coflow run checked by coflow check; references go to DIR/refs/<name>. ' +
        'A rerun skips finished runs and redoes half-written ones from t = 0. A run that stops early is a result (its status), not a failure.\n' +
        'Exit codes: 0 done, 1 some runs failed (their errors are in results.csv and timing.csv; rerun to retry), 2 bad input (nothing written).',
    )
    .action(async (opts: Record<string, unknown>) => {
      // commander stores --no-plots as plots = false; its config key is noPlots.
      if (opts.plots === false) opts.noPlots = true;
      const g = await gather('sweep', opts);
      const out = required(g, 'out', 'dir', 'the sweep directory');
      const app = await import('../app/sweep.js');
      const quiet = g.values.quiet === true;
      const noPlots = g.values.noPlots === true;
      let code: number;
      if (opts.merge !== undefined) {
        const others = (['spec', 'workers', 'shard'] as const).filter((k) => g.given.has(k));
        if (others.length > 0) throw new UsageError(`${others.map((k) => g.given.name(k)).join(', ')} ${others.length > 1 ? 'do' : 'does'} not apply with --merge (the shards' sweep.json holds the spec); drop ${others.length > 1 ? 'them' : 'it'}`);
        code = await app.mergeCommand(opts.merge as string[], { out, quiet, noPlots });
      } else {
        const spec = required(g, 'spec', 'file.json', 'the sweep spec; or --merge DIR... to combine shards');
        const shard = g.values.shard !== undefined ? app.parseShard(g.values.shard as string, g.given.name('shard')) : undefined;
        code = await app.sweepCommand({ spec, out, workers: g.values.workers as number | undefined, shard, quiet, noPlots });
      }
      if (code !== 0) process.exitCode = code;
    });

  configOption(
    program
      .command('plot')
      .description('draw the figures of a run directory (paper Fig. 1a, 1b; G; Lemmas 4.3-4.5; conservation) as SVG and PNG')
      .argument('<RUN_DIR>', 'the --out directory of a coflow run')
      .addOption(opt('out', 'dir', 'directory for the figures (default: RUN_DIR/figures)')),
    false,
  )
    .addHelpText('after', '\nWrites figure1a, figure1b, G, balance, conservation (.svg and .png each). See docs/figures.md.\nExit codes: 0 written, 2 bad input (nothing written).')
    .action(async (dir: string, opts: Record<string, unknown>) => {
      const g = await gather('plot', opts);
      await (await import('../app/plot.js')).plotCommand(dir, g.values.out as string | undefined);
    });

  configOption(
    program
      .command('presets')
      .description("list every preset's settings and which of the theorems' hypotheses it meets or breaks at its defaults (max|F(0)| from its own data and initial weights)")
      .option('--json', 'print the same as JSON'),
    false,
  ).action(async (opts: Record<string, unknown>) => {
    const g = await gather('presets', opts);
    (await import('../app/presets.js')).presetsCommand(g.values.json === true);
  });

  configOption(
    weightFlags(
      dataFlags(
        program
          .command('run')
          .description('train: gradient flow (dopri5, odex) or gradient descent (gd) at level full, gram or type; writes config.json, trajectory.csv, final.npz, summary.json into --out'),
      ),
    ),
    true,
  )
    .addOption(opt('params', 'file.npz', 'start from these weights (Level F, or lifted to Level G); m, m1, d come from the file'))
    .addOption(opt('data', 'file.npz', 'use this data set instead of generating one (n, L, d come from the file)'))
    .addOption(opt('level', 'level', 'full (Level F) | gram (Level G) | type (Level T) | paper (Level P)'))
    .addOption(opt('init', 'start', 'gaussian | wishart (gram) | orthogonal (full, gram) | mean (gram, type)'))
    .addOption(opt('method', 'method', 'dopri5 (ours) | gd (gradient descent) | odex (independent cross-check; restarts at every recorded row, so slow; no checkpoints)'))
    .addOption(opt('tEnd', 't', 'gradient flow end time, > 0 (flows only)'))
    .addOption(opt('rtol', 'x', 'relative tolerance, >= 1e-14 (flows only)'))
    .addOption(opt('atol', 'x', 'absolute tolerance, > 0 (flows only)'))
    .addOption(opt('maxSteps', 'int', `step budget of the integrator, 1 .. ${MAX_STEPS} (flows only)`))
    .addOption(opt('controller', 'kind', 'step-size controller: I (as scipy RK45) | PI (Hairer) (dopri5 only)'))
    .addOption(opt('lr', 'eta', 'GD learning rate, > 0 (gd only)'))
    .addOption(opt('steps', 'int', `GD steps, 1 .. ${MAX_STEPS} (gd only)`))
    .addOption(opt('samples', 'int', `trajectory rows (log-spaced in time, plus t = 0), 2 .. ${MAX_SAMPLES}`))
    .addOption(opt('testN', 'int', `also draw a held-out test set of this size, 0 .. ${MAX_TEST_N} (own seed stream), and record test_loss, test_error per row (Level F, G)`))
    .addOption(opt('snapshots', 'int', `also write the state at this many log-spaced recorded rows (snapshots/snapshot_NNN.npz), 0 .. ${MAX_SNAPSHOTS} and <= samples - 1`))
    .addOption(opt('out', 'dir', 'output directory (required, except with --resume)'))
    .option('--force', 'replace the files of an earlier run in --out')
    .option('--resume <dir>', 'continue the run in <dir> from its last checkpoint, with its own config.json (only --quiet, --checkpoint-every and --no-plots may be given with it)')
    .addOption(opt('checkpointEvery', 'seconds', `wall seconds between checkpoints, > 0 (default: ${DEFAULT_CHECKPOINT_SECONDS}; not with --method odex)`))
    .option('--quiet', 'no progress bar')
    // commander turns --no-plots into plots: false (and plots: true when absent); the action maps it to the key noPlots.
    .addOption(new Option('--no-plots', 'do not write the figures (DIR/figures, see coflow plot) at the end of the run'))
    .addHelpText(
      'after',
      '\nEvery setting of the preset can be overridden by the flag of the same name.\n' +
        'A flag that the chosen method, level or inputs would ignore is an error: --lr, --steps with dopri5 or odex; ' +
        '--t-end, --rtol, --atol, --controller, --max-steps with gd; --controller, --checkpoint-every with odex; ' +
        '--m, --m1, --d, --scale, --s0, --s1, --init with --params (and --params at --level type); --n, --L, --d, --fillers with --data; ' +
        '--scale with both --s0 and --s1; --seed when nothing is drawn at random (--data, and --params or --init mean, and no --test-n).\n' +
        "--config FILE.json: keys are the flags in camelCase (tEnd, maxSteps, testN, checkpointEvery, ...); flags given here override it. " +
        "A run's own config.json is accepted: coflow run --config A/config.json --out B repeats run A exactly (the same files, byte for byte).\n" +
        'Exit codes: 0 success, 2 bad input (nothing written), 3 the run stopped early (non-finite values, step too small, max steps; what was computed is kept), 130 / 143 stopped by SIGINT / SIGTERM (the step is finished, a checkpoint written; a second SIGINT exits at once), 1 a bug.\n' +
        'A checkpoint is written every --checkpoint-every seconds; continue a killed run with coflow run --resume DIR. ' +
        'odex runs write no checkpoints and cannot be resumed.\n' +
        "--out holding an earlier run's files is refused unless --force; a directory in use by another run (DIR/run.lock) is refused.\n" +
        RUN_LIMITS,
    )
    .action(async (opts: Record<string, unknown>) => {
      if (opts.plots === false) opts.noPlots = true;
      delete opts.plots;
      if (opts.resume !== undefined) {
        const others = Object.keys(opts).filter((k) => opts[k] !== undefined && !['resume', 'quiet', 'checkpointEvery', 'noPlots'].includes(k));
        if (others.length > 0) {
          throw new UsageError(
            `--resume continues a run with its own config.json, so ${others.map(flagOf).join(', ')} cannot be given with it (only --quiet, --checkpoint-every and --no-plots can); drop ${others.length > 1 ? 'them' : 'it'}`,
          );
        }
        const { resumeCommand } = await import('../app/run.js');
        await resumeCommand(opts.resume as string, opts.quiet === true, (opts.checkpointEvery as number | undefined) ?? DEFAULT_CHECKPOINT_SECONDS, opts.noPlots === true);
        return;
      }
      const g = await gather('run', opts);
      // Commands load their modules on use, so `coflow --help` starts fast.
      await (await import('../app/run.js')).runGathered(g, { quiet: g.values.quiet === true, silent: false });
    });
}

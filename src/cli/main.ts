#!/usr/bin/env node
import { CommanderError } from 'commander';
import { UsageError } from '../errors.js';
import { fsUsageError } from '../io/atomic.js';
import { buildProgram } from './program.js';

/**
 * coflow's command line. It only parses flags and calls library functions; every user error
 * is one line on stderr and exit code 2, with no stack trace (set COFLOW_DEBUG=1 to see one).
 */
async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      // commander already printed its one-line message.
      return 2;
    }
    // A file-system error the user can fix (read-only --out, full disk, missing parent) is a usage error too.
    const e0 = err as NodeJS.ErrnoException;
    const usage = err instanceof UsageError ? err : fsUsageError(err, `cannot ${e0?.syscall ?? 'access'} ${e0?.path ?? 'a file'}`);
    if (usage instanceof UsageError) {
      process.stderr.write(`coflow: ${usage.message}\n`);
      return 2;
    }
    const e = err as Error;
    process.stderr.write(`coflow: internal error: ${e?.message ?? String(err)}\n`);
    if (process.env.COFLOW_DEBUG) process.stderr.write(`${e?.stack ?? ''}\n`);
    return 1;
  }
}

// A reader that closes the pipe early (`coflow run --help | head`) is not an error: the rest of
// the output is dropped and the command ends with its own exit code, instead of an unhandled
// EPIPE with a stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
});

main(process.argv).then(
  (code) => {
    // An action may have set its own code (run: 3 on an early stop, check --strict: 1); keep it.
    if (code !== 0 || process.exitCode === undefined) process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`coflow: internal error: ${(err as Error)?.message ?? String(err)}\n`);
    process.exitCode = 1;
  },
);

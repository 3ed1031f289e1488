import { Command } from 'commander';
import { registerCommands } from './commands.js';

/**
 * The `coflow` program: its name, description, output configuration and commands, without
 * parsing anything. src/cli/main.ts runs it; src/cli/helpDoc.ts prints its help into docs/cli.md.
 */
export function buildProgram(): Command {
  const program = new Command();
  program
    .name('coflow')
    .description(
      'Training dynamics of a one-layer softmax transformer learning word co-occurrence\n' +
        '(Yang, Kailkhura, Wang, Liang, NeurIPS 2024), made executable.',
    )
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      // commander's own parse errors, as one line like ours: "coflow: <problem> (see --help)".
      outputError: (s, write) => write(`coflow: ${s.replace(/^error: /, '').replace(/\n+/g, ' ').trim()} (see coflow --help)\n`),
    });
  registerCommands(program);
  return program;
}

import type { Command } from 'commander';
import type { CliIo } from './io.js';

/** What every command gets besides its parsed options. */
export interface CliContext {
  io: CliIo;
  env: Record<string, string | undefined>;
  /** Writes one line (or several) to stdout, adding the final newline. */
  out: (text: string) => void;
  /** Writes one line to stderr, adding the final newline. */
  err: (text: string) => void;
  /** A command that ends in a non-error state with its own code (130 after SIGINT) sets this. */
  exitCode?: number;
}

/**
 * A subcommand: lib/cli/commands/<name>.ts exports one of these as `command`, and
 * lib/cli/commands/index.ts lists it with one line. `register` adds it to the program with
 * program.command(name) (so it inherits exit handling and output) and sets its action.
 * Actions throw RdmaError for user-facing failures; main() prints them and picks the exit code.
 */
export interface CliCommand {
  name: string;
  register: (program: Command, ctx: CliContext) => void;
}

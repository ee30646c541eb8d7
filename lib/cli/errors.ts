import { CommanderError } from 'commander';
import { describeErrorCode } from '../error-codes.js';
import { RdmaError } from '../errors.js';
import { printableLines } from '../report/printable.js';

/**
 * The exit codes of every command (docs/cli.md, README, each --help):
 * 0 it worked; 1 what was measured or checked failed (a rail, the peer, a doctor check);
 * 2 the command line was wrong (a bad, conflicting or irrelevant argument), whoever caught it;
 * 130 a run was interrupted (Ctrl-C or SIGTERM) and printed what it measured.
 */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERRUPTED = 130;

/** The one exit-code table, as each command's help ends with it. */
export const EXIT_CODES_HELP =
  '\nExit codes: 0 ok, 1 what was measured or checked failed, 2 a bad or conflicting argument, 130 interrupted.';

/** The exit code for an error a command threw. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  // A code that means "the arguments were wrong" exits 2 wherever the check ran (parser, options, discovery).
  if (err instanceof RdmaError && describeErrorCode(err.code)?.exit === EXIT_USAGE) return EXIT_USAGE;
  return EXIT_FAILURE;
}

/**
 * Turns whatever a command threw into stderr text and an exit code. Commander has already
 * printed its own usage message. Without --debug an error is one line plus a hint; with it,
 * the stack and the native fields too.
 */
export function reportError(err: unknown, debug: boolean, write: (text: string) => void): number {
  // Commander exits 0 for --help, `help <cmd>` and --version, 1 for every command-line mistake.
  if (err instanceof CommanderError) return exitCodeFor(err);
  if (err instanceof RdmaError) {
    // Messages and hints may carry a peer's text: no control character reaches the terminal.
    write(`spark-rdma: ${printableLines(err.message)}\n`);
    if (err.hint && !err.message.includes(err.hint)) write(`hint: ${printableLines(err.hint)}\n`);
    if (debug) {
      const fields = { code: err.code, errno: err.errno, syscall: err.syscall, wcStatus: err.wcStatus, qpn: err.qpn };
      write(`${JSON.stringify(fields)}\n${err.stack ?? ''}\n`);
      const cause = (err as { cause?: unknown }).cause;
      if (cause instanceof Error) write(`caused by: ${cause.stack ?? cause.message}\n`);
    }
    return exitCodeFor(err);
  }
  const message = err instanceof Error ? err.message : String(err);
  write(`spark-rdma: ${printableLines(message)}\n`);
  if (debug) write(`${err instanceof Error ? (err.stack ?? '') : ''}\n`);
  else write('hint: this looks like a bug; run again with --debug for the stack trace and report it\n');
  return EXIT_FAILURE;
}

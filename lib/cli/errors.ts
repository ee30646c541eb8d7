import { CommanderError } from 'commander';
import { RdmaError } from '../errors.js';

/** Exit codes: 0 fine, 1 the operation failed, 2 the command line was wrong. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/**
 * Turns whatever a command threw into stderr text and an exit code. Commander has already
 * printed its own usage message. Without --debug an error is one line plus a hint; with it,
 * the stack and the native fields too.
 */
export function reportError(err: unknown, debug: boolean, write: (text: string) => void): number {
  // Commander exits 0 for --help, `help <cmd>` and --version, 1 for every command-line mistake.
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  if (err instanceof RdmaError) {
    write(`spark-rdma: ${err.message}\n`);
    if (err.hint && !err.message.includes(err.hint)) write(`hint: ${err.hint}\n`);
    if (debug) {
      const fields = { code: err.code, errno: err.errno, syscall: err.syscall, wcStatus: err.wcStatus, qpn: err.qpn };
      write(`${JSON.stringify(fields)}\n${err.stack ?? ''}\n`);
      const cause = (err as { cause?: unknown }).cause;
      if (cause instanceof Error) write(`caused by: ${cause.stack ?? cause.message}\n`);
    }
    return EXIT_FAILURE;
  }
  const message = err instanceof Error ? err.message : String(err);
  write(`spark-rdma: ${message}\n`);
  if (debug) write(`${err instanceof Error ? (err.stack ?? '') : ''}\n`);
  else write('hint: this looks like a bug; run again with --debug for the stack trace and report it\n');
  return EXIT_FAILURE;
}

#!/usr/bin/env node
// The spark-rdma CLI. main() is importable so tests run it in-process with their own io;
// the process entry point at the bottom calls it only when this file is the script being run.
// To add a command: write lib/cli/commands/<name>.ts exporting `command: CliCommand`, then add
// one line to lib/cli/commands/index.ts.
import { Command } from 'commander';
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../native/load.js';
import type { CliCommand, CliContext } from './command.js';
import * as commands from './commands/index.js';
import { EXIT_CODES_HELP, EXIT_OK, EXIT_USAGE, reportError } from './errors.js';
import { examples } from './help.js';
import { groupHelpOptions } from './help-groups.js';
import { processIo, type CliIo } from './io.js';

function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** Builds the program with every command registered; writes through ctx.io. */
export function buildProgram(ctx: CliContext): Command {
  const program = new Command('spark-rdma')
    .description('RDMA (RoCE) rails of this machine: discover, benchmark, and turn measurements into NCCL/vLLM configs')
    .version(packageVersion(), '-V, --version', 'print the version and exit')
    .option('--debug', 'print stack traces and native error fields on failure')
    .helpOption('-h, --help', 'show help for a command')
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({
      writeOut: (s) => ctx.io.stdout(s),
      writeErr: (s) => ctx.io.stderr(s),
      outputError: (s, write) => write(`spark-rdma: ${s}`),
      // One width wherever help is read (a pipe, a test, docs/cli.md); a terminal gets its own.
      getOutHelpWidth: () => (ctx.io === processIo && process.stdout.isTTY ? process.stdout.columns : 100),
      getErrHelpWidth: () => (ctx.io === processIo && process.stderr.isTTY ? process.stderr.columns : 100),
    })
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', examples([
      ['spark-rdma devices', 'the rails of this machine'],
      ['spark-rdma bw 192.168.100.10 --rails 2', 'bandwidth against a `spark-rdma bw` server'],
      ['spark-rdma doctor', 'what to fix for RoCE and NCCL'],
      ['spark-rdma help bw', 'the options of one command'],
    ]) + '\nConventions (flags, exit codes, JSON, error codes): docs/cli.md')
    .addHelpText('afterAll', EXIT_CODES_HELP)
    .exitOverride();
  for (const command of Object.values(commands) as CliCommand[]) command.register(program, ctx);
  groupHelpOptions(program);
  return program;
}

/**
 * Runs the CLI on `argv` (the arguments after the script name) and resolves to the exit code:
 * 0 ok, 1 what was measured or checked failed, 2 a bad or conflicting argument, 130 interrupted
 * (lib/cli/errors.ts).
 */
export async function main(args: readonly string[], io: CliIo = processIo): Promise<number> {
  let argv = args;
  const env = io.env ?? process.env;
  const ctx: CliContext = {
    io,
    env,
    out: (text) => io.stdout(`${text}\n`),
    err: (text) => io.stderr(`${text}\n`),
  };
  const program = buildProgram(ctx);
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return EXIT_USAGE;
  }
  // `help config nccl` is `config nccl --help` (commander's help command stops at `config`).
  if (argv[0] === 'help' && argv.length > 2) argv = [...argv.slice(1), '--help'];
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ctx.exitCode ?? EXIT_OK;
  } catch (err) {
    const debug = program.opts<{ debug?: boolean }>().debug === true || argv.includes('--debug');
    return reportError(err, debug, io.stderr);
  }
}

function isEntryScript(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryScript()) {
  // `spark-rdma bw --help | head`: a reader that goes away is not an error worth a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`spark-rdma: ${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}

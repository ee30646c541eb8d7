import { createReadStream, statSync } from 'node:fs';
import type { Command } from 'commander';
import { discoverRails } from '../../rails/discover.js';
import { RdmaError } from '../../errors.js';
import { ncclCheckExitCode } from '../../nccl-check/check.js';
import { renderNcclCheckText } from '../../nccl-check/render.js';
import { checkNcclLogStream } from '../../nccl-check/stream.js';
import type { CliCommand, CliContext } from '../command.js';
import { examples } from '../help.js';
import { withSchema } from '../json-schema.js';

interface NcclCheckFlags {
  devices?: string;
  json?: boolean;
  sysfsRoot?: string;
}

const EXIT_UNREADABLE = 2;

/** This machine's rails as device:port, or undefined when there are none (a laptop reading a copied log). */
function machineRails(ctx: CliContext, flags: NcclCheckFlags): string[] | undefined {
  try {
    const rails = discoverRails({ env: ctx.env, ...(flags.sysfsRoot !== undefined ? { sysfsRoot: flags.sysfsRoot } : {}) });
    return rails.length > 0 ? rails.map((r) => `${r.device}:${r.port}`) : undefined;
  } catch {
    return undefined;
  }
}

function input(ctx: CliContext, log: string | undefined): { chunks: AsyncIterable<Buffer | string>; source: string } {
  if (log === undefined || log === '-') return { chunks: ctx.io.stdin ?? process.stdin, source: 'standard input' };
  let isDir = false;
  try {
    isDir = statSync(log).isDirectory();
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'error';
    throw new RdmaError(`cannot read ${log} (${code})`, { code: 'ERR_RDMA_INVALID_ARGUMENT', hint: 'pass the path of an NCCL log file, or - to read standard input' });
  }
  if (isDir) throw new RdmaError(`${log} is a directory, not a log file`, { code: 'ERR_RDMA_INVALID_ARGUMENT', hint: 'pass the path of an NCCL log file' });
  return { chunks: createReadStream(log, { highWaterMark: 256 * 1024 }), source: log };
}

async function run(ctx: CliContext, log: string | undefined, flags: NcclCheckFlags): Promise<void> {
  const devices = flags.devices?.split(',').map((d) => d.trim()).filter((d) => d !== '');
  if (flags.devices !== undefined && devices!.length === 0) {
    throw new RdmaError('--devices is empty', { code: 'ERR_RDMA_INVALID_ARGUMENT', hint: 'name the rails NCCL should use, e.g. --devices rocep1s0f1:1,roceP2p1s0f1:1' });
  }
  const rails = devices === undefined ? machineRails(ctx, flags) : undefined;
  let report;
  let source = log ?? 'standard input';
  try {
    const from = input(ctx, log);
    source = from.source;
    report = await checkNcclLogStream(from.chunks, from.source, { ...(devices ? { devices } : {}), ...(rails ? { machineRails: rails } : {}) });
  } catch (err) {
    if (!(err instanceof RdmaError)) {
      const code = (err as { code?: string }).code ?? 'error';
      err = new RdmaError(`cannot read ${source} (${code}): ${(err as Error).message}`, { code: 'ERR_RDMA_INVALID_ARGUMENT', hint: 'pass the path of a readable NCCL log file, or - for standard input' });
    }
    // Unreadable input is exit 2 (as a usage error), whatever the generic error mapping says.
    const e = err as RdmaError;
    ctx.err(`spark-rdma: ${e.message}`);
    if (e.hint) ctx.err(`hint: ${e.hint}`);
    ctx.exitCode = EXIT_UNREADABLE;
    return;
  }
  ctx.io.stdout(flags.json ? `${JSON.stringify(withSchema('ncclCheck', { source, ...report }), null, 2)}\n` : renderNcclCheckText(report, source));
  ctx.exitCode = ncclCheckExitCode(report);
}

export const command: CliCommand = {
  name: 'nccl-check',
  register(program: Command, ctx: CliContext) {
    program
      .command('nccl-check')
      .argument('[log]', 'an NCCL_DEBUG=INFO log file, or - (the default) for standard input')
      .description('read an NCCL debug log and say, per process, whether NCCL used RDMA (NET/IB) on every expected rail, and what to fix')
      .option('--devices <list>', 'the rails NCCL should use, device or device:port, comma-separated (default: NCCL_IB_HCA from the log, else this machine\'s rails)')
      .option('--json', 'print the report as JSON')
      .option('--sysfs-root <dir>', 'read this machine\'s rails from this tree instead of /sys (same as SPARK_RDMA_SYSFS_ROOT)')
      .addHelpText(
        'after',
        '\nMake the log with NCCL_DEBUG=INFO NCCL_DEBUG_SUBSYS=INIT,NET (config nccl --debug-nccl adds them).\n' +
          'Several ranks and hosts may be interleaved in one log: lines are grouped by their host:pid prefix.\n' +
          'Exit 1 when a process did not use NET/IB on its expected rails (or tried GPUDirect, or loaded a\n' +
          'net plugin); 2 when the input is unreadable: missing, binary, or without a single NCCL line.\n' +
          examples([
            ['spark-rdma nccl-check nccl.log', 'after: python3 train.py 2>&1 | tee nccl.log'],
            ['spark-rdma nccl-check - < nccl.log', 'standard input'],
            ['spark-rdma nccl-check nccl.log --devices rocep1s0f1:1,roceP2p1s0f1:1', 'these rails'],
            ['spark-rdma nccl-check nccl.log --json', ''],
          ]),
      )
      .action((log: string | undefined, flags: NcclCheckFlags) => run(ctx, log, flags));
  },
};

import type { Command } from 'commander';
import { BandwidthRunError, runBandwidth, type BandwidthOptions } from '../../bandwidth/index.js';
import { serve } from '../../serve/index.js';
import type { CliCommand, CliContext } from '../command.js';
import { intArg, secondsArg } from '../parse.js';
import { addRunFlags, runTargetOptions, serveOptionsFrom, type RunFlags } from '../run-flags.js';
import { interruptible } from '../signals.js';
import { checkRunRole } from '../run-roles.js';
import { examples } from '../help.js';
import { canRedraw } from '../terminal.js';
import { EXIT_INTERRUPTED } from '../errors.js';
import { bandwidthJson, LiveLine, renderBandwidth } from '../views/bw-view.js';
import { serveUntilInterrupted } from './serve-loop.js';

interface BwFlags extends RunFlags {
  qps?: number;
  threads?: number;
  txDepth?: number;
  postList?: number;
  signalEvery?: number;
  inline?: number;
  warmup?: number;
  interval?: number;
  bidir?: boolean;
  events?: boolean;
}

function toOptions(peer: string | undefined, o: BwFlags, signal: AbortSignal, env: Record<string, string | undefined>): BandwidthOptions {
  return {
    ...runTargetOptions(peer, o, signal, env),
    ...(o.qps !== undefined ? { qps: o.qps } : {}),
    ...(o.threads !== undefined ? { threads: o.threads } : {}),
    ...(o.txDepth !== undefined ? { txDepth: o.txDepth } : {}),
    ...(o.postList !== undefined ? { postList: o.postList } : {}),
    ...(o.signalEvery !== undefined ? { signalEvery: o.signalEvery } : {}),
    ...(o.inline !== undefined ? { inlineThreshold: o.inline } : {}),
    ...(o.warmup !== undefined ? { warmupMs: Math.round(o.warmup * 1000) } : {}),
    ...(o.interval !== undefined ? { intervalMs: Math.max(1, Math.round(o.interval * 1000)) } : {}),
    ...(o.bidir ? { bidir: true } : {}),
    // A stock server prints our report under its own units' header: --report_gbits on both ends, as with perftest.
    ...(o.perftest && o.report_gbits && peer !== undefined ? { perftestReportUnits: 'Gb/s' as const } : {}),
    ...(o.events ? { events: true } : {}),
  };
}

async function runClient(ctx: CliContext, peer: string | undefined, o: BwFlags): Promise<void> {
  const live = canRedraw(process.stderr, ctx.env) && !o.json;
  const interrupt = interruptible(() => ctx.err('\nspark-rdma: interrupted; finishing the current interval and printing what was measured'));
  try {
    const run = runBandwidth(toOptions(peer, o, interrupt.signal, ctx.env));
    const line = new LiveLine();
    if (live) run.on('sample', (s) => process.stderr.write(`\r\x1b[K${line.update(s)}`));
    run.on('progress', (m: string) => {
      if (!o.json) ctx.err(m);
    });
    let result;
    try {
      result = await run;
    } catch (err) {
      if (live) process.stderr.write('\r\x1b[K');
      if (err instanceof BandwidthRunError && err.partial.sizes.some((s) => s.rails.length > 0)) {
        ctx.out(o.json ? bandwidthJson(err.partial) : renderBandwidth(err.partial));
      }
      throw err;
    }
    if (live) process.stderr.write('\r\x1b[K');
    if (!o.json && result.stoppedEarly && result.sizes.every((s) => s.rails.length === 0)) {
      // Interrupted while connecting: an empty table would only look like a broken run.
      ctx.err('spark-rdma: interrupted before the first size ran: nothing was measured');
    } else {
      ctx.out(o.json ? bandwidthJson(result) : renderBandwidth(result));
    }
    if (interrupt.interrupted()) ctx.exitCode = EXIT_INTERRUPTED;
  } finally {
    interrupt.dispose();
  }
}

export const command: CliCommand = {
  name: 'bw',
  register(program: Command, ctx: CliContext) {
    const cmd = program
      .command('bw')
      .argument('[peer]', 'address of the server; without it (and without --loopback) this process is the server')
      .description('RDMA WRITE bandwidth on every rail at once (ib_write_bw, multi-rail, with deadlines)');
    addRunFlags(cmd, { size: 'default 65536; e.g. 64K', iters: 'messages per QP per size instead of a duration', duration: 'timed seconds per size (default 5)' })
      .option('-q, --qps <n>', 'QPs per rail (default 1)', intArg('--qps', 1, 4096))
      .option('--threads <n>', 'engine threads per rail, each with its own CQ; QPs dealt round-robin (default 1, at most --qps)', intArg('--threads', 1, 256))
      .option('--tx-depth <n>', 'outstanding WRs per QP (default 128)', intArg('--tx-depth', 1, 1 << 20))
      .option('--post-list <n>', 'WRs per doorbell (default 1)', intArg('--post-list', 1, 1024))
      .option('--signal-every <n>', 'one signaled WR per N (default 100)', intArg('--signal-every', 1, 1 << 20))
      .option('--inline <bytes>', 'post inline at or below this size (default 0)', intArg('--inline', 0, 4096))
      .option('--warmup <s>', 'untimed warm-up seconds per size (default 0.5)', secondsArg('--warmup'))
      .option('--interval <s>', 'seconds between live samples (default 1)', secondsArg('--interval'))
      .option('--bidir', 'both sides write at once')
      .option('-e, --events', 'sleep on a completion channel between completions instead of spinning on the CQ (as ib_write_bw -e): less CPU')
      .addHelpText(
        'after',
        examples([
          ['spark-rdma bw', 'server on this node (every rail)'],
          ['spark-rdma bw 192.168.100.10 --rails 2 --qps 4', 'client: both rails at once'],
          ['spark-rdma bw --loopback --rails 2', 'one machine, each rail to itself'],
          ['spark-rdma bw --loopback -a --json > sweep.json', 'every size, 2 B to 8 MiB'],
        ]),
      )
      .action(async (peer: string | undefined, o: BwFlags, self: Command) => {
        if (checkRunRole(self, peer, o) === 'server') {
          await serveUntilInterrupted(ctx, 'bw', (log, signal) =>
            serve({ log, signal, ...serveOptionsFrom(o, ctx.env), perftest: 'bw' }),
          );
          return;
        }
        await runClient(ctx, peer, o);
      });
  },
};

import type { Command } from 'commander';
import { BandwidthRunError, runBandwidth, type BandwidthOptions } from '../../bandwidth/index.js';
import { serve } from '../../serve/index.js';
import type { CliCommand, CliContext } from '../command.js';
import { durationMs, intArg, listArg, secondsArg, sizeArg, sizesArg } from '../parse.js';
import { interruptible } from '../signals.js';
import { bandwidthJson, LiveLine, renderBandwidth } from '../views/bw-view.js';
import { serveUntilInterrupted } from './serve-loop.js';

interface BwFlags {
  rails?: number;
  devices?: string[];
  qps?: number;
  size?: number;
  sizes?: number[];
  duration?: number;
  iters?: number;
  txDepth?: number;
  postList?: number;
  signalEvery?: number;
  inline?: number;
  warmup?: number;
  interval?: number;
  port?: number;
  bind?: string[];
  cm?: boolean;
  bidir?: boolean;
  json?: boolean;
  loopback?: boolean;
  mtu?: number;
  gidIndex?: number;
  peerTimeout?: number;
  sysfsRoot?: string;
}

function toOptions(peer: string | undefined, o: BwFlags, signal: AbortSignal): BandwidthOptions {
  const sizes = o.sizes ?? (o.size !== undefined ? [o.size] : undefined);
  const duration = durationMs(o.duration);
  return {
    ...(peer !== undefined ? { peer } : {}),
    ...(o.loopback ? { loopback: true } : {}),
    ...(o.port !== undefined ? { port: o.port } : {}),
    ...(o.rails !== undefined ? { rails: o.rails } : {}),
    ...(o.devices !== undefined ? { devices: o.devices } : {}),
    ...(o.qps !== undefined ? { qps: o.qps } : {}),
    ...(sizes !== undefined ? { sizes } : {}),
    ...(duration !== undefined ? { durationMs: duration } : {}),
    ...(o.iters !== undefined ? { iterations: o.iters } : {}),
    ...(o.txDepth !== undefined ? { txDepth: o.txDepth } : {}),
    ...(o.postList !== undefined ? { postList: o.postList } : {}),
    ...(o.signalEvery !== undefined ? { signalEvery: o.signalEvery } : {}),
    ...(o.inline !== undefined ? { inlineThreshold: o.inline } : {}),
    ...(o.warmup !== undefined ? { warmupMs: Math.round(o.warmup * 1000) } : {}),
    ...(o.interval !== undefined ? { intervalMs: Math.max(1, Math.round(o.interval * 1000)) } : {}),
    ...(o.cm ? { cm: true } : {}),
    ...(o.bidir ? { bidir: true } : {}),
    ...(o.mtu !== undefined ? { mtu: o.mtu } : {}),
    ...(o.gidIndex !== undefined ? { gidIndex: o.gidIndex } : {}),
    ...(o.peerTimeout !== undefined ? { peerTimeoutMs: Math.round(o.peerTimeout * 1000) } : {}),
    ...(o.sysfsRoot !== undefined ? { sysfsRoot: o.sysfsRoot } : {}),
    signal,
  };
}

async function runClient(ctx: CliContext, peer: string | undefined, o: BwFlags): Promise<void> {
  const live = process.stderr.isTTY === true && !o.json;
  const interrupt = interruptible(() => ctx.err('\nspark-rdma: interrupted; finishing the current interval and printing what was measured'));
  try {
    const run = runBandwidth(toOptions(peer, o, interrupt.signal));
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
    ctx.out(o.json ? bandwidthJson(result) : renderBandwidth(result));
    if (interrupt.interrupted()) ctx.exitCode = 130;
  } finally {
    interrupt.dispose();
  }
}

export const command: CliCommand = {
  name: 'bw',
  register(program: Command, ctx: CliContext) {
    program
      .command('bw')
      .argument('[peer]', 'address of the server; without it (and without --loopback) this process is the server')
      .description('RDMA WRITE bandwidth on every rail at once (ib_write_bw, multi-rail, with deadlines)')
      .option('--rails <n>', 'use the first N rails (default: all)', intArg('--rails', 1, 64))
      .option('--devices <list>', 'use these devices, in this order (e.g. rocep1s0f1,roceP2p1s0f1)', listArg)
      .option('--qps <n>', 'QPs per rail', intArg('--qps', 1, 4096))
      .option('--size <bytes>', 'message size (e.g. 65536, 64K)', sizeArg)
      .option('--sizes <list|all>', 'several sizes (4096,65536) or all = 2 B to 8 MiB', sizesArg)
      .option('--duration <s>', 'timed seconds per size (default 5)', secondsArg('--duration'))
      .option('--iters <n>', 'messages per QP per size instead of a duration', intArg('--iters', 1, 2 ** 40))
      .option('--tx-depth <n>', 'outstanding WRs per QP (default 128)', intArg('--tx-depth', 1, 1 << 20))
      .option('--post-list <n>', 'WRs per doorbell (default 1)', intArg('--post-list', 1, 1024))
      .option('--signal-every <n>', 'one signaled WR per N (default 100)', intArg('--signal-every', 1, 1 << 20))
      .option('--inline <bytes>', 'post inline at or below this size (default 0)', intArg('--inline', 0, 4096))
      .option('--warmup <s>', 'untimed warm-up seconds per size (default 0.5)', secondsArg('--warmup'))
      .option('--interval <s>', 'seconds between live samples (default 1)', secondsArg('--interval'))
      .option('--port <n>', 'out-of-band TCP port (default 18515)', intArg('--port', 1, 65535))
      .option('--bind <addrs>', 'server: addresses to listen on (default: the rails\' IPv4 addresses)', listArg)
      .option('--cm', 'bring the QPs up with rdma_cm instead of the out-of-band exchange')
      .option('--bidir', 'both sides write at once')
      .option('--loopback', 'both ends in this process, each rail writing to its own device')
      .option('--mtu <bytes>', 'path MTU (default: the rail\'s active MTU)', intArg('--mtu', 256, 4096))
      .option('--gid-index <n>', 'GID index on every rail (default: the IPv4 RoCE v2 entry)', intArg('--gid-index', 0, 65535))
      .option('--peer-timeout <s>', 'deadline for each step that waits for the peer (default 10)', secondsArg('--peer-timeout'))
      .option('--json', 'print the result as JSON')
      .option('--sysfs-root <dir>', 'read this sysfs tree instead of /sys')
      .addHelpText(
        'after',
        '\nExamples:\n  spark-rdma bw                      # server on this node\n  spark-rdma bw 192.168.100.10 --rails 2 --qps 4\n' +
          '  spark-rdma bw --loopback --rails 2   # one machine, each rail to itself\n  spark-rdma bw --loopback --sizes all --json',
      )
      .action(async (peer: string | undefined, o: BwFlags) => {
        if (peer === undefined && !o.loopback) {
          await serveUntilInterrupted(ctx, 'bw', (log, signal) =>
            serve({
              log,
              signal,
              ...(o.port !== undefined ? { port: o.port } : {}),
              ...(o.bind !== undefined ? { bind: o.bind } : {}),
              ...(o.gidIndex !== undefined ? { gidIndex: o.gidIndex } : {}),
              ...(o.peerTimeout !== undefined ? { peerTimeoutMs: Math.round(o.peerTimeout * 1000) } : {}),
              ...(o.sysfsRoot !== undefined ? { sysfsRoot: o.sysfsRoot } : {}),
            }),
          );
          return;
        }
        await runClient(ctx, peer, o);
      });
  },
};

import type { Command } from 'commander';
import { runLatency, type LatencyOptions } from '../../latency/index.js';
import { serve } from '../../serve/index.js';
import type { CliCommand, CliContext } from '../command.js';
import { durationMs, intArg, listArg, secondsArg, sizeArg, sizesArg } from '../parse.js';
import { interruptible } from '../signals.js';
import { latencyJson, renderLatency } from '../views/lat-view.js';
import { serveUntilInterrupted } from './serve-loop.js';

interface LatFlags {
  rails?: number;
  devices?: string[];
  size?: number;
  sizes?: number[];
  iters?: number;
  duration?: number;
  warmup?: number;
  inline?: number;
  concurrent?: boolean;
  loopback?: boolean;
  cm?: boolean;
  histogram?: boolean;
  json?: boolean;
  port?: number;
  bind?: string[];
  mtu?: number;
  gidIndex?: number;
  peerTimeout?: number;
  sysfsRoot?: string;
}

function toOptions(peer: string | undefined, o: LatFlags, signal: AbortSignal): LatencyOptions {
  const sizes = o.sizes ?? (o.size !== undefined ? [o.size] : undefined);
  const duration = durationMs(o.duration);
  return {
    ...(peer !== undefined ? { peer } : {}),
    ...(o.loopback ? { loopback: true } : {}),
    ...(o.port !== undefined ? { port: o.port } : {}),
    ...(o.rails !== undefined ? { rails: o.rails } : {}),
    ...(o.devices !== undefined ? { devices: o.devices } : {}),
    ...(sizes !== undefined ? { sizes } : {}),
    ...(o.iters !== undefined ? { iterations: o.iters } : {}),
    ...(duration !== undefined ? { durationMs: duration } : {}),
    ...(o.warmup !== undefined ? { warmupIterations: o.warmup } : {}),
    ...(o.inline !== undefined ? { inlineThreshold: o.inline } : {}),
    ...(o.concurrent ? { concurrent: true } : {}),
    ...(o.cm ? { cm: true } : {}),
    ...(o.mtu !== undefined ? { mtu: o.mtu } : {}),
    ...(o.gidIndex !== undefined ? { gidIndex: o.gidIndex } : {}),
    ...(o.peerTimeout !== undefined ? { peerTimeoutMs: Math.round(o.peerTimeout * 1000) } : {}),
    ...(o.sysfsRoot !== undefined ? { sysfsRoot: o.sysfsRoot } : {}),
    signal,
  };
}

export const command: CliCommand = {
  name: 'lat',
  register(program: Command, ctx: CliContext) {
    program
      .command('lat')
      .argument('[peer]', 'address of the server; without it (and without --loopback) this process is the server')
      .description('RDMA WRITE latency, the ib_write_lat method, with exact percentiles and a histogram')
      .option('--rails <n>', 'use the first N rails (default: all)', intArg('--rails', 1, 64))
      .option('--devices <list>', 'use these devices, in this order', listArg)
      .option('--size <bytes>', 'message size (default 2)', sizeArg)
      .option('--sizes <list|all>', 'several sizes, or all = 2 B to 8 MiB', sizesArg)
      .option('--iters <n>', 'timed exchanges per size (default 1000)', intArg('--iters', 1, 1e9))
      .option('--duration <s>', 'timed seconds per size instead of --iters', secondsArg('--duration'))
      .option('--warmup <n>', 'untimed exchanges first (default 100)', intArg('--warmup', 0, 1e9))
      .option('--inline <bytes>', 'post inline at or below this size (default 220)', intArg('--inline', 0, 4096))
      .option('--concurrent', 'measure all rails at the same time')
      .option('--loopback', 'both ends in this process, each rail to its own device')
      .option('--cm', 'bring the QPs up with rdma_cm')
      .option('--histogram', 'print a histogram per rail and size')
      .option('--json', 'print the result as JSON')
      .option('--port <n>', 'out-of-band TCP port (default 18515)', intArg('--port', 1, 65535))
      .option('--bind <addrs>', 'server: addresses to listen on (default: the rails\' IPv4 addresses)', listArg)
      .option('--mtu <bytes>', 'path MTU (default: the rail\'s active MTU)', intArg('--mtu', 256, 4096))
      .option('--gid-index <n>', 'GID index on every rail', intArg('--gid-index', 0, 65535))
      .option('--peer-timeout <s>', 'deadline for a silent peer (default 5 s for writes, 10 s for the session)', secondsArg('--peer-timeout'))
      .option('--sysfs-root <dir>', 'read this sysfs tree instead of /sys')
      .action(async (peer: string | undefined, o: LatFlags) => {
        if (peer === undefined && !o.loopback) {
          await serveUntilInterrupted(ctx, 'lat', (log, signal) =>
            serve({
              log,
              signal,
              ...(o.port !== undefined ? { port: o.port } : {}),
              ...(o.bind !== undefined ? { bind: o.bind } : {}),
              ...(o.gidIndex !== undefined ? { gidIndex: o.gidIndex } : {}),
              ...(o.sysfsRoot !== undefined ? { sysfsRoot: o.sysfsRoot } : {}),
            }),
          );
          return;
        }
        const interrupt = interruptible(() => ctx.err('\nspark-rdma: interrupted; printing what was measured'));
        try {
          const result = await runLatency(toOptions(peer, o, interrupt.signal));
          ctx.out(o.json ? latencyJson(result) : renderLatency(result, o.histogram === true, process.stdout.columns ?? 80));
          if (interrupt.interrupted()) ctx.exitCode = 130;
        } finally {
          interrupt.dispose();
        }
      });
  },
};

import type { Command } from 'commander';
import { invalidArgument } from '../errors.js';
import type { ServeOptions } from '../serve/index.js';
import { sizesAll } from '../report/units.js';
import { SYSFS_ROOT_ENV } from '../sysfs/root.js';
import { refusePerftestFlags } from './perftest-flags.js';
import { durationMs, intArg, listArg, secondsArg, sizeArg, sizesArg } from './parse.js';

/** Flags `bw` and `lat` share: where to run, on which rails, how long, how to report. */
export interface RunFlags {
  rails?: number;
  devices?: string[];
  size?: number;
  sizes?: number[];
  duration?: number;
  iters?: number;
  port?: number;
  bind?: string[];
  cm?: boolean;
  perftest?: boolean;
  json?: boolean;
  loopback?: boolean;
  mtu?: number;
  gidIndex?: number;
  peerTimeout?: number;
  sysfsRoot?: string;
  /** perftest's -a: every size from 2 B to 8 MiB. */
  a?: boolean;
  /** perftest's -F (nothing to change) and --report_gbits (the units of bw --perftest's report; see their help). */
  F?: boolean;
  report_gbits?: boolean;
}

/**
 * Registers the shared flags, perftest's short ones among them where they mean the same, and the
 * refusal of perftest's others; `defaults` words the help where the two tests differ.
 */
export function addRunFlags(cmd: Command, defaults: { size: string; iters: string; duration: string }): Command {
  return refusePerftestFlags(cmd)
    .option('--rails <n>', 'use the first N rails (default: all)', intArg('--rails', 1, 64))
    .option('-d, --devices <list>', 'use these devices, in this order (e.g. rocep1s0f1,roceP2p1s0f1)', listArg)
    .option('-s, --size <bytes>', `message size (${defaults.size})`, sizeArg)
    .option('--sizes <list|all>', 'several sizes (4096,65536) or all = 2 B to 8 MiB', sizesArg)
    .option('-a', 'every size from 2 B to 8 MiB (perftest -a; same as --sizes all)')
    .option('-D, --duration <s>', defaults.duration, secondsArg('--duration'))
    .option('-n, --iters <n>', defaults.iters, intArg('--iters', 1, 2 ** 40))
    .option('--loopback', 'both ends in this process, each rail to its own device')
    .option('--cm', 'bring the QPs up with rdma_cm instead of the out-of-band exchange')
    .option('--perftest', 'the peer is a stock perftest server (ib_write_bw / ib_write_lat, no -R); rail i on --port + i')
    .option('-p, --port <n>', 'out-of-band TCP port (default 18515)', intArg('--port', 1, 65535))
    .option('--bind <addrs>', 'server: addresses to listen on (default: the rails\' IPv4 addresses)', listArg)
    .option('--mtu <bytes>', 'path MTU (default: the rail\'s active MTU)', intArg('--mtu', 256, 4096))
    .option('--gid-index <n>', 'GID index on every rail (default: the IPv4 RoCE v2 entry)', intArg('--gid-index', 0, 65535))
    .option('--peer-timeout <s>', 'deadline for each step that waits for the peer (default 10)', secondsArg('--peer-timeout'))
    .option('--json', 'print the result as JSON')
    .option('-F', 'spark-rdma never warns about cpufreq')
    .option('--report_gbits', 'bw --perftest: send the report in Gb/s, for a server started with --report_gbits (our own rates are always in Gb/s)')
    .option('--sysfs-root <dir>', 'read this sysfs tree instead of /sys');
}

type Env = Record<string, string | undefined>;

// The command's environment (tests pass their own) decides the root as process.env would.
function rootFrom(o: RunFlags, env: Env): string | undefined {
  return o.sysfsRoot ?? (env[SYSFS_ROOT_ENV] || undefined);
}

/** The API options the shared flags stand for (only those given). */
export function runTargetOptions(peer: string | undefined, o: RunFlags, signal: AbortSignal, env: Env) {
  const sysfsRoot = rootFrom(o, env);
  const sizes = o.sizes ?? (o.a ? sizesAll() : o.size !== undefined ? [o.size] : undefined);
  const duration = durationMs(o.duration);
  return {
    ...(peer !== undefined ? { peer } : {}),
    ...(o.loopback ? { loopback: true } : {}),
    ...(o.port !== undefined ? { port: o.port } : {}),
    ...(o.rails !== undefined ? { rails: o.rails } : {}),
    ...(o.devices !== undefined ? { devices: o.devices } : {}),
    ...(sizes !== undefined ? { sizes } : {}),
    ...(duration !== undefined ? { durationMs: duration } : {}),
    ...(o.iters !== undefined ? { iterations: o.iters } : {}),
    ...(o.cm ? { cm: true } : {}),
    ...(o.perftest ? { perftest: true } : {}),
    ...(o.mtu !== undefined ? { mtu: o.mtu } : {}),
    ...(o.gidIndex !== undefined ? { gidIndex: o.gidIndex } : {}),
    ...(o.peerTimeout !== undefined ? { peerTimeoutMs: Math.round(o.peerTimeout * 1000) } : {}),
    ...(sysfsRoot !== undefined ? { sysfsRoot } : {}),
    signal,
  };
}

/** The server's options from the same flags. */
export function serveOptionsFrom(o: RunFlags, env: Env): Omit<ServeOptions, 'log' | 'signal'> {
  if (o.perftest) {
    throw invalidArgument('--perftest is a client flag: a server answers ib_write_bw / ib_write_lat clients on its port by itself', 'drop --perftest here, or give the perftest server\'s address to run as its client');
  }
  const sysfsRoot = rootFrom(o, env);
  return {
    ...(o.port !== undefined ? { port: o.port } : {}),
    ...(o.bind !== undefined ? { bind: o.bind } : {}),
    ...(o.rails !== undefined ? { rails: o.rails } : {}),
    ...(o.devices !== undefined ? { devices: o.devices } : {}),
    ...(o.gidIndex !== undefined ? { gidIndex: o.gidIndex } : {}),
    ...(o.peerTimeout !== undefined ? { peerTimeoutMs: Math.round(o.peerTimeout * 1000) } : {}),
    ...(sysfsRoot !== undefined ? { sysfsRoot } : {}),
  };
}

import type { Command } from 'commander';
import { invalidArgument } from '../errors.js';
import type { RunFlags } from './run-flags.js';

/** What `bw`/`lat` do with their arguments: serve (no peer), run against a peer, or loop back. */
export type RunRole = 'server' | 'client' | 'loopback';

// A server follows what each client proposes; these are the only flags it can honour (--rails and
// --devices choose the rails it serves).
const SERVER_FLAGS = new Set(['port', 'bind', 'rails', 'devices', 'gidIndex', 'peerTimeout', 'sysfsRoot', 'F', 'report_gbits']);
// Loopback has no session with a peer: no TCP port, no listening address, no peer deadline.
const SESSION_FLAGS = new Set(['port', 'bind', 'peerTimeout']);
// ib_write_lat sends neither its size nor its iteration count (perftest's write_lat.c exchange
// carries only keys), so a lat server takes the ones a perftest client will run with.
const LAT_SERVER_FLAGS = new Set([...SERVER_FLAGS, 'size', 'iters']);

/** The long flags the user typed on this command's line, among `names` (attribute names). */
function typed(cmd: Command, keep: (name: string) => boolean): string[] {
  return cmd.options
    .filter((opt) => cmd.getOptionValueSource(opt.attributeName()) === 'cli' && keep(opt.attributeName()))
    .map((opt) => opt.long ?? opt.short ?? opt.flags);
}

/**
 * Decides the role from the peer and --loopback, and refuses flags that conflict or that the role
 * cannot honour (a flag is never silently ignored): all before discovery touches a device.
 */
export function checkRunRole(cmd: Command, peer: string | undefined, o: RunFlags): RunRole {
  const test = cmd.name();
  if (peer !== undefined && o.loopback) {
    throw invalidArgument(
      `a peer address and --loopback were both given (${peer} --loopback)`,
      `drop --loopback to measure against the server at ${peer}, or drop the address to measure this machine alone`,
    );
  }
  const sizeFlags = [o.size !== undefined ? '--size' : null, o.sizes !== undefined ? '--sizes' : null, o.a ? '-a' : null].filter((f) => f !== null);
  if (sizeFlags.length > 1) {
    throw invalidArgument(`both ${sizeFlags.join(' and ')} were given`, 'pass --size 64K for one size, or --sizes 4K,64K (or all, or -a) for several');
  }
  if (peer === undefined && !o.loopback) {
    const honoured = test === 'lat' ? LAT_SERVER_FLAGS : SERVER_FLAGS;
    const extra = typed(cmd, (name) => !honoured.has(name));
    if (extra.length > 0) {
      throw invalidArgument(
        `a server (no peer address) takes no ${extra.join(', ')}: the client chooses what to measure and the server follows`,
        `run \`spark-rdma ${test}\` here with at most --port, --bind, --rails/--devices, --gid-index, --peer-timeout${test === 'lat' ? ' (and --size, --iters for ib_write_lat clients)' : ''}, and pass ${extra.join(' ')} ` +
          `to \`spark-rdma ${test} <this node's address>\` on the other node (or add --loopback to measure this machine alone)`,
      );
    }
    return 'server';
  }
  if (o.bind !== undefined) {
    throw invalidArgument('--bind is for a server (no peer address): a client connects from its rails\' own addresses', 'drop --bind, or drop the peer address to serve');
  }
  if (o.loopback) {
    const session = typed(cmd, (name) => SESSION_FLAGS.has(name));
    if (session.length > 0) {
      throw invalidArgument(
        `--loopback has no peer, so ${session.join(', ')} ${session.length === 1 ? 'does' : 'do'} not apply`,
        `drop ${session.join(' ')}, or name a peer address instead of --loopback`,
      );
    }
    return 'loopback';
  }
  return 'client';
}

// Builds the server hello's description of a rail from a discovered Rail.
import { invalidArgument } from '../errors.js';
import type { Rail } from '../rails/types.js';
import { LIMITS, type HelloRail, type Mtu } from './protocol.js';

function isMtu(value: number): value is Mtu {
  return (LIMITS.mtus as readonly number[]).includes(value);
}

/** A rail as the hello shows it; the GID is rail.gid unless `gid` is given. */
export function helloRail(rail: Rail, gid: string | null = rail.gid ?? null): HelloRail {
  if (!isMtu(rail.activeMtu)) {
    throw invalidArgument(
      `rail ${rail.index} (${rail.device}) has active MTU ${rail.activeMtu}, not one of ${LIMITS.mtus.join(', ')}`,
      'check the port with `ibv_devinfo`; RoCE path MTUs are 256..4096',
    );
  }
  return {
    index: rail.index,
    device: rail.device,
    port: rail.port,
    ipv4: rail.ipv4,
    gid: gid === null ? null : gid.toLowerCase(),
    gidIndex: rail.gidIndex,
    activeMtu: rail.activeMtu,
  };
}

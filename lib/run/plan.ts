import { RdmaError, invalidArgument } from '../errors.js';
import type { Rail } from '../rails/types.js';
import { checkPeerAddress } from './peer-address.js';
import { checkDeviceLimits, type PlannedResources } from './device-limits.js';
import { selectRails } from './select-rails.js';

/** What bandwidth and latency runs share: where to run and on which rails. */
export interface RunTarget {
  peer?: string;
  loopback?: boolean;
  /** The peer is a stock perftest server. */
  perftest?: boolean;
  rails?: number;
  devices?: string[];
  gidIndex?: number;
  mtu?: number;
  sysfsRoot?: string;
}

/**
 * Checks that the run has somewhere to go, picks the rails and their MTUs, and checks the
 * resources against each rail's device: all before any verbs object exists.
 */
export function planRun(api: string, target: RunTarget, resources: Omit<PlannedResources, 'mtu'>): { rails: Rail[]; mtus: number[] } {
  if (!target.loopback && target.peer === undefined) {
    throw new RdmaError(`${api} needs a peer address or loopback: true`, {
      code: 'ERR_RDMA_INVALID_ARGUMENT',
      hint: 'to serve, use serve(); for a one-machine test pass loopback: true',
    });
  }
  if (target.loopback && target.peer !== undefined) {
    throw invalidArgument(`${api} was given both a peer (${target.peer}) and loopback: true`, 'pass peer to measure against a server, or loopback: true to measure this machine alone');
  }
  if (target.peer !== undefined) checkPeerAddress(target.peer);
  if (target.perftest && target.loopback) {
    throw new RdmaError('--perftest and --loopback exclude each other', {
      code: 'ERR_RDMA_INVALID_ARGUMENT',
      hint: 'a perftest peer is another process: pass the address its ib_write_bw / ib_write_lat server listens on',
    });
  }
  const rails = selectRails({
    ...(target.rails !== undefined ? { rails: target.rails } : {}),
    ...(target.devices !== undefined ? { devices: target.devices } : {}),
    ...(target.gidIndex !== undefined ? { gidIndex: target.gidIndex } : {}),
    ...(target.sysfsRoot !== undefined ? { sysfsRoot: target.sysfsRoot } : {}),
  });
  checkDeviceLimits(rails, { ...resources, ...(target.mtu !== undefined ? { mtu: target.mtu } : {}) });
  return { rails, mtus: rails.map((r) => target.mtu ?? r.activeMtu) };
}

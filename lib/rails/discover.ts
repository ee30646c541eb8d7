import { existsSync } from 'node:fs';
import { invalidArgument } from '../errors.js';
import { loadBinding, type NativeBinding } from '../native/load.js';
import { listDevicesFromSysfs } from '../sysfs/devices.js';
import { resolveSysfsRoot, SYSFS_ROOT_ENV, type SysfsRootOptions } from '../sysfs/root.js';
import type { SysfsDevice } from '../sysfs/types.js';
import { chooseGid, validateGidIndexOverride, type GidIndexOverride } from './gid-index.js';
import type { Rail } from './types.js';
import { enrichWithVerbs } from './verbs.js';

export interface DiscoverOptions extends SysfsRootOptions {
  /** Force the GID index: one number for all rails or per device (`{ "rocep1s0f1": 3 }`, `"dev:port"` keys). */
  gidIndex?: GidIndexOverride;
  /**
   * Cross-check and enrich with verbs (active MTU, GID types). Default true, and only ever on the
   * real /sys: with a redirected root discovery never calls verbs, whatever this says.
   */
  useVerbs?: boolean;
  /** Called once per warning (addon missing, sysfs and verbs disagree, ...). */
  onWarning?: (message: string) => void;
}

/** Everything discovery saw: all devices and ports, the rails among them, and what went wrong. */
export interface Discovery {
  /** The sysfs root that was read. */
  root: string;
  /** True when the root is not /sys (fixtures): no verbs calls were made. */
  redirected: boolean;
  /** True when the verbs cross-check ran. */
  verbsUsed: boolean;
  devices: SysfsDevice[];
  rails: Rail[];
  warnings: string[];
}

function loadForDiscovery(warnings: string[]): NativeBinding | null {
  try {
    return loadBinding();
  } catch (err) {
    const first = ((err as Error).message ?? String(err)).split('\n')[0];
    warnings.push(`native addon unavailable, using sysfs alone (active MTU derived from the netdev MTU): ${first}`);
    return null;
  }
}

/** Discovers devices and rails; see {@link discoverRails} for the rail rules. */
export function discoverRdma(opts: DiscoverOptions = {}): Discovery {
  const { root, redirected } = resolveSysfsRoot(opts);
  if (redirected && !existsSync(root)) {
    throw invalidArgument(
      `sysfs root ${root} does not exist (from ${opts.sysfsRoot !== undefined ? 'the sysfsRoot option' : SYSFS_ROOT_ENV})`,
      `point it at a directory shaped like /sys (with class/infiniband and class/net), or unset ${SYSFS_ROOT_ENV} to read /sys`,
    );
  }
  const warnings: string[] = [];
  let devices = listDevicesFromSysfs(root);
  validateGidIndexOverride(opts.gidIndex, devices.map((d) => d.name));

  let verbsUsed = false;
  if (!redirected && opts.useVerbs !== false && devices.length > 0) {
    const binding = loadForDiscovery(warnings);
    if (binding) {
      devices = enrichWithVerbs(devices, binding, warnings);
      verbsUsed = true;
    }
  }

  const rails: Rail[] = [];
  for (const device of devices) {
    for (const port of device.ports) {
      if (port.state !== 'ACTIVE' || port.linkLayer !== 'Ethernet' || port.netdev === null) continue;
      const choice = chooseGid(device.name, port, opts.gidIndex);
      rails.push({
        index: rails.length,
        device: device.name,
        port: port.port,
        netdev: port.netdev,
        ipv4: choice.ipv4,
        gidIndex: choice.gidIndex,
        gid: choice.gid,
        gidIndexSource: choice.gidIndexSource,
        activeMtu: port.activeMtu ?? 1024,
        activeMtuSource: port.activeMtuSource ?? 'assumed',
        rateGbps: port.rateGbps ?? 0,
        state: port.state,
        physState: port.physState,
        netdevMtu: port.netdevMtu,
        carrier: port.carrier,
        pciAddress: device.pciAddress,
        reason: choice.reason,
      });
    }
  }
  for (const w of warnings) opts.onWarning?.(w);
  return { root, redirected, verbsUsed, devices, rails, warnings };
}

/**
 * The machine's rails, ordered by device name then port (rail i pairs with rail i on the peer).
 * A rail is an ACTIVE port with link layer Ethernet and a netdev. Reads sysfs under
 * `opts.sysfsRoot ?? $SPARK_RDMA_SYSFS_ROOT ?? /sys`; on the real /sys it also asks verbs
 * (through the native addon) for the active MTU, and falls back to sysfs alone with a warning
 * when the addon cannot load. A redirected root is read alone: no verbs calls.
 * @throws RdmaError `ERR_RDMA_INVALID_ARGUMENT` for a bad gidIndex or a missing redirected root.
 */
export function discoverRails(opts: DiscoverOptions = {}): Rail[] {
  return discoverRdma(opts).rails;
}

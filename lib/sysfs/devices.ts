import { basename, join, resolve } from 'node:path';
import { ipv4FromGid, formatGid, isZeroGid, parseGid } from './gid.js';
import { parseIbMtu, roceMtuForNetdevMtu } from './mtu.js';
import { readNetdev } from './netdev.js';
import { compareDeviceNames } from './order.js';
import { parseGidType, parseLinkLayer, parseNodeType, parsePhysState, parsePortState, parseRateGbps } from './parse.js';
import { listDir, readLink, readText, resolvePath } from './read.js';
import { resolveSysfsRoot, type SysfsRootOptions } from './root.js';
import type { ActiveMtuSource, LinkLayer, SysfsDevice, SysfsGid, SysfsPort } from './types.js';

const PCI_ADDRESS = /^[0-9a-f]{4,}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/i;

/**
 * Every RDMA device and port under a sysfs root (rails or not), ordered by device name then
 * port. Reads sysfs only: no verbs calls. Accepts a root path or the discovery options.
 */
export function listDevicesFromSysfs(opts: SysfsRootOptions | string = {}): SysfsDevice[] {
  const root = typeof opts === 'string' ? resolve(opts) : resolveSysfsRoot(opts).root;
  const classDir = join(root, 'class', 'infiniband');
  return listDir(classDir)
    .sort(compareDeviceNames)
    .map((name) => readDevice(root, join(classDir, name), name));
}

function readDevice(root: string, dir: string, name: string): SysfsDevice {
  const ports = listDir(join(dir, 'ports'))
    .filter((p) => /^\d+$/.test(p))
    .map(Number)
    .sort((a, b) => a - b)
    .map((port) => readPort(root, dir, port));
  return {
    name,
    pciAddress: readPciAddress(dir),
    nodeGuid: readText(join(dir, 'node_guid')),
    firmware: readText(join(dir, 'fw_ver')),
    nodeType: parseNodeType(readText(join(dir, 'node_type'))),
    ports,
  };
}

// mlx5 devices have a `device` link to their PCI function; rxe has none. device/uevent names
// the function too, which also works in fixture trees made of plain directories.
function readPciAddress(dir: string): string | null {
  const uevent = readText(join(dir, 'device', 'uevent'));
  const slot = uevent ? /^PCI_SLOT_NAME=(.+)$/m.exec(uevent)?.[1]?.trim() : undefined;
  if (slot && PCI_ADDRESS.test(slot)) return slot;
  for (const target of [readLink(join(dir, 'device')), resolvePath(join(dir, 'device'))]) {
    if (target !== null && PCI_ADDRESS.test(basename(target))) return basename(target);
  }
  return null;
}

function readGids(portDir: string, linkLayer: LinkLayer): { gids: SysfsGid[]; tableLength: number } {
  const indexes = listDir(join(portDir, 'gids'))
    .filter((i) => /^\d+$/.test(i))
    .map(Number)
    .sort((a, b) => a - b);
  const gids: SysfsGid[] = [];
  for (const index of indexes) {
    const text = readText(join(portDir, 'gids', String(index)));
    const bytes = text === null ? null : parseGid(text);
    if (bytes === null || isZeroGid(bytes)) continue; // unused slot
    // An entry whose type cannot be read (EINVAL) is being added or removed: treat as unused.
    const type = parseGidType(readText(join(portDir, 'gid_attrs', 'types', String(index))), linkLayer);
    if (type === null) continue;
    const netdev = readText(join(portDir, 'gid_attrs', 'ndevs', String(index)));
    gids.push({ index, gid: formatGid(bytes), type, netdev: netdev || null, ipv4: ipv4FromGid(bytes) });
  }
  return { gids, tableLength: indexes.length };
}

// The port's own netdev: the one of its first GID (the default link-local entry belongs to the
// port's netdev; later entries may sit on VLANs). Fallbacks: rxe's `parent` attribute, then the
// PCI function's only netdev.
function portNetdev(devDir: string, gids: SysfsGid[]): string | null {
  const fromGid = gids.find((g) => g.netdev !== null)?.netdev;
  if (fromGid) return fromGid;
  const parent = readText(join(devDir, 'parent'));
  if (parent) return parent;
  const pciNetdevs = listDir(join(devDir, 'device', 'net'));
  return pciNetdevs.length === 1 ? (pciNetdevs[0] ?? null) : null;
}

function readPort(root: string, devDir: string, port: number): SysfsPort {
  const dir = join(devDir, 'ports', String(port));
  const linkLayer = parseLinkLayer(readText(join(dir, 'link_layer')));
  const { gids, tableLength } = readGids(dir, linkLayer);
  const netdev = portNetdev(devDir, gids);
  const nd = netdev === null ? null : readNetdev(root, netdev);
  const rate = readText(join(dir, 'rate'));

  let activeMtu: number | null = null;
  let activeMtuSource: ActiveMtuSource | null = null;
  // FIXTURE-ONLY: real sysfs has no active_mtu; fixture trees may state it explicitly.
  const fromFile = parseIbMtu(readText(join(dir, 'active_mtu')));
  if (fromFile !== null) {
    activeMtu = fromFile;
    activeMtuSource = 'fixture-file';
  } else if (linkLayer === 'Ethernet') {
    const derived = nd?.mtu == null ? null : roceMtuForNetdevMtu(nd.mtu);
    activeMtu = derived ?? 1024;
    activeMtuSource = derived === null ? 'assumed' : 'netdev-mtu';
  }

  return {
    port,
    state: parsePortState(readText(join(dir, 'state'))),
    physState: parsePhysState(readText(join(dir, 'phys_state'))),
    linkLayer,
    rateGbps: parseRateGbps(rate),
    rate,
    netdev,
    netdevMtu: nd?.mtu ?? null,
    carrier: nd?.carrier ?? null,
    operstate: nd?.operstate ?? null,
    activeMtu,
    activeMtuSource,
    gidTableLength: tableLength,
    gids,
  };
}

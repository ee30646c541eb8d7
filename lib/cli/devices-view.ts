import type { Discovery } from '../rails/discover.js';
import type { Rail } from '../rails/types.js';
import type { SysfsDevice, SysfsPort } from '../sysfs/types.js';
import { withSchema } from './json-schema.js';
import { formatTable } from '../report/table.js';
import { wrapText } from '../report/wrap.js';

/**
 * What to say when a machine has no RDMA device at all, and how to get one to try things. The
 * project's QEMU guest (`npm run vm`) exists only in a clone of the repository.
 */
export function noDevicesAdvice(root: string, sourceCheckout: boolean): string {
  return [
    `No RDMA devices found (nothing under ${root}/class/infiniband).`,
    'To try spark-rdma without RDMA hardware, use soft-RoCE (rdma_rxe):',
    '  on a kernel with rdma_rxe:  sudo modprobe rdma_rxe && sudo rdma link add rxe0 type rxe netdev <if>',
    ...(sourceCheckout ? ["  in the project's QEMU guest (two rxe rails ready):  npm run vm -- npx spark-rdma devices"] : []),
  ].join('\n');
}

function rateText(port: SysfsPort): string {
  return port.rateGbps === null ? '-' : `${port.rateGbps} Gb/s`;
}

// ibdev2netdev prints "(Up)"/"(Down)" from the netdev's operstate; without a netdev, the port's.
// Virtual netdevs (dummy, veth without a peer) report operstate "unknown" while their carrier is
// up: the carrier decides then, as `ip link` shows them UP with LOWER_UP.
function upDown(port: SysfsPort): string {
  if (port.operstate === 'unknown' && port.carrier !== null) return port.carrier ? '(Up)' : '(Down)';
  if (port.operstate !== null) return port.operstate === 'up' ? '(Up)' : '(Down)';
  return port.state === 'ACTIVE' ? '(Up)' : '(Down)';
}

// Two tables, each within 80 columns (issue 21.10): what a user looks for first (which port is
// which netdev and rail, its GID index, address and RoCE MTU), then the link details of the same
// ports. One wide table (ibdev2netdev plus everything) ran to 141 columns on a DGX Spark.
function railRow(device: SysfsDevice, port: SysfsPort, rail: Rail | undefined): string[] {
  return [
    device.name,
    String(port.port),
    port.netdev ?? '-',
    upDown(port),
    rail ? `rail ${rail.index}` : '-',
    rail?.gidIndex != null ? String(rail.gidIndex) : '-',
    rail?.ipv4 ?? '-',
    port.activeMtu !== null ? String(port.activeMtu) : '-',
  ];
}

function linkRow(device: SysfsDevice, port: SysfsPort): string[] {
  return [
    device.name,
    String(port.port),
    port.netdevMtu !== null ? String(port.netdevMtu) : '-',
    rateText(port),
    `${port.state}/${port.physState}`,
    port.linkLayer === 'Ethernet' ? 'RoCE' : port.linkLayer,
    device.pciAddress ?? '-',
  ];
}

const RAIL_HEADERS = ['DEVICE', 'PORT', 'NETDEV', 'LINK', 'RAIL', 'GID', 'IPV4', 'MTU'];
const LINK_HEADERS = ['DEVICE', 'PORT', 'NETDEV MTU', 'RATE', 'STATE', 'TYPE', 'PCI'];

/** The devices tables: one row per device port in each, rails marked, then what needs attention. */
export function renderDevicesTable(discovery: Discovery): string {
  const railRows: string[][] = [];
  const linkRows: string[][] = [];
  for (const device of discovery.devices) {
    for (const port of device.ports) {
      const rail = discovery.rails.find((r) => r.device === device.name && r.port === port.port);
      railRows.push(railRow(device, port, rail));
      linkRows.push(linkRow(device, port));
    }
  }
  const lines: string[] = [];
  const rails = discovery.rails;
  if (rails.length === 0) {
    lines.push('No rails: no port is ACTIVE with an Ethernet link layer and a netdev (check cables and `ip link`).');
  } else {
    lines.push(`${rails.length} rail${rails.length === 1 ? '' : 's'} (rail i pairs with rail i on the peer):`);
    for (const r of rails) lines.push(`  rail ${r.index} = ${r.device}:${r.port} (${r.netdev}, ${r.ipv4 ?? 'no IPv4'})`);
  }
  for (const r of rails) if (r.reason) lines.push(`rail ${r.index} (${r.device} port ${r.port}): ${r.reason}`);
  const derived = rails.some((r) => r.activeMtuSource === 'netdev-mtu' || r.activeMtuSource === 'assumed');
  if (derived) lines.push('MTU: active RoCE MTU derived from the netdev MTU (sysfs only, no verbs query).');
  if (discovery.redirected) lines.push(`(read from ${discovery.root}, not /sys)`);
  // Prose wraps; table rows are never cut (a device name beyond DGX Spark's 12 characters widens them).
  const tables = [formatTable(RAIL_HEADERS, railRows), '', formatTable(LINK_HEADERS, linkRows), ''];
  return [...tables, ...lines.map((l) => wrapText(l))].join('\n');
}

/** `{"schema": ..., "devices": [...], "rails": [...]}` on one line. */
export function renderDevicesJson(discovery: Discovery): string {
  return JSON.stringify(withSchema('devices', { devices: discovery.devices, rails: discovery.rails }));
}

// What discovery reads from sysfs, device by device and port by port. The shapes follow
// binding.d.ts (DeviceInfo, PortInfo, GidEntry) so sysfs and verbs views compare field by field.

export type GidType = 'IB' | 'RoCE v1' | 'RoCE v2';
export type LinkLayer = 'Ethernet' | 'InfiniBand' | 'Unspecified';

/** Where a port's active MTU came from. */
export type ActiveMtuSource =
  /** ibv_query_port through the native addon (real /sys only). */
  | 'verbs'
  /** ports/<p>/active_mtu: a FIXTURE-ONLY file; real sysfs has no such attribute. */
  | 'fixture-file'
  /** Derived from the netdev MTU the way the kernel does for RoCE (see roceMtuForNetdevMtu). */
  | 'netdev-mtu'
  /** Nothing to derive it from; 1024 assumed (what a 1500-byte Ethernet MTU gives). */
  | 'assumed';

/** One populated GID table entry (all-zero and unreadable entries are left out). */
export interface SysfsGid {
  index: number;
  /** sysfs spelling: 8 groups of 4 hex digits. */
  gid: string;
  type: GidType;
  netdev: string | null;
  /** The address when the GID is IPv4-mapped (::ffff:a.b.c.d), else null. */
  ipv4: string | null;
}

export interface NetdevInfo {
  name: string;
  mtu: number | null;
  /** Link carrier; false when the netdev is down (sysfs refuses to read carrier then). */
  carrier: boolean | null;
  operstate: string | null;
  /** Link speed in Mb/s, null when unknown (down, virtual). */
  speedMbps: number | null;
}

export interface SysfsPort {
  port: number;
  /** 'DOWN' | 'INIT' | 'ARMED' | 'ACTIVE' | 'ACTIVE_DEFER' | 'NOP' (verbs names). */
  state: string;
  /** 'SLEEP' | 'POLLING' | 'DISABLED' | 'LINK_UP' | ... (verbs names). */
  physState: string;
  linkLayer: LinkLayer;
  /** Link rate in Gb/s parsed from `rate` ("200 Gb/sec (4X HDR)" -> 200), null when unreadable. */
  rateGbps: number | null;
  /** The raw `rate` text. */
  rate: string | null;
  /** The port's own netdev (of its default GID), null when it has none (InfiniBand). */
  netdev: string | null;
  netdevMtu: number | null;
  carrier: boolean | null;
  operstate: string | null;
  /** Active path MTU in bytes; null for non-Ethernet ports without verbs. */
  activeMtu: number | null;
  activeMtuSource: ActiveMtuSource | null;
  /** Number of GID table slots (populated or not). */
  gidTableLength: number;
  gids: SysfsGid[];
}

export interface SysfsDevice {
  name: string;
  /** PCI function (e.g. 0000:01:00.1); null for rxe and other virtual devices. */
  pciAddress: string | null;
  nodeGuid: string | null;
  firmware: string | null;
  /** node_type text without its number, e.g. 'CA'. */
  nodeType: string | null;
  ports: SysfsPort[];
}

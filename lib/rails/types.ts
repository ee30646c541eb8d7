/**
 * A rail: one ACTIVE Ethernet port of an RDMA device that has a netdev. Rails are ordered by
 * device name (then port) so that rail i on one node pairs with rail i on the other.
 */
export interface Rail {
  /** Position in the ordered rail list, 0-based. */
  index: number;
  device: string;
  port: number;
  netdev: string;
  /** IPv4 address of the netdev (from the IPv4-mapped RoCE v2 GID), or null when it has none. */
  ipv4: string | null;
  /** GID index to use: the IPv4 RoCE v2 entry on this netdev (NCCL's rule), unless overridden. */
  gidIndex: number | null;
  /** The GID at gidIndex (sysfs spelling, 8 groups), what the peer's QP must address; null without gidIndex. */
  gid?: string | null;
  /** Where gidIndex came from. */
  gidIndexSource: 'ipv4-rocev2' | 'override' | 'none';
  /** Active path MTU in bytes. */
  activeMtu: number;
  /** Where activeMtu came from (discoverRails always sets it): verbs on real /sys, a fixture file, or the netdev MTU. */
  activeMtuSource?: 'verbs' | 'fixture-file' | 'netdev-mtu' | 'assumed';
  /** Link rate in Gb/s (sysfs `rate`), 0 when unreadable. */
  rateGbps: number;
  /** Port state text, e.g. 'ACTIVE'. */
  state: string;
  physState: string;
  /** netdev MTU in bytes, null when unreadable. */
  netdevMtu: number | null;
  /** netdev carrier (true = link up), null when unreadable. */
  carrier: boolean | null;
  /** PCI address of the device's function, null for rxe and other virtual devices. */
  pciAddress: string | null;
  /** Why the rail cannot be used as is, e.g. its netdev has no IPv4 (discoverRails sets it; null when usable). */
  reason?: string | null;
}

import { join } from 'node:path';
import type { Discovery } from '../rails/discover.js';
import type { Rail } from '../rails/types.js';
import type { SysfsDevice, SysfsPort } from '../sysfs/types.js';
import type { MemlockLimit } from './procfs.js';
import type { NcclConfFile, NcclSetting } from './nccl-env.js';
import type { HostRoots } from './roots.js';
import type { CheckStatus, DoctorCheck, Evidence } from './types.js';

/** Everything the checks look at, read once. */
export interface CheckContext {
  discovery: Discovery;
  roots: HostRoots;
  env: Record<string, string | undefined>;
  memlock: MemlockLimit | null;
  /** CapEff of this process and whether it holds CAP_IPC_LOCK (null when unreadable). */
  capabilities: { path: string; capEff: string | null; ipcLock: boolean | null };
  /** Bytes the planned registrations need locked. */
  memlockNeeded: number;
  /** True when the current user may open the path read-write. */
  canAccess: (path: string) => boolean;
  /** NCCL's conf files in its reading order, and the NCCL_* values a process here would see. */
  nccl: { files: NcclConfFile[]; settings: Map<string, NcclSetting> };
}

/** An Ethernet port with a netdev, with its rail when it is one. */
export interface PortRef {
  device: SysfsDevice;
  port: SysfsPort;
  netdev: string;
  rail: Rail | undefined;
}

/**
 * The PCI functions that share one physical port. On a DGX Spark each QSFP port is two
 * functions in PCI domains 0000 and 0002 with the same bus:device.function (rocep1s0f1 and
 * roceP2p1s0f1): group by the address without its domain. Virtual devices stand alone.
 */
export interface PortGroup {
  key: string;
  members: PortRef[];
}

export function portGroups(discovery: Discovery): PortGroup[] {
  const groups: PortGroup[] = [];
  for (const device of discovery.devices) {
    for (const port of device.ports) {
      if (port.linkLayer !== 'Ethernet' || port.netdev === null) continue;
      const key = device.pciAddress ? `${device.pciAddress.replace(/^[0-9a-f]+:/i, '')} port ${port.port}` : `${device.name} port ${port.port}`;
      const ref: PortRef = {
        device,
        port,
        netdev: port.netdev,
        rail: discovery.rails.find((r) => r.device === device.name && r.port === port.port),
      };
      const group = groups.find((g) => g.key === key);
      if (group) group.members.push(ref);
      else groups.push({ key, members: [ref] });
    }
  }
  return groups;
}

/** A group is in use when any of its functions is ACTIVE (the others are then expected up too). */
export const inUse = (g: PortGroup) => g.members.some((m) => m.port.state === 'ACTIVE');

export const portPath = (ctx: CheckContext, device: string, port: number, ...rest: string[]) =>
  join(ctx.discovery.root, 'class', 'infiniband', device, 'ports', String(port), ...rest);
export const netPath = (ctx: CheckContext, netdev: string, attr: string) => join(ctx.discovery.root, 'class', 'net', netdev, attr);

export const ev = (path: string, value: string | number | null | undefined): Evidence => ({
  path,
  value: value === null || value === undefined ? '(unreadable)' : String(value),
});

export function check(id: string, subject: string | null, status: CheckStatus, summary: string, evidence: Evidence[], fix: string | null = null): DoctorCheck {
  return { id, subject, status, summary, evidence, fix: status === 'pass' ? null : fix };
}

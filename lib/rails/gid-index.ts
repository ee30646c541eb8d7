import { invalidArgument } from '../errors.js';
import type { SysfsPort } from '../sysfs/types.js';
import type { Rail } from './types.js';

/**
 * A GID index forced by the caller: one number for every rail, or per device. Map keys are
 * a device name (`rocep1s0f1`) or a device and port (`rocep1s0f1:1`); the latter wins.
 */
export type GidIndexOverride = number | Readonly<Record<string, number>>;

export interface GidChoice {
  gidIndex: number | null;
  gid: string | null;
  gidIndexSource: Rail['gidIndexSource'];
  ipv4: string | null;
  reason: string | null;
}

function checkIndex(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 65535) {
    throw invalidArgument(
      `${what} must be an integer from 0 to 65535, got ${JSON.stringify(value)}`,
      'pass a GID index from the port\'s table (spark-rdma devices --json lists them), or leave it out to use the IPv4 RoCE v2 entry',
    );
  }
  return value;
}

/** Validates the override's shape and that every device it names exists. */
export function validateGidIndexOverride(override: unknown, deviceNames: readonly string[]): void {
  if (override === undefined) return;
  if (typeof override === 'number') {
    checkIndex(override, 'gidIndex');
    return;
  }
  if (typeof override !== 'object' || override === null || Array.isArray(override)) {
    throw invalidArgument(
      `gidIndex must be a number or an object mapping device names to numbers, got ${JSON.stringify(override)}`,
      'e.g. { gidIndex: 3 } or { gidIndex: { "rocep1s0f1": 3 } }',
    );
  }
  for (const [key, value] of Object.entries(override)) {
    checkIndex(value, `gidIndex["${key}"]`);
    const device = key.replace(/:\d+$/, '');
    if (!deviceNames.includes(device)) {
      throw invalidArgument(
        `gidIndex names device "${device}", which does not exist (devices: ${deviceNames.join(', ') || 'none'})`,
        'use a device name as spark-rdma devices prints it',
      );
    }
  }
}

function overrideFor(override: GidIndexOverride | undefined, device: string, port: number): number | undefined {
  if (override === undefined) return undefined;
  if (typeof override === 'number') return override;
  return override[`${device}:${port}`] ?? override[device];
}

/**
 * NCCL's rule: the first IPv4-mapped GID of type RoCE v2 (on the port's netdev). IPv6 globals
 * and RoCE v1 duplicates shift its index, which is why it is looked up, never assumed.
 */
export function chooseGid(device: string, port: SysfsPort, override?: GidIndexOverride): GidChoice {
  const onNetdev = port.gids.filter((g) => g.netdev === port.netdev);
  const v2 = onNetdev.find((g) => g.ipv4 !== null && g.type === 'RoCE v2');
  const anyIpv4 = v2 ?? onNetdev.find((g) => g.ipv4 !== null);

  const forced = overrideFor(override, device, port.port);
  if (forced !== undefined) {
    const entry = port.gids.find((g) => g.index === forced);
    if (!entry) {
      const populated = port.gids.map((g) => g.index).join(', ') || 'none';
      throw invalidArgument(
        `GID index ${forced} is not a populated GID entry of ${device} port ${port.port} (populated: ${populated})`,
        'pick one of the populated indexes (--gid-index), or leave it out to use the IPv4 RoCE v2 entry',
      );
    }
    return { gidIndex: forced, gid: entry.gid, gidIndexSource: 'override', ipv4: entry.ipv4 ?? anyIpv4?.ipv4 ?? null, reason: null };
  }

  if (v2) return { gidIndex: v2.index, gid: v2.gid, gidIndexSource: 'ipv4-rocev2', ipv4: v2.ipv4, reason: null };
  const netdev = port.netdev ?? 'its netdev';
  if (anyIpv4) {
    return {
      gidIndex: null,
      gid: null,
      gidIndexSource: 'none',
      ipv4: anyIpv4.ipv4,
      reason: `${device} port ${port.port} has a GID for ${anyIpv4.ipv4} only as RoCE v1; RoCE v2 is needed (check the device's RoCE mode, or pass --gid-index explicitly)`,
    };
  }
  return {
    gidIndex: null,
    gid: null,
    gidIndexSource: 'none',
    ipv4: null,
    reason: `${netdev} has no IPv4 address (no IPv4 RoCE v2 GID on ${device} port ${port.port}); give it one, e.g. sudo ip addr add 192.168.100.10/24 dev ${netdev}`,
  };
}

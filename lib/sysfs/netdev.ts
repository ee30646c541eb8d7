import { join } from 'node:path';
import { readInt, readText } from './read.js';
import type { NetdevInfo } from './types.js';

/** /sys/class/net/<name>/{mtu,carrier,operstate,speed} under a sysfs root. */
export function readNetdev(root: string, name: string): NetdevInfo {
  const dir = join(root, 'class', 'net', name);
  const operstate = readText(join(dir, 'operstate'));
  const carrierText = readText(join(dir, 'carrier'));
  // Reading carrier of an interface that is down fails with EINVAL: that is "no carrier".
  let carrier: boolean | null = carrierText === '1' ? true : carrierText === '0' ? false : null;
  if (carrier === null && operstate === 'down') carrier = false;
  const speed = readInt(join(dir, 'speed'));
  return {
    name,
    mtu: readInt(join(dir, 'mtu')),
    carrier,
    operstate,
    speedMbps: speed !== null && speed > 0 ? speed : null,
  };
}

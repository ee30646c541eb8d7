import { invalidArgument } from '../errors.js';
import { PATH_MTUS } from '../report/goodput.js';

/**
 * A requested path MTU must be one RoCE can use; checked with the other options so that a typo
 * (--mtu 3000, --mtu 9000) fails before discovery and before any verbs object exists.
 */
export function checkPathMtu(mtu: number | undefined): void {
  if (mtu === undefined || (PATH_MTUS as readonly number[]).includes(mtu)) return;
  throw invalidArgument(
    `MTU ${mtu} is not a RoCE path MTU: it must be one of ${PATH_MTUS.join(', ')} bytes`,
    'pass --mtu 4096 (netdev MTU 9000) or 1024 (netdev MTU 1500), or leave it out to use the port\'s active MTU',
  );
}

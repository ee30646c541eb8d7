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

/**
 * rdma_cm takes the path MTU from the route it resolves (librdmacm has no option to set it),
 * so a requested MTU cannot be honoured with --cm: refused rather than silently ignored. The
 * MTU a run reports and computes with is the one its QPs have (QueuePair.pathMtu).
 */
export function checkMtuWithCm(mtu: number | undefined, cm: boolean | undefined): void {
  if (mtu === undefined || !cm) return;
  throw invalidArgument(
    `--mtu ${mtu} cannot be used with --cm: rdma_cm sets the path MTU from the route it resolves`,
    'leave out --mtu (the run reports the MTU its queue pairs got), or leave out --cm to set the MTU yourself',
  );
}

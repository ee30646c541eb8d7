import type { Rail } from '../rails/types.js';
import { resolveSysfsRoot } from '../sysfs/root.js';
import { readPortCounters } from './port-counters.js';

/**
 * True when any of the rails' packet counters moved since the last call: the peer's writes (or
 * ours) still flow, so a run without a known length is alive even when the TCP side is quiet.
 */
export function railTrafficMoves(rails: Rail[], sysfsRoot: string | undefined): () => boolean {
  const root = resolveSysfsRoot(sysfsRoot !== undefined ? { sysfsRoot } : {}).root;
  const read = () =>
    rails
      .map((r) => {
        const c = readPortCounters(root, r.device, r.port);
        return `${c.rxPackets ?? ''}/${c.txPackets ?? ''}`;
      })
      .join(',');
  let last = read();
  return () => {
    const now = read();
    const moved = now !== last;
    last = now;
    return moved;
  };
}

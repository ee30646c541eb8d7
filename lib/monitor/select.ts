import { RdmaError, invalidArgument } from '../errors.js';
import type { Rail } from '../rails/types.js';

export interface WatchSelection {
  rails?: number;
  devices?: string[];
}

const NO_RAILS_HINT =
  'a rail is an ACTIVE Ethernet RDMA port with a netdev (see `spark-rdma devices`): check `ip link` and the cabling, ' +
  'or without hardware create soft-RoCE devices (`sudo rdma link add rxe0 type rxe netdev <if>`)';

function listed(all: readonly Rail[]): string {
  return all.map((r) => `${r.index}=${r.device}:${r.port}`).join(', ');
}

/**
 * The rails to watch, keeping the machine's rail numbers. Unlike a benchmark, watching needs
 * no IPv4 address or GID: any rail can be watched.
 */
export function selectWatchedRails(all: readonly Rail[], sel: WatchSelection): Rail[] {
  if (all.length === 0) throw new RdmaError('this machine has no RDMA rails to watch', { code: 'ERR_RDMA_NO_RAILS', hint: NO_RAILS_HINT });
  if (sel.rails !== undefined && sel.devices !== undefined) {
    throw invalidArgument('both rails and devices were given', 'pass one of them: rails: N watches the first N rails, devices names them');
  }
  if (Array.isArray(sel.rails as unknown)) {
    // The old shape (a list of rail indexes): `rails` counts rails everywhere now.
    const names = (sel.rails as unknown as number[]).map((i) => all.find((r) => r.index === i)?.device ?? `rail${i}`);
    throw invalidArgument(
      `rails takes a number of rails now (the first N, as in runBandwidth), not a list of indexes [${String(sel.rails)}]`,
      `to watch the first N rails pass rails: N; to pick rails name them: devices: ['${names.join("', '")}']`,
    );
  }
  if (sel.rails !== undefined) {
    const n = sel.rails;
    if (!Number.isInteger(n) || n < 1) throw invalidArgument(`rails ${n} must be a whole number of 1 or more`, 'pass e.g. --rails 2 (the first two rails)');
    if (n > all.length) {
      throw invalidArgument(`asked for ${n} rails, this machine has ${all.length} (${listed(all)})`, `pass --rails ${all.length} or fewer, or name rails with --devices`);
    }
    return all.slice(0, n);
  }
  if (sel.devices !== undefined) {
    if (sel.devices.length === 0) throw invalidArgument('the device list is empty', `pass one or more of ${listed(all)}, or leave it out to watch every rail`);
    return unique(sel.devices).map((name) => {
      const [device, portText] = name.split(':');
      const rail = all.find((r) => r.device === device && (portText === undefined || String(r.port) === portText));
      if (!rail) {
        throw invalidArgument(`device ${name} is not a rail here (rails: ${listed(all)})`, 'pass device names that `spark-rdma devices` lists as rails');
      }
      return rail;
    });
  }
  return [...all];
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}

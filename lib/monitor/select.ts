import { RdmaError, invalidArgument } from '../errors.js';
import type { Rail } from '../rails/types.js';

export interface WatchSelection {
  rails?: number[];
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
    throw invalidArgument('both rails and devices were given', 'pass one of them: rails by index (0,1) or devices by name');
  }
  if (sel.rails !== undefined) {
    if (sel.rails.length === 0) throw invalidArgument('the rail list is empty', `pass one or more of ${listed(all)}, or leave it out to watch every rail`);
    return unique(sel.rails).map((index) => {
      const rail = Number.isInteger(index) ? all.find((r) => r.index === index) : undefined;
      if (!rail) {
        throw invalidArgument(`rail ${index} does not exist (rails here: ${listed(all)})`, 'pass rail indexes that `spark-rdma devices` shows');
      }
      return rail;
    });
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

import { discoverRails } from '../rails/discover.js';
import type { Rail } from '../rails/types.js';
import { RdmaError, invalidArgument } from '../errors.js';
import { inSourceCheckout } from '../native/source-checkout.js';

export interface RailSelection {
  rails?: number;
  devices?: string[];
  gidIndex?: number;
  sysfsRoot?: string;
}

// The project's QEMU guest is suggested only where it exists: in a clone of the repository.
const noRailsHint = () =>
  'no ACTIVE Ethernet RDMA port with a netdev was found: on hardware check `ip link` and the cabling; without hardware ' +
  'create soft-RoCE devices (`sudo rdma link add rxe0 type rxe netdev <if>`)' +
  (inSourceCheckout() ? ' or run inside the project\'s VM (`npm run vm -- ...`)' : '');

/** Picks the rails a run uses: --devices (in that order), else the first --rails N, else all. */
export function selectRails(sel: RailSelection): Rail[] {
  const all = discoverRails({
    ...(sel.sysfsRoot !== undefined ? { sysfsRoot: sel.sysfsRoot } : {}),
    ...(sel.gidIndex !== undefined ? { gidIndex: sel.gidIndex } : {}),
  });
  if (sel.rails !== undefined && sel.devices !== undefined) {
    throw invalidArgument('both --rails and --devices were given', 'pass one of them: --rails N takes the first N rails, --devices names them');
  }
  if (all.length === 0) throw new RdmaError('this machine has no RDMA rails', { code: 'ERR_RDMA_NO_RAILS', hint: noRailsHint() });
  let chosen: Rail[];
  if (sel.devices !== undefined) {
    chosen = sel.devices.map((name) => {
      const [device, portText] = name.split(':');
      const rail = all.find((r) => r.device === device && (portText === undefined || r.port === Number(portText)));
      if (!rail) {
        throw invalidArgument(
          `device ${name} is not a rail here (rails: ${all.map((r) => `${r.device}:${r.port}`).join(', ')})`,
          'pass --devices with names that `spark-rdma devices` lists as rails',
        );
      }
      return rail;
    });
  } else if (sel.rails !== undefined) {
    if (!Number.isInteger(sel.rails) || sel.rails < 1) {
      throw invalidArgument(`--rails ${sel.rails} must be a whole number of 1 or more`, 'pass e.g. --rails 2');
    }
    if (sel.rails > all.length) {
      throw invalidArgument(
        `asked for ${sel.rails} rails, this machine has ${all.length} (${all.map((r) => r.device).join(', ')})`,
        `pass --rails ${all.length} or fewer; bring the other ports up (spark-rdma doctor) to use more`,
      );
    }
    chosen = all.slice(0, sel.rails);
  } else {
    chosen = all;
  }
  for (const rail of chosen) {
    if (rail.gidIndex === null) {
      throw new RdmaError(`rail ${rail.device} (${rail.netdev}) has no IPv4 RoCE v2 GID${rail.reason ? `: ${rail.reason}` : ''}`, {
        code: 'ERR_RDMA_NO_GID',
        hint: `give ${rail.netdev} an IPv4 address (ip addr add <a.b.c.d/len> dev ${rail.netdev}) or pass --gid-index`,
      });
    }
  }
  return chosen.map((r, i) => ({ ...r, index: i }));
}

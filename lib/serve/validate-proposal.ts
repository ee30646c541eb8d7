import { loadBinding } from '../native/load.js';
import type { Rail } from '../rails/types.js';
import { deviceLimitProblem } from '../run/device-limits.js';
import type { ProposeMessage } from '../session/protocol.js';

/** Why this server cannot run a proposal, or null when it can. Checked before any verbs object exists. */
export function proposalProblem(p: ProposeMessage, rails: Rail[]): { code: string; message: string; hint: string } | null {
  const unknown = p.rails.filter((i) => i >= rails.length);
  if (unknown.length > 0) {
    return {
      code: 'ERR_RDMA_RAIL_MISMATCH',
      message: `rail(s) ${unknown.join(', ')} do not exist here (this server has ${rails.length})`,
      hint: `run the client with --rails ${rails.length} or fewer`,
    };
  }
  // The server's side of a latency run is one QP per rail whatever the proposal says, and its
  // accept must describe as many QPs as were proposed: refuse anything else here, in words.
  if (p.test === 'lat' && p.qps !== 1) {
    return {
      code: 'ERR_RDMA_INVALID_ARGUMENT',
      message: `a latency run uses one QP per rail, the proposal asks for ${p.qps}`,
      hint: 'propose qps 1 for lat (spark-rdma lat always does)',
    };
  }
  const native = loadBinding();
  const regionBytes = Math.max(...p.sizes);
  for (const index of p.rails) {
    const rail = rails[index]!;
    if (rail.gidIndex === null || (p.cm && rail.ipv4 === null)) {
      return { code: 'ERR_RDMA_NO_GID', message: `rail ${index} (${rail.device}) has no IPv4 RoCE v2 GID here`, hint: `give ${rail.netdev} an IPv4 address` };
    }
    const info = native.queryDevice(rail.device);
    const port = info.ports.find((x) => x.port === rail.port);
    // The server's own side of a latency run is one QP with 64 WRs, whatever the proposal says.
    const plan = p.test === 'lat' ? { qps: 1, txDepth: 64, regionBytes } : { qps: p.qps, txDepth: p.txDepth, regionBytes };
    const problem = deviceLimitProblem(rail, info, plan);
    if (problem) return { code: problem.code, message: problem.message, hint: problem.hint ?? '' };
    // A smaller proposed MTU is fine (both ends use it); a larger one cannot cross this port.
    if (p.mtu !== undefined && port && p.mtu > port.activeMtu) {
      return {
        code: 'ERR_RDMA_MTU_MISMATCH',
        message: `MTU ${p.mtu} exceeds this server's active MTU ${port.activeMtu} on ${rail.device} (netdev ${rail.netdev})`,
        hint: `set the same netdev MTU on both ends (9000 gives 4096) or pass --mtu ${port.activeMtu}`,
      };
    }
  }
  return null;
}

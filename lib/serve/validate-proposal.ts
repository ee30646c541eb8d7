import { loadBinding } from '../native/load.js';
import type { Rail } from '../rails/types.js';
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
  const native = loadBinding();
  const regionBytes = Math.max(...p.sizes);
  for (const index of p.rails) {
    const rail = rails[index]!;
    if (rail.gidIndex === null || (p.cm && rail.ipv4 === null)) {
      return { code: 'ERR_RDMA_NO_GID', message: `rail ${index} (${rail.device}) has no IPv4 RoCE v2 GID here`, hint: `give ${rail.netdev} an IPv4 address` };
    }
    const info = native.queryDevice(rail.device);
    const port = info.ports.find((x) => x.port === rail.port);
    if (p.qps > info.limits.maxQp) {
      return { code: 'ERR_RDMA_INVALID_ARGUMENT', message: `${p.qps} QPs exceed ${rail.device}'s max_qp ${info.limits.maxQp}`, hint: `pass --qps ${info.limits.maxQp} or fewer` };
    }
    if (p.txDepth > info.limits.maxQpWr) {
      return { code: 'ERR_RDMA_INVALID_ARGUMENT', message: `tx depth ${p.txDepth} exceeds ${rail.device}'s max_qp_wr ${info.limits.maxQpWr}`, hint: `pass --tx-depth ${info.limits.maxQpWr} or less` };
    }
    if (BigInt(regionBytes) > info.limits.maxMrSize) {
      return { code: 'ERR_RDMA_INVALID_ARGUMENT', message: `size ${regionBytes} exceeds ${rail.device}'s max_mr_size`, hint: 'pass a smaller --size' };
    }
    if (p.mtu !== undefined && port && p.mtu > port.activeMtu) {
      return {
        code: 'ERR_RDMA_MTU_MISMATCH',
        message: `MTU ${p.mtu} exceeds this server's active MTU ${port.activeMtu} on ${rail.device} (netdev ${rail.netdev} MTU ${rail.netdevMtu ?? '?'})`,
        hint: `set the same netdev MTU on both ends (9000 gives 4096) or pass --mtu ${port.activeMtu}`,
      };
    }
  }
  return null;
}

// RoCE path MTU from the netdev MTU, as the kernel computes it (iboe_get_mtu in
// include/rdma/ib_addr.h): subtract the largest RoCE header stack (GRH 40 + UDP 8 + BTH 12 +
// XRC 4 + AtomicETH 28 + ICRC 4 = 96 bytes), then take the largest IB MTU that fits.
// netdev 9000 -> 4096, 1500 -> 1024, 4200 -> 4096, 2200 -> 2048.
export const ROCE_HEADER_ALLOWANCE = 96;
export const IB_MTUS = [4096, 2048, 1024, 512, 256] as const;

/** The active RoCE MTU a netdev MTU allows, or null when even 256 does not fit. */
export function roceMtuForNetdevMtu(netdevMtu: number): number | null {
  const room = netdevMtu - ROCE_HEADER_ALLOWANCE;
  for (const mtu of IB_MTUS) if (room >= mtu) return mtu;
  return null;
}

/** Parses "4096" or ibv_devinfo's "4096 (5)"; null unless it is one of the IB MTUs. */
export function parseIbMtu(text: string | null): number | null {
  if (text === null) return null;
  const m = /^\s*(\d+)/.exec(text);
  const value = m ? Number(m[1]) : NaN;
  return (IB_MTUS as readonly number[]).includes(value) ? value : null;
}

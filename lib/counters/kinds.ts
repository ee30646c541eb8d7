// What a counter's movement means. Traffic counters move all the time; congestion counters
// move under load on a lossless fabric (ECN/CNP); anything else moving means something went
// wrong (retransmits, sequence errors, drops, a link that went down) and is worth a highlight.

export type CounterKind = 'traffic' | 'congestion' | 'error';

// mlx5 (counters/ and hw_counters/) and rxe (hw_counters/) names, from the kernel's
// drivers/infiniband/hw/mlx5/counters.c and sw/rxe/rxe_hw_counters.c.
const TRAFFIC = new Set([
  'port_xmit_data', 'port_rcv_data', 'port_xmit_packets', 'port_rcv_packets',
  'unicast_xmit_packets', 'unicast_rcv_packets', 'multicast_xmit_packets', 'multicast_rcv_packets',
  'sent_pkts', 'rcvd_pkts', 'rdma_sends', 'rdma_recvs', 'ack_deferred',
  'rx_write_requests', 'rx_read_requests', 'rx_atomic_requests', 'rx_dct_connect',
  'lifespan',
]);

const CONGESTION = new Set([
  'port_xmit_wait', 'np_ecn_marked_roce_packets', 'np_cnp_sent', 'rp_cnp_handled', 'rp_cnp_ignored',
  'roce_slow_restart', 'roce_slow_restart_cnps', 'roce_slow_restart_trans',
]);

// Unknown names (other drivers, newer kernels): traffic when they look like plain counts of
// work done, otherwise error, so a new failure counter is shown rather than hidden.
const TRAFFIC_LIKE = /^(?:(?:tx|rx)_(?:bytes|packets|pkts|requests)|.*_(?:requests|sends|recvs|bytes))$/;

export function counterKind(name: string): CounterKind {
  if (TRAFFIC.has(name)) return 'traffic';
  if (CONGESTION.has(name)) return 'congestion';
  if (/(err|retr|drop|discard|timeout|nak|out_of|duplicate|flush|downed|invalid|overrun|violation)/.test(name)) return 'error';
  return TRAFFIC_LIKE.test(name) ? 'traffic' : 'error';
}

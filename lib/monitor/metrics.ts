import { readPortCounters } from '../counters/port-counters.js';
import { discoverRdma } from '../rails/discover.js';
import type { SysfsRootOptions } from '../sysfs/root.js';
import type { MetricFamily, MetricSample } from './exposition.js';

// Names follow Prometheus's naming rules (base units, `_total` on counters, no type in the name:
// promtool check metrics, i.e. client_golang prometheus/testutil/promlint, enforces them) and,
// where node_exporter's infiniband collector exports the same sysfs file, its name with our
// prefix instead of `node_infiniband_` (collector/infiniband_linux.go, node_exporter v1.12), with
// its labels `device` and `port`. The names they replaced are listed in docs/monitoring.md.
export const METRIC_NAMES = {
  devices: 'spark_rdma_devices',
  railInfo: 'spark_rdma_rail_info',
  portUp: 'spark_rdma_port_up',
  /** node_infiniband_rate_bytes_per_second */
  rate: 'spark_rdma_port_rate_bytes_per_second',
  /** node_infiniband_port_data_transmitted_bytes_total, ..._received_... */
  txBytes: 'spark_rdma_port_data_transmitted_bytes_total',
  rxBytes: 'spark_rdma_port_data_received_bytes_total',
  /** node_infiniband_port_packets_transmitted_total, ..._received_... */
  txPackets: 'spark_rdma_port_packets_transmitted_total',
  rxPackets: 'spark_rdma_port_packets_received_total',
  /** Every other counters/ entry, by a `counter` label: node_exporter names only the ones it knows. */
  portEvents: 'spark_rdma_port_events_total',
  /** Every hw_counters/ entry (driver-specific names), by a `counter` label. */
  hwEvents: 'spark_rdma_port_hw_events_total',
} as const;

// Counters already exported under their own names.
const OWN_NAME = new Set(['port_xmit_data', 'port_rcv_data', 'port_xmit_packets', 'port_rcv_packets']);

function family(name: string, type: MetricFamily['type'], help: string): MetricFamily {
  return { name, type, help, samples: [] };
}

/**
 * Every port of every RDMA device under the sysfs root, as Prometheus metric families. Reads
 * sysfs now (no cache, no verbs calls). Labels: device, port, netdev (empty when the port has
 * none), rail (the rail index now; empty for a port that is not a rail, e.g. one that is DOWN).
 * Raw totals only: rates belong to PromQL (`rate(...[1m])`), which also handles resets.
 */
export function collectRailMetrics(opts: SysfsRootOptions = {}): MetricFamily[] {
  const discovery = discoverRdma({ ...opts, useVerbs: false });
  const N = METRIC_NAMES;
  const devices = family(N.devices, 'gauge', 'RDMA devices under /sys/class/infiniband (0 on a kernel without RDMA).');
  devices.samples.push({ labels: {}, value: discovery.devices.length });
  const info = family(N.railInfo, 'gauge', 'A rail (ACTIVE Ethernet RDMA port with a netdev); always 1. Rails pair by index across nodes.');
  const up = family(N.portUp, 'gauge', 'Port state: 1 when ACTIVE, 0 otherwise.');
  const speed = family(N.rate, 'gauge', 'Link signalling rate from sysfs ports/<p>/rate, in bytes per second.');
  const txBytes = family(N.txBytes, 'counter', 'Bytes sent by the port: counters/port_xmit_data x 4 (on mlx5 RoCE, RDMA traffic only). Absent on rxe.');
  const rxBytes = family(N.rxBytes, 'counter', 'Bytes received by the port: counters/port_rcv_data x 4 (on mlx5 RoCE, RDMA traffic only). Absent on rxe.');
  const txPackets = family(N.txPackets, 'counter', 'Packets sent: counters/port_xmit_packets, else hw_counters/sent_pkts (rxe).');
  const rxPackets = family(N.rxPackets, 'counter', 'Packets received: counters/port_rcv_packets, else hw_counters/rcvd_pkts (rxe).');
  const portCounter = family(N.portEvents, 'counter', 'Other entries of ports/<p>/counters/ (symbol_error, link_downed, port_rcv_errors, ...), raw; the label counter names the file.');
  const hwCounter = family(N.hwEvents, 'counter', 'Entries of ports/<p>/hw_counters/ (retransmits, sequence errors, CNPs, ...), raw; the label counter names the file.');

  for (const device of discovery.devices) {
    for (const port of device.ports) {
      const rail = discovery.rails.find((r) => r.device === device.name && r.port === port.port);
      const labels = { device: device.name, port: String(port.port), netdev: port.netdev ?? '', rail: rail ? String(rail.index) : '' };
      const add = (f: MetricFamily, value: bigint | number | null, extra: Record<string, string> = {}) => {
        if (value !== null) f.samples.push({ labels: { ...labels, ...extra }, value } satisfies MetricSample);
      };
      if (rail) add(info, 1, { ipv4: rail.ipv4 ?? '', gid_index: rail.gidIndex === null ? '' : String(rail.gidIndex) });
      add(up, port.state === 'ACTIVE' ? 1 : 0);
      add(speed, port.rateGbps === null ? null : (port.rateGbps * 1e9) / 8);
      const reading = readPortCounters(discovery.root, device.name, port.port);
      add(txBytes, reading.txBytes);
      add(rxBytes, reading.rxBytes);
      add(txPackets, reading.txPackets);
      add(rxPackets, reading.rxPackets);
      for (const [name, value] of Object.entries(reading.counters)) if (!OWN_NAME.has(name)) add(portCounter, value, { counter: name });
      for (const [name, value] of Object.entries(reading.hw)) add(hwCounter, value, { counter: name });
    }
  }
  return [devices, info, up, speed, txBytes, rxBytes, txPackets, rxPackets, portCounter, hwCounter];
}

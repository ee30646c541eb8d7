import { readPortCounters } from '../counters/port-counters.js';
import { discoverRdma } from '../rails/discover.js';
import type { SysfsRootOptions } from '../sysfs/root.js';
import type { MetricFamily, MetricSample } from './exposition.js';

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
  const devices = family('spark_rdma_devices', 'gauge', 'RDMA devices under /sys/class/infiniband (0 on a kernel without RDMA).');
  devices.samples.push({ labels: {}, value: discovery.devices.length });
  const info = family('spark_rdma_rail_info', 'gauge', 'A rail (ACTIVE Ethernet RDMA port with a netdev); always 1. Rails pair by index across nodes.');
  const up = family('spark_rdma_port_up', 'gauge', 'Port state: 1 when ACTIVE, 0 otherwise.');
  const speed = family('spark_rdma_port_link_speed_bytes', 'gauge', 'Link rate from sysfs ports/<p>/rate, in bytes per second.');
  const txBytes = family('spark_rdma_port_transmit_bytes_total', 'counter', 'Bytes sent by the port: counters/port_xmit_data x 4 (on mlx5 RoCE, RDMA traffic only). Absent on rxe.');
  const rxBytes = family('spark_rdma_port_receive_bytes_total', 'counter', 'Bytes received by the port: counters/port_rcv_data x 4 (on mlx5 RoCE, RDMA traffic only). Absent on rxe.');
  const txPackets = family('spark_rdma_port_transmit_packets_total', 'counter', 'Packets sent: counters/port_xmit_packets, else hw_counters/sent_pkts (rxe).');
  const rxPackets = family('spark_rdma_port_receive_packets_total', 'counter', 'Packets received: counters/port_rcv_packets, else hw_counters/rcvd_pkts (rxe).');
  const portCounter = family('spark_rdma_port_counter_total', 'counter', 'Other entries of ports/<p>/counters/ (symbol_error, link_downed, port_rcv_errors, ...), raw.');
  const hwCounter = family('spark_rdma_hw_counter_total', 'counter', 'Entries of ports/<p>/hw_counters/ (retransmits, sequence errors, CNPs, ...), raw.');

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

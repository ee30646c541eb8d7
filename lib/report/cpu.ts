import type { EngineCpu } from '@spark/rdma/binding';

/** What a rail's engine thread(s) cost: CPU seconds, and the share of one core over the run. */
export interface RailCpu {
  /** CPU seconds (user + system) of the engine thread(s), from their own clocks. */
  seconds: number;
  /** seconds / wall seconds of the same span: 1 = one core kept busy (summed over threads). */
  coreShare: number;
}

/** One rail's cost from its engine threads' spans (several with --threads: their sum over the longest span). */
export function railCpu(spans: EngineCpu[]): RailCpu {
  const threadNs = spans.reduce((a, s) => a + s.threadNs, 0);
  const wallNs = Math.max(0, ...spans.map((s) => s.wallNs));
  return { seconds: threadNs / 1e9, coreShare: wallNs > 0 ? threadNs / wallNs : 0 };
}

/** CPU seconds per GB (10^9 bytes) moved; null when nothing moved. */
export function cpuSecondsPerGB(cpu: RailCpu, bytes: number): number | null {
  return bytes > 0 ? cpu.seconds / (bytes / 1e9) : null;
}

/** "0.98 (1.23 s)" for a table cell. */
export function formatCpu(cpu: RailCpu): string {
  return `${cpu.coreShare.toFixed(2)} (${cpu.seconds.toFixed(2)} s)`;
}

import type { CompletionQueue, MemoryRegion, QueuePair } from '@spark/rdma/binding';
import type { RailWire } from './endpoint.js';

/**
 * What the engines need from one side of one rail, however its QPs were brought up (the
 * out-of-band exchange in RailEndpoint, or rdma_cm in CmRailEndpoint).
 */
export interface RailSide {
  readonly cq: CompletionQueue;
  /** Every CQ, when QP i uses CQ i mod cqs.length (RailEndpoint with `cqs`); else only `cq`. */
  readonly cqs?: CompletionQueue[];
  readonly qps: QueuePair[];
  /** Per QP: what we send from (local access only). */
  readonly sources: MemoryRegion[];
  /** Per QP: where the peer writes (REMOTE_WRITE). */
  readonly targets: MemoryRegion[];
  wire(): RailWire;
  writeTargets(peer: RailWire): { qp: QueuePair; local: MemoryRegion; remoteAddr: bigint; rkey: number }[];
  close(): void;
}

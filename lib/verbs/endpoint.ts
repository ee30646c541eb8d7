import type {
  CompletionQueue,
  Context,
  MemoryRegion,
  ProtectionDomain,
  QueuePair,
} from '@spark/rdma/binding';
import { RdmaError } from '../errors.js';
import { loadBinding } from '../native/load.js';
import { plannedCqEntries } from './cq-size.js';
import { closeError, releaseInOrder } from './release.js';
import type { RailSide } from './rail-side.js';

/**
 * Local ACK timeout exponent of our RC QPs: 4.096 us x 2^17 = 537 ms before a retransmission.
 * It is what rdma_cm gives a RoCE QP (drivers/infiniband/core/cma.c: CMA_IBOE_PACKET_LIFETIME
 * 16 since Linux 5.16, and cm.c makes the timeout packet life time + 1), so the out-of-band and
 * --cm bring-ups retransmit alike. perftest's 14 (67 ms) is shorter than the queueing delay a
 * slow link builds with several QPs of 64 KiB writes in flight: the ACKs arrive after the timer
 * fired, and every write is sent again for nothing. On a two-guest soft-RoCE wire those spurious
 * retries ended runs with "remote invalid request" from rdma_rxe (Debian 6.1) on the way. A lost
 * packet still costs one timeout, and a dead peer is detected after 8 of them (~4.3 s).
 */
export const DEFAULT_ACK_TIMEOUT = 17;

/** What one side tells the other about a rail: enough to bring its QPs up and write to it. */
export interface RailWire {
  device: string;
  port: number;
  gid: string;
  mtu: number;
  qps: QpWire[];
}

export interface QpWire {
  qpn: number;
  psn: number;
  rkey: number;
  /** 64-bit address as a decimal string (JSON has no bigint). */
  addr: string;
}

export interface EndpointOptions {
  device: string;
  port: number;
  gidIndex: number;
  /** Path MTU in bytes (both sides must agree). */
  mtu: number;
  qps: number;
  /** Bytes per region: the largest message of the run. */
  regionBytes: number;
  /** Send queue depth per QP. */
  txDepth: number;
  /** Inline bytes to ask each QP for (0 = none). */
  inlineBytes: number;
  /**
   * QPs the CQ is sized for (default `qps`): a side that learns the peer's QP count one key
   * message at a time (a perftest client's -q) starts with fewer and adds them with addQueuePair().
   */
  maxQps?: number;
  /**
   * Completion queues (default 1): QP i uses CQ i mod cqs, so that `cqs` engine threads can
   * each poll a CQ of their own (bw --threads).
   */
  cqs?: number;
  /** ACK timeout exponent and retries for RTR/RTS (defaults DEFAULT_ACK_TIMEOUT and 7). */
  timeout?: number;
  retryCount?: number;
}

/**
 * The verbs objects of one side of one rail: a context, a PD, one CQ shared by all QPs, and
 * per QP a source region (local access only) and a target region the peer may write
 * (REMOTE_WRITE, nothing more). close() releases them children first, on every path.
 */
export class RailEndpoint implements RailSide {
  readonly gid: string;
  readonly qps: QueuePair[] = [];
  readonly sources: MemoryRegion[] = [];
  readonly targets: MemoryRegion[] = [];
  readonly cqs: CompletionQueue[] = [];
  private readonly context: Context;
  private readonly pd: ProtectionDomain;
  private closed = false;

  private constructor(readonly options: EndpointOptions) {
    const native = loadBinding();
    this.context = new native.Context(options.device);
    try {
      const info = this.context.query();
      const port = info.ports.find((p) => p.port === options.port);
      if (!port) throw new RdmaError(`${options.device} has no port ${options.port}`, { code: 'ERR_RDMA_INVALID_ARGUMENT' });
      const entry = port.gids.find((g) => g.index === options.gidIndex);
      if (!entry) {
        throw new RdmaError(
          `${options.device} port ${options.port} has no GID at index ${options.gidIndex} (populated: ${port.gids.map((g) => g.index).join(', ') || 'none'})`,
          { code: 'ERR_RDMA_INVALID_ARGUMENT', hint: 'omit --gid-index to use the IPv4 RoCE v2 entry, or pick one that spark-rdma devices lists' },
        );
      }
      this.gid = entry.gid;
      this.pd = new native.ProtectionDomain(this.context);
      // Every signaled WR of every QP may be outstanding at once; one CQ entry each is plenty.
      // Always with a completion channel (one fd): an engine asked for --events sleeps on it,
      // a polling engine never arms the CQ, so the channel costs it nothing.
      const entries = plannedCqEntries({ ...options, qps: Math.max(options.qps, options.maxQps ?? 0) });
      for (let i = 0; i < (options.cqs ?? 1); i++) this.cqs.push(new native.CompletionQueue(this.context, entries, { completionChannel: true }));
      for (let i = 0; i < options.qps; i++) this.#addQp();
    } catch (err) {
      // What failed to open is the error to report, not what then failed to close.
      releaseInOrder([() => this.close()]);
      throw err;
    }
  }

  /** The first CQ: every QP's when there is one. */
  get cq(): CompletionQueue {
    return this.cqs[0]!;
  }

  #addQp(): void {
    const native = loadBinding();
    const cq = this.cqs[this.qps.length % this.cqs.length]!;
    this.sources.push(new native.MemoryRegion(this.pd, this.options.regionBytes));
    this.targets.push(new native.MemoryRegion(this.pd, this.options.regionBytes, { remoteWrite: true }));
    this.qps.push(
      new native.QueuePair(this.pd, cq, {
        maxSendWr: this.options.txDepth,
        maxRecvWr: 1,
        maxInlineData: this.options.inlineBytes,
      }),
    );
  }

  /** One more QP with its regions, on the same CQ; refused beyond maxQps. */
  addQueuePair(): void {
    const limit = Math.max(this.options.qps, this.options.maxQps ?? 0);
    if (this.qps.length >= limit) {
      throw new RdmaError(`${this.options.device}: a ${this.qps.length + 1}th QP exceeds the ${limit} this side was opened for`, {
        code: 'ERR_RDMA_INVALID_ARGUMENT',
        hint: `use ${limit} QPs or fewer (-q / --qps)`,
      });
    }
    this.#addQp();
  }

  /** Opens the device and creates every object; on failure releases what it made. */
  static open(options: EndpointOptions): RailEndpoint {
    return new RailEndpoint(options);
  }

  wire(): RailWire {
    return {
      device: this.options.device,
      port: this.options.port,
      gid: this.gid,
      mtu: this.options.mtu,
      qps: this.qps.map((qp, i) => ({
        qpn: qp.qpn,
        psn: qp.psn,
        rkey: this.targets[i]!.rkey,
        addr: this.targets[i]!.addr.toString(),
      })),
    };
  }

  /** Brings every QP to RTS against the peer's QP of the same index. */
  connect(peer: RailWire): void {
    if (peer.qps.length !== this.qps.length) {
      throw new RdmaError(`the peer offered ${peer.qps.length} QPs on ${peer.device}, this side has ${this.qps.length}`, {
        code: 'ERR_PROTOCOL',
      });
    }
    if (peer.mtu !== this.options.mtu) {
      throw new RdmaError(
        `MTU mismatch on rail ${this.options.device}: this side uses ${this.options.mtu}, the peer ${peer.mtu}`,
        { code: 'ERR_RDMA_MTU_MISMATCH', hint: 'set the same netdev MTU on both ends (9000 gives path MTU 4096), or pass --mtu' },
      );
    }
    const local = {
      port: this.options.port,
      gidIndex: this.options.gidIndex,
      timeout: this.options.timeout ?? DEFAULT_ACK_TIMEOUT,
      ...(this.options.retryCount !== undefined ? { retryCount: this.options.retryCount } : {}),
    };
    this.qps.forEach((qp, i) => {
      const p = peer.qps[i]!;
      qp.connect({ qpn: p.qpn, psn: p.psn, gid: peer.gid, mtu: peer.mtu }, local);
    });
  }

  /** Write targets for the engine: from our source regions into the peer's target regions. */
  writeTargets(peer: RailWire): { qp: QueuePair; local: MemoryRegion; remoteAddr: bigint; rkey: number }[] {
    return this.qps.map((qp, i) => ({
      qp,
      local: this.sources[i]!,
      remoteAddr: BigInt(peer.qps[i]!.addr),
      rkey: peer.qps[i]!.rkey,
    }));
  }

  /**
   * Releases QPs, regions, the CQ, the PD and the context, in that order, trying each even when
   * one fails. Throws one error naming every failure (the first one's code, e.g. ERR_RDMA_BUSY
   * while an engine still runs); what stayed open is released by a later close(). Idempotent.
   */
  close(): void {
    if (this.closed) return;
    const errors = releaseInOrder([
      ...this.qps.map((qp) => () => qp.close()),
      ...[...this.sources, ...this.targets].map((mr) => () => mr.close()),
      ...this.cqs.map((cq) => () => cq.close()),
      ...(this.pd ? [() => this.pd.close()] : []),
      () => this.context.close(),
    ]);
    if (errors.length === 0) {
      this.closed = true;
      return;
    }
    throw closeError(`closing the ${this.options.device} endpoint`, errors);
  }
}

import type { CmId, CompletionQueue, Context, MemoryRegion, ProtectionDomain, QueuePair } from '@spark/rdma/binding';
import { RdmaError } from '../errors.js';
import { loadBinding } from '../native/load.js';
import { plannedCqEntries } from './cq-size.js';
import type { RailWire } from './endpoint.js';
import { closeError, releaseInOrder } from './release.js';
import type { RailSide } from './rail-side.js';

export interface CmEndpointOptions {
  device: string;
  qps: number;
  regionBytes: number;
  txDepth: number;
  inlineBytes: number;
  /** Deadline of each rdma_cm step. */
  timeoutMs: number;
}

// Each connection's private data carries the target region of that QP: rkey then address.
const PRIVATE_DATA_BYTES = 12;

function encodeTarget(mr: MemoryRegion): Uint8Array {
  const bytes = new Uint8Array(PRIVATE_DATA_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, mr.rkey, true);
  view.setBigUint64(4, mr.addr, true);
  return bytes;
}

function decodeTarget(data: Uint8Array | null, where: string): { rkey: number; addr: bigint } {
  if (!data || data.byteLength < PRIVATE_DATA_BYTES) {
    throw new RdmaError(`${where}: the peer's rdma_cm private data is ${data?.byteLength ?? 0} bytes, expected ${PRIVATE_DATA_BYTES}`, {
      code: 'ERR_PROTOCOL',
      hint: 'both sides must run spark-rdma with --cm',
    });
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return { rkey: view.getUint32(0, true), addr: view.getBigUint64(4, true) };
}

/**
 * One side of one rail whose QPs rdma_cm brought up (resolve/route/connect, or listen/accept).
 * The PD, CQ and regions live on rdma_cm's own device context, as QPs created on a cm id must.
 * The peer's target regions arrive in the connection's private data.
 */
export class CmRailEndpoint implements RailSide {
  readonly qps: QueuePair[] = [];
  readonly sources: MemoryRegion[] = [];
  readonly targets: MemoryRegion[] = [];
  private readonly ids: CmId[] = [];
  private readonly peerTargets: { rkey: number; addr: bigint }[] = [];
  private pd: ProtectionDomain | null = null;
  private cqObject: CompletionQueue | null = null;
  private listener: CmId | null = null;
  private closed = false;

  private constructor(private readonly options: CmEndpointOptions) {}

  get cq(): CompletionQueue {
    if (!this.cqObject) throw new RdmaError('rdma_cm endpoint has no CQ yet', { code: 'ERR_RDMA_CLOSED' });
    return this.cqObject;
  }

  /** Active side: one connection per QP to `destination:port`, from `source`. */
  static async connect(options: CmEndpointOptions, destination: string, port: number, source: string): Promise<CmRailEndpoint> {
    const e = new CmRailEndpoint(options);
    try {
      const native = loadBinding();
      for (let i = 0; i < options.qps; i++) {
        const id = new native.CmId();
        e.ids.push(id);
        await id.resolve(destination, port, source, options.timeoutMs);
        e.prepare(id.context!);
        e.qps.push(id.createQueuePair(e.pd!, e.cqObject!, { maxSendWr: options.txDepth, maxRecvWr: 1, maxInlineData: options.inlineBytes }));
        await id.connect(encodeTarget(e.targets[i]!), options.timeoutMs);
        e.peerTargets.push(decodeTarget(id.peerPrivateData, `QP ${i} to ${destination}`));
      }
      return e;
    } catch (err) {
      e.closeAfterFailure();
      throw err;
    }
  }

  /** Passive side: listen on `address:port` and accept `options.qps` connections. */
  static async accept(options: CmEndpointOptions, address: string, port: number, onListening?: () => void): Promise<CmRailEndpoint> {
    const e = new CmRailEndpoint(options);
    try {
      const native = loadBinding();
      e.listener = new native.CmId();
      e.listener.listen(address, port, Math.max(8, options.qps));
      onListening?.();
      for (let i = 0; i < options.qps; i++) {
        const id = await e.listener.getRequest(options.timeoutMs);
        e.ids.push(id);
        e.peerTargets.push(decodeTarget(id.peerPrivateData, `connection ${i} on ${address}`));
        e.prepare(id.context!);
        e.qps.push(id.createQueuePair(e.pd!, e.cqObject!, { maxSendWr: options.txDepth, maxRecvWr: 1, maxInlineData: options.inlineBytes }));
        await id.accept(encodeTarget(e.targets[i]!), options.timeoutMs);
      }
      return e;
    } catch (err) {
      e.closeAfterFailure();
      throw err;
    }
  }

  /** PD and CQ once (on the first id's context), then one source and one target region per QP. */
  private prepare(context: Context): void {
    const native = loadBinding();
    if (!this.pd) {
      this.pd = new native.ProtectionDomain(context);
      // With a completion channel, as RailEndpoint's (for --events).
      this.cqObject = new native.CompletionQueue(context, plannedCqEntries(this.options), { completionChannel: true });
    }
    this.sources.push(new native.MemoryRegion(this.pd, this.options.regionBytes));
    this.targets.push(new native.MemoryRegion(this.pd, this.options.regionBytes, { remoteWrite: true }));
  }

  /** The peer's side as the engines need it (qpn, psn and gid are rdma_cm's business here). */
  peerWire(): RailWire {
    return {
      device: this.options.device,
      port: 1,
      gid: '',
      mtu: 0,
      qps: this.peerTargets.map((t) => ({ qpn: 0, psn: 0, rkey: t.rkey, addr: t.addr.toString() })),
    };
  }

  wire(): RailWire {
    return {
      device: this.options.device,
      port: 1,
      gid: '',
      mtu: 0,
      qps: this.qps.map((qp, i) => ({ qpn: qp.qpn, psn: 0, rkey: this.targets[i]!.rkey, addr: this.targets[i]!.addr.toString() })),
    };
  }

  writeTargets(peer: RailWire): { qp: QueuePair; local: MemoryRegion; remoteAddr: bigint; rkey: number }[] {
    return this.qps.map((qp, i) => ({ qp, local: this.sources[i]!, remoteAddr: BigInt(peer.qps[i]!.addr), rkey: peer.qps[i]!.rkey }));
  }

  /**
   * QPs, regions, CQ, PD, then the ids (which disconnect) and the listener, trying each even
   * when one fails; throws one error naming every failure (a later close() retries). Idempotent.
   */
  close(): void {
    if (this.closed) return;
    const errors = releaseInOrder([
      ...this.qps.map((qp) => () => qp.close()),
      ...[...this.sources, ...this.targets].map((mr) => () => mr.close()),
      ...(this.cqObject ? [() => this.cqObject!.close()] : []),
      ...(this.pd ? [() => this.pd!.close()] : []),
      ...this.ids.map((id) => () => id.close()),
      ...(this.listener ? [() => this.listener!.close()] : []),
    ]);
    if (errors.length === 0) {
      this.closed = true;
      return;
    }
    throw closeError(`closing the rdma_cm endpoint on ${this.options.device}`, errors);
  }

  /** close() on a path that already fails with the real cause: that cause is what the caller throws. */
  private closeAfterFailure(): void {
    try {
      this.close();
    } catch {
      // the caller rethrows the error that brought it here
    }
  }
}

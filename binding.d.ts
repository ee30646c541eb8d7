/**
 * The native surface of `@spark/rdma`: thin, one-to-one wrappers over libibverbs and librdmacm,
 * plus the two hot loops (RDMA WRITE bandwidth and ping-pong latency) that run on their own
 * threads. Everything a person touches lives in the TypeScript layer above (lib/); this file is
 * the contract between the two. Load it with `loadBinding()` from lib/native/load.ts.
 *
 * Conventions:
 * - Every object has an explicit `close()`. A parent refuses to close while children are open
 *   (`ERR_RDMA_BUSY`), so release order is always QP -> CQ/MR -> PD -> Context. A cleanup hook
 *   closes whatever is left when the Node.js environment (main thread or worker) is torn down.
 * - Every failure is thrown (or rejected) as the error class given to {@link setErrorClass},
 *   carrying `code`, `errno` and `syscall` (see {@link NativeErrorFields}).
 * - Times are nanoseconds from CLOCK_MONOTONIC_RAW, as JS numbers (exact up to 2^53 ns = 104 days).
 * - Addresses are bigint: a 64-bit virtual address does not fit a double exactly.
 *
 * @packageDocumentation
 */

/** Fields every native error carries; the TS layer turns them into an `RdmaError`. */
export interface NativeErrorFields {
  /** Stable machine-readable code, e.g. `ERR_RDMA_SYSCALL`, `ERR_RDMA_WC`, `ERR_RDMA_BUSY`. */
  code: string;
  /** The errno the failing call returned or set, when there was one. */
  errno?: number;
  /** The verbs or rdma_cm call that failed, e.g. `ibv_reg_mr`. */
  syscall?: string;
  /** For completion errors: `ibv_wc_status_str()` of the failed work completion. */
  wcStatus?: string;
  /** For completion errors: the numeric `ibv_wc_status`, as perftest prints it. */
  wcStatusCode?: number;
  /** For completion errors: the QP number whose work request failed. */
  qpn?: number;
  /** A human hint: what most likely caused this and what to check. */
  hint?: string;
}

/** Constructor the addon uses for every error it raises. */
export type NativeErrorConstructor = new (message: string, fields: NativeErrorFields) => Error;

/**
 * Registers the error class the addon throws. Called once per environment by the loader,
 * before anything else; until then errors are plain `Error`s with the same fields.
 */
export function setErrorClass(ctor: NativeErrorConstructor): void;

/** Version of the native layer and of the libraries it was built against. */
export const versions: { addon: string; napi: number };

// ---------------------------------------------------------------------------------------------
// Devices
// ---------------------------------------------------------------------------------------------

/** Device capability limits from `ibv_query_device`. */
export interface DeviceLimits {
  maxQp: number;
  maxQpWr: number;
  maxCq: number;
  maxCqe: number;
  maxMr: number;
  /** Largest registrable region in bytes (bigint: often 2^64 - 1). */
  maxMrSize: bigint;
  maxPd: number;
  maxSge: number;
  maxQpRdAtom: number;
}

/** One populated entry of a port's GID table (`ibv_query_gid_table`). */
export interface GidEntry {
  index: number;
  /** Colon-separated, 8 groups of 4 hex digits, as sysfs prints it. */
  gid: string;
  /** `'IB'`, `'RoCE v1'` or `'RoCE v2'`. */
  type: 'IB' | 'RoCE v1' | 'RoCE v2';
  /** The netdev the entry belongs to, or null (InfiniBand, or the netdev is gone). */
  netdev: string | null;
}

/** Port attributes from `ibv_query_port`, decoded. */
export interface PortInfo {
  port: number;
  /** `'DOWN' | 'INIT' | 'ARMED' | 'ACTIVE' | 'ACTIVE_DEFER' | 'NOP'`. */
  state: string;
  /** `'SLEEP' | 'POLLING' | 'DISABLED' | 'PORT_CONFIGURATION_TRAINING' | 'LINK_UP' | 'LINK_ERROR_RECOVERY' | 'PHY_TEST' | 'UNKNOWN'`. */
  physState: string;
  /** Active path MTU in bytes (256..4096). */
  activeMtu: number;
  /** Largest MTU the port supports, in bytes. */
  maxMtu: number;
  linkLayer: 'Ethernet' | 'InfiniBand' | 'Unspecified';
  /** Signalling rate in Gb/s from active width x active speed (what sysfs `rate` shows). */
  rateGbps: number;
  lid: number;
  gidTableLength: number;
  /** Populated GID entries only (all-zero entries are left out). */
  gids: GidEntry[];
}

/** Everything `queryDevice` learns about one device. */
export interface DeviceInfo {
  name: string;
  /** `xxxx:xxxx:xxxx:xxxx`, as `ibv_devinfo` prints it. */
  nodeGuid: string;
  sysImageGuid: string;
  vendorId: number;
  vendorPartId: number;
  hwVer: number;
  firmware: string;
  /** `ibv_node_type_str`, e.g. `'InfiniBand channel adapter'` (also for RoCE and rxe). */
  nodeType: string;
  limits: DeviceLimits;
  ports: PortInfo[];
}

/** Names of the RDMA devices libibverbs sees (empty array when there are none). */
export function listDevices(): string[];

/**
 * Opens the device, queries device, ports and GID tables, and closes it again on every path.
 * @throws `ERR_RDMA_NO_DEVICE` when no device has that name.
 */
export function queryDevice(name: string): DeviceInfo;

// ---------------------------------------------------------------------------------------------
// Verbs objects
// ---------------------------------------------------------------------------------------------

/** An open device (`ibv_open_device`). */
export class Context {
  /** @throws `ERR_RDMA_NO_DEVICE` for an unknown device name. */
  constructor(device: string);
  readonly device: string;
  readonly closed: boolean;
  /** Same as {@link queryDevice} on this open context. */
  query(): DeviceInfo;
  /** `ibv_close_device`. @throws `ERR_RDMA_BUSY` while PDs or CQs of this context are open. */
  close(): void;
}

/** A protection domain (`ibv_alloc_pd`). */
export class ProtectionDomain {
  constructor(context: Context);
  readonly closed: boolean;
  /** @throws `ERR_RDMA_BUSY` while MRs or QPs of this PD are open. */
  close(): void;
}

/** Remote access a region grants. Local write is always on (needed for spin-on-byte reads by the NIC). */
export interface RegionAccess {
  remoteWrite?: boolean;
  remoteRead?: boolean;
}

/**
 * A registered region of host memory (`ibv_reg_mr`), allocated natively (page aligned, zeroed)
 * from a byte count. ArrayBuffers and Buffers are refused (`ERR_RDMA_INVALID_ARGUMENT`): JS can
 * detach or transfer an ArrayBuffer while it is registered, and the NIC would then write into
 * memory JS no longer owns. Use view() to read and write the region's bytes.
 */
export class MemoryRegion {
  /**
   * @param size Bytes to allocate natively and register.
   * @throws `ERR_RDMA_MEMLOCK` when registration hits the locked-memory limit (`ulimit -l`).
   */
  constructor(pd: ProtectionDomain, size: number, access?: RegionAccess);
  readonly length: number;
  readonly addr: bigint;
  readonly lkey: number;
  readonly rkey: number;
  readonly closed: boolean;
  /** A view of the region's bytes; it shares the memory, so it stays valid after close(). */
  view(): Uint8Array;
  close(): void;
}

/** A completion queue (`ibv_create_cq`). */
/** Options of a CompletionQueue. */
export interface CompletionQueueOptions {
  /**
   * Create it with a completion channel (ibv_create_comp_channel, one fd, non-blocking), so an
   * engine given `events: true` can sleep until a completion instead of spinning. The channel
   * is destroyed with the CQ (every event is acked first). Default false.
   */
  completionChannel?: boolean;
}

export class CompletionQueue {
  constructor(context: Context, depth: number, options?: CompletionQueueOptions);
  /** True when made with a completion channel. */
  readonly completionChannel: boolean;
  /** Actual depth the device granted (may exceed the request). */
  readonly depth: number;
  readonly closed: boolean;
  /** @throws `ERR_RDMA_BUSY` while QPs using this CQ are open. */
  close(): void;
}

/** Requested send-queue capabilities of a QP. */
export interface QueuePairCaps {
  /** Outstanding send work requests (the tx depth). */
  maxSendWr: number;
  /** Outstanding receive WRs (0 is fine for pure RDMA WRITE tests; default 1). */
  maxRecvWr?: number;
  /** Bytes that may be posted inline; the device may grant more or fail if it cannot. */
  maxInlineData?: number;
}

/** What one side must learn about the other side's QP to bring an RC connection up. */
export interface QueuePairPeer {
  qpn: number;
  /** Initial packet sequence number the peer sends with (24 bits). */
  psn: number;
  /** Peer GID (from its GID table, the IPv4 RoCE v2 entry on its rail). */
  gid: string;
  /** Path MTU in bytes; both sides must use the same value. */
  mtu: number;
}

/** Local addressing for RTR/RTS. */
export interface QueuePairLocal {
  port: number;
  gidIndex: number;
  /** Local ACK timeout exponent (4.096 us x 2^timeout); default 14 (~67 ms). */
  timeout?: number;
  /** Transport retries before IBV_WC_RETRY_EXC_ERR; default 7. */
  retryCount?: number;
  /** Traffic class for the GRH; default 0. */
  trafficClass?: number;
}

/** An RC queue pair (`ibv_create_qp`), brought up by {@link QueuePair.connect} or by a {@link CmId}. */
export class QueuePair {
  constructor(pd: ProtectionDomain, cq: CompletionQueue, caps: QueuePairCaps);
  readonly qpn: number;
  /** A random 24-bit initial PSN chosen at creation. */
  readonly psn: number;
  /** Inline bytes the device granted. */
  readonly maxInlineData: number;
  /** `'RESET' | 'INIT' | 'RTR' | 'RTS' | 'ERR' | ...` */
  /**
   * Path MTU in bytes the QP was brought up with (`ibv_query_qp`): what `connect()` set, or what
   * rdma_cm took from the route. Null before RTR and once closed.
   */
  readonly pathMtu: number | null;
  readonly state: string;
  readonly closed: boolean;
  /**
   * INIT (remote write allowed) -> RTR (peer qpn, psn, gid, mtu) -> RTS.
   * @throws `ERR_RDMA_SYSCALL` with syscall `ibv_modify_qp` and the transition in the message.
   */
  connect(peer: QueuePairPeer, local: QueuePairLocal): void;
  close(): void;
}

// ---------------------------------------------------------------------------------------------
// rdma_cm
// ---------------------------------------------------------------------------------------------

/**
 * An rdma_cm identifier on its own event channel. Each asynchronous step has a deadline and
 * rejects with `ERR_RDMA_CM_TIMEOUT` (or the event that arrived instead) when it passes. A step
 * waits on a thread of its own, not on the libuv pool, so any number of rails can wait at once.
 */
export class CmId {
  /** Creates an unbound RC identifier (`rdma_create_id` with RDMA_PS_TCP). */
  constructor();
  /** The device context once bound or resolved (null before). Borrowed: closing the CmId ends it. */
  readonly context: Context | null;
  readonly closed: boolean;
  /** `rdma_resolve_addr` then `rdma_resolve_route`; binds to `source` when given. */
  resolve(destination: string, port: number, source: string | null, timeoutMs: number): Promise<void>;
  /** `rdma_bind_addr` + `rdma_listen`. */
  listen(address: string, port: number, backlog: number): void;
  /** Waits for a connect request; resolves to a new CmId for that connection. */
  getRequest(timeoutMs: number): Promise<CmId>;
  /** Creates the connection's QP on this id (`rdma_create_qp`). */
  createQueuePair(pd: ProtectionDomain, cq: CompletionQueue, caps: QueuePairCaps): QueuePair;
  /** `rdma_connect` and wait for ESTABLISHED. `privateData` travels with the request (<= 56 bytes). */
  connect(privateData: Uint8Array | null, timeoutMs: number): Promise<void>;
  /** `rdma_accept` and wait for ESTABLISHED. */
  accept(privateData: Uint8Array | null, timeoutMs: number): Promise<void>;
  /** Private data the peer sent with its connect request or accept. */
  readonly peerPrivateData: Uint8Array | null;
  /**
   * `rdma_disconnect` (if connected), destroys the QP, the id and its channel.
   * @throws `ERR_RDMA_BUSY` while a step is pending, while an engine runs on this id's QP, or
   *   while PDs or CQs are open on its context. Dropped without close() under a running engine,
   *   the id is released when the engine lets go of the QP.
   */
  close(): void;
}

// ---------------------------------------------------------------------------------------------
// Engines
// ---------------------------------------------------------------------------------------------

/** One QP's work in a write-bandwidth run: where to write from and to. */
export interface WriteTarget {
  qp: QueuePair;
  /** Local source region, at least `size` bytes. */
  local: MemoryRegion;
  /** Peer's region address and rkey (from the out-of-band exchange or the CM private data). */
  remoteAddr: bigint;
  rkey: number;
}

/** Parameters of a write-bandwidth run. Validated natively again; the TS layer explains limits. */
export interface WriteBandwidthParams {
  /** Message size in bytes. */
  size: number;
  /** Outstanding WRs per QP. */
  txDepth: number;
  /** WRs chained per ibv_post_send (one doorbell). */
  postList: number;
  /**
   * One signaled WR per this many (1 = every WR). Must be <= txDepth. The engine signals more
   * often when needed so that at most 8 MiB of data per QP goes unsignaled (with 8 MiB
   * messages, every WR): completions then arrive well within the stall deadline.
   */
  signalEvery: number;
  /** Post inline when size <= this (and the QP allows it); 0 = never. */
  inlineThreshold: number;
  /** Messages per QP in the timed phase; exclusive with durationMs. */
  iterations?: number;
  /** Length of the timed phase; exclusive with iterations. */
  durationMs?: number;
  /** Untimed warm-up before the timed phase (drained before timing starts). */
  warmupMs: number;
  /** Interval of the streamed samples. */
  intervalMs: number;
  /** No completion for this long while WRs are outstanding is an error (`ERR_RDMA_CQ_TIMEOUT`). */
  completionTimeoutMs: number;
  /**
   * Sleep on the CQ's completion channel between completions instead of spinning (perftest's
   * -e): arm (ibv_req_notify_cq), poll once more (a completion that came in between raises no
   * event), then poll() on the channel fd for at most 20 ms, the completion deadline, the end
   * of the duration or the next sample, whichever is first. Needs a CQ made with
   * `{completionChannel: true}`. Default false.
   */
  events?: boolean;
  /**
   * Added to the engine thread's nice value for the run (0..19, default 0; capped at 19). Any
   * thread may lower its own priority. With spinning engines on every CPU, a higher nice lets a
   * woken JS thread preempt an engine that spins in user space sooner (CFS preempts only for a
   * waker whose vruntime is well behind); rdma_rxe's work inside ibv_post_send is not preempted.
   */
  engineNice?: number;
}

/** One streamed interval sample. */
export interface WriteBandwidthSample {
  /** End of the interval, ns since the timed phase began. */
  tNs: number;
  /** Length of this interval in ns (the last one is usually short). */
  intervalNs: number;
  /** Bytes whose completions arrived in the interval. */
  bytes: number;
  messages: number;
}

export interface WriteQpCounters {
  qpn: number;
  bytes: number;
  messages: number;
  /** CLOCK_MONOTONIC_RAW ns of the first post and the last completion in the timed phase. */
  firstPostNs: number;
  lastCompletionNs: number;
}

export interface WriteBandwidthResult {
  qps: WriteQpCounters[];
  bytes: number;
  messages: number;
  /** Earliest first post and latest last completion over all QPs. */
  firstPostNs: number;
  lastCompletionNs: number;
  /** Messages posted in warm-up (not in the counters above). */
  warmupMessages: number;
  /** True when stop() ended the run before its iterations or duration were done. */
  stoppedEarly: boolean;
  /** Engine-side counters that explain performance: posts (doorbells), CQ polls, empty polls. */
  engine: {
    postCalls: number;
    pollCalls: number;
    emptyPolls: number;
    inlineUsed: boolean;
    /** Events mode: sleeps on the channel ended by a completion event (0 when polling). */
    eventWakeups: number;
    /** Events mode: sleeps on the channel, including those that ended at a deadline. */
    eventSleeps: number;
    /** The engine thread's nice value during the run (see engineNice). */
    nice: number;
  };
  /** What the engine thread cost over the timed phase (warm-up excluded). */
  cpu: EngineCpu;
}

/**
 * CPU an engine thread used, from its own clock (CLOCK_THREAD_CPUTIME_ID: user + system time
 * of that thread alone), and the wall time of the same span (CLOCK_MONOTONIC_RAW).
 * threadNs / wallNs is the share of one core the thread kept busy: about 1 for a thread that
 * spins on its CQ, less when it sleeps or is preempted.
 */
export interface EngineCpu {
  threadNs: number;
  wallNs: number;
}

/**
 * RDMA WRITE bandwidth loop over several QPs sharing one CQ, on a thread of its own.
 * All QPs must already be in RTS and all use `cq` as their send CQ.
 */
export class WriteBandwidthEngine {
  constructor(cq: CompletionQueue, targets: WriteTarget[], params: WriteBandwidthParams);
  /**
   * Starts the thread. `onSample` is called on the JS thread once per interval.
   * Resolves with the counters; rejects with `ERR_RDMA_WC` (wcStatus, hint) on a failed
   * completion, `ERR_RDMA_CQ_TIMEOUT` when completions stop.
   */
  start(onSample?: (sample: WriteBandwidthSample) => void): Promise<WriteBandwidthResult>;
  /** Ends the timed phase early; the promise still resolves with what was measured. Idempotent. */
  stop(): void;
  readonly running: boolean;
}

/** Parameters of a write ping-pong latency run (the ib_write_lat method). */
export interface WriteLatencyParams {
  /** Message size in bytes (>= 1); the last byte carries the sequence number. */
  size: number;
  /** Post inline when size <= this (and the QP allows it). */
  inlineThreshold: number;
  /** Timed exchanges; exclusive with durationMs. */
  iterations?: number;
  durationMs?: number;
  /** Untimed exchanges first. */
  warmupIterations: number;
  /**
   * The initiator's warm-up also lasts at least this long (default 0): time for the process
   * around the engine to settle (JIT and GC threads started by the set-up) before timing.
   */
  warmupMs?: number;
  /**
   * `'initiator'` writes first; `'responder'` answers each write it sees. Both sides of a pair
   * must run. In iterations mode the initiator ends after its warm-up + iterations exchanges; a
   * responder given the same iterations, warmupIterations and no warmupMs ends there too;
   * otherwise (duration mode, or a warm-up in time) the responder follows until stop().
   */
  role: 'initiator' | 'responder';
  /**
   * A responder stamps its posts too (default false), for runs where the peer is not ours and
   * this side's samples are the only ones we get (ib_write_lat's client times its posts the
   * same way). Its samples span successive posts, so N exchanges give N - 1 samples; it needs
   * no warmupMs.
   */
  stampResponder?: boolean;
  /** No write from the peer for this long is an error (`ERR_RDMA_PEER_SILENT`); at most 3,600,000. */
  peerTimeoutMs: number;
  /**
   * What stamps the posts. `'clock'`: clock_gettime(CLOCK_MONOTONIC_RAW). `'counter'`: the CPU
   * counter, scaled to that clock by a rate measured over the run. `'auto'` (default): the clock,
   * unless one read of it costs more than 200 ns (a slow clocksource such as hpet in an emulated
   * guest), then the counter.
   */
  timer?: 'auto' | 'clock' | 'counter';
  /**
   * Samples kept one by one (default 1e7, 80 MB). A run with more (duration mode: an hour at
   * 2 us is 1.8e9) keeps a histogram instead: see WriteLatencyResult.histogram.
   */
  sampleBudget?: number;
  /**
   * Wait for this side's send completions on the CQ's completion channel (perftest's -e), as
   * WriteBandwidthParams.events does. The peer's write is still awaited by spinning on the last
   * byte of `local`: an RDMA WRITE raises no completion where it lands. Needs a CQ made with
   * `{completionChannel: true}`. Default false.
   */
  events?: boolean;
}

/**
 * Latency of a run that outgrew its sample budget: count, min, max, mean and variance are exact;
 * percentiles come from log-linear buckets (128 per power of two), whose midpoints are within
 * `relativeError` (2^-8, 0.39 %) of any sample in them. One-way nanoseconds.
 */
export interface LatencyHistogram {
  count: number;
  minNs: number;
  maxNs: number;
  meanNs: number;
  /** Sample (n - 1) variance in ns^2: the stdev is its square root. */
  varianceNs2: number;
  relativeError: number;
  /** Non-empty buckets in ascending order: samples x with lowerNs[i] <= x < upperNs[i]. */
  lowerNs: Float64Array;
  upperNs: Float64Array;
  counts: Float64Array;
}

export interface WriteLatencyResult {
  /**
   * One-way latency samples in ns (half the time between successive posts, as ib_write_lat
   * does), warm-up excluded. Filled natively; handed over once at the end. The initiator's
   * only, unless a responder was asked to stamp (`stampResponder`); otherwise it is empty.
   * Empty too when the run had more samples than `sampleBudget` (then `histogram` holds them).
   */
  samplesNs: Float64Array;
  /** 'exact': every sample is in samplesNs; 'histogram': there were too many, see histogram. */
  statistics: 'exact' | 'histogram';
  histogram: LatencyHistogram | null;
  /** Exchanges completed, warm-up included. */
  exchanges: number;
  /** Of those, untimed warm-up exchanges (at least warmupIterations; more with warmupMs). */
  warmupExchanges: number;
  stoppedEarly: boolean;
  inlineUsed: boolean;
  /** How the initiator timed its posts (a responder reports source only, mhz 0). */
  timer: LatencyTimer;
  /** What the engine thread cost over its whole loop (warm-up exchanges included). */
  cpu: EngineCpu;
  /** Events mode: sleeps on the completion channel, and how many a completion ended (0 when polling). */
  events: { wakeups: number; sleeps: number };
}

/**
 * The stopwatch of a latency run: the CPU's free-running counter, read once per exchange,
 * with its rate measured against CLOCK_MONOTONIC_RAW over the same run (at least 20 ms).
 */
export interface LatencyTimer {
  /** `'tsc'` (x86), `'cntvct'` (aarch64 generic timer) or `'monotonic_raw'` elsewhere. */
  source: string;
  /** Measured tick rate in MHz. */
  mhz: number;
  /**
   * Samples whose two stamps were taken on different CPUs. Counters are synchronised across
   * CPUs on the hardware this targets; where a kernel says they are not (it then stops using
   * the TSC as its clocksource), such samples are the ones to doubt.
   */
  cpuMigrations: number;
}

/**
 * Ping-pong loop on one RC QP: write to the peer, spin on the last byte of the local region.
 * `local` is where the peer writes (registered with remote write); `source` is what is sent.
 */
export class WriteLatencyEngine {
  constructor(
    cq: CompletionQueue,
    target: { qp: QueuePair; local: MemoryRegion; source: MemoryRegion; remoteAddr: bigint; rkey: number },
    params: WriteLatencyParams,
  );
  start(): Promise<WriteLatencyResult>;
  stop(): void;
  readonly running: boolean;
}

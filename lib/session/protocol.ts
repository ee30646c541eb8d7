// The out-of-band session protocol between two nodes: versioned JSON lines over TCP.
// One JSON object per line (UTF-8, '\n'); the client asks, the server answers, one at a time:
//   hello -> hello, propose -> accept | reject, connect -> ready,
//   (start -> started, finish -> finished)*, bye.   `error` from either side ends the session.
// Version 2 added `rails` to 'start' (a latency client times one rail per start/finish).

export const PROTOCOL_VERSION = 2;
/** perftest's port, so firewall rules written for it keep working. */
export const DEFAULT_SESSION_PORT = 18515;
/** Longest accepted line in bytes, without its '\n'. */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;

/** The limits the validators enforce; exported so callers can explain them in their own words. */
export const LIMITS = {
  maxRails: 64,
  /** QPs per rail. */
  qps: { min: 1, max: 4096 },
  sizes: { min: 1, max: 2 ** 31, maxCount: 64 },
  txDepth: { min: 1, max: 65536 },
  postList: { min: 1, max: 1024 },
  signalEvery: { min: 1, max: 65536 },
  inlineThreshold: { min: 0, max: 4096 },
  iterations: { min: 1, max: 2 ** 40 },
  durationMs: { min: 1, max: 86_400_000 },
  warmupMs: { min: 0, max: 600_000 },
  mtus: [256, 512, 1024, 2048, 4096] as const,
  /** 24-bit QP numbers and PSNs, 32-bit rkeys, 64-bit addresses. */
  qpn: 0xffffff,
  psn: 0xffffff,
  rkey: 0xffffffff,
  addr: 2n ** 64n - 1n,
  port: { min: 1, max: 255 },
  gidIndex: { min: 0, max: 65535 },
  softwareChars: 200,
  deviceChars: 64,
  messageChars: 4096,
  /** Levels of nesting allowed in a counters object. */
  countersDepth: 8,
} as const;

export type Role = 'client' | 'server';
export type Mtu = (typeof LIMITS.mtus)[number];
export type TestKind = 'bw' | 'lat';

/** A rail as the server describes it in its hello. */
export interface HelloRail {
  index: number;
  device: string;
  port: number;
  ipv4: string | null;
  /** The GID at `gidIndex` (8-group colon hex), null when the rail has no usable GID. */
  gid: string | null;
  gidIndex: number | null;
  activeMtu: Mtu;
}

/** What one side must know about one of the other side's QPs. */
export interface QpEndpoint {
  /** 24-bit QP number. */
  qpn: number;
  /** 24-bit initial packet sequence number. */
  psn: number;
  /** 32-bit remote key of the QP's buffer. */
  rkey: number;
  /** Virtual address of the QP's buffer (a decimal string on the wire). */
  addr: bigint;
}

/** One rail's side of a run: its QPs, in the order they pair with the peer's. */
export interface RailEndpoint {
  index: number;
  device: string;
  port: number;
  gid: string;
  mtu: Mtu;
  qps: QpEndpoint[];
}

export interface ClientHelloMessage {
  type: 'hello';
  version: number;
  software: string;
}

export interface ServerHelloMessage {
  type: 'hello';
  version: number;
  software: string;
  rails: HelloRail[];
}

/** The test the client wants; `qps` is per rail. Exactly one of iterations and durationMs. */
export interface ProposeMessage {
  type: 'propose';
  test: TestKind;
  /** Server rail indices, distinct, in any order; client rail i pairs with the i-th of them. */
  rails: number[];
  qps: number;
  sizes: number[];
  txDepth: number;
  postList: number;
  signalEvery: number;
  inlineThreshold: number;
  iterations?: number;
  durationMs?: number;
  warmupMs: number;
  bidir: boolean;
  cm: boolean;
  mtu?: Mtu;
}

export interface AcceptMessage {
  type: 'accept';
  /** One per proposed rail, in the proposed order, each with `qps` QPs. */
  rails: RailEndpoint[];
}

export interface RejectMessage {
  type: 'reject';
  code: string;
  message: string;
  hint?: string;
}

export interface ConnectMessage {
  type: 'connect';
  /** The client's rails, in the same order as the accepted ones, each with `qps` QPs. */
  rails: RailEndpoint[];
}

export interface ReadyMessage {
  type: 'ready';
}

export interface StartMessage {
  type: 'start';
  /** One of the proposed sizes. */
  size: number;
  /**
   * lat only: the rails (indices into the proposal's rails) timed until the next 'finish'; all
   * of them when absent. A client timing rails one by one names one rail per start, so the
   * server answers on that rail alone and no idle responder spins beside the timed one.
   */
  rails?: number[];
}

export interface StartedMessage {
  type: 'started';
}

/** Counters are whatever the sender measured (JSON object), or null when it measured nothing. */
export type Counters = Record<string, unknown> | null;

export interface FinishMessage {
  type: 'finish';
  size: number;
  counters: Counters;
}

export interface FinishedMessage {
  type: 'finished';
  size: number;
  counters: Counters;
}

export interface ByeMessage {
  type: 'bye';
}

/** Ends the session from either side, at any time. */
export interface ErrorMessage {
  type: 'error';
  code: string;
  message: string;
  hint?: string;
}

export type ClientMessage =
  | ClientHelloMessage
  | ProposeMessage
  | ConnectMessage
  | StartMessage
  | FinishMessage
  | ByeMessage
  | ErrorMessage;

export type ServerMessage =
  | ServerHelloMessage
  | AcceptMessage
  | RejectMessage
  | ReadyMessage
  | StartedMessage
  | FinishedMessage
  | ErrorMessage;

export type Message = ClientMessage | ServerMessage;

/** Messages a side with role R receives (from its peer) and sends. */
export type Incoming<R extends Role> = R extends 'server' ? ClientMessage : ServerMessage;
export type Outgoing<R extends Role> = R extends 'server' ? ServerMessage : ClientMessage;

export const CLIENT_MESSAGE_TYPES = ['hello', 'propose', 'connect', 'start', 'finish', 'bye', 'error'] as const;
export const SERVER_MESSAGE_TYPES = ['hello', 'accept', 'reject', 'ready', 'started', 'finished', 'error'] as const;

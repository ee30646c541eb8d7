// Shared fixtures for the session tests: valid messages, a fake server-side session, raw
// loopback clients, a seeded PRNG and generators of bad input. Loopback (127.0.0.1) only.
import { connect, type Socket } from 'node:net';
import {
  Channel,
  SessionServer,
  stringifyMessage,
  type ClientMessage,
  type HelloRail,
  type ProposeMessage,
  type RailEndpoint,
  type SessionServerOptions,
} from '../../lib/session/index.js';

export const LOOPBACK = '127.0.0.1';

export const SERVER_RAILS: HelloRail[] = [
  { index: 0, device: 'rocep1s0f1', port: 1, ipv4: '192.168.100.10', gid: '0000:0000:0000:0000:0000:ffff:c0a8:640a', gidIndex: 3, activeMtu: 4096 },
  { index: 1, device: 'roceP2p1s0f1', port: 1, ipv4: '192.168.101.10', gid: '0000:0000:0000:0000:0000:ffff:c0a8:650a', gidIndex: 3, activeMtu: 4096 },
];

export const PROPOSAL: ProposeMessage = {
  type: 'propose',
  test: 'bw',
  rails: [0, 1],
  qps: 2,
  sizes: [4096, 65536],
  txDepth: 128,
  postList: 1,
  signalEvery: 100,
  inlineThreshold: 0,
  durationMs: 1000,
  warmupMs: 100,
  bidir: false,
  cm: false,
  mtu: 4096,
};

/** One side's rails for a proposal; `salt` makes the two sides' numbers differ. */
export function endpointsFor(proposal: ProposeMessage, salt: number): RailEndpoint[] {
  return proposal.rails.map((index) => ({
    index,
    device: SERVER_RAILS[index]?.device ?? `rxe${index}`,
    port: 1,
    gid: SERVER_RAILS[index]?.gid ?? '0000:0000:0000:0000:0000:ffff:7f00:0001',
    mtu: 4096,
    qps: Array.from({ length: proposal.qps }, (_, q) => ({
      qpn: 0x100 + salt * 64 + index * 16 + q,
      psn: 0xabcdef - q,
      rkey: 0xdeadbeef - salt,
      // Above 2^53 on purpose: must survive the trip exactly.
      addr: 0xffff_8000_0000_0000n + BigInt(salt * 1_000_000 + q * 4096 + 1),
    })),
  }));
}

/** The client's side of a full valid conversation, in order (answers omitted). */
export function validClientScript(): ClientMessage[] {
  return [
    { type: 'hello', version: 2, software: 'fuzz-client' },
    PROPOSAL,
    { type: 'connect', rails: endpointsFor(PROPOSAL, 1) },
    { type: 'start', size: 4096 },
    { type: 'finish', size: 4096, counters: { bytes: 123, side: 'client' } },
    { type: 'bye' },
  ];
}

/** The fake session refuses more QPs per rail than this (a real one checks max_qp). */
export const MAX_FAKE_QPS = 16;

/**
 * A stand-in for the verbs side: answers every request the way a real server would, with
 * made-up QP numbers. Rejects proposals naming rails it does not have.
 */
export async function fakeServerSession(channel: Channel<'server'>, timeoutMs = 5_000, received: ClientMessage[] = []): Promise<ClientMessage[]> {
  const receive = async <T extends ClientMessage['type']>(types: T[]): Promise<Extract<ClientMessage, { type: T }>> => {
    const message = await channel.receive(types, timeoutMs);
    received.push(message);
    return message;
  };
  for (;;) {
    const propose = await receive(['propose', 'bye']);
    if (propose.type === 'bye') return received;
    const missing = propose.rails.filter((i) => i >= SERVER_RAILS.length);
    if (propose.qps > MAX_FAKE_QPS) {
      channel.send({ type: 'reject', code: 'ERR_TOO_MANY_QPS', message: `${propose.qps} QPs per rail, this server allows ${MAX_FAKE_QPS}` });
      continue;
    }
    if (missing.length === 0) {
      channel.send({ type: 'accept', rails: endpointsFor(propose, 2) });
      break;
    }
    channel.send({ type: 'reject', code: 'ERR_RAIL_UNKNOWN', message: `no rail ${missing.join(', ')} here`, hint: 'propose rails 0..1' });
  }
  const connect = await receive(['connect', 'bye']);
  if (connect.type === 'bye') return received;
  channel.send({ type: 'ready' });
  for (;;) {
    const start = await receive(['start', 'bye']);
    if (start.type === 'bye') return received;
    channel.send({ type: 'started' });
    const finish = await receive(['finish']);
    channel.send({ type: 'finished', size: finish.size, counters: { bytes: finish.size * 10, side: 'server' } });
  }
}

export interface TestServer {
  server: SessionServer;
  port: number;
  logs: string[];
  close(): Promise<void>;
}

export async function startServer(overrides: Partial<SessionServerOptions> = {}): Promise<TestServer> {
  const logs: string[] = [];
  const server = new SessionServer({
    addresses: [LOOPBACK],
    port: 0,
    handshakeTimeoutMs: 2_000,
    lingerMs: 200,
    log: (line) => logs.push(line),
    serverHello: () => ({ software: 'test-server', rails: SERVER_RAILS }),
    onSession: async (channel) => {
      await fakeServerSession(channel);
    },
    ...overrides,
  });
  await server.listen();
  return { server, port: server.port, logs, close: () => server.close() };
}

/** Polls until `predicate` holds, failing after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, timeoutMs = 3_000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A raw TCP client that collects the server's lines. */
export class RawClient {
  readonly socket: Socket;
  /** `127.0.0.1:<local port>`, as the server logs this client (kept: the port is gone after close). */
  readonly label: string;
  readonly lines: string[] = [];
  #buffer = '';
  #closed: Promise<void>;
  #waiters: (() => void)[] = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    this.label = `${LOOPBACK}:${socket.localPort}`;
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      this.#buffer += text;
      let nl: number;
      while ((nl = this.#buffer.indexOf('\n')) >= 0) {
        this.lines.push(this.#buffer.slice(0, nl));
        this.#buffer = this.#buffer.slice(nl + 1);
      }
      for (const wake of this.#waiters.splice(0)) wake();
    });
    socket.on('error', () => {});
    this.#closed = new Promise((resolve) => socket.once('close', () => {
      for (const wake of this.#waiters.splice(0)) wake();
      resolve();
    }));
  }

  static open(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: LOOPBACK, port, allowHalfOpen: true });
      socket.once('connect', () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  send(message: ClientMessage | Record<string, unknown>): void {
    this.socket.write(`${stringifyMessage(message as ClientMessage)}\n`);
  }

  /** Waits for the next line (count-th overall); null when the socket closes first. */
  async line(index: number, timeoutMs = 2_000): Promise<string | null> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length <= index) {
      if (this.socket.destroyed || this.socket.readableEnded) return null;
      if (Date.now() > deadline) throw new Error(`no line ${index} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 20);
      });
    }
    return this.lines[index]!;
  }

  /** Resolves when the server has closed the connection; throws after timeoutMs. */
  async closedByServer(timeoutMs = 2_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`server did not close ${this.label} within ${timeoutMs} ms`)), timeoutMs);
    });
    // The server ends its side; we finish ours so the socket closes.
    const ended = new Promise<void>((resolve) => {
      if (this.socket.readableEnded) resolve();
      else this.socket.once('end', () => resolve());
      this.socket.once('close', () => resolve());
    });
    try {
      await Promise.race([ended, timeout]);
    } finally {
      clearTimeout(timer);
    }
    this.socket.end();
    this.socket.destroy();
    await this.#closed;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export { prng } from '../fixtures/prng.js';

export type Rng = () => number;

export function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)]!;
}

export function randomInt(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}

export function randomBytes(rng: Rng, maxLength: number): Buffer {
  const bytes = Buffer.alloc(randomInt(rng, 0, maxLength));
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rng() * 256);
  return bytes;
}

const KEYS = ['type', 'version', 'software', 'rails', 'qps', 'size', 'sizes', 'addr', 'gid', 'x', '__proto__', 'constructor', '', 'é'];
const TYPES = ['hello', 'propose', 'accept', 'reject', 'connect', 'ready', 'start', 'started', 'finish', 'finished', 'bye', 'error', 'HELLO', ''];

export function randomString(rng: Rng): string {
  const roll = rng();
  if (roll < 0.3) return pick(rng, TYPES);
  if (roll < 0.5) return pick(rng, KEYS);
  const length = randomInt(rng, 0, 12);
  let out = '';
  for (let i = 0; i < length; i++) out += String.fromCharCode(rng() < 0.9 ? randomInt(rng, 32, 126) : randomInt(rng, 0, 0xffff));
  return out;
}

export function randomNumber(rng: Rng): number {
  return pick(rng, [
    0, -0, 1, -1, 0.5, 2 ** 24, 2 ** 24 - 1, 2 ** 31, 2 ** 32, 2 ** 40 + 1, 2 ** 53, 2 ** 64, -(2 ** 31), 1e308, -1e308,
    Number.MAX_SAFE_INTEGER, randomInt(rng, -1000, 100_000), rng() * 1e6,
  ]);
}

/** A random JSON-compatible value, nested up to `depth`. */
export function randomJson(rng: Rng, depth = 3): unknown {
  const roll = rng();
  if (depth <= 0 || roll < 0.5) {
    const kind = rng();
    if (kind < 0.4) return randomNumber(rng);
    if (kind < 0.8) return randomString(rng);
    return pick(rng, [null, true, false]);
  }
  if (roll < 0.7) return Array.from({ length: randomInt(rng, 0, 4) }, () => randomJson(rng, depth - 1));
  const obj: Record<string, unknown> = {};
  if (rng() < 0.6) obj.type = pick(rng, TYPES);
  const fields = randomInt(rng, 0, 5);
  for (let i = 0; i < fields; i++) Object.defineProperty(obj, randomString(rng), { value: randomJson(rng, depth - 1), enumerable: true, writable: true, configurable: true });
  return obj;
}

/** Every path (as key lists) to a value inside a JSON tree. */
function paths(value: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (Array.isArray(value)) value.forEach((item, i) => { out.push([...prefix, i]); paths(item, [...prefix, i], out); });
  else if (typeof value === 'object' && value !== null) {
    for (const key of Object.keys(value)) {
      out.push([...prefix, key]);
      paths((value as Record<string, unknown>)[key], [...prefix, key], out);
    }
  }
  return out;
}

function parentOf(root: unknown, path: (string | number)[]): Record<string | number, unknown> {
  let node = root as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  return node;
}

/** A wire-form (JSON) copy of a message, mutated one way or another. */
export function mutate(rng: Rng, message: unknown): unknown {
  const copy = JSON.parse(stringifyMessage(message as ClientMessage)) as unknown;
  const all = paths(copy);
  if (all.length === 0) return copy;
  const path = pick(rng, all);
  const parent = parentOf(copy, path);
  const key = path[path.length - 1]!;
  switch (randomInt(rng, 0, 6)) {
    case 0: // drop a field (or array item)
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
      break;
    case 1: // wrong type
      parent[key] = pick(rng, ['1', 1, true, null, [], {}, [1, 2], 'x'.repeat(50)]);
      break;
    case 2: // huge number
      parent[key] = pick(rng, [2 ** 24, 2 ** 32, 2 ** 53, 1e300, 2 ** 64, 2 ** 40 + 1]);
      break;
    case 3: // negative number
      parent[key] = -randomInt(rng, 1, 2 ** 31);
      break;
    case 4: // extra field next to it
      if (!Array.isArray(parent)) parent[`extra${randomInt(rng, 0, 9)}`] = randomJson(rng, 1);
      else parent.push(randomJson(rng, 1));
      break;
    case 5: // random value
      parent[key] = randomJson(rng, 2);
      break;
    default: // version or type change
      if (typeof copy === 'object' && copy !== null && !Array.isArray(copy)) {
        const obj = copy as Record<string, unknown>;
        if (rng() < 0.5) obj.type = pick(rng, TYPES);
        else obj.version = pick(rng, [0, 2, 99, -1, 1.5, '1']);
      }
  }
  return copy;
}

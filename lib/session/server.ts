// The server end: listens on the given addresses (the rails' own by default, never 0.0.0.0
// unless asked), serves a bounded number of sessions at a time, does the hello exchange within
// a deadline and hands each session to `onSession`. A client that sends garbage, breaks the
// protocol or goes silent is dropped with a logged reason; the server keeps serving.
import { createServer, isIP, type Server, type Socket } from 'node:net';
import { invalidArgument, RdmaError } from '../errors.js';
import { Channel, peerLabel, shouldTellPeer } from './channel.js';
import { DEFAULT_MAX_LINE_BYTES, DEFAULT_SESSION_PORT, PROTOCOL_VERSION, type ServerHelloMessage } from './protocol.js';

export const ERR_SERVER_BUSY = 'ERR_SERVER_BUSY';
export const ERR_ADDRESS_IN_USE = 'ERR_SERVER_ADDRESS_IN_USE';
export const ERR_LISTEN = 'ERR_SERVER_LISTEN';
export const ERR_SERVER_INTERNAL = 'ERR_SERVER_INTERNAL';

/** Who a session is with. */
export interface SessionPeer {
  address: string;
  port: number;
  /** `host:port`, as logged. */
  label: string;
  /** The client's `software` from its hello. */
  software: string;
}

/** The server's hello, minus what the session layer fills in. */
export type ServerHelloPayload = Omit<ServerHelloMessage, 'type' | 'version'>;

export interface SessionServerOptions {
  /** Addresses to bind, each an IP literal: the rails' IPv4 addresses; '0.0.0.0' only when asked. */
  addresses: string[];
  /** TCP port (default 18515; 0 picks a free one, see `port`). */
  port?: number;
  /** Concurrent sessions, counted from the client's hello on (default 1). */
  maxSessions?: number;
  /**
   * Connections waiting for their hello, in a pool of their own (default 16, or maxSessions if
   * more): when it is full a new connection drops the oldest, so idle connections cannot lock
   * real clients out.
   */
  maxHandshakes?: number;
  /** TCP keepalive idle time (default 10 s): a peer whose host lost power is noticed within ~20 s. */
  keepAliveMs?: number;
  /** Deadline for the client's hello after it connects (default 10 s). */
  handshakeTimeoutMs?: number;
  /** Deadline of a receive() in onSession that names none (default 30 s). */
  idleTimeoutMs?: number;
  /** Longest accepted line (default 64 KiB). */
  maxLineBytes?: number;
  /** How long a dropped client's socket stays open for the error message to reach it (default 500 ms). */
  lingerMs?: number;
  /** How long close() waits for running onSession calls to settle (default 5 s). */
  closeTimeoutMs?: number;
  /** One line per event: listening, session start and end, every drop with its reason. */
  log?: (line: string) => void;
  /** The server's hello: its software name and rails. */
  serverHello: () => ServerHelloPayload | Promise<ServerHelloPayload>;
  /**
   * Runs one session after the hello exchange: from the client's propose to its bye. Reject to
   * end the session; the error is logged and (when it is this side's) sent to the client.
   * The server closes the channel when this settles.
   */
  onSession: (channel: Channel<'server'>, peer: SessionPeer) => Promise<void>;
  /**
   * Another protocol on the same port, told apart by the client's first byte (our hello starts
   * with '{'; perftest's version string with a digit): `serve` gets the socket and what was read.
   */
  dialect?: { name: string; matches: (firstByte: number) => boolean; serve: (socket: Socket, initial: Buffer) => Promise<void> };
}

export interface SessionServerStats {
  /** Sessions whose onSession resolved. */
  sessionsServed: number;
  /** Clients dropped: bad input, silence, protocol violations, closed early, failed sessions. */
  clientsDropped: number;
  /** Clients turned away with ERR_SERVER_BUSY. */
  clientsRefused: number;
  /** Sessions running now (handshakes included). */
  active: number;
  /** Of those, connections still waiting for their hello. */
  handshaking: number;
}

/** Log lines carry peer text: keep each on one line and bounded. */
function logSafe(line: string): string {
  const flat = line.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return flat.length > 1000 ? `${flat.slice(0, 1000)}... (${flat.length} characters)` : flat;
}

function positiveInt(name: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 1 || value > max) throw invalidArgument(`${name} is ${value}, allowed 1..${max}`);
  return value;
}

export class SessionServer {
  readonly #options: SessionServerOptions;
  readonly #addresses: string[];
  readonly #maxSessions: number;
  readonly #handshakeTimeoutMs: number;
  readonly #log: (line: string) => void;
  readonly #servers: Server[] = [];
  readonly #maxHandshakes: number;
  readonly #keepAliveMs: number;
  /** Sessions past their hello. */
  readonly #active = new Set<Channel<'server'>>();
  /** Connections waiting for their hello, oldest first (a Set iterates in insertion order). */
  readonly #handshaking = new Set<Channel<'server'>>();
  /** Handshakes dropped to make room (already logged). */
  readonly #evicted = new WeakSet<Channel<'server'>>();
  readonly #running = new Set<Promise<void>>();
  /** Every open socket, lingering ones included, so close() can end them all. */
  readonly #sockets = new Set<Socket>();
  #port: number;
  #state: 'new' | 'listening' | 'closing' | 'closed' = 'new';
  #closing: Promise<void> | null = null;
  #served = 0;
  /** Sessions of the other dialect running now (they have no Channel). */
  #dialectSessions = 0;
  #dropped = 0;
  #refused = 0;

  constructor(options: SessionServerOptions) {
    if (!Array.isArray(options.addresses) || options.addresses.length === 0) {
      throw invalidArgument('addresses is empty', "pass the rails' IPv4 addresses, or '0.0.0.0' to listen everywhere");
    }
    for (const address of options.addresses) {
      if (typeof address !== 'string' || isIP(address) === 0) {
        throw invalidArgument(`address ${JSON.stringify(address)} is not an IP address`, "pass the rails' IPv4 addresses, e.g. 192.168.100.10");
      }
    }
    const port = options.port ?? DEFAULT_SESSION_PORT;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw invalidArgument(`port is ${port}, allowed 0..65535`, `the default is ${DEFAULT_SESSION_PORT}; change it with --port`);
    }
    this.#options = options;
    this.#addresses = [...new Set(options.addresses)];
    this.#port = port;
    this.#maxSessions = positiveInt('maxSessions', options.maxSessions ?? 1, 1024);
    this.#handshakeTimeoutMs = positiveInt('handshakeTimeoutMs', options.handshakeTimeoutMs ?? 10_000, 2 ** 31 - 1);
    this.#maxHandshakes = positiveInt('maxHandshakes', options.maxHandshakes ?? Math.max(16, this.#maxSessions), 1024);
    this.#keepAliveMs = positiveInt('keepAliveMs', options.keepAliveMs ?? 10_000, 2 ** 31 - 1);
    if (options.idleTimeoutMs !== undefined) positiveInt('idleTimeoutMs', options.idleTimeoutMs, 2 ** 31 - 1);
    if (options.lingerMs !== undefined) positiveInt('lingerMs', options.lingerMs, 60_000);
    const log = options.log ?? (() => {});
    this.#log = (line) => log(logSafe(line));
  }

  /** The bound port (useful after listening on port 0). */
  get port(): number {
    return this.#port;
  }

  /** Where the server listens, as `host:port`. */
  get endpoints(): string[] {
    return this.#addresses.map((a) => (a.includes(':') ? `[${a}]:${this.#port}` : `${a}:${this.#port}`));
  }

  get stats(): SessionServerStats {
    return {
      sessionsServed: this.#served,
      clientsDropped: this.#dropped,
      clientsRefused: this.#refused,
      active: this.#active.size + this.#handshaking.size + this.#dialectSessions,
      handshaking: this.#handshaking.size,
    };
  }

  /** Binds every address; rejects with ERR_ADDRESS_IN_USE (naming the port and --port) or ERR_LISTEN. */
  async listen(): Promise<void> {
    if (this.#state !== 'new') throw invalidArgument(`listen() called on a server that is ${this.#state}`);
    this.#state = 'listening';
    try {
      for (const address of this.#addresses) {
        const server = createServer({ allowHalfOpen: true }, (socket) => this.#onConnection(socket));
        await this.#bind(server, address);
        this.#servers.push(server);
        server.on('error', (err) => this.#log(`server error on ${address}: ${err.message}`));
        const bound = server.address();
        if (this.#port === 0 && bound !== null && typeof bound === 'object') this.#port = bound.port;
      }
    } catch (err) {
      this.#state = 'closed';
      for (const server of this.#servers) server.close();
      throw err;
    }
    this.#log(`listening on ${this.endpoints.join(', ')} (protocol v${PROTOCOL_VERSION}, at most ${this.#maxSessions} session(s) at a time)`);
  }

  #bind(server: Server, address: string): Promise<void> {
    const port = this.#port;
    return new Promise((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        const fields = { syscall: err.syscall ?? 'listen', ...(err.errno === undefined ? {} : { errno: Math.abs(err.errno) }) };
        if (err.code === 'EADDRINUSE') {
          reject(
            new RdmaError(`port ${port} on ${address} is already in use (another spark-rdma server?); stop it or choose another port with --port`, {
              ...fields,
              code: ERR_ADDRESS_IN_USE,
              hint: `find the process with \`ss -ltnp 'sport = :${port}'\`, or run both ends with the same --port <n>`,
            }),
          );
        } else if (err.code === 'EADDRNOTAVAIL') {
          reject(new RdmaError(`cannot listen on ${address}: no interface of this machine has that address`, { ...fields, code: ERR_LISTEN, hint: 'check `ip addr`; the rails need their IPv4 addresses' }));
        } else if (err.code === 'EACCES') {
          reject(new RdmaError(`cannot listen on port ${port} of ${address}: permission denied`, { ...fields, code: ERR_LISTEN, hint: 'choose a port above 1023 with --port' }));
        } else {
          reject(new RdmaError(`cannot listen on ${address}:${port}: ${err.message}`, { ...fields, code: ERR_LISTEN }));
        }
      });
      server.listen({ host: address, port, exclusive: true }, () => resolve());
    });
  }

  #onConnection(socket: Socket): void {
    if (this.#state !== 'listening') {
      socket.destroy();
      return;
    }
    if (this.#options.dialect) this.#sniff(socket, this.#options.dialect);
    else this.#accept(socket);
  }

  /** Reads the first bytes (within the handshake deadline) and hands the socket to whoever speaks them. */
  #sniff(socket: Socket, dialect: NonNullable<SessionServerOptions['dialect']>): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    let sniffing = true;
    const timer = setTimeout(() => {
      sniffing = false;
      socket.off('data', onData);
      this.#accept(socket);
    }, this.#handshakeTimeoutMs);
    const onData = (chunk: Buffer) => {
      sniffing = false;
      clearTimeout(timer);
      socket.pause();
      if (!dialect.matches(chunk[0]!)) {
        socket.unshift(chunk);
        this.#accept(socket);
        socket.resume();
        return;
      }
      if (this.#active.size + this.#dialectSessions >= this.#maxSessions) {
        this.#refused++;
        this.#log(`refused ${peerLabel(socket)} (${dialect.name}): ${ERR_SERVER_BUSY}: already ${this.#maxSessions} session(s)`);
        socket.destroy();
        return;
      }
      this.#dialectSessions++;
      const run = dialect
        .serve(socket, chunk)
        .then(
          () => void this.#served++,
          (err: unknown) => {
            this.#dropped++;
            const e = err instanceof RdmaError ? `${err.code}: ${err.message}${err.hint ? ` (hint: ${err.hint})` : ''}` : String(err);
            this.#log(`dropped ${peerLabel(socket)} (${dialect.name}): ${e}`);
          },
        )
        .finally(() => {
          this.#dialectSessions--;
          this.#running.delete(run);
          socket.destroy();
        });
      this.#running.add(run);
    };
    socket.once('data', onData);
    // A reset while sniffing must not crash the server: 'close' follows and does the accounting.
    socket.on('error', () => undefined);
    socket.once('close', () => {
      if (!sniffing) return;
      sniffing = false;
      clearTimeout(timer);
      this.#dropped++;
      this.#log(`dropped ${peerLabel(socket)}: it closed the connection before sending anything`);
    });
  }

  #accept(socket: Socket): void {
    const label = peerLabel(socket);
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    // Probes after keepAliveMs of silence (libuv: every 1 s, 10 times): a dead host ends the session.
    socket.setKeepAlive(true, this.#keepAliveMs);
    const channel = new Channel(socket, {
      role: 'server',
      maxLineBytes: this.#options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
      ...(this.#options.idleTimeoutMs === undefined ? {} : { defaultTimeoutMs: this.#options.idleTimeoutMs }),
      ...(this.#options.lingerMs === undefined ? {} : { lingerMs: this.#options.lingerMs }),
    });
    if (this.#active.size + this.#dialectSessions >= this.#maxSessions) {
      this.#refuseBusy(channel, label);
      return;
    }
    if (this.#handshaking.size >= this.#maxHandshakes) this.#evictOldestHandshake();
    this.#handshaking.add(channel);
    const run = this.#serve(channel, socket).finally(() => {
      this.#handshaking.delete(channel);
      this.#active.delete(channel);
      this.#running.delete(run);
    });
    this.#running.add(run);
  }

  #refuseBusy(channel: Channel<'server'>, label: string): void {
    this.#refused++;
    const message = `this server already runs ${this.#active.size} session(s), its limit; try again when the current run ends`;
    this.#log(`refused ${label}: ${ERR_SERVER_BUSY}: ${message}`);
    channel.fail({ code: ERR_SERVER_BUSY, message, hint: 'one benchmark at a time per server: concurrent runs would share the links and both measure less' });
  }

  /** Makes room in the handshake pool: the connection that has waited longest without a hello goes. */
  #evictOldestHandshake(): void {
    const oldest = this.#handshaking.values().next().value;
    if (oldest === undefined) return;
    this.#handshaking.delete(oldest);
    this.#evicted.add(oldest);
    this.#dropped++;
    const message = `${this.#maxHandshakes} connections were in their handshake (no hello yet); this one, the oldest, was dropped to make room`;
    this.#log(`dropped ${oldest.peer}: ${ERR_SERVER_BUSY}: ${message}`);
    oldest.fail({ code: ERR_SERVER_BUSY, message, hint: 'send the hello as soon as the connection is up' });
  }

  /** One session, start to end; never rejects. */
  async #serve(channel: Channel<'server'>, socket: Socket): Promise<void> {
    try {
      const hello = await channel.receive(['hello'], this.#handshakeTimeoutMs);
      this.#handshaking.delete(channel);
      if (this.#active.size + this.#dialectSessions >= this.#maxSessions) {
        this.#refuseBusy(channel, channel.peer);
        return;
      }
      this.#active.add(channel);
      const payload = await this.#options.serverHello();
      channel.send({ type: 'hello', version: PROTOCOL_VERSION, software: payload.software, rails: payload.rails });
      const peer: SessionPeer = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0, label: channel.peer, software: hello.software };
      this.#log(`session with ${channel.peer} (${hello.software}) started`);
      await this.#options.onSession(channel, peer);
      this.#served++;
      this.#log(`session with ${channel.peer} ended`);
      channel.close();
    } catch (err) {
      if (this.#evicted.has(channel)) return;
      this.#dropped++;
      const error =
        err instanceof RdmaError
          ? err
          : new RdmaError(`the server failed: ${err instanceof Error ? err.message : String(err)}`, { code: ERR_SERVER_INTERNAL });
      this.#log(`dropped ${channel.peer}: ${error.code}: ${error.message}`);
      if (shouldTellPeer(error)) channel.fail(error);
      else channel.close();
    }
  }

  /** Stops listening, ends every session, and waits (bounded) for their handlers to settle. */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#state = 'closing';
    this.#closing = (async () => {
      const closed = this.#servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
      for (const channel of [...this.#active, ...this.#handshaking]) channel.close();
      for (const socket of this.#sockets) socket.destroy();
      const deadline = this.#options.closeTimeoutMs ?? 5_000;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), deadline);
      });
      const settled = await Promise.race([Promise.all([...this.#running, ...closed]).then(() => 'settled' as const), timedOut]);
      clearTimeout(timer);
      if (settled === 'timeout') this.#log(`close: ${this.#running.size} session handler(s) still running after ${deadline} ms`);
      this.#state = 'closed';
      this.#log('closed');
    })();
    return this.#closing;
  }
}

// perftest's exchange is a series of exact-size reads and writes on one TCP socket, each side
// blocking on its read: this wraps a socket in that shape, with a deadline on every read and
// the ways a peer can fail named (silent, closed, reset), like the session channel does.
import { connect, type Socket } from 'node:net';
import { RdmaError } from '../errors.js';
import { ERR_PEER_CLOSED, ERR_PEER_SILENT, peerLabel } from '../session/channel.js';

export type PerftestRole = 'client' | 'server';

export class ExactStream {
  readonly peer: string;
  readonly #socket: Socket;
  readonly #who: string;
  #buffered: Buffer;
  #ended: string | null = null;
  #wake: (() => void) | null = null;

  /** `initial`: bytes already read from the socket (the server's first-bytes sniff). */
  constructor(socket: Socket, who: string, initial: Buffer = Buffer.alloc(0)) {
    this.#socket = socket;
    this.#who = who;
    this.peer = peerLabel(socket);
    this.#buffered = initial;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.#buffered = this.#buffered.length === 0 ? chunk : Buffer.concat([this.#buffered, chunk]);
      this.#wake?.();
    });
    socket.on('end', () => this.#finish('closed the connection'));
    socket.on('error', (err: NodeJS.ErrnoException) => this.#finish(`reset the connection (${err.code ?? err.message})`));
    socket.on('close', () => this.#finish('closed the connection'));
    socket.resume();
  }

  #finish(how: string): void {
    this.#ended ??= how;
    this.#wake?.();
  }

  /** Reads exactly `bytes`, or fails naming the step: silent past the deadline, or closed. */
  async read(bytes: number, timeoutMs: number, step: string): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.#buffered.length >= bytes) {
        const out = this.#buffered.subarray(0, bytes);
        this.#buffered = this.#buffered.subarray(bytes);
        return out;
      }
      if (this.#ended !== null) {
        const got = this.#buffered.length > 0 ? ` after ${this.#buffered.length} of ${bytes} bytes` : '';
        throw new RdmaError(`${this.#who} at ${this.peer} ${this.#ended} while this side waited for ${step}${got}`, {
          code: ERR_PEER_CLOSED,
          hint: 'the perftest process exited: its own output says why (a mismatched flag, or a version that refuses ours)',
        });
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new RdmaError(`no ${step} from ${this.#who} at ${this.peer} within ${timeoutMs} ms: the peer went silent`, {
          code: ERR_PEER_SILENT,
          hint: 'check that the perftest process is alive and runs the same test (ib_write_bw with ib_write_bw, ib_write_lat with ib_write_lat)',
        });
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = null;
    }
  }

  write(bytes: Buffer): void {
    if (this.#ended === null && !this.#socket.destroyed) this.#socket.write(bytes);
  }

  /**
   * One exchange of ctx_xchg_data / ctx_hand_shake: the client writes first and the server
   * reads first, each message one exact-size read.
   */
  async exchange(role: PerftestRole, mine: Buffer, theirBytes: number, timeoutMs: number, step: string): Promise<Buffer> {
    if (role === 'client') {
      this.write(mine);
      return this.read(theirBytes, timeoutMs, step);
    }
    const theirs = await this.read(theirBytes, timeoutMs, step);
    this.write(mine);
    return theirs;
  }

  /**
   * Ends our side and waits (bounded) for the peer to close, discarding what it still sends:
   * perftest up to 6.16 writes "done\0" after the last key message. Closing with those bytes
   * unread would turn our FIN into a reset.
   */
  async finish(timeoutMs: number): Promise<void> {
    if (!this.#socket.destroyed) this.#socket.end();
    const deadline = Date.now() + timeoutMs;
    while (this.#ended === null && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = null;
      this.#buffered = Buffer.alloc(0);
    }
    this.destroy();
  }

  destroy(): void {
    this.#socket.destroy();
  }
}

/** Connects to a perftest server within a deadline. */
export function connectPerftest(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new RdmaError(`no perftest server answered at ${host}:${port} within ${timeoutMs} ms`, { code: ERR_PEER_SILENT, hint: 'start ib_write_bw / ib_write_lat there first (one per rail, on --port + rail)' }));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const refused = err.code === 'ECONNREFUSED';
      reject(
        new RdmaError(`cannot reach a perftest server at ${host}:${port}: ${err.code ?? err.message}`, {
          code: 'ERR_PEER_UNREACHABLE',
          hint: refused
            ? `start \`ib_write_bw -d <device> -p ${port}\` (or ib_write_lat) on ${host} first, without -R: a -R server listens with rdma_cm, not TCP, and spark-rdma speaks perftest's TCP exchange only`
            : 'check the address and that the network between the nodes is up',
        }),
      );
    });
  });
}

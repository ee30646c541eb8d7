// One control connection of the mesh (a rank <-> rank 0): JSON lines in and out, every message
// validated by `parse`, every receive with a deadline. The ways it ends are distinct errors:
// ERR_PEER_CLOSED (closed or reset), ERR_PEER_SILENT (a deadline passed), ERR_MESH_PROTOCOL
// (bad input), ERR_MESH_ABORTED (the other side said why it gave up).
import type { Socket } from 'node:net';
import { RdmaError } from '../errors.js';
import { LineDecoder } from '../session/framing.js';
import { MAX_MESH_LINE_BYTES } from './protocol.js';

export const ERR_MESH_ABORTED = 'ERR_MESH_ABORTED';
const MAX_TIMER_MS = 2 ** 31 - 1;

type Typed = { type: string };

interface Waiter {
  types: readonly string[];
  resolve: (m: Typed) => void;
  reject: (e: RdmaError) => void;
  timer: NodeJS.Timeout;
}

export class MeshLink<In extends Typed, Out extends Typed> {
  readonly #socket: Socket;
  readonly #decoder = new LineDecoder(MAX_MESH_LINE_BYTES);
  readonly #queue: In[] = [];
  #waiter: Waiter | null = null;
  #failure: RdmaError | null = null;
  readonly #ended: Promise<RdmaError>;
  #end!: (e: RdmaError) => void;

  /** `peer` names the other end in messages, e.g. "rank 3 (node3)". */
  constructor(socket: Socket, private readonly parse: (v: unknown) => In, public peer: string) {
    this.#socket = socket;
    this.#ended = new Promise((resolve) => (this.#end = resolve));
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 5_000);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (err: Error) => this.#fail(new RdmaError(`${this.peer}: connection failed (${err.message})`, { code: 'ERR_PEER_CLOSED' })));
    socket.on('close', () => this.#fail(new RdmaError(`${this.peer} closed the connection`, { code: 'ERR_PEER_CLOSED', hint: `see the log of ${this.peer} (did it exit or get killed?)` })));
  }

  get closed(): boolean {
    return this.#failure !== null;
  }

  /** Resolves (never rejects) with the reason once the connection is over. */
  get ended(): Promise<RdmaError> {
    return this.#ended;
  }

  send(message: Out): void {
    if (this.#failure) return;
    this.#socket.write(`${JSON.stringify(message)}\n`);
  }

  /** The next message, which must be one of `types`; an 'abort' from the peer rejects. */
  receive<T extends In['type']>(types: readonly T[], timeoutMs: number, step: string): Promise<Extract<In, { type: T }>> {
    return new Promise((resolve, reject) => {
      if (this.#waiter) return reject(new RdmaError(`receive() while another waits for ${this.#waiter.types.join('/')}`, { code: 'ERR_RDMA_INTERNAL' }));
      const timer = setTimeout(() => {
        this.#waiter = null;
        reject(new RdmaError(`${this.peer} sent nothing for ${(timeoutMs / 1000).toFixed(1)} s while ${step}`, { code: 'ERR_PEER_SILENT', hint: `is ${this.peer} still running? see its log` }));
      }, Math.min(Math.max(1, timeoutMs), MAX_TIMER_MS));
      this.#waiter = { types, resolve: resolve as (m: Typed) => void, reject, timer };
      this.#pump();
    });
  }

  /** Tells the peer why (best effort), then closes. */
  abort(message: string): void {
    if (!this.#failure) this.#socket.end(`${JSON.stringify({ type: 'abort', message })}\n`);
    this.close();
  }

  close(): void {
    this.#fail(new RdmaError(`the connection to ${this.peer} was closed here`, { code: 'ERR_SESSION_CLOSED' }));
    // end() lets queued writes (a last 'done' or 'abort') reach the peer; destroy after a grace.
    this.#socket.end();
    setTimeout(() => this.#socket.destroy(), 1000).unref();
  }

  #onData(chunk: Buffer): void {
    const { values, error } = this.#decoder.push(chunk);
    for (const v of values) {
      try {
        this.#queue.push(this.parse(v));
      } catch (err) {
        this.#fail(err as RdmaError);
        this.#socket.destroy();
        return;
      }
    }
    if (error) {
      this.#fail(new RdmaError(`${this.peer}: ${error.message}`, { code: error.code, ...(error.hint ? { hint: error.hint } : {}) }));
      this.#socket.destroy();
      return;
    }
    this.#pump();
  }

  #fail(err: RdmaError): void {
    if (this.#failure) return;
    this.#failure = err;
    this.#end(err);
    this.#pump();
  }

  #pump(): void {
    const w = this.#waiter;
    if (!w) return;
    const next = this.#queue.shift();
    if (next === undefined && !this.#failure) return;
    this.#waiter = null;
    clearTimeout(w.timer);
    if (next === undefined) return w.reject(this.#failure!);
    if (next.type === 'abort') {
      return w.reject(new RdmaError(`${this.peer} gave up: ${(next as unknown as { message: string }).message}`, { code: ERR_MESH_ABORTED }));
    }
    if (!w.types.includes(next.type)) {
      return w.reject(new RdmaError(`mesh control message: ${this.peer} sent '${next.type}' where ${w.types.map((t) => `'${t}'`).join(' or ')} belongs`, { code: 'ERR_MESH_PROTOCOL' }));
    }
    w.resolve(next);
  }
}

// A session channel over one TCP socket: sends and receives validated protocol messages,
// keeps the state machine, and turns every way a peer can fail into a distinct RdmaError:
// ERR_PEER_SILENT (a deadline passed), ERR_PEER_CLOSED (closed or reset), ERR_PROTOCOL (bad
// input), or the peer's own error message (code, "peer: " message, hint).
import type { Socket } from 'node:net';
import { invalidArgument, RdmaError } from '../errors.js';
import { printable } from '../report/printable.js';
import { Conversation } from './conversation.js';
import { LineDecoder } from './framing.js';
import {
  DEFAULT_MAX_LINE_BYTES,
  LIMITS,
  type ErrorMessage,
  type Incoming,
  type Message,
  type Outgoing,
  type ProposeMessage,
  type Role,
} from './protocol.js';
import { protocolError } from './schema.js';
import { parseMessage, stringifyMessage } from './validate.js';

export const ERR_PEER_SILENT = 'ERR_PEER_SILENT';
export const ERR_PEER_CLOSED = 'ERR_PEER_CLOSED';
/** This side used the channel out of protocol order (a bug in the caller, not the peer). */
export const ERR_SESSION_STATE = 'ERR_SESSION_STATE';
/** This side closed the channel. */
export const ERR_SESSION_CLOSED = 'ERR_SESSION_CLOSED';

const DEFAULT_RECEIVE_TIMEOUT_MS = 30_000;
const DEFAULT_LINGER_MS = 500;
/** setTimeout's largest delay; longer ones fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const peerErrors = new WeakSet<Error>();

/** True when `err` is the peer's own `error` message (so there is no point answering it). */
export function isPeerError(err: unknown): boolean {
  return err instanceof Error && peerErrors.has(err);
}

/**
 * True when the peer should be told why the session ends: the error is ours (not the peer's own
 * error message) and the connection is still there.
 */
export function shouldTellPeer(err: unknown): err is RdmaError {
  return err instanceof RdmaError && !isPeerError(err) && err.code !== ERR_PEER_CLOSED && err.code !== ERR_SESSION_CLOSED;
}

export interface ChannelOptions<R extends Role> {
  /** Which end of the session this channel is. */
  role: R;
  /** Longest accepted incoming line in bytes (default 64 KiB); outgoing lines obey it too. */
  maxLineBytes?: number;
  /** Deadline of a receive() that names none (default 30 s). */
  defaultTimeoutMs?: number;
  /** How long fail() keeps the socket open for the error message to reach the peer (default 500 ms). */
  lingerMs?: number;
}

type Failure = (step: string) => RdmaError;

export interface ReceiveOptions {
  /**
   * Asked when the deadline passes: true when the run still moves (counters advance), which
   * grants another `timeoutMs`. The deadline then bounds silence without progress, not the run.
   */
  stillProgressing?: () => boolean;
}

interface Waiter {
  expected: readonly string[];
  step: string;
  resolve: (message: Message) => void;
  reject: (err: RdmaError) => void;
  timer: NodeJS.Timeout;
}

function other(role: Role): Role {
  return role === 'client' ? 'server' : 'client';
}

function list(types: readonly string[]): string {
  return types.map((t) => `'${t}'`).join(' or ');
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

/** `host:port` of the socket's peer, with IPv6 addresses in brackets. */
export function peerLabel(socket: Socket): string {
  const address = socket.remoteAddress ?? 'unknown';
  return address.includes(':') ? `[${address}]:${socket.remotePort}` : `${address}:${socket.remotePort}`;
}

export class Channel<R extends Role = Role> {
  readonly role: R;
  /** The peer's `host:port`. */
  readonly peer: string;
  /** Aborted (with the reason as an RdmaError) when the session ends for any reason. */
  readonly signal: AbortSignal;
  readonly maxLineBytes: number;

  readonly #socket: Socket;
  readonly #decoder: LineDecoder;
  readonly #conversation = new Conversation();
  readonly #controller = new AbortController();
  readonly #defaultTimeoutMs: number;
  readonly #lingerMs: number;
  readonly #queue: Incoming<R>[] = [];
  #failure: Failure | null = null;
  #waiter: Waiter | null = null;
  #closed = false;

  constructor(socket: Socket, options: ChannelOptions<R>) {
    this.role = options.role;
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.#defaultTimeoutMs = options.defaultTimeoutMs ?? DEFAULT_RECEIVE_TIMEOUT_MS;
    this.#lingerMs = options.lingerMs ?? DEFAULT_LINGER_MS;
    checkTimeout('defaultTimeoutMs', this.#defaultTimeoutMs);
    if (!Number.isInteger(this.maxLineBytes) || this.maxLineBytes < 256 || this.maxLineBytes > 64 * 2 ** 20) {
      throw invalidArgument(`maxLineBytes is ${this.maxLineBytes}, allowed 256..${64 * 2 ** 20}`, 'use the default (65536) unless a run has very many QPs');
    }
    this.#socket = socket;
    this.peer = peerLabel(socket);
    this.signal = this.#controller.signal;
    this.#decoder = new LineDecoder(this.maxLineBytes);
    // Barriers are tiny messages: send them at once.
    socket.setNoDelay(true);
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
  }

  /** True once close() or fail() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The proposal the server accepted, once it did. */
  get proposal(): ProposeMessage | null {
    return this.#conversation.proposal;
  }

  /** Who the peer is, in words: `the client at 10.0.0.2:40112`. */
  get peerName(): string {
    return `the ${other(this.role)} at ${this.peer}`;
  }

  /**
   * Sends one message after validating it like the peer will, and checking that it is this
   * side's turn. Throws ERR_RDMA_INVALID_ARGUMENT for an invalid message, ERR_SESSION_STATE
   * out of turn, and the session's failure (e.g. ERR_PEER_CLOSED) once it has ended.
   */
  send(message: Outgoing<R>): void {
    const step = `while this side sent '${message.type}'`;
    if (this.#failure) throw this.#failure(step);
    const text = stringifyMessage(message);
    const bytes = Buffer.byteLength(text);
    if (bytes > this.maxLineBytes) {
      throw invalidArgument(
        `refusing to send a ${bytes}-byte '${message.type}': the line limit is ${this.maxLineBytes} bytes`,
        'use fewer QPs per rail, or raise maxLineBytes on both ends',
      );
    }
    let checked: Message;
    try {
      checked = parseMessage(JSON.parse(text), this.role);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw invalidArgument(`refusing to send: ${why}`, 'this is a bug in the caller of Channel.send()');
    }
    const problem = this.#conversation.observe(this.role, checked);
    if (problem !== null) {
      throw new RdmaError(`this side may not send now: ${problem}`, { code: ERR_SESSION_STATE, hint: 'this is a bug in the session logic of this side' });
    }
    this.#socket.write(`${text}\n`);
  }

  /**
   * Waits for the peer's next message, which must be one of `expected`. Rejects with
   * ERR_PEER_SILENT after `timeoutMs` (extended while `stillProgressing` says so), ERR_PEER_CLOSED
   * when the connection ends first, ERR_PROTOCOL on bad input or an unexpected type, and the
   * peer's error when it sent one. A silent peer ends the session: the signal aborts, so engines
   * that watch it stop instead of running their whole duration.
   */
  receive<T extends Incoming<R>['type']>(
    expected: readonly T[],
    timeoutMs: number = this.#defaultTimeoutMs,
    options: ReceiveOptions = {},
  ): Promise<Extract<Incoming<R>, { type: T }>> {
    try {
      checkTimeout('timeoutMs', timeoutMs);
    } catch (err) {
      return Promise.reject(err as RdmaError);
    }
    if (this.#waiter) {
      return Promise.reject(
        new RdmaError(`receive() called while another receive() waits for ${list(this.#waiter.expected)}`, { code: ERR_SESSION_STATE }),
      );
    }
    const step = `while this side waited for ${list(expected)} (${this.#conversation.step})`;
    return new Promise((resolve, reject) => {
      const expire = (): void => {
        const waiter = this.#waiter;
        if (!waiter) return;
        if (options.stillProgressing?.()) {
          waiter.timer = setTimeout(expire, timeoutMs);
          return;
        }
        const how = options.stillProgressing ? `and no progress of the run for ${timeoutMs} ms` : `within ${timeoutMs} ms`;
        const silent = new RdmaError(`no ${list(expected)} from ${this.peerName} ${how} (${this.#conversation.step}): the peer went silent`, {
          code: ERR_PEER_SILENT,
          hint: 'check that the peer process is alive and not stuck or stopped, and that nothing between the nodes drops the connection',
        });
        // Rejects the waiter through #pump with this error.
        this.#setFailure(() => silent);
      };
      this.#waiter = {
        expected,
        step,
        resolve: resolve as (message: Message) => void,
        reject,
        timer: setTimeout(expire, timeoutMs),
      };
      this.#pump();
    });
  }

  /**
   * Tells the peer why the session ends (best effort: an `error` message with the code,
   * message and hint), then closes gracefully so the message can arrive. Idempotent.
   */
  fail(error: { code: string; message: string; hint?: string | undefined }): void {
    if (this.#closed) return;
    this.#sendError(error);
    this.#closed = true;
    this.#setFailure((step) => new RdmaError(`this side ended the session (${error.code}) ${step}`, { code: ERR_SESSION_CLOSED }));
    const socket = this.#socket;
    if (socket.destroyed) return;
    socket.end();
    // Drain what the peer still sends, so closing does not turn into a reset that could
    // discard our error message before the peer reads it.
    socket.on('data', () => {});
    socket.resume();
    setTimeout(() => socket.destroy(), this.#lingerMs).unref();
  }

  /** Ends the session at once and destroys the socket. Idempotent. */
  close(): void {
    if (this.#closed && this.#socket.destroyed) return;
    this.#closed = true;
    this.#setFailure((step) => new RdmaError(`this side closed the session ${step}`, { code: ERR_SESSION_CLOSED }));
    this.#socket.destroy();
  }

  #sendError(error: { code: string; message: string; hint?: string | undefined }): void {
    const socket = this.#socket;
    if (socket.destroyed || !socket.writable) return;
    const message: ErrorMessage = {
      type: 'error',
      code: /^[A-Z][A-Z0-9_]{0,63}$/.test(error.code) ? error.code : 'ERR_SESSION_UNKNOWN',
      message: truncate(error.message, LIMITS.messageChars),
    };
    if (error.hint !== undefined) message.hint = truncate(error.hint, LIMITS.messageChars);
    this.#conversation.end();
    socket.write(`${stringifyMessage(message)}\n`);
  }

  readonly #onData = (chunk: Buffer | string): void => {
    // A socket given an encoding by someone else delivers strings; take them back to bytes.
    const { values, error } = this.#decoder.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    for (const value of values) {
      if (!this.#accept(value)) return;
    }
    if (error) this.#setFailure(() => error);
  };

  /** Validates and queues one incoming value; false once the session has failed. */
  #accept(value: unknown): boolean {
    if (this.#failure) return false;
    const from = other(this.role);
    let message: Message;
    try {
      message = parseMessage(value, from);
    } catch (err) {
      const failure = err instanceof RdmaError ? err : protocolError(String(err));
      this.#setFailure(() => failure);
      return false;
    }
    if (message.type === 'error') {
      this.#conversation.end();
      // The peer's words stay on one line with no control characters: they reach terminals and logs.
      const fromPeer = new RdmaError(
        `peer: ${printable(message.message)}`,
        message.hint === undefined ? { code: message.code } : { code: message.code, hint: printable(message.hint) },
      );
      peerErrors.add(fromPeer);
      this.#setFailure(() => fromPeer);
      return false;
    }
    const problem = this.#conversation.observe(from, message);
    if (problem !== null) {
      const failure = protocolError(problem);
      this.#setFailure(() => failure);
      return false;
    }
    this.#queue.push(message as Incoming<R>);
    this.#pump();
    return true;
  }

  readonly #onEnd = (): void => {
    const pending = this.#decoder.pendingBytes;
    const how =
      pending > 0
        ? `closed the connection in the middle of a message (${pending} bytes without a final newline)`
        : 'closed the connection';
    this.#setFailure((step) => this.#closedError(`${this.peerName} ${how} ${step}`));
  };

  readonly #onError = (err: NodeJS.ErrnoException): void => {
    const code = err.code ?? 'socket error';
    this.#setFailure((step) => this.#closedError(`${this.peerName} reset the connection (${code}) ${step}`));
  };

  readonly #onClose = (): void => {
    this.#setFailure((step) => this.#closedError(`the connection to ${this.peerName} closed ${step}`));
  };

  #closedError(message: string): RdmaError {
    return new RdmaError(message, {
      code: ERR_PEER_CLOSED,
      hint: `the ${other(this.role)} process probably exited or was killed; its own output says why`,
    });
  }

  /** Records the first way the session failed; stops reading and wakes a waiting receive(). */
  #setFailure(failure: Failure): void {
    if (this.#failure) return;
    this.#failure = failure;
    this.#conversation.end();
    this.#socket.off('data', this.#onData);
    this.#socket.pause();
    this.#controller.abort(failure('during the session'));
    this.#pump();
  }

  /** Hands the next queued message (or the failure) to the waiting receive(). */
  #pump(): void {
    const waiter = this.#waiter;
    if (!waiter) return;
    const message = this.#queue.shift();
    if (message === undefined && !this.#failure) return;
    this.#waiter = null;
    clearTimeout(waiter.timer);
    if (message === undefined) {
      waiter.reject(this.#failure!(waiter.step));
      return;
    }
    if (!waiter.expected.includes(message.type)) {
      const unexpected = protocolError(`${this.peerName} sent '${message.type}' ${waiter.step}`);
      this.#setFailure(() => unexpected);
      waiter.reject(unexpected);
      return;
    }
    waiter.resolve(message);
  }
}

function checkTimeout(name: string, ms: number): void {
  if (!Number.isInteger(ms) || ms < 1 || ms > MAX_TIMER_MS) {
    throw invalidArgument(`${name} is ${ms}, allowed 1..${MAX_TIMER_MS} ms`, 'give every wait a finite deadline in whole milliseconds');
  }
}

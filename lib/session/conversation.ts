// The session's state machine, kept identically on both ends. The client asks and waits for
// the answer; it never sends two requests in a row, and the server never speaks unasked.
//   hello -> hello, propose -> accept | reject (then propose again, or bye),
//   connect -> ready, (start -> started, finish -> finished)*, bye.
// `error` may come from either side at any time and ends the session.
import type { ClientMessage, Message, ProposeMessage, Role, ServerMessage } from './protocol.js';

type Phase = 'hello' | 'propose' | 'connect' | 'idle' | 'running' | 'ended';
type Request = Exclude<ClientMessage['type'], 'error'>;

/** What the client may send next, by phase. */
const REQUESTS: Record<Phase, readonly Request[]> = {
  hello: ['hello'],
  propose: ['propose', 'bye'],
  connect: ['connect', 'bye'],
  idle: ['start', 'bye'],
  running: ['finish'],
  ended: [],
};

/** What answers each request. */
const ANSWERS: Record<Request, readonly ServerMessage['type'][]> = {
  hello: ['hello'],
  propose: ['accept', 'reject'],
  connect: ['ready'],
  start: ['started'],
  finish: ['finished'],
  bye: [],
};

function list(types: readonly string[]): string {
  if (types.length === 0) return 'nothing';
  return types.map((t) => `'${t}'`).join(' or ');
}

export class Conversation {
  #phase: Phase = 'hello';
  /** The request waiting for its answer. */
  #pending: ClientMessage | null = null;
  #lastFrom: Record<Role, string | null> = { client: null, server: null };
  #proposal: ProposeMessage | null = null;
  /** The size between 'start' and 'finish'. */
  #startedSize: number | null = null;

  /** The proposal the server accepted (null before). */
  get proposal(): ProposeMessage | null {
    return this.#proposal;
  }

  get ended(): boolean {
    return this.#phase === 'ended';
  }

  /** A few words on where the session stands, for error messages. */
  get step(): string {
    const last = this.#lastFrom.server ?? this.#lastFrom.client;
    if (this.#pending) return `after the client's '${this.#pending.type}'`;
    return last === null ? 'before any message' : `after '${last}'`;
  }

  /**
   * Records a message sent by `from`, or returns why it breaks the protocol at this point
   * (and then records nothing).
   */
  observe(from: Role, message: Message): string | null {
    if (message.type === 'error') {
      this.#phase = 'ended';
      this.#pending = null;
      return null;
    }
    const problem = from === 'client' ? this.#checkRequest(message as ClientMessage) : this.#checkAnswer(message as ServerMessage);
    if (problem !== null) return problem;
    this.#lastFrom[from] = message.type;
    if (from === 'client') this.#acceptRequest(message as ClientMessage);
    else this.#acceptAnswer(message as ServerMessage);
    return null;
  }

  /** Marks the session as over (an error was sent or the connection is gone). */
  end(): void {
    this.#phase = 'ended';
    this.#pending = null;
  }

  #checkRequest(message: ClientMessage): string | null {
    const type = message.type;
    if (this.#phase === 'ended') return `'${type}' from the client after the session ended`;
    if (this.#pending) {
      return type === this.#pending.type
        ? `duplicated '${type}' from the client (the server has not answered the first one yet)`
        : `'${type}' from the client before the server answered its '${this.#pending.type}' (send one request and wait for its answer)`;
    }
    const allowed = REQUESTS[this.#phase];
    if (!allowed.includes(type as Request)) {
      if (type === this.#lastFrom.client) return `duplicated '${type}' from the client (it was already answered)`;
      return `out-of-order '${type}' from the client ${this.step}: it may send ${list(allowed)} now`;
    }
    return this.#checkRequestContent(message);
  }

  #checkRequestContent(message: ClientMessage): string | null {
    const proposal = this.#proposal;
    if (message.type === 'start' && proposal && !proposal.sizes.includes(message.size)) {
      return `'start' names size ${message.size}, which is not among the proposed sizes [${proposal.sizes.join(', ')}]`;
    }
    if (message.type === 'start' && proposal && message.rails) return checkStartRails(message.rails, proposal);
    if (message.type === 'finish' && this.#startedSize !== message.size) {
      return `'finish' names size ${message.size}, but the running size is ${this.#startedSize}`;
    }
    if (message.type === 'connect' && proposal) return this.#checkRails('connect', message.rails, proposal);
    return null;
  }

  #checkAnswer(message: ServerMessage): string | null {
    const type = message.type;
    if (this.#phase === 'ended') return `'${type}' from the server after the session ended`;
    if (!this.#pending) {
      return type === this.#lastFrom.server
        ? `duplicated '${type}' from the server (its request was already answered)`
        : `unsolicited '${type}' from the server: no request is waiting for an answer`;
    }
    const expected = ANSWERS[this.#pending.type as Request];
    if (!expected.includes(type)) {
      return `'${type}' from the server does not answer the client's '${this.#pending.type}' (expected ${list(expected)})`;
    }
    const request = this.#pending;
    if (type === 'accept' && request.type === 'propose') {
      const mismatch = this.#checkRails('accept', message.rails, request);
      if (mismatch) return mismatch;
      const indices = message.rails.map((r) => r.index);
      if (indices.join(',') !== request.rails.join(',')) {
        return `'accept' describes rails [${indices.join(', ')}], but the client proposed rails [${request.rails.join(', ')}]`;
      }
    }
    if (type === 'finished' && request.type === 'finish' && message.size !== request.size) {
      return `'finished' names size ${message.size}, but the client finished size ${request.size}`;
    }
    return null;
  }

  #checkRails(type: string, rails: { qps: unknown[] }[], proposal: ProposeMessage): string | null {
    if (rails.length !== proposal.rails.length) {
      return `'${type}' describes ${rails.length} rail(s), but the proposal has ${proposal.rails.length}`;
    }
    const wrong = rails.findIndex((rail) => rail.qps.length !== proposal.qps);
    if (wrong >= 0) {
      return `'${type}' rails[${wrong}] has ${rails[wrong]!.qps.length} QP(s), but the proposal asks for ${proposal.qps} per rail`;
    }
    return null;
  }

  #acceptRequest(message: ClientMessage): void {
    if (message.type === 'bye') {
      this.#phase = 'ended';
      this.#pending = null;
      return;
    }
    if (message.type === 'start') this.#startedSize = message.size;
    this.#pending = message;
  }

  #acceptAnswer(message: ServerMessage): void {
    const request = this.#pending!;
    this.#pending = null;
    switch (message.type) {
      case 'hello':
        this.#phase = 'propose';
        break;
      case 'accept':
        this.#proposal = request as ProposeMessage;
        this.#phase = 'connect';
        break;
      case 'reject':
        this.#phase = 'propose';
        break;
      case 'ready':
        this.#phase = 'idle';
        break;
      case 'started':
        this.#phase = 'running';
        break;
      case 'finished':
        this.#phase = 'idle';
        this.#startedSize = null;
        break;
      default:
        break;
    }
  }
}

/** A start's rails: lat only, each an index into the proposal's rails, each once. */
function checkStartRails(rails: number[], proposal: ProposeMessage): string | null {
  if (proposal.test !== 'lat') return `'start' names rails, but only a lat session times rails one by one (this is ${proposal.test})`;
  const outside = rails.find((r) => r >= proposal.rails.length);
  if (outside !== undefined) return `'start' names rail ${outside}, but the proposal has ${proposal.rails.length} rail(s)`;
  if (new Set(rails).size !== rails.length) return `'start' names a rail twice: [${rails.join(', ')}]`;
  return null;
}

// Strict validation of every session message, in both directions. Unknown types and fields,
// wrong types and out-of-range values are refused with an RdmaError that names the message, the
// field, the value and what is allowed; nothing else is ever thrown (the fuzz tests hold us to it).
import { RdmaError } from '../errors.js';
import {
  CLIENT_MESSAGE_TYPES,
  LIMITS,
  PROTOCOL_VERSION,
  SERVER_MESSAGE_TYPES,
  type ClientMessage,
  type Message,
  type ProposeMessage,
  type Role,
  type ServerMessage,
} from './protocol.js';
import {
  anyObject,
  array,
  bigintString,
  bool,
  describe,
  gid,
  int,
  ipv4,
  isPlainObject,
  nullable,
  object,
  oneOf,
  protocolError,
  quote,
  text,
  type Check,
} from './schema.js';

export const ERR_PROTOCOL_VERSION = 'ERR_PROTOCOL_VERSION';

const software = text(1, LIMITS.softwareChars, /^[\x20-\x7e]+$/, 'printable ASCII');
const device = text(1, LIMITS.deviceChars, /^[A-Za-z0-9_.-]+$/, 'a device name (letters, digits, _ . -)');
const railIndex = int(0, LIMITS.maxRails - 1);
const port = int(LIMITS.port.min, LIMITS.port.max);
const mtu = oneOf(LIMITS.mtus);
const errorCode = text(1, 64, /^[A-Z][A-Z0-9_]*$/, 'an error code such as ERR_RDMA_WC');
const humanText = text(0, LIMITS.messageChars);
const counters = nullable(anyObject(LIMITS.countersDepth));
const size = int(LIMITS.sizes.min, LIMITS.sizes.max);

const helloRail = object({
  index: railIndex,
  device,
  port,
  ipv4: nullable(ipv4()),
  gid: nullable(gid()),
  gidIndex: nullable(int(LIMITS.gidIndex.min, LIMITS.gidIndex.max)),
  activeMtu: mtu,
});

const qpEndpoint = object({
  qpn: int(0, LIMITS.qpn),
  psn: int(0, LIMITS.psn),
  rkey: int(0, LIMITS.rkey),
  addr: bigintString(LIMITS.addr),
});

const railEndpoint = object({
  index: railIndex,
  device,
  port,
  gid: gid(),
  mtu,
  qps: array(qpEndpoint, LIMITS.qps.min, LIMITS.qps.max),
});

const railEndpoints = array(railEndpoint, 1, LIMITS.maxRails);

const proposeFields = object(
  {
    type: oneOf(['propose']),
    test: oneOf(['bw', 'lat']),
    rails: array(railIndex, 1, LIMITS.maxRails),
    qps: int(LIMITS.qps.min, LIMITS.qps.max),
    sizes: array(size, 1, LIMITS.sizes.maxCount),
    txDepth: int(LIMITS.txDepth.min, LIMITS.txDepth.max),
    postList: int(LIMITS.postList.min, LIMITS.postList.max),
    signalEvery: int(LIMITS.signalEvery.min, LIMITS.signalEvery.max),
    inlineThreshold: int(LIMITS.inlineThreshold.min, LIMITS.inlineThreshold.max),
    warmupMs: int(LIMITS.warmupMs.min, LIMITS.warmupMs.max),
    bidir: bool(),
    cm: bool(),
  },
  {
    iterations: int(LIMITS.iterations.min, LIMITS.iterations.max),
    durationMs: int(LIMITS.durationMs.min, LIMITS.durationMs.max),
    mtu,
  },
);

/** Cross-field rules of a proposal that no single field can express. */
const propose: Check<ProposeMessage> = (value, path) => {
  const msg = proposeFields(value, path);
  // Any order: the client pairs its rails by subnet, so its rail 0 may meet our rail 1.
  for (let i = 1; i < msg.rails.length; i++) {
    const earlier = msg.rails.indexOf(msg.rails[i]!);
    if (earlier < i) {
      throw protocolError(`field rails is [${msg.rails.join(', ')}]: rail indices must be distinct (rails[${i}] repeats rails[${earlier}], ${msg.rails[i]})`);
    }
  }
  const hasIterations = msg.iterations !== undefined;
  const hasDuration = msg.durationMs !== undefined;
  if (hasIterations === hasDuration) {
    throw protocolError(
      hasIterations
        ? `fields iterations (${msg.iterations}) and durationMs (${msg.durationMs}) are both set; a run is counted either in iterations or in time, so send exactly one`
        : 'fields iterations and durationMs are both missing; send exactly one of them',
    );
  }
  return msg as ProposeMessage;
};

const typed = <T extends string>(type: T) => oneOf([type] as const);

const clientSchemas: Record<(typeof CLIENT_MESSAGE_TYPES)[number], Check<ClientMessage>> = {
  hello: object({ type: typed('hello'), version: int(PROTOCOL_VERSION, PROTOCOL_VERSION), software }),
  propose,
  connect: object({ type: typed('connect'), rails: railEndpoints }),
  start: object({ type: typed('start'), size }, { rails: array(railIndex, 1, LIMITS.maxRails) }),
  finish: object({ type: typed('finish'), size, counters }),
  bye: object({ type: typed('bye') }),
  error: object({ type: typed('error'), code: errorCode, message: humanText }, { hint: humanText }),
};

const serverSchemas: Record<(typeof SERVER_MESSAGE_TYPES)[number], Check<ServerMessage>> = {
  hello: object({
    type: typed('hello'),
    version: int(PROTOCOL_VERSION, PROTOCOL_VERSION),
    software,
    rails: array(helloRail, 0, LIMITS.maxRails),
  }),
  accept: object({ type: typed('accept'), rails: railEndpoints }),
  reject: object({ type: typed('reject'), code: errorCode, message: humanText }, { hint: humanText }),
  ready: object({ type: typed('ready') }),
  started: object({ type: typed('started') }),
  finished: object({ type: typed('finished'), size, counters }),
  error: object({ type: typed('error'), code: errorCode, message: humanText }, { hint: humanText }),
};

function other(role: Role): Role {
  return role === 'client' ? 'server' : 'client';
}

/**
 * A hello from another protocol version is refused before its other fields are looked at
 * (a newer peer may legitimately send fields this version does not know).
 */
function checkVersion(value: Record<string, unknown>, from: Role): void {
  const version = value.version;
  if (typeof version === 'number' && Number.isInteger(version) && version !== PROTOCOL_VERSION) {
    throw new RdmaError(
      `protocol version mismatch: the ${from} speaks version ${version}, this ${other(from)} speaks version ${PROTOCOL_VERSION}`,
      { code: ERR_PROTOCOL_VERSION, hint: 'install the same @spark/rdma release on both nodes' },
    );
  }
}

/**
 * Validates one decoded JSON value as a message sent by `from`. Returns the typed message
 * (64-bit addresses as bigint, GIDs in lower case); throws RdmaError ERR_PROTOCOL (or
 * ERR_PROTOCOL_VERSION for a hello of another version) and nothing else.
 */
export function parseMessage(value: unknown, from: 'client'): ClientMessage;
export function parseMessage(value: unknown, from: 'server'): ServerMessage;
export function parseMessage(value: unknown, from: Role): Message;
export function parseMessage(value: unknown, from: Role): Message {
  if (!isPlainObject(value)) throw protocolError(`a message must be a JSON object, got ${describe(value)}`);
  if (!Object.hasOwn(value, 'type')) throw protocolError('the message has no type field');
  const type = value.type;
  const schemas: Record<string, Check<Message>> = from === 'client' ? clientSchemas : serverSchemas;
  if (typeof type !== 'string' || !Object.hasOwn(schemas, type)) {
    const known = Object.keys(schemas).join(', ');
    const shown = typeof type === 'string' ? quote(type, 30) : describe(type);
    throw protocolError(`unknown message type ${shown} from the ${from} (a ${from} sends: ${known})`);
  }
  if (type === 'hello') checkVersion(value, from);
  try {
    return schemas[type]!(value, '');
  } catch (err) {
    if (err instanceof RdmaError) throw protocolError(`invalid '${type}' from the ${from}: ${err.message}`, err.hint);
    throw err;
  }
}

/** JSON text of a message: 64-bit addresses travel as decimal strings. */
export function stringifyMessage(message: Message): string {
  return JSON.stringify(message, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
}

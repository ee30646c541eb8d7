// The out-of-band session layer between two nodes: protocol, validation, channel, client, server.
export * from './protocol.js';
export { parseMessage, stringifyMessage, ERR_PROTOCOL_VERSION } from './validate.js';
export { ERR_PROTOCOL } from './schema.js';
export { LineDecoder } from './framing.js';
export {
  Channel,
  ERR_PEER_CLOSED,
  ERR_PEER_SILENT,
  ERR_SESSION_CLOSED,
  ERR_SESSION_STATE,
  isPeerError,
  shouldTellPeer,
  type ChannelOptions,
} from './channel.js';
export { connectSession, ERR_PEER_UNREACHABLE, type ClientSession, type ConnectSessionOptions } from './client.js';
export {
  SessionServer,
  ERR_ADDRESS_IN_USE,
  ERR_LISTEN,
  ERR_SERVER_BUSY,
  ERR_SERVER_INTERNAL,
  type ServerHelloPayload,
  type SessionPeer,
  type SessionServerOptions,
  type SessionServerStats,
} from './server.js';
export { helloRail } from './rails.js';

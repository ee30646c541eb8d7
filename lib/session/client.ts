// The client end of a session: connect with a deadline, say hello, learn the server's rails.
import { connect as tcpConnect, type Socket } from 'node:net';
import { invalidArgument, RdmaError } from '../errors.js';
import { Channel, ERR_PEER_SILENT, shouldTellPeer } from './channel.js';
import { DEFAULT_SESSION_PORT, PROTOCOL_VERSION, type ServerHelloMessage } from './protocol.js';
import { softwareName } from './software.js';

export const ERR_PEER_UNREACHABLE = 'ERR_PEER_UNREACHABLE';

export interface ConnectSessionOptions {
  host: string;
  /** Default 18515. */
  port?: number;
  /** Deadline for the TCP connection (default 5 s). */
  connectTimeoutMs?: number;
  /** Deadline for the server's hello once connected (default 10 s). */
  handshakeTimeoutMs?: number;
  /** Deadline of later receive() calls that name none (default 30 s). */
  idleTimeoutMs?: number;
  maxLineBytes?: number;
  /** Sent in the hello, for the server's log (default `@spark/rdma <version>`). */
  software?: string;
}

export interface ClientSession {
  channel: Channel<'client'>;
  serverHello: ServerHelloMessage;
}

function endpoint(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function checkOptions(options: ConnectSessionOptions): Required<Omit<ConnectSessionOptions, 'maxLineBytes' | 'idleTimeoutMs'>> {
  const port = options.port ?? DEFAULT_SESSION_PORT;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw invalidArgument(`port is ${port}, allowed 1..65535`, `the server listens on ${DEFAULT_SESSION_PORT} unless started with --port`);
  }
  if (typeof options.host !== 'string' || options.host.length === 0) {
    throw invalidArgument('host is empty', 'give the peer address, e.g. 192.168.100.11');
  }
  return {
    host: options.host,
    port,
    connectTimeoutMs: options.connectTimeoutMs ?? 5_000,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
    software: options.software ?? softwareName(),
  };
}

/** Opens the TCP connection, turning every failure into ERR_PEER_UNREACHABLE with a reason. */
function openSocket(host: string, port: number, timeoutMs: number): Promise<Socket> {
  const where = endpoint(host, port);
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host, port, allowHalfOpen: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new RdmaError(`no TCP connection to ${where} within ${timeoutMs} ms`, {
          code: ERR_PEER_UNREACHABLE,
          hint: 'check the address, that the host is up, and that no firewall drops the port',
        }),
      );
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      // As on the server: a peer whose host lost power is noticed by keepalive probes.
      socket.setKeepAlive(true, 10_000);
      resolve(socket);
    });
    const onError = (err: NodeJS.ErrnoException): void => {
      clearTimeout(timer);
      socket.destroy();
      const fields = { code: ERR_PEER_UNREACHABLE, syscall: err.syscall ?? 'connect', ...(err.errno === undefined ? {} : { errno: Math.abs(err.errno) }) };
      if (err.code === 'ECONNREFUSED') {
        reject(new RdmaError(`nothing listens on ${where}; start \`spark-rdma bw\` there first`, { ...fields, hint: 'run `npx spark-rdma bw` (no peer argument) on that node, with the same --port' }));
      } else if (err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH') {
        reject(new RdmaError(`cannot reach ${where}: no route to it (${err.code})`, { ...fields, hint: 'check the address and that the rail link is up (ip addr, ip route)' }));
      } else if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') {
        reject(new RdmaError(`cannot resolve host ${JSON.stringify(host)} (${err.code})`, { ...fields, hint: 'give the peer as an IP address' }));
      } else {
        reject(new RdmaError(`cannot connect to ${where}: ${err.message}`, { ...fields, hint: 'check the address and port' }));
      }
    };
    socket.once('error', onError);
  });
}

/**
 * Connects to a session server and does the hello exchange. Errors: ERR_PEER_UNREACHABLE
 * (nothing listens, no route, connect deadline), ERR_PEER_SILENT (connected but no hello within
 * the handshake deadline), ERR_PROTOCOL_VERSION, ERR_PROTOCOL, ERR_PEER_CLOSED, or the server's
 * own error (e.g. ERR_SERVER_BUSY, message prefixed "peer: ").
 */
export async function connectSession(options: ConnectSessionOptions): Promise<ClientSession> {
  const { host, port, connectTimeoutMs, handshakeTimeoutMs, software } = checkOptions(options);
  const socket = await openSocket(host, port, connectTimeoutMs);
  const channel = new Channel(socket, {
    role: 'client',
    ...(options.maxLineBytes === undefined ? {} : { maxLineBytes: options.maxLineBytes }),
    ...(options.idleTimeoutMs === undefined ? {} : { defaultTimeoutMs: options.idleTimeoutMs }),
  });
  try {
    channel.send({ type: 'hello', version: PROTOCOL_VERSION, software });
    const serverHello = await channel.receive(['hello'], handshakeTimeoutMs);
    return { channel, serverHello };
  } catch (err) {
    if (err instanceof RdmaError && err.code === ERR_PEER_SILENT) {
      channel.close();
      throw new RdmaError(
        `${endpoint(host, port)} accepted the connection but sent no hello within ${handshakeTimeoutMs} ms`,
        { code: ERR_PEER_SILENT, hint: 'is a spark-rdma server of the same release listening there, and is it not stuck? Check its output' },
      );
    }
    // Tell the server why we leave, unless it told us first or is gone.
    if (shouldTellPeer(err)) channel.fail(err);
    else channel.close();
    throw err;
  }
}

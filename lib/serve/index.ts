import { RdmaError } from '../errors.js';
import { loadBinding } from '../native/load.js';
import { discoverRails } from '../rails/discover.js';
import { selectRails } from '../run/select-rails.js';
import type { Rail } from '../rails/types.js';
import { helloRail } from '../session/rails.js';
import { SessionServer, type SessionServerStats } from '../session/server.js';
import { softwareName } from '../session/software.js';
import { DEFAULT_SESSION_PORT } from '../session/protocol.js';
import { servePerftestClient } from '../perftest/serve-client.js';
import { looksLikeVersion } from '../perftest/wire.js';
import { serveSession } from './session.js';

export interface ServeOptions {
  /** TCP port (default 18515; 0 picks a free one). */
  port?: number;
  /** Addresses to bind. Default: the rails' IPv4 addresses (never 0.0.0.0 unless given here). */
  bind?: string[];
  /** Sessions at once (default 1: a benchmark server should not share its rails). */
  maxSessions?: number;
  /** Deadline for each client step (default 10 s). */
  peerTimeoutMs?: number;
  handshakeTimeoutMs?: number;
  maxLineBytes?: number;
  /** Force a GID index on every rail. */
  gidIndex?: number;
  /** Serve only the first N rails (like a client's --rails). */
  rails?: number;
  /** Serve only these devices (`name` or `name:port`), in this order (like a client's --devices). */
  devices?: string[];
  sysfsRoot?: string;
  log?: (line: string) => void;
  /**
   * Which perftest client this server answers on its port (ib_write_bw or ib_write_lat; their
   * exchanges differ and neither says which it is). Default 'bw'.
   */
  perftest?: 'bw' | 'lat';
  /** What an ib_write_lat client must match (its -s and -n): defaults 2 B and 1000, as perftest's. */
  perftestLatency?: { size?: number; iterations?: number };
  /** Stop serving when aborted. */
  signal?: AbortSignal;
}

/** A running `spark-rdma bw`/`lat` server. */
export interface SparkServer {
  readonly port: number;
  readonly endpoints: string[];
  readonly rails: Rail[];
  stats(): SessionServerStats;
  close(): Promise<void>;
}

/**
 * Serves bandwidth and latency sessions on this machine's rails, like ib_write_bw without a
 * peer argument, but for every rail at once and with deadlines on every step.
 */
export async function serve(options: ServeOptions = {}): Promise<SparkServer> {
  const log = options.log ?? (() => undefined);
  const discovery = {
    ...(options.sysfsRoot !== undefined ? { sysfsRoot: options.sysfsRoot } : {}),
    ...(options.gidIndex !== undefined ? { gidIndex: options.gidIndex } : {}),
  };
  // A selection is honoured exactly as a client's: clients see only the selected rails.
  const rails =
    options.rails !== undefined || options.devices !== undefined
      ? selectRails({ ...discovery, ...(options.rails !== undefined ? { rails: options.rails } : {}), ...(options.devices !== undefined ? { devices: options.devices } : {}) })
      : discoverRails(discovery);
  if (rails.length === 0) {
    throw new RdmaError('this machine has no RDMA rails to serve', {
      code: 'ERR_RDMA_NO_RAILS',
      hint: 'bring a RoCE port up with an IPv4 address (spark-rdma devices shows what is there)',
    });
  }
  const addresses = options.bind ?? [...new Set(rails.map((r) => r.ipv4).filter((a): a is string => a !== null))];
  if (addresses.length === 0) {
    throw new RdmaError('no rail has an IPv4 address to listen on', {
      code: 'ERR_RDMA_NO_IPV4',
      hint: 'give the rails IPv4 addresses, or pass --bind 0.0.0.0 to listen everywhere',
    });
  }
  const native = loadBinding();
  // Read at each hello, not at start: a netdev MTU or address changed since then must show.
  const liveHelloRail = (rail: Rail) => {
    const port = native.queryDevice(rail.device).ports.find((p) => p.port === rail.port);
    const gid = port?.gids.find((g) => g.index === rail.gidIndex)?.gid ?? null;
    return helloRail({ ...rail, activeMtu: port?.activeMtu ?? rail.activeMtu }, gid);
  };
  const peerTimeoutMs = options.peerTimeoutMs ?? 10_000;
  const server: SessionServer = new SessionServer({
    addresses,
    port: options.port ?? DEFAULT_SESSION_PORT,
    maxSessions: options.maxSessions ?? 1,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? peerTimeoutMs,
    idleTimeoutMs: peerTimeoutMs,
    ...(options.maxLineBytes !== undefined ? { maxLineBytes: options.maxLineBytes } : {}),
    log,
    serverHello: () => ({ software: softwareName(), rails: rails.map(liveHelloRail) }),
    dialect: {
      name: `perftest ${options.perftest === 'lat' ? 'ib_write_lat' : 'ib_write_bw'}`,
      matches: looksLikeVersion,
      serve: (socket, initial) =>
        servePerftestClient(socket, initial, {
          test: options.perftest ?? 'bw',
          rails,
          log,
          peerTimeoutMs,
          latency: { size: options.perftestLatency?.size ?? 2, iterations: options.perftestLatency?.iterations ?? 1000, inlineThreshold: 220 },
        }),
    },
    onSession: (channel): Promise<void> =>
      serveSession(channel, {
        rails,
        ...(options.sysfsRoot !== undefined ? { sysfsRoot: options.sysfsRoot } : {}),
        log,
        peerTimeoutMs,
        sessionPort: server.port,
      }),
  });
  await server.listen();
  const signal = options.signal;
  const onAbort = () => void close();
  const close = () => {
    signal?.removeEventListener('abort', onAbort);
    return server.close();
  };
  // Aborted while we were starting: stop at once rather than serve until the next abort.
  if (signal?.aborted) await close();
  else signal?.addEventListener('abort', onAbort, { once: true });
  return {
    port: server.port,
    endpoints: server.endpoints,
    rails,
    stats: () => server.stats,
    close,
  };
}

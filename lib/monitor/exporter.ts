import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RdmaError } from '../errors.js';
import { ERR_ADDRESS_IN_USE, ERR_LISTEN } from '../session/server.js';
import type { SysfsRootOptions } from '../sysfs/root.js';
import { EXPOSITION_CONTENT_TYPE, renderExposition } from './exposition.js';
import { DEFAULT_EXPORTER_LISTEN, parseListenAddress, type ListenAddress } from './listen.js';
import { collectRailMetrics } from './metrics.js';

export const METRICS_PATH = '/metrics';

export interface ExporterOptions extends SysfsRootOptions {
  /** "host:port" or {host, port}; default 127.0.0.1:9469 (loopback: expose it on purpose). Port 0 picks a free one. */
  listen?: string | ListenAddress;
  /**
   * Called with an error of the listening socket after start (EMFILE on accept, ...): the
   * exporter keeps serving. Default: ignored (the CLI writes it to stderr).
   */
  onError?: (err: Error) => void;
}

/** Headers must be complete this soon after a connection starts a request (Node's default: 60 s). */
const HEADERS_TIMEOUT_MS = 10_000;
/** A whole request, body included (a scrape has none). */
const REQUEST_TIMEOUT_MS = 15_000;

/** A running exporter. It has no timers: it reads sysfs when scraped, and only then. */
export interface RailExporter {
  readonly server: Server;
  readonly host: string;
  /** The bound port (the chosen one when asked for 0). */
  readonly port: number;
  /** http://host:port/metrics */
  readonly url: string;
  /** Stops listening and closes idle keep-alive connections; resolves when the server is closed. */
  close(): Promise<void>;
}

function respond(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** The request's path, or null when its target is not a URL (e.g. `GET http://[ HTTP/1.1`). */
function requestPath(target: string): string | null {
  try {
    return new URL(target, 'http://exporter').pathname;
  } catch {
    return null;
  }
}

function handle(req: IncomingMessage, res: ServerResponse, opts: SysfsRootOptions): void {
  const path = requestPath(req.url ?? '/');
  if (path === null) return respond(res, 400, `bad request target ${JSON.stringify((req.url ?? '').slice(0, 200))}; metrics are at ${METRICS_PATH}\n`);
  if (path !== METRICS_PATH) return respond(res, 404, `not found: ${path}; metrics are at ${METRICS_PATH}\n`);
  if (req.method !== 'GET' && req.method !== 'HEAD') return respond(res, 405, `method ${req.method} not allowed; use GET\n`, { allow: 'GET, HEAD' });
  let body: string;
  try {
    body = renderExposition(collectRailMetrics(opts));
  } catch (err) {
    return respond(res, 500, `reading the rail counters failed: ${err instanceof Error ? err.message : String(err)}\n`);
  }
  respond(res, 200, body, { 'content-type': EXPOSITION_CONTENT_TYPE });
}

function listenError(err: NodeJS.ErrnoException, address: ListenAddress): RdmaError {
  const where = `${address.host}:${address.port}`;
  const fields = { syscall: err.syscall ?? 'listen', ...(err.errno === undefined ? {} : { errno: Math.abs(err.errno) }) };
  if (err.code === 'EADDRINUSE') {
    return new RdmaError(`cannot serve metrics on ${where}: the port is already in use (another exporter?)`, {
      ...fields,
      code: ERR_ADDRESS_IN_USE,
      hint: `find the process with \`ss -ltnp 'sport = :${address.port}'\`, or choose another port with --listen ${address.host}:<port>`,
    });
  }
  if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') {
    return new RdmaError(`cannot serve metrics on ${where}: no interface of this machine has that address`, {
      ...fields,
      code: ERR_LISTEN,
      hint: 'check `ip addr`, or use --listen 127.0.0.1:<port> (loopback) or :<port> (every interface)',
    });
  }
  if (err.code === 'EACCES') {
    return new RdmaError(`cannot serve metrics on ${where}: permission denied`, { ...fields, code: ERR_LISTEN, hint: 'choose a port above 1023' });
  }
  return new RdmaError(`cannot serve metrics on ${where}: ${err.message}`, { ...fields, code: ERR_LISTEN });
}

/**
 * Serves the rails' counters in Prometheus text format at /metrics (404 elsewhere). Every scrape
 * reads sysfs under `sysfsRoot ?? $SPARK_RDMA_SYSFS_ROOT ?? /sys` afresh; see collectRailMetrics.
 * @throws RdmaError `ERR_RDMA_INVALID_ARGUMENT` (bad listen address), `ERR_SERVER_ADDRESS_IN_USE`, `ERR_SERVER_LISTEN`.
 */
export async function startExporter(opts: ExporterOptions = {}): Promise<RailExporter> {
  const address = typeof opts.listen === 'object' ? opts.listen : parseListenAddress(opts.listen ?? DEFAULT_EXPORTER_LISTEN);
  const rootOptions: SysfsRootOptions = {
    ...(opts.sysfsRoot !== undefined ? { sysfsRoot: opts.sysfsRoot } : {}),
    ...(opts.env !== undefined ? { env: opts.env } : {}),
  };
  const server = createServer((req, res) => handle(req, res, rootOptions));
  // Prometheus keeps connections alive between scrapes; do not let one pin the server open.
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => reject(listenError(err, address));
    server.once('error', onError);
    server.listen({ host: address.host, port: address.port }, () => {
      server.off('error', onError);
      // Without a listener a later 'error' (EMFILE on accept) would throw and end the process.
      server.on('error', (err) => opts.onError?.(err));
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return {
    server,
    host: bound.address,
    port: bound.port,
    url: `http://${host}:${bound.port}${METRICS_PATH}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeIdleConnections();
      }),
  };
}

import { isIP } from 'node:net';
import { invalidArgument } from '../errors.js';

/** The exporter's default: loopback only, so exposing the counters to a network is a deliberate choice. */
export const DEFAULT_EXPORTER_HOST = '127.0.0.1';
export const DEFAULT_EXPORTER_PORT = 9469;
export const DEFAULT_EXPORTER_LISTEN = `${DEFAULT_EXPORTER_HOST}:${DEFAULT_EXPORTER_PORT}`;

export interface ListenAddress {
  host: string;
  /** 0 picks a free port. */
  port: number;
}

const HINT = `use host:port (${DEFAULT_EXPORTER_LISTEN}), [ipv6]:port, :port for every interface, or a bare port for loopback`;

/**
 * Parses a --listen value: "127.0.0.1:9469", "[::1]:9469", ":9469" (every interface, as
 * node_exporter reads it), "9469" (loopback), "localhost:9469".
 */
export function parseListenAddress(text: string): ListenAddress {
  const value = text.trim();
  let host: string;
  let portText: string;
  const bracketed = /^\[([^\]]+)\]:(\d*)$/.exec(value);
  if (bracketed) {
    host = bracketed[1]!;
    portText = bracketed[2]!;
    if (isIP(host) !== 6) throw invalidArgument(`listen address ${text}: ${host} is not an IPv6 address`, HINT);
  } else if (/^\d+$/.test(value)) {
    host = DEFAULT_EXPORTER_HOST;
    portText = value;
  } else {
    const colon = value.lastIndexOf(':');
    if (colon < 0 || value.indexOf(':') !== colon) throw invalidArgument(`listen address ${JSON.stringify(text)} has no port`, HINT);
    host = value.slice(0, colon) || '0.0.0.0';
    portText = value.slice(colon + 1);
    if (isIP(host) === 0 && !/^[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?$/.test(host)) {
      throw invalidArgument(`listen address ${JSON.stringify(text)}: ${JSON.stringify(host)} is not an IP address or host name`, HINT);
    }
  }
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 0 && port <= 65535)) {
    throw invalidArgument(`listen address ${JSON.stringify(text)}: port ${JSON.stringify(portText)} must be a whole number from 0 to 65535`, HINT);
  }
  return { host, port };
}

import { isIP } from 'node:net';
import { invalidArgument } from '../errors.js';

// RFC 1123 host names: labels of letters, digits and inner hyphens, dot-separated.
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

/**
 * A peer must be an IP address or a host name: checked before discovery, so a typo
 * (192.168.100.300, host:port) is named at once instead of surfacing as a connect failure.
 */
export function checkPeerAddress(peer: string): void {
  if (isIP(peer) !== 0) return;
  const withPort = /^(.+):(\d{1,5})$/.exec(peer);
  if (withPort && (isIP(withPort[1]!) !== 0 || HOST_NAME.test(withPort[1]!))) {
    throw invalidArgument(`peer address "${peer}" includes a port`, `pass the address alone and the port with --port: ${withPort[1]} --port ${withPort[2]}`);
  }
  if (/^[\d.]+$/.test(peer)) {
    throw invalidArgument(`peer address "${peer}" is not an IPv4 address`, 'pass four numbers from 0 to 255, e.g. 192.168.100.10 (the server\'s rail 0 address)');
  }
  if (!HOST_NAME.test(peer)) {
    throw invalidArgument(`peer address "${peer}" is neither an IP address nor a host name`, 'pass the server\'s rail 0 address, e.g. 192.168.100.10');
  }
}

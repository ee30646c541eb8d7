// Several guests on a wire: node i's rail r is a virtio NIC whose cable (a pair of unix datagram
// sockets, no host networking and no root) reaches rail r of the other node. Verified on QEMU 7.2
// under TCG (/work/shared/facts/soft-roce-vm.md): datagram sockets, not TCP `-netdev socket`
// (70x the latency); one vCPU per guest (two guests x 2 vCPUs on 2 host CPUs broke bandwidth
// runs); a MAC of its own on every NIC (QEMU's default MAC is the same in every instance, and
// RoCE between equal MACs silently moves nothing).
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { VmError } from './errors.mjs';

export const MAX_NODES = 2;
export const RAILS = 2;
const WIRE_MTU = 9000;

export function parseNodeCount(value) {
  const nodes = Number(value);
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > MAX_NODES) {
    throw new VmError(`--nodes ${value} is not supported: pass 1 (one guest, rails on dummy netdevs) or ${MAX_NODES} (two guests, rail i cabled to rail i)`);
  }
  return nodes;
}

/** `52:54:00:77:<node>:<rail>`: what the guest init matches to name its NICs rail0, rail1. */
export function railMac(node, rail) {
  const hex = (n) => n.toString(16).padStart(2, '0');
  return `52:54:00:77:${hex(node)}:${hex(rail)}`;
}

/** The NICs of node `node` of `nodes` (none for a lone guest), with socket paths under `wireDir`. */
export function nodeNics(node, nodes, wireDir) {
  if (nodes === 1) return [];
  if (nodes !== 2) throw new VmError(`a wire joins exactly two nodes, not ${nodes}`);
  const peer = 1 - node;
  return Array.from({ length: RAILS }, (_, rail) => ({
    id: `rail${rail}`,
    localPath: join(wireDir, `n${node}r${rail}.sock`),
    remotePath: join(wireDir, `n${peer}r${rail}.sock`),
    mac: railMac(node, rail),
    mtu: WIRE_MTU,
  }));
}

/**
 * A stream that writes each line of a guest's output to `target` with `prefix` in front, and
 * honours `target`'s back-pressure; `flush()` ends a partial last line.
 */
export function prefixedLines(target, prefix) {
  let pending = '';
  const decoder = new StringDecoder('utf8'); // a chunk may end inside a character
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      const lines = (pending + decoder.write(chunk)).split('\n');
      pending = lines.pop();
      if (lines.length === 0 || target.write(lines.map((line) => `${prefix}${line}\n`).join(''))) callback();
      else target.once('drain', () => callback());
    },
  });
  stream.flush = () => {
    if (pending) target.write(`${prefix}${pending}\n`);
    pending = '';
  };
  return stream;
}

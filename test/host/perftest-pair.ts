// Loopback TCP pairs for the perftest host tests: a scripted perftest peer on one end, our
// ExactStream on the other.
import { connect, createServer, type Socket } from 'node:net';
import { ExactStream } from '../../lib/perftest/stream.js';
import type { RailWire } from '../../lib/verbs/endpoint.js';
import { runPeer, type PeerRecord, type PeerScript } from './perftest-peer.js';

/** perftest releases whose exchange the transcripts follow (configure.ac AC_INIT of each tag). */
export const RELEASES = ['5.70', '5.92', '6.06', '6.16', '6.17', '6.27', '6.28', '6.29'];

export const wireOf = (qps: number): RailWire => ({
  device: 'fake0',
  port: 1,
  gid: '0000:0000:0000:0000:0000:ffff:0a4d:0001',
  mtu: 4096,
  qps: Array.from({ length: qps }, (_, i) => ({ qpn: 0x20 + i, psn: 0x777 + i, rkey: 0x99 + i, addr: String(0x55000000n + BigInt(i) * 4096n) })),
});

export const closers: (() => void)[] = [];
export const closeAll = (): void => closers.splice(0).forEach((c) => c());

/** A loopback TCP pair: the scripted perftest peer on one end, our ExactStream on the other. */
export async function pair(script: PeerScript): Promise<{ ours: ExactStream; peer: Promise<PeerRecord> }> {
  let peer!: Promise<PeerRecord>;
  let serverSide!: Promise<Socket>;
  const server = createServer((socket) => {
    if (script.role === 'server') peer = runPeer(socket, script);
    else serverSide = Promise.resolve(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => server.close());
  const client = connect((server.address() as { port: number }).port, '127.0.0.1');
  await new Promise((resolve) => client.once('connect', resolve));
  closers.push(() => client.destroy());
  if (script.role === 'server') return { ours: new ExactStream(client, 'the ib_write_bw server'), peer };
  await new Promise((r) => setTimeout(r, 10));
  peer = runPeer(client, script);
  return { ours: new ExactStream(await serverSide, 'the ib_write_bw client'), peer };
}


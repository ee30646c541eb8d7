// The mesh rendezvous over TCP on loopback: ranks that arrive early, late, twice, never; strays
// that send garbage, too much or nothing; rank 0 in the wrong place. Every wait has a deadline.
import { connect, createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort } from '../fixtures/free-port.js';
import type { MeshIdentity } from '../../lib/mesh/launcher.js';
import type { MeshRailInfo } from '../../lib/mesh/matrix.js';
import { checkRankSet, gatherRanks, joinRank0, type Rank0Link } from '../../lib/mesh/rendezvous.js';


const railsOf = (host: number, count = 2): MeshRailInfo[] =>
  Array.from({ length: count }, (_, i) => ({ device: `rxe${i}`, netdev: `rail${i}`, ipv4: `10.77.${i}.${host + 1}`, activeMtu: 4096, rateGbps: 10 }));

function id(rank: number, worldSize: number, port: number, host = '127.0.0.1'): MeshIdentity {
  return { rank, worldSize, localRank: null, rdzv: { host, port }, launcher: 'flags', rdzvFrom: '--rdzv' };
}

function join(rank: number, worldSize: number, port: number, rails = railsOf(rank), timeoutMs = 10_000): Promise<Rank0Link> {
  return joinRank0({ identity: id(rank, worldSize, port), host: `node${rank}`, rails, timeoutMs });
}

function gather(worldSize: number, port: number, timeoutMs = 10_000, handshakeTimeoutMs = 2_000, log?: (l: string) => void) {
  return gatherRanks({ identity: id(0, worldSize, port), host: 'node0', rails: railsOf(0), timeoutMs, handshakeTimeoutMs, ...(log ? { log } : {}) });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('mesh rendezvous on loopback', () => {
  it('gathers ranks that dial before rank 0 listens (they retry), and keeps the links for control', async () => {
    const port = await freePort();
    const early = join(2, 3, port);
    await sleep(700);
    const rank0 = gather(3, port);
    const late = join(1, 3, port);
    const { joined, links } = await rank0;
    expect(joined.map((j) => [j.rank, j.host, j.rails.length])).toEqual([[0, 'node0', 2], [1, 'node1', 2], [2, 'node2', 2]]);
    const [l1, l2] = await Promise.all([late, early]);
    links.get(2)!.send({ type: 'done', failedCells: 7 });
    expect(await l2.receive(['done'], 2_000, 'test')).toEqual({ type: 'done', failedCells: 7 });
    for (const l of [...links.values(), l1, l2]) l.close();
  });

  it('a rank that never arrives fails the rendezvous with the list of ranks that did', async () => {
    const port = await freePort();
    const rank0 = gather(4, port, 1_500);
    const links = await Promise.all([join(1, 4, port), join(3, 4, port)]);
    await expect(rank0).rejects.toThrow('rendezvous: 3 of 4 ranks arrived within 2 s (ranks 0, 1, 3); missing ranks 2');
    // The ranks that came are told why, and do not wait for a table.
    await expect(links[0]!.receive(['table'], 3_000, 'waiting')).rejects.toThrow(/gave up: rendezvous: 3 of 4 ranks arrived/);
  });

  it('a rank whose rank 0 never comes gives up at its deadline', async () => {
    const port = await freePort();
    const started = Date.now();
    await expect(join(1, 2, port, railsOf(1), 1_200)).rejects.toThrow(/rank 1: rank 0 at 127\.0\.0\.1:\d+ did not answer within 1 s \(last: ECONNREFUSED\)/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('refuses a rank that joins twice, naming both hosts', async () => {
    const port = await freePort();
    const rank0 = gather(3, port);
    const first = await join(1, 3, port);
    await sleep(200);
    const second = await join(1, 3, port);
    await expect(rank0).rejects.toThrow('rank 1 joined twice: from node1 and from node1');
    await expect(second.receive(['table'], 3_000, 'waiting')).rejects.toThrow(/already joined/);
    first.close();
  });

  it('refuses a world size that differs from rank 0\'s', async () => {
    const port = await freePort();
    const rank0 = gather(3, port);
    await join(1, 4, port);
    await expect(rank0).rejects.toThrow('rank 1 on node1 counts 4 ranks, rank 0 counts 3');
  });

  it('refuses ranks with different rail counts and tells every rank', async () => {
    const port = await freePort();
    const rank0 = gather(2, port);
    const one = await join(1, 2, port, railsOf(1, 1));
    await expect(rank0).rejects.toThrow('ranks differ in rail count: rank 0 (node0) 2, rank 1 (node1) 1');
    await expect(one.receive(['table'], 3_000, 'waiting')).rejects.toThrow(/gave up: ranks differ in rail count/);
  });

  it('refuses two hosts with the same rail address', () => {
    expect(checkRankSet([
      { rank: 0, host: 'a', rails: railsOf(0) },
      { rank: 1, host: 'b', rails: railsOf(0) },
    ])).toBe('rail address 10.77.0.1 is on rank 0 (a) and on rank 1 (b): every node needs its own addresses');
    // Ranks on one host share its addresses by nature.
    expect(checkRankSet([{ rank: 0, host: 'a', rails: railsOf(0) }, { rank: 1, host: 'a', rails: railsOf(0) }])).toBeNull();
  });

  it('drops strays (garbage, an endless line, silence, a bad join) and still completes', async () => {
    const port = await freePort();
    const logged: string[] = [];
    const rank0 = gather(2, port, 10_000, 500, (l) => logged.push(l));
    await sleep(100);
    const raw = (): Promise<Socket> => new Promise((resolve) => {
      const s = connect(port, '127.0.0.1', () => resolve(s));
      s.on('error', () => undefined);
    });
    const garbage = await raw();
    garbage.write('GET / HTTP/1.1\r\n\r\n');
    const endless = await raw();
    endless.write(Buffer.alloc(1.5 * 1024 * 1024, 0x41));
    const silent = await raw();
    const badJoin = await raw();
    badJoin.write(`${JSON.stringify({ type: 'join', protocol: 'spark-rdma-mesh/1', rank: 1, worldSize: 2, host: 'x', rails: [{ device: 'rxe0', netdev: 'r', ipv4: '10.0.0.999.1', activeMtu: 4096, rateGbps: 1 }] })}\n`);
    await sleep(900);
    const real = await join(1, 2, port);
    const { joined, links } = await rank0;
    expect(joined).toHaveLength(2);
    const drops = logged.filter((l) => l.startsWith('dropped a connection'));
    expect(drops.some((l) => /not valid JSON/.test(l))).toBe(true);
    expect(drops.some((l) => /longer than the 1048576-byte limit/.test(l))).toBe(true);
    expect(drops.some((l) => /sent nothing for 0\.5 s while joining/.test(l))).toBe(true);
    expect(drops.some((l) => /rail address "10\.0\.0\.999\.1" is not IPv4/.test(l))).toBe(true);
    for (const s of [garbage, endless, silent, badJoin]) s.destroy();
    for (const l of [...links.values(), real]) l.close();
  });

  it('rank 0 must run on the rendezvous host', async () => {
    await expect(gatherRanks({ identity: id(0, 2, 29999, '192.0.2.7'), host: 'node0', rails: railsOf(0), timeoutMs: 1_000 }))
      .rejects.toThrow('rank 0 runs on node0, but the rendezvous host 192.0.2.7 (192.0.2.7) is not an address of this node');
  });

  it('a rendezvous port in use is named', async () => {
    const port = await freePort();
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(port, '127.0.0.1', () => r()));
    try {
      await expect(gather(2, port, 1_000)).rejects.toThrow(`rendezvous port 127.0.0.1:${port} is in use`);
    } finally {
      holder.close();
    }
  });

  it('a link that hears nothing fails at its deadline', async () => {
    const port = await freePort();
    const rank0 = gather(2, port);
    const l1 = await join(1, 2, port);
    const { links } = await rank0;
    await expect(l1.receive(['table'], 300, 'waiting for the table')).rejects.toThrow(/rank 0 \(127\.0\.0\.1:\d+\) sent nothing for 0\.3 s while waiting for the table/);
    // A closed peer is told apart from a silent one.
    links.get(1)!.close();
    await expect(l1.receive(['table'], 3_000, 'waiting')).rejects.toMatchObject({ code: 'ERR_PEER_CLOSED' });
  });
});

// The server end of perftest's exchange, without verbs: ib_write_bw clients of several releases
// (scripted from their source in perftest-peer.ts) against our server's steps, over loopback TCP.
import { afterEach, describe, expect, test } from 'vitest';
import { keyOf, prelude } from '../../lib/perftest/handshake.js';
import { followBandwidthClient, keysOfUnknownCount } from '../../lib/perftest/serve-client.js';
import { encodeReport } from '../../lib/perftest/wire.js';
import type { RailWire } from '../../lib/verbs/endpoint.js';
import { closeAll, pair, RELEASES, wireOf } from './perftest-pair.js';

afterEach(closeAll);

describe.each(RELEASES)('perftest %s clients against our server over loopback TCP', (version) => {
  test.each([1, 2, 4])('its ib_write_bw client against our server, %i QP(s): its report logged', async (qps) => {
    const report = encodeReport({ size: 4096n, iters: BigInt(3000 * qps), bwPeak: 1.2, bwAvg: 1.1, msgRateMpps: 1.1e9 / 8 / 4096 / 1e6 });
    const { ours, peer } = await pair({ version, role: 'client', test: 'bw', qps, report });
    const agreed = await prelude(ours, 'server', 4096, 2000, 'peer');
    expect(agreed.mtu).toBe(1024);
    const added: number[] = [];
    let connected: RailWire | null = null;
    let wire = wireOf(1);
    const endpoint = {
      wire: () => wire,
      addQueuePair: () => {
        added.push(wire.qps.length);
        wire = wireOf(wire.qps.length + 1);
      },
      connect: (p: RailWire) => void (connected = p),
    };
    let marked = 0;
    expect(await keysOfUnknownCount(ours, endpoint, agreed.mtu, 2000, () => (marked += connected ? 1 : 100))).toBe(qps);
    expect(marked).toBe(1); // once, after connecting, before the client may write
    expect(connected!.qps.length).toBe(qps);
    const lines: string[] = [];
    await followBandwidthClient(ours, keyOf(wire, 0), 'perftest client', { log: (l) => lines.push(l), peerTimeoutMs: 2000, landed: () => true });
    await ours.finish(1000);
    const rec = await peer;
    expect(rec.version).toBe('6.27');
    expect(lines.join('\n')).toContain(`it reported 4096 B x ${3000 * qps} messages, BW average 1.10 Gb/s`);
  });

  test('its ib_write_bw -b client: a sync before any write landed is refused before it is answered', async () => {
    const { ours, peer } = await pair({ version, role: 'client', test: 'bw', qps: 1, duplex: true });
    const agreed = await prelude(ours, 'server', 4096, 2000, 'peer');
    await keysOfUnknownCount(ours, { wire: () => wireOf(1), addQueuePair: () => undefined, connect: () => undefined }, agreed.mtu, 2000);
    await expect(
      followBandwidthClient(ours, keyOf(wireOf(1), 0), 'perftest 6.06 ib_write_bw client', { log: () => undefined, peerTimeoutMs: 2000, landed: () => false }),
    ).rejects.toMatchObject({
      code: 'ERR_PEER_MISMATCH',
      message: expect.stringMatching(/bidirectional \(-b\)/),
    });
    ours.destroy();
    const rec = await peer;
    expect(rec.report).toEqual([]); // refused at the sync: no report was exchanged
  });

  test('the -b exchange itself is the one-way one: only where the writes are tells them apart', async () => {
    const { ours, peer } = await pair({ version, role: 'client', test: 'bw', qps: 1, duplex: true });
    const agreed = await prelude(ours, 'server', 4096, 2000, 'peer');
    await keysOfUnknownCount(ours, { wire: () => wireOf(1), addQueuePair: () => undefined, connect: () => undefined }, agreed.mtu, 2000);
    await followBandwidthClient(ours, keyOf(wireOf(1), 0), 'perftest client', { log: () => undefined, peerTimeoutMs: 2000, landed: () => true });
    await ours.finish(1000);
    expect((await peer).report).toHaveLength(5);
  });
});

// perftest's exchange, without verbs: byte formats, and transcripts of several releases
// (scripted from their source in perftest-peer.ts) driven through the real TCP code on loopback.
import { createServer, connect } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { resolveBandwidthParams } from '../../lib/bandwidth/options.js';
import type { RailBandwidth } from '../../lib/bandwidth/result.js';
import { perftestReport, sendReport } from '../../lib/perftest/bw-client.js';
import { confirmConnected, exchangeKeys, keyOf, prelude } from '../../lib/perftest/handshake.js';
import { ExactStream } from '../../lib/perftest/stream.js';
import {
  decodeKey,
  decodeReport,
  decodeVersion,
  encodeKey,
  encodeReport,
  gidFromBytes,
  KEY_BYTES,
  reportUnits,
  type KeyMessage,
} from '../../lib/perftest/wire.js';
import { perftestKey } from './perftest-peer.js';
import { closeAll, closers, pair, RELEASES, wireOf } from './perftest-pair.js';

afterEach(closeAll);

describe('byte formats', () => {
  test('a key message is perftest\'s 108 bytes and parses back', () => {
    const key: KeyMessage = { lid: 0, outReads: 1, qpn: 0x11, psn: 0xabcdef, rkey: 0xdeadbeef, vaddr: 0x7f12_3456_7890n, gid: Buffer.from('00000000000000000000ffff0a4d0001', 'hex'), srqn: 0 };
    const bytes = encodeKey(key);
    expect(bytes.length).toBe(KEY_BYTES);
    expect(bytes.toString('latin1')).toBe(
      '0000:0001:000011:abcdef:deadbeef:00007f1234567890:00:00:00:00:00:00:00:00:00:00:ff:ff:0a:4d:00:01:00000000:\0',
    );
    expect(decodeKey(bytes, 'x')).toEqual(key);
    expect(gidFromBytes(key.gid)).toBe('0000:0000:0000:0000:0000:ffff:0a4d:0001');
    // perftest's own sprintf, as scripted in the peer, parses too.
    expect(decodeKey(perftestKey(5, 6, 7, 8n, Array(16).fill(1)), 'x').qpn).toBe(5);
  });

  test('garbage in a key message is an ERR_PROTOCOL_PERFTEST naming what came', () => {
    expect(() => decodeKey(Buffer.alloc(KEY_BYTES, 0x41), 'the key message of QP 0')).toThrow(/not a 108-byte RoCE key message: "AAAA/);
  });

  test('versions read as atof does; report fields are big-endian; units from the message rate', () => {
    expect(decodeVersion(Buffer.from('6.06\0\0\0\0\0\0\0\0\0\0\0\0'))).toEqual({ text: '6.06', value: 6.06 });
    const report = { size: 65536n, iters: 5000n, bwPeak: 110.5, bwAvg: 108.25, msgRateMpps: (108.25 * 2 ** 20) / 65536 / 1e6 };
    const fields = encodeReport(report);
    expect(fields.map((f) => f.length)).toEqual([8, 8, 8, 8, 8]);
    expect(fields[0]!.toString('hex')).toBe('0000000000010000');
    expect(decodeReport(fields)).toEqual(report);
    expect(reportUnits(report)).toBe('MiB/s');
    expect(reportUnits({ ...report, bwAvg: (108.25 * 2 ** 20 * 8) / 1e9 })).toBe('Gb/s');
    // ib_write_bw -D whose timed window caught nothing (seen live: 36200 messages, all zeros)
    expect(reportUnits({ ...report, bwAvg: 0, bwPeak: 0, msgRateMpps: 0 })).toBeNull();
  });
});

describe('the report our client sends a stock ib_write_bw server', () => {
  // 3 s of 64 KiB writes at 10 GB/s, in 1 s samples; one best second at 11 GB/s.
  const bytes = 30e9;
  const rail = {
    size: 65536,
    messages: Math.round(bytes / 65536),
    gbps: (bytes * 8) / 3 / 1e9,
    mibps: bytes / 3 / 2 ** 20,
    msgRate: bytes / 65536 / 3 / 1e6,
    samples: [
      { seconds: 1, bytes: 9.5e9 },
      { seconds: 1, bytes: 11e9 },
      { seconds: 1, bytes: 9.5e9 },
    ],
  } as unknown as RailBandwidth;

  test('in MiB/s by default, in Gb/s for a server started with --report_gbits: the units its header says', () => {
    const mib = perftestReport(rail, 1000);
    expect(mib.bwAvg).toBeCloseTo(bytes / 3 / 2 ** 20, 6);
    expect(mib.bwPeak).toBeCloseTo(11e9 / 2 ** 20, 6);
    expect(reportUnits(mib)).toBe('MiB/s');
    const gbits = perftestReport(rail, 1000, 'Gb/s');
    expect(gbits.bwAvg).toBeCloseTo(80, 9);
    expect(gbits.bwPeak).toBeCloseTo(88, 9);
    expect(gbits.msgRateMpps).toBe(mib.msgRateMpps);
    expect(reportUnits(gbits)).toBe('Gb/s');
  });

  test('report units are refused where no perftest report is sent, and must be MiB/s or Gb/s', () => {
    expect(() => resolveBandwidthParams({ peer: 'h', perftestReportUnits: 'Gb/s' })).toThrow(/report units were given for a run that sends no perftest report/);
    expect(() => resolveBandwidthParams({ peer: 'h', perftest: true, perftestReportUnits: 'GB/s' as never })).toThrow(/are not MiB\/s or Gb\/s/);
    expect(() => resolveBandwidthParams({ peer: 'h', perftest: true, perftestReportUnits: 'Gb/s' })).not.toThrow();
  });
});

describe.each(RELEASES)('perftest %s transcripts over loopback TCP', (version) => {
  test.each([1, 2, 4])('our bw client against its ib_write_bw server, %i QP(s)', async (qps) => {
    const { ours, peer } = await pair({ version, role: 'server', test: 'bw', qps });
    const agreed = await prelude(ours, 'client', 4096, 2000, 'peer');
    expect(agreed).toMatchObject({ peerVersion: version, mtu: 1024, cycleBuffer: 4096, cacheLine: 64 });
    const keys = wireOf(qps).qps.map((_, i) => keyOf(wireOf(qps), i));
    const theirs = await exchangeKeys(ours, 'client', keys, false, 2000);
    expect(theirs.map((k) => k.qpn)).toEqual(Array.from({ length: qps }, (_, i) => 0x100 + i));
    await confirmConnected(ours, 'client', keys, theirs, 2000);
    const report = { size: 65536n, iters: BigInt(1000 * qps), bwPeak: 120, bwAvg: 108.5, msgRateMpps: 0.0017 };
    await sendReport({ stream: ours, keys }, report, 2000);
    const rec = await peer;
    expect(rec.negotiated).toBe(false);
    expect(rec).toMatchObject({ version: '6.27', cycle: 4096, cache: 64 });
    expect(rec.mtu.toString('latin1')).toBe('5\0');
    expect(rec.keys.length).toBe(2 * qps + 3);
    expect(rec.keys.map((k) => decodeKey(k, 'k').qpn).slice(0, qps)).toEqual(keys.map((k) => k.qpn));
    expect(decodeReport(rec.report)).toEqual(report);
  });

  test('our lat client against its ib_write_lat server (one extra key first, no end sync)', async () => {
    const { ours, peer } = await pair({ version, role: 'server', test: 'lat', qps: 1 });
    await prelude(ours, 'client', 4096, 2000, 'peer');
    const keys = [keyOf(wireOf(1), 0)];
    const theirs = await exchangeKeys(ours, 'client', keys, true, 2000);
    await confirmConnected(ours, 'client', keys, theirs, 2000);
    await ours.finish(1000);
    const rec = await peer;
    expect(rec.keys.length).toBe(4);
  });

});

describe('bad peers over loopback TCP: a clear error within the deadline', () => {
  test('a version below 5.70', async () => {
    const { ours } = await pair({ version: '5.60', role: 'server', test: 'bw', qps: 1 });
    await expect(prelude(ours, 'client', 4096, 2000, 'peer')).rejects.toMatchObject({ code: 'ERR_PEER_VERSION', message: expect.stringContaining('5.60') });
  });

  test('a peer that closes after the version exchange', async () => {
    const { ours } = await pair({ version: '6.06', role: 'server', test: 'bw', qps: 1, stopAfter: 1 });
    await expect(prelude(ours, 'client', 4096, 2000, 'peer')).rejects.toMatchObject({ code: 'ERR_PEER_CLOSED', message: expect.stringContaining('the cycle buffer size') });
  });

  test('a peer that goes silent', async () => {
    const server = createServer(() => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => server.close());
    const client = connect((server.address() as { port: number }).port, '127.0.0.1');
    closers.push(() => client.destroy());
    const started = Date.now();
    await expect(prelude(new ExactStream(client, 'the ib_write_bw server'), 'client', 4096, 300, 'peer')).rejects.toMatchObject({ code: 'ERR_PEER_SILENT' });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  test('a peer with another QP count (-q) is named with the flag', async () => {
    const { ours } = await pair({ version: '6.06', role: 'server', test: 'bw', qps: 2 });
    await prelude(ours, 'client', 4096, 2000, 'peer');
    const keys = [keyOf(wireOf(1), 0)];
    const theirs = await exchangeKeys(ours, 'client', keys, false, 2000);
    await expect(confirmConnected(ours, 'client', keys, theirs, 2000)).rejects.toMatchObject({ code: 'ERR_PEER_MISMATCH', hint: expect.stringContaining('-q 1') });
  });
});

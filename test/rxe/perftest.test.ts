// spark-rdma clients against the stock perftest servers (Debian 4.5+0.17, version 6.06) installed
// in the guest, on rxe0 (traffic loops back inside rxe; rail 1 of a two-rail run on rxe1).
import { beforeAll, describe, expect, test } from 'vitest';
import { runBandwidth } from '../../lib/bandwidth/index.js';
import { CLI, requireRxe, runNode } from './helpers.js';
import { calibratedLat, PEER, perftestRow, perftestServer, sideBySide } from './perftest-support.js';

const TOOL_MS = 120_000;
let port = 19_100 + Math.floor(Math.random() * 500) * 4;
const nextPort = () => (port += 4);

beforeAll(() => requireRxe());

describe('spark-rdma client against ib_write_bw / ib_write_lat servers', () => {
  const bwCases = [
    { qps: 1, size: 65536, mode: ['--iters', '2000'] },
    { qps: 2, size: 4096, mode: ['--duration', '2'] },
    { qps: 4, size: 65536, mode: ['--duration', '2'] },
    { qps: 4, size: 4096, mode: ['--iters', '3000'] },
  ];
  for (const c of bwCases) {
    test(`bw --perftest, ${c.qps} QP(s), ${c.size} B, ${c.mode.join(' ')}: the server prints what we measured`, async () => {
      const p = nextPort();
      const server = await perftestServer('ib_write_bw', p, ['-q', String(c.qps), '-s', String(c.size)], TOOL_MS);
      const ours = await runNode([CLI, 'bw', PEER, '--perftest', '--port', String(p), '--rails', '1', '--qps', String(c.qps), '--size', String(c.size), ...c.mode, '--json'], TOOL_MS);
      const served = await server.done;
      expect(ours.code, ours.stderr).toBe(0);
      expect(served.code, served.stdout + served.stderr).toBe(0);
      const result = JSON.parse(ours.stdout) as { rails: { messages: number; mibps: number; msgRate: number; size: number }[] };
      const rail = result.rails[0]!;
      const [bytes, iters, , avgMib, mpps] = perftestRow(served.stdout);
      sideBySide(`bw client ${c.qps} QP ${c.size} B ${c.mode.join(' ')}`, JSON.stringify({ size: rail.size, messages: rail.messages, mibps: rail.mibps, msgRate: rail.msgRate }), served.stdout);
      expect(bytes).toBe(c.size);
      expect(iters).toBe(rail.messages);
      if (c.mode[0] === '--iters') expect(iters).toBe(Number(c.mode[1]) * c.qps);
      // perftest prints 2 decimals of MiB/s and 6 of Mmsg/s.
      expect(Math.abs(avgMib! - rail.mibps)).toBeLessThanOrEqual(0.006);
      expect(Math.abs(mpps! - rail.msgRate)).toBeLessThanOrEqual(0.0000006);
    });
  }

  test('bw --perftest --report_gbits against ib_write_bw --report_gbits: the server prints our Gb/s under its Gb/sec header', async () => {
    const p = nextPort();
    const server = await perftestServer('ib_write_bw', p, ['--report_gbits'], TOOL_MS);
    const ours = await runNode([CLI, 'bw', PEER, '--perftest', '--report_gbits', '--port', String(p), '--rails', '1', '--iters', '2000', '--json'], TOOL_MS);
    const served = await server.done;
    expect(ours.code, ours.stderr).toBe(0);
    expect(served.code, served.stdout + served.stderr).toBe(0);
    const rail = (JSON.parse(ours.stdout) as { rails: { gbps: number; mibps: number; msgRate: number }[] }).rails[0]!;
    sideBySide('bw client --report_gbits', JSON.stringify({ gbps: rail.gbps, mibps: rail.mibps, msgRate: rail.msgRate }), served.stdout);
    expect(served.stdout).toContain('BW average[Gb/sec]');
    const [, , , avg, mpps] = perftestRow(served.stdout);
    expect(Math.abs(avg! - rail.gbps)).toBeLessThanOrEqual(0.006);
    expect(Math.abs(mpps! - rail.msgRate)).toBeLessThanOrEqual(0.0000006);
  });

  test('two rails from one process against two ib_write_bw servers (rail i on --port + i)', async () => {
    const p = nextPort();
    const servers = [await perftestServer('ib_write_bw', p, [], TOOL_MS, 'rxe0'), await perftestServer('ib_write_bw', p + 1, [], TOOL_MS, 'rxe1')];
    const ours = await runNode([CLI, 'bw', PEER, '--perftest', '--port', String(p), '--rails', '2', '--iters', '1500', '--json'], TOOL_MS);
    const served = await Promise.all(servers.map((s) => s.done));
    expect(ours.code, ours.stderr).toBe(0);
    const result = JSON.parse(ours.stdout) as { rails: { device: string; messages: number; mibps: number }[] };
    expect(result.rails.map((r) => r.device)).toEqual(['rxe0', 'rxe1']);
    served.forEach((s, i) => {
      expect(s.code, s.stdout + s.stderr).toBe(0);
      const [, iters, , avgMib] = perftestRow(s.stdout);
      expect(iters).toBe(1500);
      expect(Math.abs(avgMib! - result.rails[i]!.mibps)).toBeLessThanOrEqual(0.006);
    });
  });

  for (const size of [2, 4096]) {
    test(`lat --perftest at ${size} B: our percentiles next to ib_write_lat's`, async () => {
      const { ours, served } = await calibratedLat(
        async () => {
          const p = nextPort();
          const server = await perftestServer('ib_write_lat', p, ['-s', String(size), '-n', '1000'], TOOL_MS);
          const ours = await runNode([CLI, 'lat', PEER, '--perftest', '--port', String(p), '--rails', '1', '--size', String(size), '--iters', '1000', '--json'], TOOL_MS);
          const served = await server.done;
          expect(ours.code, ours.stderr).toBe(0);
          expect(served.code, served.stdout + served.stderr).toBe(0);
          return { ours, served };
        },
        (r) => r.served.stdout,
      );
      const rail = (JSON.parse(ours.stdout) as { rails: { size: number; exchanges: number; latency: { p50Us: number; p99Us: number; count: number } }[] }).rails[0]!;
      const [bytes, iters, , , typical, , , p99] = perftestRow(served.stdout);
      sideBySide(`lat client ${size} B`, JSON.stringify({ size: rail.size, exchanges: rail.exchanges, ...rail.latency }), served.stdout);
      expect(bytes).toBe(size);
      expect(iters).toBe(1000);
      expect(rail.exchanges).toBe(1000);
      expect(rail.latency.p50Us).toBeGreaterThan(0);
      // Both time the same exchanges from either end; under emulation they agree within a factor.
      expect(rail.latency.p50Us / typical!).toBeGreaterThan(0.33);
      expect(rail.latency.p50Us / typical!).toBeLessThan(3);
      expect(p99).toBeGreaterThan(0);
    });
  }
});

describe('bad perftest peers: a clear error, exit 1, within the deadline', () => {
  test('an ib_write_lat server with another size (-s 8 against --size 2)', async () => {
    const p = nextPort();
    const server = await perftestServer('ib_write_lat', p, ['-s', '8', '-n', '1000'], 60_000);
    const started = Date.now();
    const ours = await runNode([CLI, 'lat', PEER, '--perftest', '--port', String(p), '--rails', '1', '--size', '2', '--iters', '1000', '--peer-timeout', '3'], 60_000);
    await server.stop();
    expect(ours.code).toBe(1);
    expect(ours.stderr).toMatch(/ERR_PEER_MISMATCH|writes 8-byte messages/);
    expect(ours.stderr).toContain('-s 2');
    // The peer deadline (3 s) ended it, not the test's: node itself starts slowly under TCG.
    expect(ours.stderr).toContain('no write from the peer for 3000 ms');
    expect(Date.now() - started).toBeLessThan(90_000);
  });

  test('--cm, --bidir and several sizes are refused before connecting', async () => {
    for (const flags of [['--cm'], ['--bidir'], ['--sizes', '4096,65536']]) {
      const ours = await runNode([CLI, 'bw', PEER, '--perftest', '--port', '1', ...flags], 90_000);
      expect(ours.code, flags.join(' ')).toBe(2); // a usage error (docs/cli.md: exit codes)
      expect(ours.stderr).toMatch(/--perftest/);
    }
  });

  test('in-process: a peer below 5.70, garbage keys, a peer that closes after the versions', async () => {
    const { createServer } = await import('node:net');
    const scripts: { name: string; reply: (socket: import('node:net').Socket) => void; code: string }[] = [
      { name: 'version 5.60', code: 'ERR_PEER_VERSION', reply: (s) => s.write(Buffer.concat([Buffer.from('5.60'), Buffer.alloc(12)])) },
      { name: 'closes after the versions', code: 'ERR_PEER_CLOSED', reply: (s) => s.end(Buffer.concat([Buffer.from('6.06'), Buffer.alloc(12)])) },
      {
        name: 'garbage key',
        code: 'ERR_PROTOCOL_PERFTEST',
        reply: (s) => {
          const int = (v: number) => Buffer.from([0, 0, v >> 8, v & 255]);
          s.write(Buffer.concat([Buffer.from('6.06'), Buffer.alloc(12), int(4096), int(64), Buffer.from('5\0'), Buffer.alloc(108, 0x41)]));
        },
      },
    ];
    for (const script of scripts) {
      const fake = createServer((socket) => {
        socket.once('data', () => script.reply(socket));
        socket.on('error', () => undefined);
      });
      await new Promise<void>((resolve) => fake.listen(0, PEER, resolve));
      const p = (fake.address() as { port: number }).port;
      const started = Date.now();
      const err = await runBandwidth({ peer: PEER, port: p, perftest: true, rails: 1, iterations: 10, peerTimeoutMs: 3000 }).then(
        () => null,
        (e: unknown) => e as { code: string; message: string },
      );
      fake.close();
      expect(err?.code, `${script.name}: ${err?.message}`).toBe(script.code);
      // Each ends at the bad bytes, well before the 3 s peer deadline would (discovery and
      // opening the rail take most of this under TCG).
      expect(Date.now() - started).toBeLessThan(60_000);
    }
  });
});


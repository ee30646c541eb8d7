// Rail pairing on real rxe rails (issue 14, point 0): a server honours --devices, and a client
// rail meets the server rail in its subnet (not the one at its position), for bw and lat, with
// the out-of-band exchange and with rdma_cm. Two guests on a wire: test/wire/.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { BandwidthResult } from '../../lib/bandwidth/index.js';
import type { LatencyResult } from '../../lib/latency/index.js';
import { requireRxe, startServer, testPort } from './helpers.js';
import { cliInProcess, until } from './faults-support.js';

beforeAll(() => requireRxe());

const RAIL1 = '10.77.1.1';
const rxe1ToRxe1 = { rail: 0, device: 'rxe1', ipv4: RAIL1, subnet: '10.77.1.0/24', peerRail: 0, peerDevice: 'rxe1', peerIpv4: RAIL1, rule: 'subnet' };

describe('a bw server started with --devices rxe1', () => {
  const port = testPort(0);
  let server: Awaited<ReturnType<typeof startServer>>;
  beforeAll(async () => {
    server = await startServer('bw', port, ['--devices', 'rxe1']);
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  test('serves rxe1 only, and a client on rxe1 meets rxe1 (OOB and --cm)', async () => {
    expect(server.log()).toMatch(/serving rails rxe1\(rail1 10\.77\.1\.1\) on 10\.77\.1\.1:\d+;/);
    for (const cm of [[], ['--cm']]) {
      const r = await cliInProcess(['bw', RAIL1, '--port', String(port), '--devices', 'rxe1', '--iters', '200', '--json', ...cm]);
      expect(r.code, r.stderr).toBe(0);
      const result = JSON.parse(r.stdout) as BandwidthResult;
      expect(result.params.pairing).toEqual([rxe1ToRxe1]);
      expect(result.rails.map((x) => [x.device, x.messages])).toEqual([['rxe1', 200]]);
    }
    await until('the server logs both pairings', () => (server.log().match(/bw on rxe1, 1 QP\(s\), MTU 4096(, rdma_cm)?; pairing: client rxe1 -> rxe1 \(rail1 10\.77\.1\.1\)/g) ?? []).length === 2, 10_000);
    expect(server.log()).toContain(', rdma_cm; pairing: client rxe1 -> rxe1');
  });

  test('a client rail in no subnet of the server is refused, naming both rails and the subnet', async () => {
    const r = await cliInProcess(['bw', RAIL1, '--port', String(port), '--devices', 'rxe0', '--iters', '10']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^spark-rdma: rail 0 \(rxe0 10\.77\.0\.1\/24\) cannot reach the server at 10\.77\.1\.1: none of the server's rails, rxe1 \(10\.77\.1\.1\), is in 10\.77\.0\.0\/24$/m,
    );
    expect(r.stderr).toMatch(/^hint: each cable must join rail i on one node to rail i on the other/m);
  });
});

describe('a lat server on both rails', () => {
  const port = testPort(2);
  let server: Awaited<ReturnType<typeof startServer>>;
  beforeAll(async () => {
    server = await startServer('lat', port);
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  test('a client on rxe1 meets the server rxe1 (OOB and --cm), and the table says so', async () => {
    for (const cm of [[], ['--cm']]) {
      const r = await cliInProcess(['lat', RAIL1, '--port', String(port), '--devices', 'rxe1', '--iters', '200', '--json', ...cm]);
      expect(r.code, r.stderr).toBe(0);
      const result = JSON.parse(r.stdout) as LatencyResult;
      expect(result.params.pairing).toEqual([{ ...rxe1ToRxe1, peerRail: 1 }]);
      expect(result.rails.map((x) => [x.device, x.latency.count])).toEqual([['rxe1', 200]]);
    }
    // Both rails dialled at rail 1's address: each meets its own subnet's rail.
    const table = await cliInProcess(['lat', RAIL1, '--port', String(port), '--rails', '2', '--iters', '100']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain(
      'rail pairing (this node -> server): rxe0 10.77.0.1 -> rxe0 10.77.0.1 (same subnet 10.77.0.0/24); rxe1 10.77.1.1 -> rxe1 10.77.1.1 (same subnet 10.77.1.0/24)',
    );
    await until('the server logs the pairings', () => /lat on rxe0, rxe1, 1 QP\(s\), MTU 4096; pairing: client rxe0 -> rxe0 \(rail0 10\.77\.0\.1\), client rxe1 -> rxe1/.test(server.log()), 10_000);
    expect(server.log()).toMatch(/lat on rxe1, 1 QP\(s\), MTU 4096, rdma_cm; pairing: client rxe1 -> rxe1/);
  });
});

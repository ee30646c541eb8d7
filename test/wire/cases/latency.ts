// lat across the wire, rail by rail and both rails at once.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { LatencyResult } from '../../../lib/latency/index.js';
import { cli, NODE0, serverOnNode0, type Node0Process } from '../remote.js';

const PORT = 18620;

describe('lat: server on node0, client on node1', () => {
  let server: Node0Process;
  beforeAll(async () => {
    server = await serverOnNode0('lat-server', 'lat', PORT, ['--peer-timeout', '20']);
  });
  afterAll(async () => {
    expect((await server.stop()).code).toBe(0);
  });

  for (const mode of [[], ['--concurrent'], ['--cm']]) {
    test(`both rails across the wire${mode.length ? ` (${mode.join(' ')})` : ''}: every exchange timed, rail i met rail i`, async () => {
      const r = await cli(1, ['lat', NODE0.rail0, '--port', String(PORT), '--rails', '2', '--iters', '300', '--json', ...mode]);
      expect(r.code, r.stderr).toBe(0);
      const result = JSON.parse(r.stdout) as LatencyResult;
      expect(result.params.pairing?.map((p) => [p.device, p.peerDevice])).toEqual([
        ['rxe0', 'rxe0'],
        ['rxe1', 'rxe1'],
      ]);
      expect(result.rails.map((x) => [x.device, x.latency.count])).toEqual([
        ['rxe0', 300],
        ['rxe1', 300],
      ]);
      for (const rail of result.rails) expect(rail.latency.p50Us).toBeGreaterThan(0);
      console.log(`wire lat 2 B ${mode.join(' ') || 'rail by rail'}: ${result.rails.map((x) => `${x.device} p50 ${x.latency.p50Us.toFixed(0)} us, p99 ${x.latency.p99Us.toFixed(0)} us`).join('; ')}`);
    });
  }
});

// perftest's wire protocol across the two-guest wire (issue 15): stock perftest (Debian 4.5+0.17,
// version 6.06) on one node, spark-rdma on the other, both ways. Every perftest process has a
// deadline (`timeout` on node0, start()'s on node1); a perftest server is waited for with
// `ss -ltn`, as it takes the first connection as its client. Sizes stay at or below 64 KiB:
// from 2 MiB up a run on this wire stalls inside rdma_rxe (see cases/bandwidth.ts).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Finished } from '../../../bench/guest/processes.js';
import type { BandwidthResult } from '../../../lib/bandwidth/index.js';
import type { LatencyResult } from '../../../lib/latency/index.js';
import { calibratedLat, perftestClient, perftestRow } from '../../rxe/perftest-support.js';
import { cli, NODE0, onNode0, serverOnNode0, startOnNode0, until, type Node0Process } from '../remote.js';

const TOOL_S = 60;
const BW_PORT = 18700; // and 18701 for rail 1
const SERVE_PORT = 18710;
const LAT_PORT = 18720;
const SERVE_LAT_PORT = 18730;
const SIZE = 65536;
const QPS = 2;
const ITERS = 100; // per QP
const LAT_ITERS = 500;

/** The IPv4 RoCE v2 GID index of rxe0 and rxe1 on a node (what perftest's -x wants). */
async function gidIndexes(node: 0 | 1): Promise<number[]> {
  const r = await cli(node, ['devices', '--json']);
  expect(r.code, r.stderr).toBe(0);
  const rails = (JSON.parse(r.stdout) as { rails: { device: string; gidIndex: number | null }[] }).rails;
  return ['rxe0', 'rxe1'].map((d) => {
    const index = rails.find((x) => x.device === d)?.gidIndex;
    expect(index, `node${node} ${d} has an IPv4 RoCE v2 GID`).toBeTypeOf('number');
    return index!;
  });
}

/** A stock perftest server on node0, killed at TOOL_S, returned once it listens. */
async function perftestOnNode0(tool: 'ib_write_bw' | 'ib_write_lat', rail: 0 | 1, port: number, gid: number, args: string[]): Promise<Node0Process> {
  const id = `${tool}-${port}`;
  const server = await startOnNode0(id, ['timeout', '-s', 'KILL', String(TOOL_S), tool, '-d', `rxe${rail}`, '-F', '-p', String(port), '-x', String(gid), ...args], '', 30_000);
  try {
    await until(`${tool} listening on node0:${port}`, async () => (await onNode0(['ss', '-ltnH', `sport = :${port}`], 10_000)).stdout.trim() !== '', 30_000, 200);
  } catch (err) {
    const { log } = await server.stop('SIGKILL');
    throw new Error(`${(err as Error).message}; its output:\n${log}`);
  }
  return server;
}

/** The first result row's fields after "#bytes", with the server's output in the failure message. */
function row(output: string, what: string): number[] {
  const fields = perftestRow(output);
  expect(fields.every((v) => Number.isFinite(v)), `${what} printed a row of numbers:\n${output}`).toBe(true);
  return fields;
}

const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);

describe('perftest across the wire: stock perftest on one node, spark-rdma on the other', () => {
  let gid0: number[];
  let gid1: number[];
  beforeAll(async () => {
    [gid0, gid1] = await Promise.all([gidIndexes(0), gidIndexes(1)]);
  });

  test('ib_write_bw servers on node0 (one per rail) and spark-rdma bw --perftest --rails 2 on node1: each server prints what we measured', async () => {
    const started = Date.now();
    const args = ['-q', String(QPS), '-s', String(SIZE)];
    const servers = [await perftestOnNode0('ib_write_bw', 0, BW_PORT, gid0[0]!, args), await perftestOnNode0('ib_write_bw', 1, BW_PORT + 1, gid0[1]!, args)];
    try {
      const ours = await cli(1, ['bw', NODE0.rail0, '--perftest', '--rails', '2', '--port', String(BW_PORT), '--qps', String(QPS), '--size', String(SIZE), '--iters', String(ITERS), '--json'], TOOL_S * 1000);
      const served = await Promise.all(servers.map((s) => s.ended(30_000)));
      expect(ours.code, ours.stderr).toBe(0);
      const result = JSON.parse(ours.stdout) as BandwidthResult;
      expect(result.rails.map((r) => [r.device, r.messages])).toEqual([
        ['rxe0', QPS * ITERS],
        ['rxe1', QPS * ITERS],
      ]);
      const lines = served.map((s, i) => {
        expect(s.code, s.log).toBe(0);
        const rail = result.rails[i]!;
        const [bytes, iters, , avgMib, mpps] = row(s.log, `ib_write_bw on node0 rxe${i}`);
        expect(rail.gbps).toBeGreaterThan(0);
        expect(bytes).toBe(SIZE);
        expect(iters).toBe(rail.messages);
        // perftest prints 2 decimals of MiB/s and 6 of Mmsg/s.
        expect(Math.abs(avgMib! - rail.mibps)).toBeLessThanOrEqual(0.006);
        expect(Math.abs(mpps! - rail.msgRate)).toBeLessThanOrEqual(0.0000006);
        return `${rail.device}: ours ${rail.size} B x ${rail.messages}, ${rail.mibps.toFixed(2)} MiB/s, ${rail.msgRate.toFixed(6)} Mmsg/s | ib_write_bw ${bytes} B x ${iters}, ${avgMib!.toFixed(2)} MiB/s, ${mpps!.toFixed(6)} Mmsg/s`;
      });
      console.log(`wire perftest 1 (ib_write_bw servers on node0, spark-rdma bw --perftest --rails 2 -q ${QPS} on node1, ${seconds(started)} s): ${lines.join('; ')}`);
    } finally {
      await Promise.all(servers.map((s) => s.stop('SIGKILL')));
    }
  });

  describe('a spark-rdma server on node0, stock perftest clients on node1', () => {
    let bw: Node0Process;
    let lat: Node0Process;
    beforeAll(async () => {
      [bw, lat] = await Promise.all([
        serverOnNode0('perftest-bw-server', 'bw', SERVE_PORT, ['--peer-timeout', '20']),
        serverOnNode0('perftest-lat-server', 'lat', SERVE_LAT_PORT, ['--peer-timeout', '20', '--size', '2', '--iters', String(LAT_ITERS)]),
      ]);
    });
    afterAll(async () => {
      const stopped = await Promise.all([bw?.stop(), lat?.stop()]);
      for (const s of stopped) expect(s?.code, s?.log).toBe(0);
    });

    test('ib_write_bw on rail 0 (MiB/s) and on rail 1 (--report_gbits): served on the rail it dialled, its report logged in its units', async () => {
      const started = Date.now();
      const cases = [
        { rail: 0 as const, peer: NODE0.rail0, gbits: false },
        { rail: 1 as const, peer: NODE0.rail1, gbits: true },
      ];
      // One after the other: a server runs one benchmark at a time and turns a second client away.
      const clients: Finished[] = [];
      for (const c of cases) {
        const args = ['-x', String(gid1[c.rail]), '-q', String(QPS), '-s', String(SIZE), '-n', String(ITERS), ...(c.gbits ? ['--report_gbits'] : [])];
        clients.push(await perftestClient('ib_write_bw', SERVE_PORT, args, TOOL_S * 1000, `rxe${c.rail}`, c.peer).done);
      }
      for (const client of clients) {
        expect(client.timedOut, client.stdout + client.stderr).toBe(false);
        expect(client.code, `${client.stdout}${client.stderr}\nserver log:\n${await bw.log()}`).toBe(0);
      }
      const reports = async () => ((await bw.log()).match(/it reported/g) ?? []).length;
      await until('both reports in the server log', async () => (await reports()) >= 2, 10_000).catch(async (e: Error) => {
        throw new Error(`${e.message}:\n${await bw.log()}`);
      });
      const log = await bw.log();
      const lines = cases.map((c, i) => {
        const client = clients[i]!;
        const [bytes, iters, , avg, mpps] = row(client.stdout, `ib_write_bw on node1 rxe${c.rail}`);
        expect(client.stdout).toContain(c.gbits ? 'BW average[Gb/sec]' : 'BW average[MB/sec]');
        expect(iters).toBe(QPS * ITERS);
        expect(avg).toBeGreaterThan(0);
        // Rail pairing by address: the client that dialled rail c's address is served on rxe<c>.
        const m = new RegExp(`ib_write_bw client at \\S+ on rxe${c.rail}: it reported (\\d+) B x (\\d+) messages, BW average ([\\d.]+) (MiB/s|Gb/s) .*?([\\d.]+) Mmsg/s`).exec(log);
        expect(m, log).not.toBeNull();
        expect(Number(m![1])).toBe(bytes);
        expect(Number(m![2])).toBe(iters);
        expect(Math.abs(Number(m![3]) - avg!)).toBeLessThanOrEqual(0.006);
        expect(m![4]).toBe(c.gbits ? 'Gb/s' : 'MiB/s');
        expect(Math.abs(Number(m![5]) - mpps!)).toBeLessThanOrEqual(0.0000006);
        return `rxe${c.rail}${c.gbits ? ' --report_gbits' : ''}: server logged ${m![1]} B x ${m![2]}, ${m![3]} ${m![4]}, ${m![5]} Mmsg/s | ib_write_bw ${bytes} B x ${iters}, ${avg!.toFixed(2)} ${m![4]}, ${mpps!.toFixed(6)} Mmsg/s`;
      });
      console.log(`wire perftest 2 (spark-rdma bw server on node0, ib_write_bw clients on node1, ${seconds(started)} s): ${lines.join('; ')}`);
    });

    test('ib_write_lat -s 2 on node1 against spark-rdma lat on node0: our p50/p99 next to its typical/99%', async () => {
      const started = Date.now();
      const { client, before } = await calibratedLat(
        async () => {
          const before = (await lat.log()).length;
          const client = await perftestClient('ib_write_lat', SERVE_LAT_PORT, ['-x', String(gid1[0]), '-s', '2', '-n', String(LAT_ITERS)], TOOL_S * 1000, 'rxe0', NODE0.rail0).done;
          expect(client.timedOut, client.stdout + client.stderr).toBe(false);
          expect(client.code, client.stdout + client.stderr).toBe(0);
          return { client, before };
        },
        (r) => r.client.stdout,
      );
      const [bytes, iters, , , typical, , , p99] = row(client.stdout, 'ib_write_lat on node1');
      const pattern = /on rxe0: (\d+) B x (\d+) exchanges: p50 ([\d.]+) us, p99 ([\d.]+) us/;
      await until('the latency line in the server log', async () => pattern.test((await lat.log()).slice(before)), 10_000);
      const m = pattern.exec((await lat.log()).slice(before))!;
      expect([bytes, iters]).toEqual([2, LAT_ITERS]);
      expect([Number(m[1]), Number(m[2])]).toEqual([2, LAT_ITERS]);
      // Both time the same exchanges from either end; under emulation they agree within a factor.
      expect(Number(m[3]) / typical!).toBeGreaterThan(0.33);
      expect(Number(m[3]) / typical!).toBeLessThan(3);
      console.log(`wire perftest 3b (spark-rdma lat server on node0, ib_write_lat client on node1, ${seconds(started)} s): ours p50 ${m[3]} us, p99 ${m[4]} us | ib_write_lat typical ${typical} us, 99% ${p99} us`);
    });
  });

  test('ib_write_lat -s 2 server on node0 and spark-rdma lat --perftest on node1: our p50/p99 next to its typical/99%', async () => {
    const started = Date.now();
    const { ours, served } = await calibratedLat(
      async (n) => {
        const port = LAT_PORT + n - 1; // a fresh port per attempt: a killed server's may linger
        const server = await perftestOnNode0('ib_write_lat', 0, port, gid0[0]!, ['-s', '2', '-n', String(LAT_ITERS)]);
        try {
          const ours = await cli(1, ['lat', NODE0.rail0, '--perftest', '--rails', '1', '--port', String(port), '--size', '2', '--iters', String(LAT_ITERS), '--json'], TOOL_S * 1000);
          const served = await server.ended(30_000);
          expect(ours.code, ours.stderr).toBe(0);
          expect(served.code, served.log).toBe(0);
          return { ours, served };
        } finally {
          await server.stop('SIGKILL');
        }
      },
      (r) => r.served.log,
    );
    const rail = (JSON.parse(ours.stdout) as LatencyResult).rails[0]!;
    const [bytes, iters, , , typical, , , p99] = row(served.log, 'ib_write_lat on node0');
    expect([bytes, iters]).toEqual([2, LAT_ITERS]);
    expect([rail.device, rail.size, rail.exchanges]).toEqual(['rxe0', 2, LAT_ITERS]);
    expect(rail.latency.p50Us / typical!).toBeGreaterThan(0.33);
    expect(rail.latency.p50Us / typical!).toBeLessThan(3);
    console.log(`wire perftest 3a (ib_write_lat server on node0, spark-rdma lat --perftest on node1, ${seconds(started)} s): ours p50 ${rail.latency.p50Us.toFixed(2)} us, p99 ${rail.latency.p99Us.toFixed(2)} us | ib_write_lat typical ${typical} us, 99% ${p99} us`);
  });
});

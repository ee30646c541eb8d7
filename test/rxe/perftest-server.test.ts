// Stock ib_write_bw / ib_write_lat clients (Debian 4.5+0.17, version 6.06) against spark-rdma
// servers in the guest, on rxe0: no flag on our side, the server tells them apart by their first bytes.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { requireRxe, startServer } from './helpers.js';
import { calibratedLat, perftestClient, perftestRow, sideBySide } from './perftest-support.js';

const TOOL_MS = 120_000;
let port = 19_700 + Math.floor(Math.random() * 500) * 4;
const nextPort = () => (port += 4);

beforeAll(() => requireRxe());

describe('ib_write_bw / ib_write_lat clients against a spark-rdma server (no flag: told apart by their first bytes)', () => {
  let bw: Awaited<ReturnType<typeof startServer>>;
  let lat: Awaited<ReturnType<typeof startServer>>;
  const bwPort = nextPort();
  const latPort = nextPort();
  beforeAll(async () => {
    bw = await startServer('bw', bwPort, ['--rails', '1']);
    lat = await startServer('lat', latPort, ['--rails', '1', '--size', '2', '--iters', '1000']);
  }, 120_000);
  afterAll(async () => {
    await bw?.stop();
    await lat?.stop();
  });

  const clientCases = [
    { args: ['-q', '1', '-s', '65536', '-n', '2000'], gbits: false },
    { args: ['-q', '2', '-s', '4096', '-D', '2', '--report_gbits'], gbits: true },
    { args: ['-q', '4', '-s', '65536', '-D', '2'], gbits: false },
    { args: ['-q', '4', '-s', '4096', '-n', '3000', '--report_gbits'], gbits: true },
  ];
  for (const c of clientCases) {
    test(`ib_write_bw ${c.args.join(' ')}: served, and its report logged in its units`, async () => {
      const before = bw.log().length;
      const client = await perftestClient('ib_write_bw', bwPort, c.args, TOOL_MS).done;
      expect(client.code, client.stdout + client.stderr).toBe(0);
      const [bytes, iters, , avg] = perftestRow(client.stdout);
      await new Promise((r) => setTimeout(r, 500));
      const logged = bw.log().slice(before);
      sideBySide(`ib_write_bw client ${c.args.join(' ')}`, logged, client.stdout);
      if (avg === 0) {
        // perftest's own -D window measured nothing (its table prints 0): we must say so, not guess units.
        expect(logged).toMatch(new RegExp(`it reported ${bytes} B x ${iters} messages and a bandwidth of 0`));
        return;
      }
      const m = /it reported (\d+) B x (\d+) messages, BW average ([\d.]+) (MiB\/s|Gb\/s)/.exec(logged);
      expect(m, logged).not.toBeNull();
      expect(Number(m![1])).toBe(bytes);
      expect(Number(m![2])).toBe(iters);
      expect(Math.abs(Number(m![3]) - avg!)).toBeLessThanOrEqual(0.006);
      expect(m![4]).toBe(c.gbits ? 'Gb/s' : 'MiB/s');
    });
  }

  // ib_write_bw -b syncs before its run, one way after it (write_bw.c of 6.06 and 6.29): when
  // the sync comes and none of its writes has landed, the client is bidirectional.
  for (const mode of [['-n', '500'], ['-D', '2']]) {
    test(`ib_write_bw -b ${mode.join(' ')} is refused with the flag to drop; the server keeps serving`, async () => {
      const before = bw.log().length;
      const client = await perftestClient('ib_write_bw', bwPort, ['-b', ...mode], TOOL_MS).done;
      expect(client.timedOut).toBe(false);
      await new Promise((r) => setTimeout(r, 500));
      const logged = bw.log().slice(before);
      console.log(`ib_write_bw -b ${mode.join(' ')}: exit ${client.code}; server log:\n${logged}`);
      expect(client.code).not.toBe(0);
      expect(logged).toMatch(/bidirectional \(-b\)/);
      const after = await perftestClient('ib_write_bw', bwPort, ['-n', '500'], TOOL_MS).done;
      expect(after.code, after.stdout + after.stderr).toBe(0);
    });
  }

  for (const size of [2, 4096]) {
    test(`ib_write_lat -s ${size} against spark-rdma lat: both sides' percentiles`, async () => {
      const server = size === 2 ? lat : await startServer('lat', nextPort(), ['--rails', '1', '--size', String(size), '--iters', '1000']);
      const serverPort = size === 2 ? latPort : port;
      try {
        const { client, before } = await calibratedLat(
          async () => {
            const before = server.log().length;
            const client = await perftestClient('ib_write_lat', serverPort, ['-s', String(size), '-n', '1000'], TOOL_MS).done;
            expect(client.code, client.stdout + client.stderr).toBe(0);
            return { client, before };
          },
          (r) => r.client.stdout,
        );
        const [bytes, iters, , , typical] = perftestRow(client.stdout);
        await new Promise((r) => setTimeout(r, 500));
        const logged = server.log().slice(before);
        sideBySide(`ib_write_lat client ${size} B`, logged, client.stdout);
        expect(bytes).toBe(size);
        expect(iters).toBe(1000);
        const m = /(\d+) B x (\d+) exchanges: p50 ([\d.]+) us, p99 ([\d.]+) us/.exec(logged);
        expect(m, logged).not.toBeNull();
        expect(Number(m![2])).toBe(1000);
        expect(Number(m![3]) / typical!).toBeGreaterThan(0.33);
        expect(Number(m![3]) / typical!).toBeLessThan(3);
      } finally {
        if (server !== lat) await server.stop();
      }
    });
  }
});

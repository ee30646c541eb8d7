// Real soft-RoCE counters (inside the VM harness): while a loopback RDMA WRITE run goes on rxe0,
// watchRails must see the traffic the benchmark reports, and the exporter the same totals.
//
// How the packets are compared with the benchmark's bytes. rxe has packet counters only
// (hw_counters/sent_pkts, rcvd_pkts), and in loopback both QPs live on rxe0, so the port counts
// the requester's data packets AND the responder's ACKs, each way:
//   - a 64 KiB WRITE at path MTU 4096 is ceil(65536 / 4096) = 16 data packets;
//   - rxe's requester asks for an ACK on the last packet of every message (and the responder
//     answers each such request), so each message adds 1 ACK packet;
//   - the counters see warm-up traffic too, which the benchmark leaves out of its bytes.
// So: messages on the wire = timed + warm-up messages; data packets = sent_pkts - messages (the
// ACKs); and data packets x active MTU must be within 10 % of messages x message size.
import { request } from 'node:http';
import { describe, expect, test } from 'vitest';
import { runBandwidth } from '../../lib/bandwidth/index.js';
import { main } from '../../lib/cli/main.js';
import { startExporter } from '../../lib/monitor/exporter.js';
import type { RailsSample } from '../../lib/monitor/types.js';
import { watchRails } from '../../lib/monitor/watch.js';
import { discoverRails } from '../../lib/rails/discover.js';
import { promtoolCheckMetrics } from '../fixtures/promtool.js';

const SIZE = 65536;

function scrape(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, timeout: 30_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${res.statusCode}: ${body}`))));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} in 30 s`)));
    req.on('error', reject);
    req.end();
  });
}

function sampleValue(body: string, name: string, device: string): number {
  const line = body.split('\n').find((l) => l.startsWith(`${name}{device="${device}",`));
  if (!line) throw new Error(`no ${name} for ${device} in:\n${body}`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function until(what: string, ok: () => boolean, deadlineMs: number): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('watchRails on rxe0 during a loopback bandwidth run', () => {
  test('data packets x active MTU within 10 % of the bytes written; rx matches tx; the exporter sees the same totals, and promtool passes its page', async () => {
    const rail = discoverRails().find((r) => r.device === 'rxe0');
    expect(rail, 'rxe0 must be a rail in the guest').toBeDefined();

    const exporter = await startExporter({ listen: '127.0.0.1:0' });
    try {
      const scrapedBefore = await scrape(exporter.url);
      const watch = watchRails({ devices: ['rxe0'], intervalMs: 500 });
      expect(watch.rails.map((r) => r.device)).toEqual(['rxe0']);
      const samples: RailsSample[] = [];
      // for await calls next() at once, which takes the baseline reading before the run starts
      const collecting = (async () => {
        for await (const s of watch) samples.push(s);
      })();

      const result = await runBandwidth({ loopback: true, devices: ['rxe0'], durationMs: 3000 });
      // one more sample, read after the run ended, so the watch covers all of its packets
      const seen = samples.length;
      await until('a sample after the run', () => samples.length > seen, 20_000);
      await watch.return();
      await collecting;
      const scrapedAfter = await scrape(exporter.url);

      const bw = result.rails[0]!;
      const mtu = bw.activeMtu;
      expect(mtu).toBe(rail!.activeMtu);
      const rows = samples.map((s) => s.rails[0]!);
      expect(rows.every((r) => r.packetSource === 'hw_counters' && r.txBytes === null && !r.reset)).toBe(true);
      expect(rows.every((r) => r.seconds > 0.4)).toBe(true); // measured, about the 500 ms asked for

      const sent = rows.reduce((sum, r) => sum + r.txPackets!, 0);
      const rcvd = rows.reduce((sum, r) => sum + r.rxPackets!, 0);
      const messages = bw.messages + bw.engine.warmupMessages;
      const dataPackets = sent - messages; // minus one ACK per message
      const wireBytes = messages * SIZE;
      const estimate = dataPackets * mtu;
      const peak = Math.max(...rows.map((r) => r.txPacketsPerSecond ?? 0));
      const movedTotals = new Map<string, number>();
      for (const m of rows.flatMap((r) => r.moved)) movedTotals.set(m.counter, (movedTotals.get(m.counter) ?? 0) + m.delta);
      const moved = [...movedTotals].map(([counter, delta]) => `${counter} +${delta}`);
      console.log(
        `rxe0 loopback: benchmark ${bw.gbps.toFixed(3)} Gb/s, ${bw.messages} timed + ${bw.engine.warmupMessages} warm-up messages of ${SIZE} B; ` +
          `watch: ${samples.length} samples, sent_pkts ${sent}, rcvd_pkts ${rcvd}, peak ${peak.toFixed(0)} pkt/s ` +
          `(~${((peak * (16 / 17) * mtu * 8) / 1e9).toFixed(3)} Gb/s of data at 16 data packets in 17); ` +
          `data packets x MTU = ${estimate} B vs ${wireBytes} B written (${((estimate / wireBytes - 1) * 100).toFixed(2)} %); ` +
          `other counters that moved: ${moved.join(', ') || 'none'}`,
      );

      expect(bw.bytes).toBe(bw.messages * SIZE);
      expect(messages).toBeGreaterThan(0);
      expect(Math.abs(estimate - wireBytes) / wireBytes).toBeLessThan(0.1);
      // everything rxe0 sent it also received: loopback on one port
      expect(Math.abs(rcvd - sent) / sent).toBeLessThan(0.02);
      // 17 packets a message: 16 data + 1 ACK
      expect(Math.abs(sent / messages - 17)).toBeLessThan(1.7);

      // the exporter's totals moved by what the watch summed (nothing else uses rxe0)
      const exported = sampleValue(scrapedAfter, 'spark_rdma_port_packets_transmitted_total', 'rxe0') -
        sampleValue(scrapedBefore, 'spark_rdma_port_packets_transmitted_total', 'rxe0');
      expect(Math.abs(exported - sent)).toBeLessThanOrEqual(Math.ceil(sent * 0.01));
      // Prometheus's own linter accepts what a real rxe port gives (driver counter names and all)
      expect(promtoolCheckMetrics(scrapedAfter)).toEqual({ status: 0, output: '' });
      // and the benchmark's own before/after counter check agrees with the watch (it spans a subset of its window)
      const own = bw.counters?.delta.txPackets;
      if (own !== null && own !== undefined) {
        expect(own).toBeLessThanOrEqual(sent);
        expect(own / sent).toBeGreaterThan(0.9);
      }
    } finally {
      await exporter.close();
    }
  });

  test('spark-rdma monitor --json on the real /sys: rxe rails, packet counters, state ACTIVE', async () => {
    let stdout = '';
    let stderr = '';
    const code = await main(['monitor', '--json', '--count', '1', '--interval', '0.2'], {
      stdout: (s) => (stdout += s),
      stderr: (s) => (stderr += s),
    });
    expect(code, stderr).toBe(0);
    const sample = JSON.parse(stdout) as RailsSample;
    expect(sample.rails.map((r) => [r.device, r.netdev, r.state, r.packetSource])).toEqual([
      ['rxe0', 'rail0', 'ACTIVE', 'hw_counters'],
      ['rxe1', 'rail1', 'ACTIVE', 'hw_counters'],
    ]);
    expect(Object.keys(sample.rails[0]!.hw)).toEqual(expect.arrayContaining(['sent_pkts', 'rcvd_pkts', 'retry_exceeded_err', 'link_downed']));
  });
});

// What Prometheus's own tool says about /metrics, scraped over HTTP from fixture sysfs trees,
// and that docs/monitoring.md lists exactly the families the exporter serves.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { renderExposition } from '../../lib/monitor/exposition.js';
import { startExporter } from '../../lib/monitor/exporter.js';
import { METRIC_NAMES } from '../../lib/monitor/metrics.js';
import { promtoolCheckMetrics } from '../fixtures/promtool.js';
import { dgxSparkNode, makeSysfsTree, rxePair, setCounter, type MachineSpec } from '../fixtures/sysfs.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function scrapeFixture(spec: MachineSpec, setup: (root: string) => void = () => {}): Promise<string> {
  const t = makeSysfsTree(spec);
  cleanups.push(t.cleanup);
  setup(t.root);
  const e = await startExporter({ sysfsRoot: t.root, listen: '127.0.0.1:0' });
  cleanups.push(() => e.close());
  const res = await fetch(e.url, { signal: AbortSignal.timeout(10_000) });
  expect(res.status).toBe(200);
  return res.text();
}

function familyNames(exposition: string): string[] {
  return [...exposition.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!);
}

describe('promtool check metrics', () => {
  test('passes a DGX Spark node with traffic, port and hw counters set', async () => {
    const body = await scrapeFixture(dgxSparkNode(), (root) => {
      setCounter(root, 'rocep1s0f1', 1, 'port_xmit_data', 1_000_000);
      setCounter(root, 'rocep1s0f1', 1, 'out_of_sequence', 7, 'hw_counters');
      setCounter(root, 'roceP2p1s0f1', 1, 'symbol_error', 3);
    });
    // every family the exporter has is on this page, so promtool lints every name
    expect(familyNames(body).sort()).toEqual(Object.values(METRIC_NAMES).sort());
    expect(promtoolCheckMetrics(body)).toEqual({ status: 0, output: '' });
  });

  test('passes a soft-RoCE pair (packets from hw_counters, no byte counters)', async () => {
    const body = await scrapeFixture(rxePair(), (root) => setCounter(root, 'rxe0', 1, 'sent_pkts', 10, 'hw_counters'));
    expect(body).toContain(`${METRIC_NAMES.txPackets}{device="rxe0",port="1",netdev="rail0",rail="0"} 10\n`);
    expect(promtoolCheckMetrics(body)).toEqual({ status: 0, output: '' });
  });

  test('is a check that can fail: the names this exporter used before are refused', () => {
    const old = renderExposition([
      { name: 'spark_rdma_hw_counter_total', type: 'counter', help: 'entries of hw_counters/', samples: [{ labels: { counter: 'x' }, value: 1 }] },
    ]);
    const verdict = promtoolCheckMetrics(old);
    expect(verdict.status).toBe(3);
    expect(verdict.output).toBe("spark_rdma_hw_counter_total metric name should not include type 'counter'");
  });
});

describe('docs/monitoring.md', () => {
  test('its metric table lists exactly the families the exporter serves', async () => {
    const doc = readFileSync(join(import.meta.dirname, '../../docs/monitoring.md'), 'utf8');
    const tableRows = doc.split('\n').filter((line) => /^\| .* \| (counter|gauge) \| .* \|$/.test(line));
    const documented = tableRows.flatMap((row) => [...row.split(' | ')[0]!.matchAll(/`(spark_rdma_[a-z_]+)/g)].map((m) => m[1]!));
    const served = familyNames(await scrapeFixture(dgxSparkNode()));
    expect(documented.sort()).toEqual(served.sort());
  });
});

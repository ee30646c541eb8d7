// Micro-benchmarks on the host (no RDMA needed), with tinybench: what it costs to cross into
// the native addon (a device list, and an unknown device's error path), statistics over 10^6
// latency samples, and launch-config generation from a DGX Spark-shaped fixture tree.
// A sample delivered through the engine's thread-safe function needs a device: it is measured
// in the guest (case tsfn of the side-by-side run).
//
//   node dist/bench/micro.js
import { pathToFileURL } from 'node:url';
import { Bench } from 'tinybench';
import { RdmaError } from '../lib/errors.js';
import { loadBinding } from '../lib/native/load.js';
import { ncclConfig } from '../lib/config/nccl.js';
import { vllmConfig } from '../lib/config/vllm.js';
import { summarizeLatency } from '../lib/stats/latency.js';
import { dgxSparkNode, makeSysfsTree } from '../test/fixtures/sysfs.js';
import type { MicroRow } from './lib/report-md.js';

/** Latency-like samples in ns: a 9 us body with a long tail (deterministic, no Math.random). */
export function syntheticLatencySamples(count: number): Float64Array {
  const out = new Float64Array(count);
  let x = 12345;
  for (let i = 0; i < count; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    const u = x / 2147483648;
    out[i] = 9000 + 500 * u + (u > 0.99 ? 1e6 * (u - 0.99) * 100 : 0);
  }
  return out;
}

function rows(bench: Bench): MicroRow[] {
  return bench.tasks.map((t) => {
    const r = t.result;
    if (r.state !== 'completed') throw new Error(`micro-benchmark ${t.name} did not complete: ${r.state === 'errored' ? r.error.message : r.state}`);
    return {
      name: t.name,
      opsPerSecond: r.throughput.mean,
      meanUs: r.latency.mean * 1000,
      p50Us: r.latency.p50 * 1000,
      p99Us: r.latency.p99 * 1000,
      samples: r.latency.samplesCount,
    };
  });
}

export async function runMicro(): Promise<MicroRow[]> {
  const native = loadBinding();
  const fast = new Bench({ name: 'native crossing', time: 1000, warmupTime: 200 });
  fast.add('listDevices() (crossing into native)', () => native.listDevices());
  fast.add('queryDevice(unknown) -> RdmaError (error path)', () => {
    try {
      native.queryDevice('no-such-device');
    } catch (e) {
      if (!(e instanceof RdmaError)) throw e;
      return;
    }
    throw new Error('queryDevice of an unknown device did not throw');
  });
  await fast.run();

  const samples = syntheticLatencySamples(1_000_000);
  const tree = makeSysfsTree(dgxSparkNode({ node: 0 }));
  try {
    const heavy = new Bench({ name: 'statistics and configs', time: 2000, warmupTime: 300, iterations: 10 });
    heavy.add('summarizeLatency(10^6 samples)', () => summarizeLatency(samples));
    heavy.add('ncclConfig (DGX Spark fixture tree)', () => ncclConfig({ sysfsRoot: tree.root }));
    heavy.add('vllmConfig (DGX Spark fixture tree)', () =>
      vllmConfig({ sysfsRoot: tree.root, headIp: '192.168.100.10', workerIp: '192.168.100.11', model: 'Qwen/Qwen2.5-7B-Instruct' }),
    );
    await heavy.run();
    return [...rows(fast), ...rows(heavy)];
  } finally {
    tree.cleanup();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await runMicro();
  console.table(result.map((r) => ({ task: r.name, 'ops/s': Math.round(r.opsPerSecond), 'mean us': r.meanUs.toFixed(3), 'p99 us': r.p99Us.toFixed(3), samples: r.samples })));
}

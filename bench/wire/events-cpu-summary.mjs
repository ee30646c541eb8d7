// Summarises bench/wire/events-cpu.sh: per pair, spark-rdma --events against polling (and
// polling against ib_write_bw), as ratios; the medians of those ratios are the result.
import { readFileSync } from 'node:fs';

const rows = readFileSync(process.argv[2], 'utf8').trim().split('\n').map((line) => JSON.parse(line));
const TICKS = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const gb = (r) => (r.bytes ?? (r.gbps * 1e9 * r.seconds) / 8) / 1e9;
const bwRows = rows.filter((r) => r.tool !== 'spark-rdma-lat' && r.mode !== 'startup');
const pairs = [...new Set(bwRows.map((r) => r.pair))].map((pair) => {
  const of = (tool, mode) => bwRows.find((r) => r.pair === pair && r.tool === tool && (mode === undefined || r.mode === mode));
  return { pair, perftest: of('perftest'), polling: of('spark-rdma', 'polling'), events: of('spark-rdma', 'events') };
}).filter((p) => p.perftest && p.polling && p.events);
const f = (x, d = 2) => x.toFixed(d);
console.log('| pair | ib_write_bw Gb/s | process CPU s/GB | spark polling Gb/s | engine CPU s/GB | process CPU s/GB | core share | spark --events Gb/s | engine CPU s/GB | process CPU s/GB | core share |');
console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const p of pairs) {
  const cells = [p.pair, f(p.perftest.gbps, 3), f(p.perftest.processCpu / TICKS / gb(p.perftest))];
  for (const s of [p.polling, p.events]) cells.push(f(s.gbps, 3), f(s.engineCpu / gb(s)), f(s.processCpu / TICKS / gb(s)), f(s.coreShare));
  console.log(`| ${cells.join(' | ')} |`);
}
const ratio = (fn) => f(median(pairs.map(fn)), 3);
console.log(`\nmedians of per-pair ratios over ${pairs.length} pairs:`);
console.log(`- bandwidth, --events / polling: ${ratio((p) => p.events.gbps / p.polling.gbps)} (goal >= 0.95)`);
console.log(`- engine CPU per GB, polling / --events: ${ratio((p) => p.polling.engineCpu / gb(p.polling) / (p.events.engineCpu / gb(p.events)))} (goal >= 3)`);
console.log(`- process CPU per GB, polling / --events: ${ratio((p) => p.polling.processCpu / gb(p.polling) / (p.events.processCpu / gb(p.events)))}`);
console.log(`- bandwidth, spark-rdma polling / ib_write_bw: ${ratio((p) => p.polling.gbps / p.perftest.gbps)}`);
console.log(`- process CPU per GB, spark-rdma polling / ib_write_bw: ${ratio((p) => p.polling.processCpu / gb(p.polling) / (p.perftest.processCpu / gb(p.perftest)))} (goal <= 1)`);
console.log(`- process CPU per GB, spark-rdma --events / ib_write_bw: ${ratio((p) => p.events.processCpu / gb(p.events) / (p.perftest.processCpu / gb(p.perftest)))}`);

const startup = rows.find((r) => r.mode === 'startup');
if (startup) console.log(`- a spark-rdma process before it moves a byte (\`devices --json\`: node, the addon, discovery): ${f(startup.processCpu / TICKS)} s CPU`);
const lat = rows.filter((r) => r.tool === 'spark-rdma-lat');
const latPairs = [...new Set(lat.map((r) => r.pair))].map((pair) => [lat.find((r) => r.pair === pair && r.mode === 'polling'), lat.find((r) => r.pair === pair && r.mode === 'events')]).filter(([a, b]) => a && b);
if (latPairs.length > 0) {
  console.log('\n| pair | polling p50 us | p99 us | --events p50 us | p99 us |');
  console.log('| ---: | ---: | ---: | ---: | ---: |');
  for (const [i, [a, b]] of latPairs.entries()) console.log(`| ${i + 1} | ${f(a.p50Us, 1)} | ${f(a.p99Us, 1)} | ${f(b.p50Us, 1)} | ${f(b.p99Us, 1)} |`);
  console.log(`\n- latency p50, --events / polling: ${f(median(latPairs.map(([a, b]) => b.p50Us / a.p50Us)), 3)} (median of ${latPairs.length} pairs); p99: ${f(median(latPairs.map(([a, b]) => b.p99Us / a.p99Us)), 3)}`);
}

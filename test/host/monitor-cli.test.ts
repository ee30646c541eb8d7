// `spark-rdma monitor` in-process through main(argv, io), its terminal view, and (compiled, as
// its own process) the guarantees only a real process shows: it ends by itself after --count or
// a closed watch (no timer left), and Ctrl-C exits 0.
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { main } from '../../lib/cli/main.js';
import type { RailsSample } from '../../lib/monitor/types.js';
import { formatCount, redrawPrefix, renderFrame, renderPlainLines } from '../../lib/monitor/view.js';
import { dgxSparkNode, rxePair, setCounter } from '../fixtures/sysfs.js';
import { tempTrees } from '../fixtures/temp-trees.js';

const { tree } = tempTrees();

/** Runs the CLI in-process; `onStderr` sees each stderr write as it happens. */
async function run(argv: string[], hooks: { onStderr?: (s: string) => void; onStdout?: (s: string) => void } = {}) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (s) => {
      stdout += s;
      hooks.onStdout?.(s);
    },
    stderr: (s) => {
      stderr += s;
      hooks.onStderr?.(s);
    },
    env: {},
  });
  return { code, stdout, stderr };
}

describe('spark-rdma monitor', () => {
  test('--json --count 2: two JSON lines of samples; traffic written during the run is all counted', async () => {
    const root = tree(rxePair());
    const r = await run(['monitor', '--json', '--count', '2', '--interval', '0.05', '--sysfs-root', root], {
      // the baseline is read right after this line is written; counters written after it land in the run
      onStderr: (s) => {
        if (s.startsWith('watching')) queueMicrotask(() => setCounter(root, 'rxe0', 1, 'sent_pkts', 5000, 'hw_counters'));
      },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('watching rail 0 rxe0:1 (rail0), rail 1 rxe1:1 (rail1) every 0.05 s; Ctrl-C to stop\n');
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    const samples = lines.map((l) => JSON.parse(l) as RailsSample);
    expect(samples.map((s) => s.seq)).toEqual([1, 2]);
    expect(samples.map((s) => s.rails.map((x) => x.device))).toEqual([['rxe0', 'rxe1'], ['rxe0', 'rxe1']]);
    expect(samples.reduce((sum, s) => sum + (s.rails[0]!.txPackets ?? 0), 0)).toBe(5000);
    for (const s of samples) expect(s.rails[0]!.seconds).toBeGreaterThan(0.04);
  });

  test('plain lines (not a terminal): one per rail and interval, no ANSI codes, error counters that moved marked with !', async () => {
    const root = tree(dgxSparkNode());
    const r = await run(['monitor', '--count', '1', '--interval', '0.05', '--rails', '1', '--sysfs-root', root], {
      onStderr: (s) => {
        if (!s.startsWith('watching')) return;
        queueMicrotask(() => {
          setCounter(root, 'rocep1s0f1', 1, 'port_xmit_data', 125_000_000);
          setCounter(root, 'rocep1s0f1', 1, 'out_of_sequence', 4, 'hw_counters');
        });
      },
    });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z rail 0 rocep1s0f1:1 enp1s0f1np1 ACTIVE tx \d+\.\d\d Gb\/s rx 0\.00 Gb\/s tx 0 pkt\/s rx 0 pkt\/s moved !out_of_sequence \+4$/,
    );
    expect(r.stdout).not.toContain('\x1b[');
  });

  test('bad options: exit 2 naming the value, the limit and the fix', async () => {
    const root = tree(rxePair());
    const interval = await run(['monitor', '--interval', '0', '--sysfs-root', root]);
    expect(interval.code).toBe(2);
    expect(interval.stderr).toBe(
      'spark-rdma: --interval 0 is not a number of seconds from 0.01 to 3600\nhint: pass e.g. --interval 1 (seconds; fractions like 0.5 work)\n',
    );
    const count = await run(['monitor', '--count', '0', '--sysfs-root', root]);
    expect(count.code).toBe(2);
    expect(count.stderr).toMatch(/--count 0 must be a whole number of samples, 1 or more/);
    const rails = await run(['monitor', '--rails', 'first', '--sysfs-root', root]);
    expect(rails.code).toBe(2);
    expect(rails.stderr).toMatch(/--rails first must be a whole number of rails, 1 or more/);
    const missing = await run(['monitor', '--rails', '5', '--sysfs-root', root]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/asked for 5 rails, this machine has 2 \(0=rxe0:1, 1=rxe1:1\)/);
    // The old spelling (a list of indexes) is refused with the new one.
    const old = await run(['monitor', '--rails', '0,1', '--sysfs-root', root]);
    expect(old.code).toBe(2);
    expect(old.stderr).toBe(
      'spark-rdma: --rails 0,1 is a list of rail indexes; --rails counts rails now (the first N, as in bw and config)\n' +
        'hint: pass --rails N to watch the first N rails, or name rails with --devices (e.g. --devices rocep1s0f1,roceP2p1s0f1)\n',
    );
    const device = await run(['monitor', '--devices', 'mlx5_9', '--sysfs-root', root]);
    expect(device.code).toBe(2);
    expect(device.stderr).toMatch(/device mlx5_9 is not a rail here/);
  });

  test('Ctrl-C (SIGINT) ends it with exit 0 and removes its signal handlers', async () => {
    const root = tree(rxePair());
    const listeners = process.listenerCount('SIGINT');
    const r = await run(['monitor', '--json', '--interval', '0.05', '--sysfs-root', root], {
      onStdout: () => setImmediate(() => process.emit('SIGINT')),
    });
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split('\n').length).toBeGreaterThanOrEqual(1);
    expect(process.listenerCount('SIGINT')).toBe(listeners);
  });

  test('--help explains units, sources and the markers', async () => {
    const r = await run(['monitor', '--help']);
    expect(r.code).toBe(0);
    for (const text of ['--interval <seconds>', '--json', '--count <n>', '--rails <n>', '--devices <list>', 'x 4', 'Ctrl-C exits 0']) {
      expect(r.stdout).toContain(text);
    }
  });
});

describe('terminal view', () => {
  const sample: RailsSample = {
    seq: 7,
    time: Date.UTC(2025, 0, 1, 12, 0, 0),
    rails: [
      {
        rail: 0, device: 'rocep1s0f1', port: 1, netdev: 'enp1s0f1np1', state: 'ACTIVE', seconds: 1,
        txBytes: 11.55e9, rxBytes: 1e9, txPackets: 2_812_345, rxPackets: 950,
        txBytesPerSecond: 11.55e9, rxBytesPerSecond: 1e9, txGbps: 92.4, rxGbps: 8, txPacketsPerSecond: 2_812_345, rxPacketsPerSecond: 950,
        packetSource: 'counters', hw: { out_of_sequence: 12, np_cnp_sent: 3 }, portCounters: {},
        moved: [
          { counter: 'hw_counters/out_of_sequence', delta: 12, kind: 'error' },
          { counter: 'hw_counters/np_cnp_sent', delta: 3, kind: 'congestion' },
        ],
        wrapped: [], reset: false, resetCounters: [],
      },
      {
        rail: 1, device: 'rxe1', port: 1, netdev: 'rail1', state: 'DOWN', seconds: 1,
        txBytes: null, rxBytes: null, txPackets: 10, rxPackets: 0,
        txBytesPerSecond: null, rxBytesPerSecond: null, txGbps: null, rxGbps: null, txPacketsPerSecond: 10, rxPacketsPerSecond: null,
        packetSource: 'hw_counters', hw: { sent_pkts: 10, rcvd_pkts: null }, portCounters: {}, moved: [],
        wrapped: [], reset: true, resetCounters: ['hw_counters/rcvd_pkts'],
      },
    ],
  };

  test('a table with Gb/s each way, packets/s, moved counters, rxe note; colour only when asked', () => {
    const plain = renderFrame(sample, 1000, { color: false });
    expect(plain[0]).toMatch(/^spark-rdma monitor {2}every 1 s {2}sample 7 {2}\d\d:\d\d:\d\d$/);
    expect(plain[1]).toMatch(/^rail +device +port +netdev +state +tx Gb\/s +rx Gb\/s +tx pkt\/s +rx pkt\/s +error\/congestion counters that moved$/);
    expect(plain[2]).toMatch(/^0 +rocep1s0f1 +1 +enp1s0f1np1 +ACTIVE +92\.40 +8\.00 +2\.81 M +950 +!out_of_sequence \+12 {2}~np_cnp_sent \+3$/);
    expect(plain[3]).toMatch(/^1 +rxe1 +1 +rail1 +DOWN +- +- +10 +- +reset: hw_counters\/rcvd_pkts$/);
    expect(plain[4]).toBe('rxe1: no byte counters (rxe counts packets only; bytes ~ packets x MTU)');
    expect(plain[5]).toBe('Ctrl-C to stop');
    expect(plain.join('\n')).not.toContain('\x1b[');

    const colored = renderFrame(sample, 1000, { color: true }).join('\n');
    expect(colored).toContain('\x1b[31m!out_of_sequence +12\x1b[0m'); // errors red
    expect(colored).toContain('\x1b[33m~np_cnp_sent +3\x1b[0m'); // congestion yellow
    expect(colored).toContain('\x1b[31m\x1b[1mDOWN\x1b[0m'); // a rail that is not ACTIVE
  });

  test('redraw moves up over the previous frame and clears it; plain lines carry the same numbers', () => {
    expect(redrawPrefix(0)).toBe('');
    expect(redrawPrefix(6)).toBe('\x1b[6F\x1b[J');
    const lines = renderPlainLines(sample, { color: false });
    expect(lines[0]).toBe(
      '2025-01-01T12:00:00.000Z rail 0 rocep1s0f1:1 enp1s0f1np1 ACTIVE tx 92.40 Gb/s rx 8.00 Gb/s tx 2.81 M pkt/s rx 950 pkt/s moved !out_of_sequence +12  ~np_cnp_sent +3',
    );
    expect(lines[1]).toBe('2025-01-01T12:00:00.000Z rail 1 rxe1:1 rail1 DOWN tx - Gb/s rx - Gb/s tx 10 pkt/s rx - pkt/s moved reset: hw_counters/rcvd_pkts');
    expect([formatCount(999), formatCount(12_345), formatCount(123_456_789), formatCount(4.2e9)]).toEqual(['999', '12.3 k', '123 M', '4.20 G']);
  });
});

// ---------------------------------------------------------------------------------------------
// As its own process (compiled like the package's dist/)
// ---------------------------------------------------------------------------------------------

const repo = join(import.meta.dirname, '../..');
const outDir = join(repo, 'node_modules', '.cache', `spark-rdma-monitor-test-${process.pid}`);
const mainJs = join(outDir, 'lib', 'cli', 'main.js');
const monitorJs = join(outDir, 'lib', 'monitor', 'index.js');

describe('as a process', () => {
  beforeAll(() => {
    const tsc = spawnSync(
      process.execPath,
      [join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), 'lib/cli/main.ts', 'lib/monitor/index.ts', '--outDir', outDir, '--rootDir', '.',
        '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022', '--strict', '--skipLibCheck', '--types', 'node'],
      { cwd: repo, encoding: 'utf8', timeout: 120_000 },
    );
    expect(tsc.status, tsc.stdout + tsc.stderr).toBe(0);
  }, 150_000);

  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  test('--count 2 ends the process by itself, exit 0 (nothing keeps the event loop alive)', () => {
    const root = tree(rxePair());
    const r = spawnSync(process.execPath, [mainJs, 'monitor', '--json', '--count', '2', '--interval', '0.05'], {
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, SPARK_RDMA_SYSFS_ROOT: root },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trimEnd().split('\n').map((l) => (JSON.parse(l) as RailsSample).seq)).toEqual([1, 2]);
  });

  test('a watch closed while waiting for a one-hour tick lets the process exit at once', () => {
    const root = tree(rxePair());
    const script = `
      const { watchRails } = await import(${JSON.stringify(monitorJs)});
      const watch = watchRails({ sysfsRoot: ${JSON.stringify(root)}, intervalMs: 3_600_000 });
      const pending = watch.next();
      await watch.return();
      console.log('ended', (await pending).done);`;
    const started = Date.now();
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('ended true\n');
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  test('Ctrl-C (a real SIGINT) exits 0', async () => {
    const root = tree(rxePair());
    const child = spawn(process.execPath, [mainJs, 'monitor', '--json', '--interval', '0.05'], {
      env: { ...process.env, SPARK_RDMA_SYSFS_ROOT: root },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    const code = await new Promise<number | null>((resolve, reject) => {
      const deadline = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`monitor did not exit after SIGINT; stdout so far: ${stdout}`));
      }, 30_000);
      child.stdout.on('data', (chunk: Buffer) => {
        if (stdout === '') child.kill('SIGINT');
        stdout += chunk.toString();
      });
      child.on('exit', (c) => {
        clearTimeout(deadline);
        resolve(c);
      });
    });
    expect(code).toBe(0);
    expect((JSON.parse(stdout.split('\n')[0]!) as RailsSample).seq).toBe(1);
  });
});

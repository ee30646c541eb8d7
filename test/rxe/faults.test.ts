// The fault matrix on real rxe rails (issue 7, section 1): every failure ends within its deadline
// with a clear message and a nonzero exit, and keeps what the healthy rail measured.
//   - a client killed mid-run (the server drops it and serves the next one), SIGINT (exit 130 with
//     the figures so far), a rail's netdev set down mid-run and brought back, a server killed;
//   - an address where nothing answers, a peer that accepts TCP and says nothing, a peer of
//     another protocol version (nothing listening at all: bandwidth.test.ts), a wrong GID
//     index on either end, an MTU mismatch in both directions;
//   - process.exit() during runBandwidth, and runBandwidth in a worker that is terminated.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { BandwidthResult } from '../../lib/bandwidth/index.js';
import { CLI, requireRxe, ROOT, runNode, startServer, testPort } from './helpers.js';
import { activeMtu, cliInProcess, ip, railReady, sleep, spawnCli, STACK_FRAME, until } from './faults-support.js';

beforeAll(() => requireRxe());

const PEER = '10.77.0.1';

/** Gb/s of a rail's row in the bw table, or null when the table has no row for it. */
function tableGbps(stdout: string, device: string): number | null {
  const m = new RegExp(`^\\d+\\s+${device}\\s+rail\\d\\s+(\\d+\\.\\d+)`, 'm').exec(stdout);
  return m ? Number(m[1]) : null;
}

describe('a running server and clients that fail', () => {
  const port = testPort(0);
  let server: Awaited<ReturnType<typeof startServer>>;
  beforeAll(async () => {
    server = await startServer('bw', port, ['--peer-timeout', '5']);
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  test('a client killed (SIGKILL) mid-run: the server drops it within its deadline and serves the next client', async () => {
    const client = spawnCli(['bw', PEER, '--port', String(port), '--rails', '2', '--duration', '30', '--interval', '1']);
    await client.waitFor(/connected to/, 60_000);
    await sleep(3000);
    client.child.kill('SIGKILL');
    const killedAt = Date.now();
    expect((await client.exited).signal).toBe('SIGKILL');
    await until('the server logs the drop', () => /dropped 10\.77\.0\.1:\d+: ERR_PEER_CLOSED/.test(server.log()), 30_000);
    const dropMs = Date.now() - killedAt;
    expect(dropMs).toBeLessThan(30_000);
    expect(server.child.exitCode).toBeNull();
    const next = await cliInProcess(['bw', PEER, '--port', String(port), '--rails', '2', '--iters', '200', '--json']);
    expect(next.stderr).toBe('');
    expect(next.code).toBe(0);
    const r = JSON.parse(next.stdout) as BandwidthResult;
    expect(r.rails.map((x) => x.messages)).toEqual([200, 200]);
    console.log(`client killed: the server logged the drop within ${dropMs} ms of the kill (${/dropped .*/.exec(server.log())![0]}); the next client ran 2 x 200 messages`);
  });

  test('SIGINT during a run: the figures so far are printed and the CLI exits 130', async () => {
    const client = spawnCli(['bw', PEER, '--port', String(port), '--rails', '2', '--duration', '30', '--interval', '1']);
    await client.waitFor(/connected to/, 60_000);
    await sleep(3500);
    client.child.kill('SIGINT');
    const sentAt = Date.now();
    const r = await client.exited;
    expect(r.code).toBe(130);
    expect(Date.now() - sentAt).toBeLessThan(15_000);
    expect(r.stderr).toMatch(/interrupted; finishing the current interval/);
    expect(r.stdout).toMatch(/stopped early: the figures cover what ran/);
    for (const device of ['rxe0', 'rxe1']) expect(tableGbps(r.stdout, device)).toBeGreaterThan(0);
    // The server saw an orderly end, not a dropped client.
    await until('the server ends the session', () => (server.log().match(/session with .* ended/g) ?? []).length >= 2, 15_000);
    console.log(`SIGINT: exit 130 ${Date.now() - sentAt} ms after the signal; rxe0 ${tableGbps(r.stdout, 'rxe0')} Gb/s, rxe1 ${tableGbps(r.stdout, 'rxe1')} Gb/s so far`);
  });

  test("rail1's netdev set down mid-run: rail0's result is kept, rail1's failure is explained; back up, the next run works", async () => {
    const client = spawnCli(['bw', PEER, '--port', String(port), '--rails', '2', '--duration', '8', '--interval', '1']);
    let downAt = 0;
    let upMs = -1;
    try {
      await client.waitFor(/connected to/, 60_000);
      await sleep(3000);
      ip('link', 'set', 'rail1', 'down');
      downAt = Date.now();
      const r = await client.exited;
      expect(r.code).toBe(1);
      expect(Date.now() - downAt).toBeLessThan(8_000 + 20_000);
      expect(tableGbps(r.stdout, 'rxe0')).toBeGreaterThan(0);
      expect(tableGbps(r.stdout, 'rxe1')).toBeNull();
      expect(r.stderr).toMatch(/^spark-rdma: 1 rail\(s\) failed: rail 1 \(rxe1\) ran [\d.]+ s at [\d.]+ Gb\/s, then: RDMA WRITE failed on QP \d+: .+; rxe1 port 1 is DOWN now: the link of rail1 went down during the run(; rxe1 counted .+)?$/m);
      expect(r.stderr).toMatch(/^hint: bring rail1 up \(ip link set rail1 up\)/m);
      expect(r.stderr).not.toMatch(STACK_FRAME);
      console.log(`rail1 down: ${r.stdout.split('\n').find((l) => /rxe0\s+rail0/.test(l))}\n${r.stderr.split('\n').find((l) => l.includes('failed'))}`);
    } finally {
      ip('link', 'set', 'rail1', 'up');
      upMs = await until('rxe1 ACTIVE with its IPv4 GID again', () => railReady('rxe1'), 30_000);
    }
    const next = await cliInProcess(['bw', PEER, '--port', String(port), '--rails', '2', '--iters', '200', '--json']);
    expect(next.code).toBe(0);
    expect((JSON.parse(next.stdout) as BandwidthResult).rails.map((x) => x.messages)).toEqual([200, 200]);
    console.log(`rail1 up again: ACTIVE after ${upMs} ms; the next 2-rail run carried 2 x 200 messages`);
  });

  // A server that refuses an MTU its rail cannot carry needs a client rail that is not the same
  // device: that is the wire suite's (test/wire/faults.test.ts); here both ends share rxe0.
  test('MTU: a client asking 1024 of a 4096 server runs at 1024; one asking 4096 of a 1024 rail is refused', async () => {
    const smaller = await cliInProcess(['bw', PEER, '--port', String(port), '--devices', 'rxe0', '--mtu', '1024', '--iters', '200', '--json']);
    expect(smaller.code).toBe(0);
    const r = JSON.parse(smaller.stdout) as BandwidthResult;
    expect(r.params.mtu).toEqual([1024]);
    expect(r.rails[0]!.messages).toBe(200);
    await until('the server logs MTU 1024', () => /bw on rxe0, 1 QP\(s\), MTU 1024/.test(server.log()), 10_000);

    // rail0 drops to 1024 (netdev MTU 1500): asking 4096 on rxe0 is refused by the client,
    // before any verbs object exists.
    ip('link', 'set', 'rail0', 'mtu', '1500');
    try {
      await until('rxe0 active MTU 1024', () => activeMtu('rxe0') === 1024, 15_000);
      const local = await cliInProcess(['bw', PEER, '--port', String(port), '--devices', 'rxe0', '--mtu', '4096', '--iters', '50']);
      expect(local.code).toBe(2); // a usage error: this side's own check
      expect(local.stderr).toMatch(/^spark-rdma: MTU 4096 exceeds rxe0 port 1's active MTU 1024$/m);
      expect(local.stderr).toMatch(/^hint: pass --mtu 1024 or less, or raise the netdev MTU of rail0/m);
      console.log(`MTU: 1024 vs 4096 ran at 1024; 4096 on a 1024 rail: ${local.stderr.split('\n')[0]}`);
    } finally {
      ip('link', 'set', 'rail0', 'mtu', '9000');
      await until('rxe0 active MTU 4096 again', () => activeMtu('rxe0') === 4096, 15_000);
    }
  });

  test('a wrong GID index (--gid-index 7) is refused before any QP exists, on the client and on the server', async () => {
    const client = await cliInProcess(['bw', PEER, '--port', String(port), '--devices', 'rxe0', '--gid-index', '7', '--iters', '10']);
    expect(client.code).toBe(2);
    expect(client.stderr).toMatch(/^spark-rdma: GID index 7 is not a populated GID entry of rxe0 port 1 \(populated: 0, 1\)$/m);
    expect(client.stderr).not.toMatch(STACK_FRAME);
    const serverSide = await runNode([CLI, 'bw', '--port', String(testPort(3)), '--gid-index', '7'], 60_000);
    expect(serverSide.code).toBe(2);
    expect(serverSide.stderr).toMatch(/GID index 7 is not a populated GID entry of rxe0 port 1 \(populated: 0, 1\)/);
    expect(serverSide.stderr).not.toMatch(STACK_FRAME);
    // The real server was not disturbed by any of it.
    expect(server.child.exitCode).toBeNull();
  });
});

describe('peers that are not spark-rdma servers', () => {
  let fake: Server;
  const sockets = new Set<Socket>();
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => (fake ? fake.close(() => resolve()) : resolve()));
  });

  async function fakeServer(onConnection: (socket: Socket) => void): Promise<number> {
    // close() waits for open connections: end the previous test's first.
    for (const s of sockets) s.destroy();
    sockets.clear();
    if (fake) await new Promise<void>((resolve) => fake.close(() => resolve()));
    fake = createServer((socket) => {
      sockets.add(socket);
      onConnection(socket);
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    return (fake.address() as { port: number }).port;
  }

  test('a peer that accepts TCP and then says nothing: ERR_PEER_SILENT within --peer-timeout', async () => {
    let acceptedAt = 0;
    const port = await fakeServer(() => (acceptedAt = Date.now()));
    const r = await cliInProcess(['bw', '127.0.0.1', '--port', String(port), '--devices', 'rxe0', '--iters', '10', '--peer-timeout', '2']);
    const afterAccept = Date.now() - acceptedAt;
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^spark-rdma: 127\\.0\\.0\\.1:${port} accepted the connection but sent no hello within 2000 ms$`, 'm'));
    expect(r.stderr).toMatch(/^hint: /m);
    expect(afterAccept).toBeGreaterThanOrEqual(1900);
    expect(afterAccept).toBeLessThan(10_000);
    console.log(`silent peer: the client gave up ${afterAccept} ms after the accept (deadline 2000 ms)`);
  });

  test('an address where nothing answers (a dummy rail drops the SYN): ERR_PEER_UNREACHABLE at the 5 s connect deadline', async () => {
    const r = await cliInProcess(['bw', '10.77.0.2', '--port', '18515', '--devices', 'rxe0', '--iters', '10']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^spark-rdma: no TCP connection to 10\.77\.0\.2:18515 within 5000 ms$/m);
    expect(r.stderr).toMatch(/^hint: check the address, that the host is up/m);
    expect(r.ms).toBeLessThan(30_000);
  });

  test('a server of another protocol version: the client says which versions meet, exit 1', async () => {
    const port = await fakeServer((socket) =>
      socket.once('data', () => socket.write(`${JSON.stringify({ type: 'hello', version: 3, software: '@spark/rdma 9.0.0', rails: [] })}\n`)),
    );
    const r = await cliInProcess(['bw', '127.0.0.1', '--port', String(port), '--devices', 'rxe0', '--iters', '10', '--peer-timeout', '5']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^spark-rdma: protocol version mismatch: the server speaks version 3, this client speaks version 2$/m);
    expect(r.stderr).toMatch(/^hint: install the same @spark\/rdma release on both nodes$/m);
  });
});

/**
 * Starts a server, a client of it, and SIGKILLs the server `afterMs` after the session began.
 * The client must exit 1 within 20 s of the kill: the channel notices at once, and draining the
 * writes the dead peer never acknowledges is bounded by the completion deadline (5 s).
 */
async function killServerMidRun(test: 'bw' | 'lat', clientArgs: string[], afterMs: number) {
  const port = testPort(2);
  const server = await startServer(test, port);
  const client = spawnCli([test, PEER, '--port', String(port), ...clientArgs]);
  await until('the server to log the session', () => new RegExp(`: ${test} on rxe0, rxe1`).test(server.log()), 60_000);
  await sleep(afterMs);
  server.child.kill('SIGKILL');
  const killedAt = Date.now();
  const r = await client.exited;
  const afterKill = Date.now() - killedAt;
  expect(r.code).toBe(1);
  expect(afterKill).toBeLessThan(20_000);
  return { r, afterKill };
}

test('the server killed (SIGKILL) mid-run: the client ends within its deadline, exit 1, with what each rail measured', async () => {
  const { r, afterKill } = await killServerMidRun('bw', ['--rails', '2', '--duration', '30', '--interval', '1'], 3500);
  expect(r.stderr).toMatch(/^spark-rdma: the server at 10\.77\.0\.1 ended the session during size 65536 \(the .+\)/m);
  for (const [rail, device] of [[0, 'rxe0'], [1, 'rxe1']] as const) {
    // Either the rail's final figures are in the table, or the error says what it measured first.
    const kept = tableGbps(r.stdout, device) !== null || new RegExp(`rail ${rail} \\(${device}\\) ran [\\d.]+ s at [\\d.]+ Gb/s, then`).test(r.stderr);
    expect(kept, r.stdout + r.stderr).toBe(true);
  }
  expect(r.stderr).not.toMatch(STACK_FRAME);
  console.log(`server killed: client exit 1 ${afterKill} ms after the kill:\n${r.stdout}${r.stderr}`);
});

test('a latency server killed (SIGKILL) mid-run: the client exits 1 naming the broken session and prints the sizes measured before', async () => {
  // Size 2 runs the rails one after the other (2 x (0.1 s warm-up + 2 s)), then size 64 starts.
  const { r, afterKill } = await killServerMidRun('lat', ['--rails', '2', '--sizes', '2,64', '--duration', '2'], 6000);
  // Nothing to drain in a ping-pong: the engine stops as soon as the channel sees the server go,
  // even while it waits for a completion the dead peer will never send (its 5 s deadline).
  expect(afterKill).toBeLessThan(5000);
  const during = /^spark-rdma: the server at 10\.77\.0\.1 ended the session during size (2|64)\b/m.exec(r.stderr);
  expect(during, r.stderr).not.toBeNull();
  expect(r.stderr).toMatch(/^hint: see the server log \(was it stopped or killed\?\); the figures measured before are kept$/m);
  // rxe0's 2 B row finished seconds before the kill; if the kill fell in size 64, rxe1's did too.
  const row = (device: string, size: string) => new RegExp(`^\\s*\\d+\\s+${device}\\s+${size}\\s+\\d+\\s+[\\d.]+`, 'm');
  expect(r.stdout, r.stdout).toMatch(row('rxe0', '2B'));
  if (during![1] === '64') expect(r.stdout, r.stdout).toMatch(row('rxe1', '2B'));
  expect(r.stdout).toMatch(/stopped early: the figures cover what ran/);
  expect(r.stderr).not.toMatch(STACK_FRAME);
  console.log(`latency server killed: client exit 1 ${afterKill} ms after the kill:\n${r.stdout}${r.stderr}`);
});

describe('the environment going away during runBandwidth', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spark-rdma-faults-'));
  const api = pathToFileURL(join(ROOT, 'dist', 'lib', 'index.js')).href;
  const running = `
    import { runBandwidth } from ${JSON.stringify(api)};
    export const run = runBandwidth({ loopback: true, rails: 2, qps: 2, durationMs: 60_000, warmupMs: 0, intervalMs: 200 });
    export const firstSample = new Promise((resolve) => run.once('sample', resolve));
    run.result.catch((e) => { console.error('run failed', e); process.exit(3); });
  `;
  writeFileSync(join(dir, 'running.mjs'), running);

  test('process.exit() during a two-rail runBandwidth: exit code kept, no abort, no crash', async () => {
    const script = join(dir, 'exit.mjs');
    writeFileSync(script, `import { firstSample } from './running.mjs';\nawait firstSample;\nsetTimeout(() => process.exit(7), 300);\n`);
    const r = await runNode([script], 120_000);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(7);
    expect(r.stderr).not.toMatch(/Abort|terminate called|Segmentation|FATAL/i);
  });

  test('runBandwidth in a worker terminated mid-run: no crash, and the main thread can then use both rails', async () => {
    writeFileSync(join(dir, 'worker.mjs'), `import { parentPort } from 'node:worker_threads';\nimport { firstSample } from './running.mjs';\nawait firstSample;\nparentPort.postMessage('running');\n`);
    const script = join(dir, 'main.mjs');
    writeFileSync(
      script,
      `import { Worker } from 'node:worker_threads';
       const w = new Worker(new URL('./worker.mjs', import.meta.url));
       w.on('error', (e) => { console.error('worker error', e); process.exit(3); });
       await new Promise((resolve) => w.once('message', resolve));
       await new Promise((resolve) => setTimeout(resolve, 500));
       await w.terminate();
       console.log('terminated');
       // Only now does the main thread load the addon: the worker's devices must be free again.
       const { runBandwidth } = await import(${JSON.stringify(api)});
       const r = await runBandwidth({ loopback: true, rails: 2, iterations: 200, sizes: [65536], warmupMs: 0 });
       console.log(JSON.stringify(r.rails.map((x) => x.messages)));`,
    );
    const r = await runNode([script], 120_000);
    expect(r.signal).toBeNull();
    expect(r.stderr).not.toMatch(/Abort|terminate called|Segmentation|FATAL/i);
    expect(r.stdout.trim().split('\n')).toEqual(['terminated', '[200,200]']);
    expect(r.code).toBe(0);
  });
});

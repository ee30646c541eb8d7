// Bad input on real rxe (issue 7, sections 2 and 3): arguments checked against the devices'
// limits before any verbs object exists, registration past the memlock limit, and the real
// `spark-rdma bw` server (with verbs behind it) exposed to bad clients: where it listens, one
// session at a time, the handshake deadline, the line limit, garbage, wrong versions, truncated,
// duplicated and out-of-range messages, and a seeded burst of generated input. After all of it
// a real client still runs. (The protocol layer alone is fuzzed with 10,000 inputs on the host:
// test/host/session-fuzz.test.ts.)
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { BandwidthResult } from '../../lib/bandwidth/index.js';
import { runBandwidth } from '../../lib/bandwidth/index.js';
import { RdmaError } from '../../lib/errors.js';
import { loadBinding } from '../../lib/native/load.js';
import { CLI, requireRxe, ROOT, startServer, testPort } from './helpers.js';
import { cliInProcess, errorLine, rawExchange, STACK_FRAME, until } from './faults-support.js';
import { connectClient } from '../../lib/run/client-session.js';
import { selectRails } from '../../lib/run/select-rails.js';
import { mutate, prng, randomBytes, randomJson } from '../host/session-helpers.js';

beforeAll(() => requireRxe());

const PEER = '10.77.0.1';
const line = (value: unknown) => `${JSON.stringify(value)}\n`;
const HELLO = { type: 'hello', version: 2, software: 'bad-input-test' };
const PROPOSAL = {
  type: 'propose',
  test: 'bw',
  rails: [0, 1],
  qps: 1,
  sizes: [4096],
  txDepth: 128,
  postList: 1,
  signalEvery: 100,
  inlineThreshold: 0,
  iterations: 10,
  warmupMs: 0,
  bidir: false,
  cm: false,
};

describe('arguments against the device limits, before any verbs call', () => {
  test('a tx depth or QP count whose shared CQ exceeds max_cqe: one line with the value, the limit and the fix', async () => {
    const maxCqe = loadBinding().queryDevice('rxe0').limits.maxCqe;
    expect(maxCqe).toBe(32767);
    const deep = await cliInProcess(['bw', '--loopback', '--devices', 'rxe0', '--tx-depth', '40000', '--iters', '10']);
    expect(deep.code).toBe(2);
    expect(deep.stderr).toBe(
      "spark-rdma: 1 QP(s) x (tx depth 40000 + 1) = 40001 completion-queue entries exceed rxe0's max_cqe of 32767\n" +
        'hint: pass --tx-depth 32766 or less, or fewer --qps\n',
    );
    const wide = await cliInProcess(['bw', '--loopback', '--devices', 'rxe1', '--qps', '30', '--tx-depth', '1200', '--size', '4K', '--iters', '10']);
    expect(wide.code).toBe(2);
    expect(wide.stderr).toBe(
      "spark-rdma: 30 QP(s) x (tx depth 1200 + 1) = 36030 completion-queue entries exceed rxe1's max_cqe of 32767\n" +
        'hint: pass --tx-depth 1091 or less, or fewer --qps\n',
    );
    // 1091 is the real boundary (30 x 1092 = 32760 entries): the suggested fix runs.
    const fixed = await runBandwidth({ loopback: true, devices: ['rxe1'], qps: 30, txDepth: 1091, sizes: [4096], iterations: 200, warmupMs: 0 });
    expect(fixed.rails[0]!.messages).toBe(30 * 200);
  });

  test('an unknown device, and limits that the API ranges already cover on rxe', async () => {
    const r = await cliInProcess(['bw', '--loopback', '--devices', 'mlx5_9', '--iters', '10']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'spark-rdma: device mlx5_9 is not a rail here (rails: rxe0:1, rxe1:1)\nhint: pass --devices with names that `spark-rdma devices` lists as rails\n',
    );
    // rxe's max_qp, max_qp_wr and max_mr_size lie beyond the API's own ranges (4096 QPs, 2^20
    // WRs, 2 GiB), so on rxe those ranges answer first; test/host/bad-input.test.ts checks the
    // device rule itself with a ConnectX-7's limits.
    const limits = loadBinding().queryDevice('rxe0').limits;
    expect(limits.maxQp).toBeGreaterThan(4096);
    expect(limits.maxQpWr).toBeGreaterThanOrEqual(2 ** 20);
    expect(limits.maxMrSize).toBeGreaterThan(2n ** 31n);
    const err = await runBandwidth({ loopback: true, devices: ['rxe0'], qps: 5000, iterations: 10 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RdmaError);
    expect((err as RdmaError).message).toBe('QPs per rail 5000 is out of range: it must be a whole number from 1 to 4096');
  });

  test('registering past the memlock limit names `ulimit -l` and the limit (root without CAP_IPC_LOCK)', async () => {
    // Root holds CAP_IPC_LOCK, which ignores RLIMIT_MEMLOCK: drop it, then cap the limit at 64 KiB.
    const r = await runNodeUnder(
      ['setpriv', '--inh-caps=-ipc_lock', '--bounding-set=-ipc_lock', 'prlimit', '--memlock=65536'],
      [CLI, 'bw', '--loopback', '--devices', 'rxe0', '--size', '1M', '--iters', '10'],
    );
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^spark-rdma: registering 1048576 bytes failed: Cannot allocate memory \(ENOMEM\); the locked-memory limit \(ulimit -l\) is 64 KiB \(hint: raise it: `ulimit -l unlimited`/);
  });
});

/** Runs `prefix... node args...` with a deadline (prefix: setpriv/prlimit). */
async function runNodeUnder(prefix: string[], args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { spawn } = await import('node:child_process');
  return new Promise((resolve) => {
    const child = spawn(prefix[0]!, [...prefix.slice(1), process.execPath, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('the exposed server (a real `spark-rdma bw` with verbs behind it)', () => {
  const port = testPort(1);
  let server: Awaited<ReturnType<typeof startServer>>;
  beforeAll(async () => {
    // --peer-timeout 2: the handshake deadline too.
    server = await startServer('bw', port, ['--peer-timeout', '2']);
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });
  const drops = () => (server.log().match(/dropped 10\.77\.\d\.1:\d+: /g) ?? []).length;

  test("it listens on the rails' addresses only: not 0.0.0.0, not 127.0.0.1", async () => {
    const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
    const listening = (file: string) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .slice(1)
        .map((l) => l.trim().split(/\s+/))
        .filter((f) => f[1]?.endsWith(`:${hexPort}`) && f[3] === '0A')
        .map((f) => f[1]!.split(':')[0]!);
    // /proc/net/tcp shows IPv4 addresses as little-endian hex: 10.77.0.1 = 01004D0A.
    expect(listening('/proc/net/tcp').sort()).toEqual(['01004D0A', '01014D0A']);
    expect(listening('/proc/net/tcp6')).toEqual([]);
    const refused = await rawExchange('127.0.0.1', port, '', 2000).then(
      () => null,
      (e: NodeJS.ErrnoException) => e.code,
    );
    expect(refused).toBe('ECONNREFUSED');
  });

  test('bad clients are dropped with a reason, the server tells them why, and keeps serving', async () => {
    const before = drops();
    const cases: { name: string; payload: string | Buffer | (string | Buffer)[]; end?: boolean; code: string | null; message?: RegExp }[] = [
      { name: 'random bytes', payload: Buffer.from([0xff, 0x00, 0x13, 0x37, 0x80, 0x0a]), code: 'ERR_PROTOCOL' },
      { name: 'an oversized line', payload: Buffer.alloc(70 * 1024, 0x61), code: 'ERR_PROTOCOL', message: /65536/ },
      { name: 'another protocol version', payload: line({ ...HELLO, version: 99 }), code: 'ERR_PROTOCOL_VERSION', message: /version 99.*version 2/ },
      { name: 'a truncated hello', payload: '{"type":"hello","vers', end: true, code: null },
      { name: 'a duplicated hello', payload: line(HELLO) + line(HELLO), code: 'ERR_PROTOCOL' },
      { name: 'a proposal before the server said hello', payload: line(HELLO) + line(PROPOSAL), code: 'ERR_PROTOCOL' },
      { name: 'wrong types', payload: line({ type: 'hello', version: '1', software: 5 }), code: 'ERR_PROTOCOL' },
      { name: 'an unknown field', payload: line({ ...HELLO, admin: true }), code: 'ERR_PROTOCOL' },
      { name: 'values out of range', payload: [line(HELLO), line({ ...PROPOSAL, qps: 999_999 })], code: 'ERR_PROTOCOL', message: /qps/ },
      { name: 'a proposal past the server device limits', payload: [line(HELLO), line({ ...PROPOSAL, txDepth: 40_000 })], code: null, message: /max_cqe of 32767/ },
    ];
    for (const c of cases) {
      const x = await rawExchange(PEER, port, c.payload, 10_000, c.end);
      expect(x.closedByServer, c.name).toBe(true);
      if (c.code !== null) {
        const err = errorLine(x);
        expect(err.code, `${c.name}: ${JSON.stringify(x.lines)}`).toBe(c.code);
        if (c.message) expect(err.message, c.name).toMatch(c.message);
      } else if (c.message) {
        const reject = x.lines.map((l) => JSON.parse(l) as { type: string; message?: string }).find((m) => m.type === 'reject');
        expect(reject?.message, `${c.name}: ${JSON.stringify(x.lines)}`).toMatch(c.message);
      }
    }
    // Every client but the refused proposal (a clean reject, then our close) is a logged drop.
    expect(drops() - before).toBeGreaterThanOrEqual(cases.length - 1);
    expect(server.log()).toMatch(/dropped 10\.77\.0\.1:\d+: ERR_PROTOCOL_VERSION: protocol version mismatch/);
    expect(server.log()).toMatch(/rejected 10\.77\.0\.1:\d+: 1 QP\(s\) x \(tx depth 40000 \+ 1\)/);
    expect(server.child.exitCode).toBeNull();
  });

  test('a silent client does not take the session slot and is closed after the handshake deadline; one session at a time: a hello while one runs is refused as busy', async () => {
    const started = Date.now();
    const sessionsStarted = () => (server.log().match(/session with 10\.77\.0\.1:\d+ \(bad-input-test\) started/g) ?? []).length;
    const before = sessionsStarted();
    const silent = rawExchange(PEER, port, '', 15_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // The silent connection is still being sniffed for its dialect (our hello or perftest's
    // version string): it holds no slot, so this hello is served and its session holds the slot
    // until the 2 s deadline for its proposal.
    const first = rawExchange(PEER, port, line(HELLO), 15_000);
    await until('the first session to start', () => sessionsStarted() > before, 10_000, 20);
    const second = await rawExchange(PEER, port, line(HELLO), 5_000);
    expect(errorLine(second).code).toBe('ERR_SERVER_BUSY');
    expect(errorLine(second).message).toMatch(/already runs 1 session/);
    const served = await first;
    expect((JSON.parse(served.lines[0]!) as { type: string }).type).toBe('hello');
    expect(errorLine(served).code).toBe('ERR_PEER_SILENT');
    const x = await silent;
    expect(x.closedByServer).toBe(true);
    // After its 2 s of silence the server either finds the slot taken (busy) or waits its hello
    // deadline (silent); either way it closes the connection with a reason.
    expect(['ERR_SERVER_BUSY', 'ERR_PEER_SILENT']).toContain(errorLine(x).code);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(server.log()).toMatch(/refused 10\.77\.0\.1:\d+: ERR_SERVER_BUSY/);
    console.log(`silent client closed after ${x.ms} ms with ${errorLine(x).code} (handshake deadline 2000 ms)`);
  });

  test('it exposes its target regions only: a connected client writing one byte past one gets a remote access error', async () => {
    const closedDrops = () => (server.log().match(/dropped 10\.77\.0\.1:\d+: ERR_PEER_CLOSED/g) ?? []).length;
    const before = closedDrops();
    const rails = selectRails({ devices: ['rxe0'] });
    const proposal = { test: 'bw' as const, qps: 1, sizes: [4096], txDepth: 16, postList: 1, signalEvery: 1, inlineThreshold: 0, iterations: 1, warmupMs: 0, bidir: false, cm: false };
    const session = await connectClient({ peer: PEER, port }, rails, proposal, { regionBytes: 4096, txDepth: 16, inlineBytes: 0 });
    try {
      const endpoint = session.endpoints[0]!;
      const target = session.peers[0]!;
      const write = (addr: bigint) =>
        new (loadBinding().WriteBandwidthEngine)(endpoint.cq, endpoint.writeTargets({ ...target, qps: [{ ...target.qps[0]!, addr: addr.toString() }] }), {
          size: 4096,
          txDepth: 16,
          postList: 1,
          signalEvery: 1,
          inlineThreshold: 0,
          iterations: 1,
          warmupMs: 0,
          intervalMs: 1000,
          completionTimeoutMs: 5000,
        }).start(() => undefined);
      // Inside the region the write lands; shifted by one byte it would end past it.
      expect((await write(BigInt(target.qps[0]!.addr))).messages).toBe(1);
      const err = await write(BigInt(target.qps[0]!.addr) + 1n).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(RdmaError);
      expect((err as RdmaError).wcStatus).toBe('remote access error');
      expect((err as RdmaError).hint).toMatch(/the peer refused the access/);
    } finally {
      session.close();
    }
    await until('the server drops that client', () => closedDrops() > before, 15_000);
    expect(server.child.exitCode).toBeNull();
  });

  test('a seeded burst of 200 generated inputs after valid prefixes (some opening verbs objects), then a real client runs', async () => {
    const rng = prng(7);
    const script = [HELLO, PROPOSAL];
    const started = Date.now();
    let answered = 0;
    for (let i = 0; i < 200; i++) {
      const prefix = script.slice(0, Math.floor(rng() * 3)).map(line);
      const roll = rng();
      const input =
        roll < 0.3 ? randomBytes(rng, 200) : roll < 0.6 ? line(randomJson(rng)) : line(mutate(rng, script[Math.floor(rng() * script.length)]));
      const x = await rawExchange(PEER, port, [...prefix, input], 15_000, true);
      expect(x.closedByServer).toBe(true);
      if (x.lines.length > 0) answered++;
    }
    const burstMs = Date.now() - started;
    expect(answered).toBeGreaterThan(100);
    expect(server.child.exitCode).toBeNull();
    const r = await cliInProcess(['bw', PEER, '--port', String(port), '--rails', '2', '--iters', '200', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as BandwidthResult).rails.map((x) => x.messages)).toEqual([200, 200]);
    expect(r.stderr).not.toMatch(STACK_FRAME);
    console.log(`200 generated inputs in ${burstMs} ms (${answered} answered before the close); the next real client ran`);
  });
});

// Lifecycle defects of the native core (issue 13, points 1, 2, 3, 7, 8), each against real
// rdma_rxe. Crashes are run in a child process so that an abort or a segfault shows as the
// child's signal instead of taking the runner down.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { loadBinding } from '../../lib/native/load.js';
import { requireRxe, ROOT, runNode } from './helpers.js';

const native = loadBinding();
const dir = mkdtempSync(join(tmpdir(), 'spark-rdma-lifecycle-'));
const ADDON = JSON.stringify(join(ROOT, 'build', 'Release', 'spark_rdma.node'));
const DIST = (p: string) => JSON.stringify(join(ROOT, 'dist', 'lib', p));

// Two connected RC QPs on rxe0 (raw addon, no error class registered), as CommonJS text.
const RAW_PAIR = `
  const b = require(${ADDON});
  function side() {
    const ctx = new b.Context('rxe0'); const pd = new b.ProtectionDomain(ctx); const cq = new b.CompletionQueue(ctx, 512);
    const src = new b.MemoryRegion(pd, 65536); const dst = new b.MemoryRegion(pd, 65536, { remoteWrite: true });
    const qp = new b.QueuePair(pd, cq, { maxSendWr: 128 }); return { ctx, pd, cq, src, dst, qp };
  }
  const gid = b.queryDevice('rxe0').ports[0].gids[1].gid;
  const A = side(), B = side();
  A.qp.connect({ qpn: B.qp.qpn, psn: B.qp.psn, gid, mtu: 4096 }, { port: 1, gidIndex: 1 });
  B.qp.connect({ qpn: A.qp.qpn, psn: A.qp.psn, gid, mtu: 4096 }, { port: 1, gidIndex: 1 });
  const bwParams = { size: 65536, txDepth: 128, signalEvery: 16, warmupMs: 0, intervalMs: 100, completionTimeoutMs: 5000 };
`;

function script(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

beforeAll(() => requireRxe());

describe('closing rdma_cm ids under a running engine (13.1)', () => {
  test('closing a two-QP rdma_cm endpoint while its engine posts defers: no crash, the engine finishes its run', async () => {
    const path = script(
      'cm-close.mjs',
      `import { openLoopbackPair } from ${DIST('verbs/loopback-pair.js')};
       import { loadBinding } from ${DIST('native/load.js')};
       const native = loadBinding();
       const rail = { device: 'rxe0', port: 1, gidIndex: 1, ipv4: '10.77.0.1' };
       const pair = await openLoopbackPair(rail, 4096, { qps: 2, regionBytes: 65536, txDepth: 128, inlineBytes: 0, cm: true, timeoutMs: 30000 });
       const e = new native.WriteBandwidthEngine(pair.a.cq, pair.a.writeTargets(pair.aPeer),
         { size: 65536, txDepth: 128, signalEvery: 16, durationMs: 2500, warmupMs: 0, intervalMs: 100, completionTimeoutMs: 5000 });
       const done = e.start(() => {});
       await new Promise((r) => setTimeout(r, 700));
       try { pair.a.close(); } catch (err) { console.log('close threw', err.code); }
       const outcome = await done.then((r) => 'resolved ' + r.qps.map((q) => q.messages > 0).join(','), (err) => 'rejected ' + err.code + ' ' + err.message);
       console.log(outcome);
       // Everything the refused close left open closes now, in order, with nothing busy.
       const a = pair.a;
       for (const q of a.qps) q.close();
       for (const m of [...a.sources, ...a.targets]) m.close();
       a.cq.close(); a.pd.close();
       for (const id of a.ids) id.close();
       console.log('released ' + [...a.qps, ...a.ids].every((x) => x.closed));
       pair.b.close();`,
    );
    const r = await runNode([path], 180_000);
    console.log(`cm close under engine: code ${r.code} signal ${r.signal}; ${r.stdout.trim()} ${r.stderr.trim().split('\n')[0] ?? ''}`);
    expect(r.signal).toBeNull();
    expect(r.stdout).toContain('resolved true,true');
    expect(r.stdout).toContain('released true');
    expect(r.code).toBe(0);
  });

  test('a CmId refuses close() while an engine runs on its QP, whatever context its PD lives on', async () => {
    const path = script(
      'cm-busy.mjs',
      `import { openLoopbackPair } from ${DIST('verbs/loopback-pair.js')};
       import { loadBinding } from ${DIST('native/load.js')};
       const native = loadBinding();
       const rail = { device: 'rxe0', port: 1, gidIndex: 1, ipv4: '10.77.0.1' };
       const pair = await openLoopbackPair(rail, 4096, { qps: 2, regionBytes: 65536, txDepth: 128, inlineBytes: 0, cm: true, timeoutMs: 30000 });
       const e = new native.WriteBandwidthEngine(pair.a.cq, pair.a.writeTargets(pair.aPeer),
         { size: 65536, txDepth: 128, signalEvery: 16, durationMs: 1500, warmupMs: 0, intervalMs: 100, completionTimeoutMs: 5000 });
       const done = e.start(() => {});
       await new Promise((r) => setTimeout(r, 300));
       const second = pair.a.ids[1];
       try { second.close(); console.log('closed'); } catch (err) { console.log('refused', err.code); }
       console.log(await done.then(() => 'resolved', (err) => 'rejected ' + err.code));
       pair.close();`,
    );
    const r = await runNode([path], 180_000);
    console.log(`CmId close while busy: code ${r.code} signal ${r.signal}; ${r.stdout.trim().replace(/\n/g, ' | ')}`);
    expect(r.signal).toBeNull();
    expect(r.stdout).toContain('refused ERR_RDMA_BUSY');
    expect(r.stdout).toContain('resolved');
    expect(r.code).toBe(0);
  });
});

describe('registered memory (13.2)', () => {
  test('an ArrayBuffer is refused: JS could detach or transfer it under a live registration', () => {
    const ctx = new native.Context('rxe0');
    const pd = new native.ProtectionDomain(ctx);
    const ab = new ArrayBuffer(8192);
    let accepted: { closed: boolean; close(): void } | null = null;
    let refused: unknown = null;
    try {
      accepted = new native.MemoryRegion(pd, ab as unknown as number, { remoteWrite: true });
    } catch (err) {
      refused = err;
    }
    if (accepted) {
      // What the defect allows: the buffer's memory moves away while the region stays registered.
      structuredClone(ab, { transfer: [ab] });
      console.log(`ArrayBuffer region: registered=${!accepted.closed} after the buffer was transferred (byteLength now ${ab.byteLength})`);
      accepted.close();
    }
    pd.close();
    ctx.close();
    expect(refused).toMatchObject({ code: 'ERR_RDMA_INVALID_ARGUMENT', message: expect.stringMatching(/byte count/) });
  });
});

describe('exceptions at the native boundary (13.3)', () => {
  test('start() when no thread can be created throws a JS error and undoes what it did (no abort)', async () => {
    // RLIMIT_AS just above what the process maps: the engine thread's stack cannot be mapped.
    const path = script(
      'no-thread.cjs',
      `${RAW_PAIR}
       const { execFileSync } = require('child_process');
       const { readFileSync } = require('fs');
       const e = new b.WriteBandwidthEngine(A.cq, [{ qp: A.qp, local: A.src, remoteAddr: B.dst.addr, rkey: B.dst.rkey }], { ...bwParams, iterations: 1000 });
       const vm = Number(/VmSize:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
       execFileSync('prlimit', ['--pid', String(process.pid), '--as=' + (vm + (2 << 20)) + ':unlimited']);
       let outcome;
       try { e.start(); outcome = 'started'; } catch (err) { outcome = 'threw ' + (err.code || err.name) + ': ' + err.message; }
       execFileSync('prlimit', ['--pid', String(process.pid), '--as=unlimited:unlimited']);
       console.log(outcome);
       console.log('running=' + e.running);
       A.qp.close(); A.src.close(); console.log('qp and region closed');`,
    );
    const r = await runNode([path], 120_000);
    console.log(`start without a thread: code ${r.code} signal ${r.signal}; ${r.stdout.trim().replace(/\n/g, ' | ')} ${r.stderr.trim().split('\n')[0] ?? ''}`);
    expect(r.signal).toBeNull();
    expect(r.stdout).toMatch(/threw ERR_RDMA_\w+: .*thread/);
    expect(r.stdout).toContain('running=false');
    expect(r.stdout).toContain('qp and region closed');
    expect(r.code).toBe(0);
  });
});

describe('settling an engine (13.7)', () => {
  test('an engine whose rejection cannot be built still settles its promise and lets the process go', async () => {
    // A registered error class whose constructor throws: building the rejection fails.
    const path = script(
      'settle.cjs',
      `${RAW_PAIR}
       b.setErrorClass(class { constructor() { throw new Error('error class exploded'); } });
       const e = new b.WriteBandwidthEngine(A.cq, [{ qp: A.qp, local: A.src, remoteAddr: B.dst.addr, rkey: B.dst.rkey + 7 }], { ...bwParams, iterations: 100 });
       const timer = setTimeout(() => { console.log('still pending after 20 s'); process.exit(4); }, 20000);
       e.start().then(() => console.log('resolved'), (err) => { console.log('rejected: ' + err.message); clearTimeout(timer); });`,
    );
    const r = await runNode([path], 120_000);
    console.log(`settle failure: code ${r.code} signal ${r.signal}; ${r.stdout.trim()}`);
    expect(r.stdout).toMatch(/rejected: .*RDMA WRITE failed/);
    expect(r.code).toBe(0);
  });
});

describe('stop before start (13.8)', () => {
  test('a bandwidth engine stopped before start() ends at once with nothing measured', async () => {
    const path = script(
      'stop-first-bw.cjs',
      `${RAW_PAIR}
       const e = new b.WriteBandwidthEngine(A.cq, [{ qp: A.qp, local: A.src, remoteAddr: B.dst.addr, rkey: B.dst.rkey }], { ...bwParams, durationMs: 4000, warmupMs: 500 });
       e.stop();
       e.start().then((r) => console.log(JSON.stringify({ messages: r.messages, warmup: r.warmupMessages, stoppedEarly: r.stoppedEarly })), (err) => console.log('rejected ' + err.message));`,
    );
    const r = await runNode([path], 120_000);
    console.log(`bw stop before start: ${r.stdout.trim()}`);
    expect(JSON.parse(r.stdout.trim())).toEqual({ messages: 0, warmup: 0, stoppedEarly: true });
  });

  test('a latency engine stopped before start() ends at once with nothing measured', async () => {
    const path = script(
      'stop-first-lat.cjs',
      `${RAW_PAIR}
       const e = new b.WriteLatencyEngine(A.cq, { qp: A.qp, local: A.dst, source: A.src, remoteAddr: B.dst.addr, rkey: B.dst.rkey },
         { size: 2, iterations: 20000, role: 'initiator', peerTimeoutMs: 3000 });
       e.stop();
       e.start().then((r) => console.log(JSON.stringify({ exchanges: r.exchanges, stoppedEarly: r.stoppedEarly })), (err) => console.log('rejected ' + err.code));`,
    );
    const r = await runNode([path], 120_000);
    console.log(`lat stop before start: ${r.stdout.trim()}`);
    expect(r.stdout.trim()).toBe(JSON.stringify({ exchanges: 0, stoppedEarly: true }));
  });
});

// The native layer against real kernel verbs (rdma_rxe): device queries agree with
// ibv_devinfo, objects refuse to close out of order, regions and QPs behave, nothing leaks,
// and the addon survives worker termination and process.exit() in the middle of a run.
import { execFileSync } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { loadBinding } from '../../lib/native/load.js';
import { RdmaError } from '../../lib/errors.js';
import { openFds, requireRxe, ROOT, runNode } from './helpers.js';

const native = loadBinding();

// The devinfo fields we compare, read the way a person reads `ibv_devinfo -v`.
function devinfo(device: string): Record<string, string> {
  const text = execFileSync('ibv_devinfo', ['-v', '-d', device], { encoding: 'utf8' });
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([a-z_]+):\s*(.+?)\s*$/.exec(line);
    if (m && !(m[1]! in out)) out[m[1]!] = m[2]!;
  }
  return out;
}

beforeAll(() => requireRxe());

describe('device queries', () => {
  test.each(['rxe0', 'rxe1'])('%s matches ibv_devinfo -v', (device) => {
    const info = native.queryDevice(device);
    const ref = devinfo(device);
    expect(info.name).toBe(ref['hca_id']);
    expect(info.nodeGuid).toBe(ref['node_guid']);
    expect(info.firmware).toBe(ref['fw_ver']);
    expect(`0x${info.vendorId.toString(16).padStart(4, '0')}`).toBe(ref['vendor_id']);
    expect(info.limits.maxQp).toBe(Number(ref['max_qp']));
    expect(info.limits.maxQpWr).toBe(Number(ref['max_qp_wr']));
    expect(info.limits.maxCqe).toBe(Number(ref['max_cqe']));
    expect(info.limits.maxSge).toBe(Number(ref['max_sge']));
    expect(`0x${info.limits.maxMrSize.toString(16)}`).toBe(ref['max_mr_size']);
    const port = info.ports[0]!;
    expect(`PORT_${port.state}`).toBe(ref['state']!.split(' ')[0]);
    expect(port.activeMtu).toBe(Number(/^(\d+)/.exec(ref['active_mtu']!)![1]));
    expect(port.linkLayer).toBe(ref['link_layer']);
  });

  test('an unknown device is a clear error with the device list', () => {
    const err = (() => {
      try {
        native.queryDevice('mlx5_99');
      } catch (e) {
        return e;
      }
    })() as RdmaError;
    expect(err).toBeInstanceOf(RdmaError);
    expect(err.code).toBe('ERR_RDMA_NO_DEVICE');
    expect(err.message).toMatch(/no RDMA device named 'mlx5_99' \(devices: rxe0, rxe1\)/);
  });

  test('opening and closing a device 1000 times leaks no file descriptors', () => {
    const ctx = new native.Context('rxe0');
    ctx.close(); // the first open may cache provider state; count after it
    const before = openFds();
    for (let i = 0; i < 1000; i++) new native.Context('rxe0').close();
    expect(openFds()).toBe(before);
  });
});

describe('verbs objects', () => {
  test('a parent refuses to close while children are open, then closes in order', () => {
    const ctx = new native.Context('rxe0');
    const pd = new native.ProtectionDomain(ctx);
    const cq = new native.CompletionQueue(ctx, 64);
    const mr = new native.MemoryRegion(pd, 4096, { remoteWrite: true });
    const qp = new native.QueuePair(pd, cq, { maxSendWr: 16 });
    expect(() => ctx.close()).toThrow(/cannot close the context rxe0: 2 protection domains or completion queues are still open/);
    expect(() => pd.close()).toThrow(expect.objectContaining({ code: 'ERR_RDMA_BUSY' }));
    expect(() => cq.close()).toThrow(/1 queue pairs is still open|1 queue pairs are still open|queue pairs/);
    expect(qp.state).toBe('RESET');
    qp.close();
    mr.close();
    cq.close();
    pd.close();
    ctx.close();
    expect([qp.closed, mr.closed, cq.closed, pd.closed, ctx.closed]).toEqual([true, true, true, true, true]);
    expect(() => new native.ProtectionDomain(ctx)).toThrow(expect.objectContaining({ code: 'ERR_RDMA_CLOSED' }));
  });

  test('regions: native memory is page aligned and zeroed; ArrayBuffers and Buffers are refused', () => {
    const ctx = new native.Context('rxe0');
    const pd = new native.ProtectionDomain(ctx);
    const owned = new native.MemoryRegion(pd, 10000);
    expect(owned.addr % 4096n).toBe(0n);
    expect(owned.length).toBe(10000);
    expect(owned.view().every((b) => b === 0)).toBe(true);
    owned.view()[5] = 42;
    expect(owned.view()[5]).toBe(42);
    const second = new native.MemoryRegion(pd, 8192, { remoteWrite: true });
    expect(second.rkey).not.toBe(owned.rkey);
    expect(() => new native.MemoryRegion(pd, new ArrayBuffer(16) as unknown as number)).toThrow(/must be a byte count/);
    expect(() => new native.MemoryRegion(pd, Buffer.alloc(16) as unknown as number)).toThrow(/must be a byte count/);
    owned.close();
    second.close();
    pd.close();
    ctx.close();
  });

  test('connect with a GID index that does not exist fails in INIT->RTR and says what to check', () => {
    const ctx = new native.Context('rxe0');
    const pd = new native.ProtectionDomain(ctx);
    const cq = new native.CompletionQueue(ctx, 16);
    const qp = new native.QueuePair(pd, cq, { maxSendWr: 4 });
    const gid = native.queryDevice('rxe0').ports[0]!.gids[1]!.gid;
    try {
      expect(() => qp.connect({ qpn: qp.qpn, psn: 1, gid, mtu: 4096 }, { port: 1, gidIndex: 77 })).toThrow(
        expect.objectContaining({ code: 'ERR_RDMA_SYSCALL', syscall: 'ibv_modify_qp', message: expect.stringMatching(/INIT->RTR, gid index 77/) }),
      );
      expect(() => qp.connect({ qpn: 5, psn: 1, gid: 'not-a-gid', mtu: 4096 }, { port: 1, gidIndex: 1 })).toThrow(/is not in the form/);
      expect(() => qp.connect({ qpn: 5, psn: 1, gid, mtu: 3000 }, { port: 1, gidIndex: 1 })).toThrow(/MTU 3000 is not a RoCE path MTU/);
    } finally {
      qp.close();
      cq.close();
      pd.close();
      ctx.close();
    }
  });
});

describe('lifetime across threads and exit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spark-rdma-native-'));
  // A run that is still going when its environment goes away.
  const body = `
    const b = require(${JSON.stringify(join(ROOT, 'build', 'Release', 'spark_rdma.node'))});
    function side() {
      const ctx = new b.Context('rxe0'); const pd = new b.ProtectionDomain(ctx); const cq = new b.CompletionQueue(ctx, 512);
      const src = new b.MemoryRegion(pd, 65536); const dst = new b.MemoryRegion(pd, 65536, { remoteWrite: true });
      const qp = new b.QueuePair(pd, cq, { maxSendWr: 128 }); return { cq, src, dst, qp };
    }
    const gid = b.queryDevice('rxe0').ports[0].gids[1].gid;
    const A = side(), B = side();
    A.qp.connect({ qpn: B.qp.qpn, psn: B.qp.psn, gid, mtu: 4096 }, { port: 1, gidIndex: 1 });
    B.qp.connect({ qpn: A.qp.qpn, psn: A.qp.psn, gid, mtu: 4096 }, { port: 1, gidIndex: 1 });
    const e = new b.WriteBandwidthEngine(A.cq, [{ qp: A.qp, local: A.src, remoteAddr: B.dst.addr, rkey: B.dst.rkey }],
      { size: 65536, txDepth: 128, signalEvery: 16, durationMs: 60000, warmupMs: 0, intervalMs: 100, completionTimeoutMs: 5000 });
    e.start(() => {}).catch(() => {});
    globalThis.keep = [A, B, e]; // the run must still be going when the environment goes away
  `;
  const workerScript = join(dir, 'worker.cjs');
  writeFileSync(workerScript, `${body}\nrequire('worker_threads').parentPort.postMessage('running');\n`);

  test('process.exit() during a run exits cleanly (no abort, no crash)', async () => {
    const script = join(dir, 'exit.cjs');
    writeFileSync(script, `${body}\nsetTimeout(() => process.exit(7), 1500);\n`);
    const r = await runNode([script], 120_000);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(7);
    expect(r.stderr).not.toMatch(/Abort|terminate|Segmentation/i);
  });

  test('the addon in a worker that is terminated mid-run: cleanup hook stops the engine, the process exits 0', async () => {
    const script = join(dir, 'main.cjs');
    writeFileSync(
      script,
      `const { Worker } = require('worker_threads');
       const w = new Worker(${JSON.stringify(workerScript)});
       w.on('message', async () => { await new Promise(r => setTimeout(r, 1000)); await w.terminate(); console.log('terminated'); });
       w.on('error', (e) => { console.error('worker error', e); process.exit(3); });`,
    );
    const r = await runNode([script], 120_000);
    expect(r.signal).toBeNull();
    expect(r.stdout).toContain('terminated');
    expect(r.code).toBe(0);
  });

  test('loading and unloading in a worker_thread repeatedly leaves the main thread fine', async () => {
    const script = join(dir, 'load.cjs');
    writeFileSync(
      script,
      `const { Worker } = require('worker_threads');
       (async () => {
         for (let i = 0; i < 5; i++) {
           const w = new Worker(\`const b = require(${JSON.stringify(join(ROOT, 'build', 'Release', 'spark_rdma.node'))});
             const c = new b.Context('rxe1'); new b.ProtectionDomain(c);
             require('worker_threads').parentPort.postMessage(b.listDevices().join(','));\`, { eval: true });
           const msg = await new Promise((res) => w.once('message', res));
           await w.terminate();
           if (msg !== 'rxe0,rxe1') throw new Error('worker saw ' + msg);
         }
         console.log('ok');
       })().catch((e) => { console.error(e); process.exit(2); });`,
    );
    const r = await runNode([script], 120_000);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('ok');
    expect(r.code).toBe(0);
  });
});

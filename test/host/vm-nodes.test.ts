// The multi-guest pieces of the VM harness (scripts/vm/nodes.mjs, job.mjs, qemu.mjs), without
// booting anything: cabling, MACs, the guests' names, argument checks and output prefixes.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { expect, test } from 'vitest';
import { guestIdentity } from '../../scripts/vm/job.mjs';
import { nodeNics, parseNodeCount, prefixedLines, railMac } from '../../scripts/vm/nodes.mjs';
import { qemuArguments } from '../../scripts/vm/qemu.mjs';

test('rail r of node 0 is cabled to rail r of node 1, each NIC with its own MAC', () => {
  const a = nodeNics(0, 2, '/w');
  const b = nodeNics(1, 2, '/w');
  expect(a.map((n) => [n.id, n.localPath, n.remotePath, n.mac])).toEqual([
    ['rail0', '/w/n0r0.sock', '/w/n1r0.sock', '52:54:00:77:00:00'],
    ['rail1', '/w/n0r1.sock', '/w/n1r1.sock', '52:54:00:77:00:01'],
  ]);
  expect(b.map((n) => [n.localPath, n.remotePath, n.mac])).toEqual([
    ['/w/n1r0.sock', '/w/n0r0.sock', '52:54:00:77:01:00'],
    ['/w/n1r1.sock', '/w/n0r1.sock', '52:54:00:77:01:01'],
  ]);
  expect(nodeNics(0, 1, '/w')).toEqual([]);
  expect(railMac(1, 1)).toBe('52:54:00:77:01:01');
});

test('QEMU gets a dgram netdev and a virtio NIC per rail on a wire, and -nic none alone', () => {
  const common = { accelerator: { args: ['-accel', 'tcg'] }, kernelImage: 'k', initrd: 'i', memory: '3G', smp: 1, shareDir: '/s', sockets: {}, verbose: false, guestDeadlineSeconds: 60 };
  const wired = qemuArguments({ ...common, nics: nodeNics(1, 2, '/w') }).join(' ');
  expect(wired).toContain('-netdev dgram,id=rail0,local.type=unix,local.path=/w/n1r0.sock,remote.type=unix,remote.path=/w/n0r0.sock');
  expect(wired).toContain('-device virtio-net-pci,netdev=rail1,host_mtu=9000,mac=52:54:00:77:01:01');
  expect(wired).not.toContain('-nic none');
  expect(qemuArguments(common).join(' ')).toContain('-nic none');
});

test('each guest has a name and an /etc/hosts that names every node', () => {
  expect(guestIdentity()).toEqual({ hostname: 'spark-vm', hosts: '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n127.0.1.1 spark-vm\n' });
  const node1 = guestIdentity(1, 2);
  expect(node1.hostname).toBe('node1');
  expect(node1.hosts).toContain('10.77.0.1 node0\n10.77.0.2 node1\n');
});

test('--nodes takes 1 or 2, and anything else is one clear error', () => {
  const runMjs = join(import.meta.dirname, '../../scripts/vm/run.mjs');
  for (const args of [['--nodes', '3'], ['--nodes=0']]) {
    const r = spawnSync(process.execPath, [runMjs, ...args, '--', 'true'], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(125);
    expect(r.stderr).toBe(`spark-vm: --nodes ${args.join(' ').split(/[ =]/)[1]} is not supported: pass 1 (one guest, rails on dummy netdevs) or 2 (two guests, rail i cabled to rail i)\n`);
  }
  expect(() => parseNodeCount('3')).toThrow('--nodes 3 is not supported: pass 1 (one guest, rails on dummy netdevs) or 2 (two guests, rail i cabled to rail i)');
  expect(() => parseNodeCount('x')).toThrow(/--nodes x is not supported/);
});

test('every line of a node reaches the output once, prefixed, partial lines and split characters included', async () => {
  let out = '';
  const target = new Writable({
    write(chunk: Buffer, _e, cb) {
      out += chunk.toString();
      cb();
    },
  });
  const lines = prefixedLines(target, 'node1: ') as Writable & { flush(): void };
  const euro = Buffer.from('€');
  for (const chunk of [Buffer.from('a\nb'), Buffer.from('c\n'), euro.subarray(0, 1), Buffer.concat([euro.subarray(1), Buffer.from('\n\nlast')])]) {
    await new Promise<void>((resolve) => lines.write(chunk, () => resolve()));
  }
  lines.flush();
  expect(out).toBe('node1: a\nnode1: bc\nnode1: €\nnode1: \nnode1: last\n');
});

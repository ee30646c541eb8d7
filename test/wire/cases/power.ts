// Last of the suite: node0 loses power with a server running. Nothing on node0 answers after this.
import { describe, expect, test } from 'vitest';
import type { BandwidthResult } from '../../../lib/bandwidth/index.js';
import { writeFileSync } from 'node:fs';
import { NODE0_POWERED_OFF_FILE } from '../agent-client.mjs';
import { cli, NODE0, onNode0, serverOnNode0, until } from '../remote.js';

const PORT = 18680;

describe('the peer loses power mid-run', () => {
  test('node0 powers off under a bw run: the client on node1 exits within its deadline with the partial result', async () => {
    const server = await serverOnNode0('power-server', 'bw', PORT, ['--peer-timeout', '15']);
    const running = cli(1, ['bw', NODE0.rail0, '--port', String(PORT), '--rails', '2', '--duration', '30', '--peer-timeout', '10', '--json'], 180_000);
    // Mid-run means after the client connected (a loaded TCG guest can take many seconds to start
    // node), then a few seconds of writes on both rails.
    await until('the client session on node0', async () => /bw on rxe0, rxe1/.test(await server.log()), 90_000, 500);
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    // The harness counts node0's job as done (status 0 written first), then the power goes:
    // sysrq 'b' resets at once (no shutdown of devices or sockets, like a cut power cord) and
    // QEMU's -no-reboot turns the reset into an exit. ('o', an orderly ACPI power-off, left a
    // loaded guest half shut down with its QEMU still running.)
    const offAt = Date.now();
    writeFileSync(NODE0_POWERED_OFF_FILE, `${new Date().toISOString()}\n`);
    void onNode0(['sh', '-c', 'echo 0 > "$SPARK_RDMA_VM_STATUS_FILE" && sync && echo b > /proc/sysrq-trigger'], 5_000).catch(() => undefined);
    const r = await running;
    const detectMs = Date.now() - offAt;
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^spark-rdma: /m);
    // The partial result: whole rails in the JSON, or for a rail cut short what it ran before.
    const partial = r.stdout.trim() ? (JSON.parse(r.stdout) as BandwidthResult).rails.filter((x) => x.bytes > 0).length : 0;
    const cutShort = (r.stderr.match(/rail \d \(rxe\d\) ran [\d.]+ s at [\d.]+ Gb\/s/g) ?? []).length;
    expect(partial + cutShort, r.stderr).toBeGreaterThanOrEqual(2);
    expect(detectMs).toBeLessThan(60_000);
    console.log(`node0 powered off mid-run: the client exited after ${(detectMs / 1000).toFixed(1)} s: ${r.stderr.split('\n')[0]}`);
  });
});

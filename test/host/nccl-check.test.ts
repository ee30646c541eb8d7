// nccl-check against logs built from NCCL's own format strings (test/fixtures/nccl-logs.ts) for
// releases 2.21, 2.27 and 2.30: healthy and broken runs, truncated, empty and binary input.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../lib/cli/main.js';
import { checkNcclLogText, ncclCheckExitCode, type NcclLogReport } from '../../lib/nccl-check/check.js';
import { checkNcclLogStream } from '../../lib/nccl-check/stream.js';
import {
  SPARK_DEVS, channel, healthyDualRail, hostRun, ibUsing, ibUsingMerged221, info, procA, versionLine, warn, type NcclRelease,
} from '../fixtures/nccl-logs.js';

const RELEASES: NcclRelease[] = ['2.21', '2.27', '2.30'];
const dir = mkdtempSync(join(tmpdir(), 'spark-rdma-nccl-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const codes = (r: NcclLogReport) => r.processes.map((p) => `${p.process}: ${p.problems.map((x) => `${x.severity} ${x.code}`).join(', ')}`);
const check = (lines: string[], opts = {}) => checkNcclLogText(`${lines.join('\n')}\n`, opts);

async function cli(argv: string[], stdin?: string) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (s) => void (stdout += s),
    stderr: (s) => void (stderr += s),
    env: {},
    ...(stdin !== undefined ? { stdin: Readable.from([Buffer.from(stdin)]) } : {}),
  });
  return { code, stdout, stderr };
}

describe.each(RELEASES)('NCCL %s log lines', (release) => {
  it('healthy dual rail on two hosts, interleaved: ok, both rails carry channels in both processes', () => {
    const r = check(healthyDualRail(release));
    expect(codes(r)).toEqual(['spark-a:4242: ', 'spark-b:5151: ']);
    expect(r.ok).toBe(true);
    expect(ncclCheckExitCode(r)).toBe(0);
    const [a, b] = r.processes;
    expect(a!.version).toBe({ '2.21': '2.21.5', '2.27': '2.27.7', '2.30': '2.30.7' }[release]);
    expect(a!.networks).toEqual(['IB']);
    expect(a!.devices.map((d) => `${d.index} ${d.name}:${d.port}/${d.link}`)).toEqual(['0 rocep1s0f1:1/RoCE', '1 roceP2p1s0f1:1/RoCE']);
    expect(a!.oob).toBe('enp1s0f1np1:192.168.100.10<0>');
    expect(a!.expected).toEqual({ source: 'log', rails: ['rocep1s0f1:1', 'roceP2p1s0f1:1'], exact: true });
    expect(a!.channels).toEqual([{ rail: 'rocep1s0f1:1', netDev: 0, count: 4 }, { rail: 'roceP2p1s0f1:1', netDev: 1, count: 4 }]);
    expect(a!.ranks).toEqual([0]);
    expect(b!.ranks).toEqual([1]);
    expect(a!.nranks).toBe(2);
    expect(a!.gdrAttempted).toBe(false);
    expect(a!.socketFallback).toBe(false);
    expect(a!.pluginLoaded).toBeNull();
    // NCCL_NET_PLUGIN=none as each release reports it is not a loaded plugin.
    expect(a!.variables).toContainEqual({ name: 'NCCL_IB_GID_INDEX', value: '-1', setByConfig: true });
  });

  it('one rail missing from the channels: fail naming it, on both hosts', () => {
    const r = check(healthyDualRail(release, { channelDevs: [0, 0, 0, 0] }));
    expect(codes(r)).toEqual(['spark-a:4242: fail rail-unused', 'spark-b:5151: fail rail-unused']);
    const p = r.processes[0]!.problems[0]!;
    expect(p.message).toBe('rail roceP2p1s0f1:1 was opened but no channel uses it (channels use rocep1s0f1:1)');
    expect(p.fix).toContain('same NCCL_IB_HCA, in the same order, on every node');
    expect(ncclCheckExitCode(r)).toBe(1);
  });

  it('socket fallback: "Using network Socket" and channels via NET/Socket fail with the container fix', () => {
    const lines = healthyDualRail(release, { net: 'Socket' }).filter((l) => !l.includes('NET/IB : Using'));
    const r = check(lines);
    expect(codes(r)[0]).toBe('spark-a:4242: fail socket-fallback');
    const p = r.processes[0]!.problems[0]!;
    expect(p.message).toBe('NCCL ran over TCP sockets: "Using network Socket" and 8 channel line(s) via NET/Socket');
    expect(p.cause).toBe('NCCL fell back to TCP sockets: check /dev/infiniband, memlock and NCCL_IB_HCA in the container');
    expect(r.processes[0]!.socketFallback).toBe(true);
  });

  it('no IB device: "NET/IB : No device found." and the WARN that no net came up', () => {
    const noNet = release === '2.21'
      ? warn(release, procA, 'net.cc', 579, 'ncclNetInit', 'Error: network %s not found.', 'IB')
      : warn(release, procA, 'plugin/net.cc', 349, 'ncclNetInit', 'Failed to initialize any NET plugin');
    const lines = [versionLine(release, procA), info(procA, 'NCCL_IB_HCA set to %s', '=mlx5_0'), info(procA, 'NET/IB : No device found.'), noNet];
    const r = check(lines);
    expect(codes(r)).toEqual(['spark-a:4242: fail no-ib-device, fail no-net']);
    expect(r.processes[0]!.problems[1]!.message).toBe(release === '2.21' ? 'no network transport came up: "Error: network IB not found."' : 'no network transport came up: "Failed to initialize any NET plugin"');
    expect(r.processes[0]!.problems[0]!.fix).toContain('compare NCCL_IB_HCA (=mlx5_0) with spark-rdma devices');
  });

  it('GPUDirect attempted: channels ending in /GDRDMA fail', () => {
    const r = check(healthyDualRail(release, { gdr: true }));
    expect(codes(r)[0]).toBe('spark-a:4242: fail gdr');
    expect(r.processes[0]!.problems[0]!.message).toBe('GPUDirect RDMA was attempted: 8 channel line(s) end in /GDRDMA');
    expect(r.processes[0]!.gdrAttempted).toBe(true);
  });
});

describe('net plugins', () => {
  it('a plugin that really loaded fails; "Could not find" lines (NCCL_NET_PLUGIN=none working, or no plugin set) do not', () => {
    // 2.27: src/plugin/net/net_v8.cc "NET/Plugin: Loaded net plugin %s (v8)", src/plugin/net.cc "Successfully loaded external plugin %s".
    const loaded = [
      versionLine('2.27', procA),
      info(procA, 'NET/Plugin: Loaded net plugin %s (v%d)', 'IBext_v8', 8),
      info(procA, 'Successfully loaded external plugin %s', 'libnccl-net.so'),
      info(procA, 'Using network %s', 'IBext_v8'),
      channel('2.27', procA, { ch: 0, me: 0, peer: 1, dir: 'send', net: 'IBext_v8', netDev: 0 }),
    ];
    const r = check(loaded);
    expect(codes(r)).toEqual(['spark-a:4242: fail plugin-loaded']);
    expect(r.processes[0]!.problems[0]!.message).toBe('an external net plugin loaded: IBext_v8 (Using network IBext_v8)');
    expect(r.processes[0]!.pluginLoaded).toBe('IBext_v8');
    // 2.28+: "Successfully loaded external network plugin %s".
    const r30 = check([info(procA, 'Successfully loaded external network plugin %s', '/opt/hpcx/nccl_rdma_sharp_plugin/lib/libnccl-net.so')]);
    expect(r30.processes[0]!.pluginLoaded).toBe('/opt/hpcx/nccl_rdma_sharp_plugin/lib/libnccl-net.so');
    // 2.28.9 with no plugin set: src/plugin/plugin_open.cc "%s/Plugin: Could not find:%s%s%s".
    const fine = healthyDualRail('2.30');
    fine.splice(2, 0, info(procA, '%s/Plugin: Could not find:%s%s%s', 'NET', ' libnccl-net.so', '', ''));
    expect(check(fine).ok).toBe(true);
  });
});

describe('log shapes', () => {
  it('2.21 merged NICs: one channel index stands for both devices', () => {
    const lines = [
      versionLine('2.21', procA),
      ibUsingMerged221(procA, SPARK_DEVS, 'enp1s0f1np1', '192.168.100.10'),
      info(procA, 'Using network %s', 'IB'),
      channel('2.21', procA, { ch: 0, me: 0, peer: 1, dir: 'send', net: 'IB', netDev: 0 }),
    ];
    const r = check(lines, { devices: ['rocep1s0f1:1', 'roceP2p1s0f1:1'] });
    expect(r.processes[0]!.railsUsed).toEqual(['rocep1s0f1:1', 'roceP2p1s0f1:1']);
    expect(r.ok).toBe(true);
  });

  it('2.27+ virtual devices: "Made virtual device [2] name=a+b" maps channel index 2 to both', () => {
    const lines = [
      ibUsing(procA, SPARK_DEVS, 'enp1s0f1np1', '192.168.100.10'),
      info(procA, 'NET/IB : Made virtual device [%d] name=%s speed=%d ndevs=%d', 2, 'rocep1s0f1+roceP2p1s0f1', 200000, 2),
      info(procA, 'Using network %s', 'IB'),
      channel('2.27', procA, { ch: 0, me: 0, peer: 1, dir: 'send', net: 'IB', netDev: 2 }),
    ];
    expect(check(lines, { devices: ['rocep1s0f1', 'roceP2p1s0f1'] }).processes[0]!.railsUsed).toEqual(['rocep1s0f1:1', 'roceP2p1s0f1:1']);
  });

  it('2.30 device names with a rail or plane suffix ("[0]dev:1:0/RoCE") still map to dev:1', () => {
    // src/transport/net_ib/init.cc (2.30): " [%d]%s:%d" then ":%d" (rail) or ":" and ":%d" (plane), then "/%s".
    const line = info(procA, 'NET/IB : Using%s %s; OOB %s:%s', ' [0]rocep1s0f1:1:0/RoCE [1]roceP2p1s0f1:1::1/RoCE', '', 'enp1s0f1np1', '192.168.100.10<0>');
    const r = check([line, info(procA, 'Using network %s', 'IB')]);
    expect(r.processes[0]!.devices.map((d) => `${d.name}:${d.port}`)).toEqual(['rocep1s0f1:1', 'roceP2p1s0f1:1']);
  });

  it('without the host:pid prefix (and with other tools\' prefixes) the lines still count', () => {
    const bare = healthyDualRail('2.27').filter((l) => l.startsWith('spark-a')).map((l) => l.replace(/^spark-a:4242:4300 \[0\] /, ''));
    const r = check(bare, { devices: ['rocep1s0f1:1', 'roceP2p1s0f1:1'] });
    expect(r.processes.map((p) => p.process)).toEqual([null]);
    expect(r.ok).toBe(true);
    const tagged = healthyDualRail('2.27').map((l) => `(RayWorkerWrapper pid=77, ip=192.168.100.10) ${l}`);
    expect(check(tagged).processes.map((p) => p.process)).toEqual(['spark-a:4242', 'spark-b:5151']);
  });

  it('expected rails: --devices wins over the log, then this machine\'s rails when the log has no NCCL_IB_HCA', () => {
    const r = check(healthyDualRail('2.30'), { devices: ['rocep1s0f1:1', 'rocep1s0f0:1'] });
    expect(codes(r)[0]).toBe('spark-a:4242: fail rail-not-opened, warn unexpected-rail');
    expect(r.processes[0]!.problems[0]!.message).toBe('rail rocep1s0f0:1 (from --devices) is not among the devices NCCL opened (rocep1s0f1:1, roceP2p1s0f1:1)');
    const noHca = healthyDualRail('2.30').filter((l) => !l.includes('NCCL_IB_HCA set to'));
    const m = check(noHca, { machineRails: ['rxe0:1'] });
    expect(m.processes[0]!.expected.source).toBe('machine');
    expect(m.ok).toBe(false);
  });

  it('variables: a pinned NCCL_IB_GID_INDEX warns, NCCL_IB_DISABLE=1 fails, others are listed as not from the config', () => {
    const r = check(healthyDualRail('2.27', {
      variables: [['NCCL_IB_GID_INDEX', '3', 'int'], ['NCCL_IB_DISABLE', '1', 'int'], ['NCCL_TOPO_FILE', '/opt/topo.xml', 'str']],
    }));
    expect(codes(r)[0]).toBe('spark-a:4242: warn gid-index-pinned, fail ib-disabled');
    expect(r.processes[0]!.variables).toContainEqual({ name: 'NCCL_TOPO_FILE', value: '/opt/topo.xml', setByConfig: false });
    expect(r.processes[0]!.problems[0]!.message).toContain('set by the environment or an NCCL conf file (NCCL logs both as "set by environment"');
  });

  it('an NCCL older than 2.21 warns that NCCL_IB_GID_INDEX=-1 fails there', () => {
    const lines = healthyDualRail('2.21').map((l) => l.replace('NCCL version 2.21.5', 'NCCL version 2.19.3'));
    expect(codes(check(lines))[0]).toBe('spark-a:4242: warn old-nccl');
  });

  it('a truncated log (cut mid-init, mid-line) fails: no channels', () => {
    const full = healthyDualRail('2.27');
    const cut = full.slice(0, full.findIndex((l) => l.includes('Channel')));
    const text = `${cut.join('\n')}\n${full[cut.length]!.slice(0, 30)}`; // no newline at the end
    const r = checkNcclLogText(text);
    expect(codes(r)).toEqual(['spark-a:4242: fail no-channels', 'spark-b:5151: fail no-channels']);
    expect(r.processes[0]!.problems[0]!.cause).toContain('the log is truncated');
    const early = checkNcclLogText(`${full.slice(0, 3).join('\n')}\n`);
    expect(early.processes.every((p) => p.problems.some((x) => x.code === 'no-network-line'))).toBe(true);
  });
});

describe('spark-rdma nccl-check (CLI)', () => {
  const file = (name: string, content: string | Buffer) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  it('healthy log: exit 0, a summary naming both processes; --json carries schemaVersion', async () => {
    const path = file('healthy.log', `${healthyDualRail('2.30').join('\n')}\n`);
    const r = await cli(['nccl-check', path]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')[0]).toMatch(/^spark-rdma nccl-check: .*healthy\.log: \d+ lines, \d+ from NCCL, 2 processes; ok: every process used NET\/IB on its expected rails$/);
    expect(r.stdout).toContain('spark-a:4242 rank 0 of 2, NCCL 2.30.7');
    expect(r.stdout).toContain('channel lines per rail: rocep1s0f1:1 4, roceP2p1s0f1:1 4');
    const j = await cli(['nccl-check', path, '--json']);
    const json = JSON.parse(j.stdout) as NcclLogReport & { source: string };
    expect(json.schemaVersion).toBe(1);
    expect(json.ok).toBe(true);
    expect(json.processes).toHaveLength(2);
  });

  it('a broken log exits 1 and prints cause and fix', async () => {
    const r = await cli(['nccl-check', file('gdr.log', `${healthyDualRail('2.27', { gdr: true }).join('\n')}\n`)]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('FAIL  gdr: GPUDirect RDMA was attempted');
    expect(r.stdout).toContain('fix: pass NCCL_NET_GDR_LEVEL=LOC');
  });

  it('reads standard input with -', async () => {
    const r = await cli(['nccl-check', '-', '--devices', 'rocep1s0f1:1,roceP2p1s0f1:1'], `${healthyDualRail('2.21').join('\n')}\n`);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('standard input');
  });

  it('an empty file, a binary file, a missing file and a directory exit 2', async () => {
    const empty = await cli(['nccl-check', file('empty.log', '')]);
    expect(empty.code).toBe(2);
    expect(empty.stdout).toContain('FAIL  no-nccl-lines: no NCCL log line in 0 line(s) of input');
    const binary = await cli(['nccl-check', file('core.bin', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0x4e, 0x43]))]);
    expect(binary.code).toBe(2);
    expect(binary.stderr).toMatch(/^spark-rdma: .*core\.bin is a binary file \(a NUL byte at offset 7\), not an NCCL log\nhint: /);
    expect(binary.stdout).toBe('');
    const missing = await cli(['nccl-check', join(dir, 'nope.log')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nope.log (ENOENT)');
    expect((await cli(['nccl-check', dir])).code).toBe(2);
  });
});

describe('a 200 MB log', () => {
  it('streams with bounded memory and still finds the one broken process', async () => {
    const path = join(dir, 'big.log');
    // Two healthy hosts repeated, and a third process whose channels run over sockets, near the end.
    const block = `${healthyDualRail('2.27').join('\n')}\n${'x'.repeat(100)} unrelated application output\n`;
    const target = 200 * 1024 * 1024;
    const copies = Math.ceil(target / Buffer.byteLength(block));
    const { openSync, writeSync, closeSync, statSync } = await import('node:fs');
    const fd = openSync(path, 'w');
    const perChunk = Math.ceil((4 * 1024 * 1024) / Buffer.byteLength(block));
    const chunk = block.repeat(perChunk);
    let blocks = 0;
    for (; blocks < copies; blocks += perChunk) writeSync(fd, chunk);
    const procC = { host: 'spark-c', pid: 6161, tid: 6170, cudaDev: 0 };
    writeSync(fd, `${hostRun({ release: '2.27', proc: procC, rank: 2, nranks: 3, peer: 0, devs: SPARK_DEVS, oobIf: 'enp1s0f1np1', oobIp: '192.168.100.12', net: 'Socket' }).join('\n')}\n`);
    closeSync(fd);
    expect(statSync(path).size).toBeGreaterThan(target);

    global.gc?.();
    const base = process.memoryUsage();
    let peak = 0;
    const { createReadStream } = await import('node:fs');
    const stream = createReadStream(path, { highWaterMark: 256 * 1024 });
    stream.on('data', () => {
      const m = process.memoryUsage();
      peak = Math.max(peak, m.heapUsed + m.arrayBuffers - (base.heapUsed + base.arrayBuffers));
    });
    const r = await checkNcclLogStream(stream, path, {});
    rmSync(path);
    expect(r.processes.map((p) => p.process)).toEqual(['spark-a:4242', 'spark-b:5151', 'spark-c:6161']);
    expect(codes(r)[2]).toContain('fail socket-fallback');
    // Every one of the 8 channel lines per block counted: nothing was dropped on the way.
    expect(r.processes[0]!.channels.map((c) => c.count)).toEqual([blocks * 4, blocks * 4]);
    // Holding the log would take > 200 MB; streaming holds a chunk and a line. Generous bound for GC slack.
    expect(peak).toBeLessThan(64 * 1024 * 1024);
  }, 600_000);
});

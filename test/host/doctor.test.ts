import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { doctor, type DoctorOptions } from '../../lib/doctor/doctor.js';
import { parseMemlock } from '../../lib/doctor/procfs.js';
import { renderDoctorText } from '../../lib/doctor/render.js';
import type { DoctorCheck, DoctorReport } from '../../lib/doctor/types.js';
import { brokenSpark, type HostTree } from '../fixtures/host.js';
import { tempHosts } from '../fixtures/temp-trees.js';
import { brokenVariants, dgxSparkNode, noRdmaMachine, rxePair, type SparkIpLayout } from '../fixtures/sysfs.js';

const host = tempHosts();

function diagnose(t: HostTree, extra: Partial<DoctorOptions> = {}): DoctorReport {
  return doctor({ sysfsRoot: t.sysfs, procRoot: t.proc, etcRoot: t.etc, devRoot: t.dev, homeDir: t.home, env: {}, ...extra });
}

const find = (r: DoctorReport, id: string, subject?: string): DoctorCheck => {
  const c = r.checks.find((x) => x.id === id && (subject === undefined || x.subject === subject));
  if (!c) throw new Error(`no check ${id} ${subject ?? ''} in ${r.checks.map((x) => `${x.id} ${x.subject}`).join(', ')}`);
  return c;
};
const notPassing = (r: DoctorReport) => r.checks.filter((c) => c.status !== 'pass').map((c) => `${c.status} ${c.id} ${c.subject ?? ''}`.trim());

const LAYOUTS: SparkIpLayout[] = ['subnet-per-function', 'link-local', 'one-subnet'];

describe.each(LAYOUTS)('doctor on a healthy DGX Spark, IP layout %s', (layout) => {
  it.each([0, 1])('node %i: every check passes, the uncabled port is ignored', (node) => {
    const r = diagnose(host(dgxSparkNode({ ipLayout: layout, node: node as 0 | 1 })));
    expect(notPassing(r)).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.counts).toEqual({ pass: r.checks.length, warn: 0, fail: 0, skip: 0 });
    expect(r.checks.map((c) => `${c.id} ${c.subject ?? ''}`.trim())).toEqual([
      'rdma-devices',
      'rails',
      'link rocep1s0f1:1 (enp1s0f1np1)',
      'link roceP2p1s0f1:1 (enP2p1s0f1np1)',
      'ipv4 enp1s0f1np1 + enP2p1s0f1np1',
      'mtu enp1s0f1np1', 'gid rocep1s0f1:1', 'pcie rocep1s0f1 (0000:01:00.1)',
      'mtu enP2p1s0f1np1', 'gid roceP2p1s0f1:1', 'pcie roceP2p1s0f1 (0002:01:00.1)',
      'memlock', 'dev-infiniband', 'nccl-conf', 'cma',
    ]);
    const rails = find(r, 'rails');
    expect(rails.summary).toBe('2 rails: rocep1s0f1:1 (enp1s0f1np1), roceP2p1s0f1:1 (enP2p1s0f1np1)');
    expect(rails.evidence.map((e) => e.value)).toContain('DOWN (enp1s0f0np0: not cabled, ignored)');
    expect(find(r, 'gid', 'rocep1s0f1:1').summary).toContain('at index 3');
  });
});

describe('doctor on broken machines: each fault found, with its evidence and fix', () => {
  it('rxe pair: the PCIe check says skipped (no PCIe function), everything else passes', () => {
    const r = diagnose(host(rxePair(), { devInfiniband: ['rdma_cm', 'uverbs0', 'uverbs1'] }));
    expect(notPassing(r)).toEqual(['skip pcie rxe0', 'skip pcie rxe1']);
    expect(r.ok).toBe(true);
    expect(find(r, 'pcie', 'rxe0').summary).toBe('skipped: rxe0 is not a PCIe function (a virtual device such as rxe), so it has no PCIe link to check');
    expect(renderDoctorText(r).split('\n')[0]).toMatch(/, 0 fail, 2 skipped$/);
    expect(find(r, 'ipv4', 'rail0').summary).toBe('rail0 has IPv4: rail0 10.77.0.1');
  });

  it('MTU 1500: warn on each rail, RoCE at 1024 = 92.6 % instead of 98.0 %', () => {
    const t = host(brokenSpark.mtu1500());
    const r = diagnose(t);
    expect(notPassing(r)).toEqual(['warn mtu enp1s0f1np1', 'warn mtu enP2p1s0f1np1']);
    expect(r.ok).toBe(true);
    const c = find(r, 'mtu', 'enp1s0f1np1');
    expect(c.summary).toBe('netdev MTU 1500: RoCE runs at path MTU 1024, 92.6 % of line rate instead of 98.0 % at 4096');
    expect(c.evidence).toEqual([{ path: join(t.sysfs, 'class', 'net', 'enp1s0f1np1', 'mtu'), value: '1500' }]);
    expect(c.fix).toContain('sudo ip link set dev enp1s0f1np1 mtu 9000');
  });

  it('second function without IPv4: warn, about half the bandwidth, with the address to add', () => {
    const t = host(brokenSpark.secondFunctionNoIpv4());
    const r = diagnose(t);
    expect(notPassing(r)).toEqual(['warn ipv4 enp1s0f1np1 + enP2p1s0f1np1']);
    const c = find(r, 'ipv4');
    expect(c.summary).toContain('enP2p1s0f1np1 has no IPv4 while enp1s0f1np1 has');
    expect(c.summary).toContain('only about half of the 200 Gb/s port is usable');
    expect(c.fix).toContain('sudo ip addr add 192.168.101.10/24 dev enP2p1s0f1np1');
    expect(c.evidence[1]).toEqual({ path: join(t.sysfs, 'class', 'infiniband', 'roceP2p1s0f1', 'ports', '1', 'gids'), value: 'no IPv4-mapped GID on enP2p1s0f1np1' });
    expect(r.checks.some((x) => x.id === 'gid' && x.subject === 'roceP2p1s0f1:1')).toBe(false);
  });

  it('no IPv4 anywhere: fail', () => {
    const r = diagnose(host(brokenVariants.noIpv4(), { devInfiniband: ['rdma_cm', 'uverbs0'] }));
    const c = find(r, 'ipv4');
    expect(c.status).toBe('fail');
    expect(c.summary).toContain('no IPv4 address on rail0');
    expect(r.ok).toBe(false);
  });

  it('IPv6 globals: warn that the IPv4 RoCE v2 GID moved to index 5; a pinned NCCL_IB_GID_INDEX=3 fails naming index 5; -1 passes', () => {
    const t = host(brokenSpark.ipv6Globals());
    const r = diagnose(t);
    expect(notPassing(r)).toEqual(['warn gid rocep1s0f1:1', 'warn gid roceP2p1s0f1:1']);
    const c = find(r, 'gid', 'rocep1s0f1:1');
    expect(c.summary).toContain('is index 5, shifted by 1 IPv6 global address (2 table entries)');
    expect(c.evidence.map((e) => e.value)).toContain('2001:0db8:0100:0000:0000:0000:0000:0010 (IPv6 global, RoCE v1)');
    expect(c.evidence[0]).toEqual({ path: join(t.sysfs, 'class', 'infiniband', 'rocep1s0f1', 'ports', '1', 'gids', '5'), value: '0000:0000:0000:0000:0000:ffff:c0a8:640a' });
    expect(c.fix).toContain('keep NCCL_IB_GID_INDEX=-1 or unset');
    const pinned = diagnose(t, { env: { NCCL_IB_GID_INDEX: '3' } });
    const p = find(pinned, 'gid', 'rocep1s0f1:1');
    expect(p.status).toBe('fail');
    expect(p.summary).toBe('NCCL_IB_GID_INDEX=3 in this environment, but the IPv4 RoCE v2 GID of rocep1s0f1:1 (192.168.100.10) is index 5; index 3 is an IPv6 global GID (RoCE v2)');
    expect(p.fix).toBe('unset it or set NCCL_IB_GID_INDEX=-1 (NCCL >= 2.21 then finds index 5 itself; spark-rdma config nccl sets -1), or NCCL_IB_GID_INDEX=5 for older NCCL');
    expect(pinned.ok).toBe(false);
    // -1 is NCCL's automatic choice (2.21+), what spark-rdma config nccl emits: not a pin.
    const auto = diagnose(t, { env: { NCCL_IB_GID_INDEX: '-1' } });
    expect(notPassing(auto)).toEqual(['warn gid rocep1s0f1:1', 'warn gid roceP2p1s0f1:1']);
    const healthy = diagnose(host(dgxSparkNode()), { env: { NCCL_IB_GID_INDEX: '-1' } });
    expect(notPassing(healthy)).toEqual([]);
    expect(find(healthy, 'gid', 'rocep1s0f1:1').summary).toBe('IPv4 RoCE v2 GID of 192.168.100.10 at index 3 (NCCL_IB_GID_INDEX=-1 in this environment: NCCL >= 2.21 finds it)');
  });

  it('a PCIe function whose link attributes are absent: the check says skipped instead of vanishing', () => {
    const t = host(dgxSparkNode());
    rmSync(join(t.sysfs, 'class', 'infiniband', 'roceP2p1s0f1', 'device', 'current_link_width'));
    const r = diagnose(t);
    expect(notPassing(r)).toEqual(['skip pcie roceP2p1s0f1 (0002:01:00.1)']);
    const c = find(r, 'pcie', 'roceP2p1s0f1 (0002:01:00.1)');
    expect(c.summary).toBe(`skipped: ${join(t.sysfs, 'class', 'infiniband', 'roceP2p1s0f1', 'device', 'current_link_width')} is absent or unreadable, so the PCIe link width cannot be checked`);
    expect(c.fix).toBe("check by hand: sudo lspci -vv -s 0002:01:00.1 | grep -E 'LnkCap|LnkSta'");
  });

  it('RoCE v1 only: fail on the GID check', () => {
    const r = diagnose(host(brokenVariants.roceV1Only(), { devInfiniband: ['rdma_cm', 'uverbs0'] }));
    const c = find(r, 'gid', 'mlx5_0:1');
    expect(c.status).toBe('fail');
    expect(c.summary).toBe('10.1.0.1 has a RoCE v1 GID only: RoCE v2 (routable, what NCCL uses) is missing');
  });

  it('carrier down on the second function while the first is up: fail with the cable fix', () => {
    const t = host(brokenSpark.carrierDown());
    const r = diagnose(t);
    expect(notPassing(r)).toEqual(['fail link roceP2p1s0f1:1 (enP2p1s0f1np1)']);
    const c = find(r, 'link', 'roceP2p1s0f1:1 (enP2p1s0f1np1)');
    expect(c.summary).toBe('no carrier on enP2p1s0f1np1 while enp1s0f1np1 on the same port is up: the port is DOWN');
    expect(c.evidence).toContainEqual({ path: join(t.sysfs, 'class', 'net', 'enP2p1s0f1np1', 'carrier'), value: '0' });
    expect(c.fix).toContain('reseat the QSFP cable');
    expect(r.ok).toBe(false);
    expect(find(r, 'rails').summary).toBe('1 rail: rocep1s0f1:1 (enp1s0f1np1)');
  });

  it('PCIe x2: warn with current and maximum width as evidence', () => {
    const t = host(brokenSpark.pcieX2());
    const r = diagnose(t);
    expect(notPassing(r)).toEqual(['warn pcie roceP2p1s0f1 (0002:01:00.1)']);
    const c = find(r, 'pcie', 'roceP2p1s0f1 (0002:01:00.1)');
    expect(c.summary).toContain('PCIe link trained at x2 of x4: this function gets about 50 % of its bandwidth');
    const dir = join(t.sysfs, 'class', 'infiniband', 'roceP2p1s0f1', 'device');
    expect(c.evidence.slice(0, 2)).toEqual([{ path: join(dir, 'current_link_width'), value: '2' }, { path: join(dir, 'max_link_width'), value: '4' }]);
    expect(c.fix).toContain('fwupdmgr');
  });

  it('/etc/nccl.conf present: warn, naming what applies; an HCA that is no device here fails naming the right value', () => {
    const t = host(dgxSparkNode(), { ncclConf: '# from an old image\nNCCL_IB_HCA=mlx5_0\nNCCL_NET_GDR_LEVEL=PHB\nNCCL_TOPO_FILE=/opt/topo.xml\n' });
    const r = diagnose(t);
    const etcConf = join(t.etc, 'nccl.conf');
    expect(notPassing(r)).toEqual(['warn nccl-conf', 'fail nccl-ib-hca']);
    const c = find(r, 'nccl-conf');
    expect(c.summary).toContain('NCCL reads ~/.nccl.conf, then /etc/nccl.conf with setenv(name, value, 0): the environment always wins');
    expect(c.summary).toContain('spark-rdma config nccl does not set NCCL_TOPO_FILE=/opt/topo.xml, so these apply to every NCCL process here, even with its environment');
    expect(c.summary).toContain('NCCL_IB_HCA=mlx5_0, NCCL_NET_GDR_LEVEL=PHB apply only where the launch environment lacks them');
    expect(c.evidence.map((e) => e.value)).toEqual(['(absent)', 'NCCL_IB_HCA=mlx5_0', 'NCCL_NET_GDR_LEVEL=PHB', 'NCCL_TOPO_FILE=/opt/topo.xml']);
    expect(c.fix).toContain(`sudo mv ${etcConf} ${etcConf}.disabled`);
    const hca = find(r, 'nccl-ib-hca');
    expect(hca.summary).toBe(
      `NCCL_IB_HCA=mlx5_0 from ${etcConf} selects none of this machine's rails (rocep1s0f1:1, roceP2p1s0f1:1); there is no device mlx5_0 here: ` +
        'NCCL logs "NET/IB : No device found." and, with NCCL_NET=IB, aborts (else falls back to sockets)');
    expect(hca.fix).toBe(`delete the NCCL_IB_HCA line from ${etcConf}, or set NCCL_IB_HCA==rocep1s0f1:1,roceP2p1s0f1:1 (dual rail) or ==rocep1s0f1:1 (single); spark-rdma config nccl writes it`);
    expect(r.ok).toBe(false);
    expect(find(diagnose(host(dgxSparkNode(), { ncclConf: '# nothing\n' })), 'nccl-conf').status).toBe('pass');
  });

  it('NCCL conf files in NCCL\'s order: the environment wins, NCCL_CONF_FILE replaces ~/.nccl.conf, the first file wins over /etc/nccl.conf', () => {
    const t = host(dgxSparkNode(), {
      userNcclConf: 'NCCL_IB_GID_INDEX=3\nNCCL_NET=Socket\n',
      ncclConf: 'NCCL_IB_GID_INDEX=0\nNCCL_IB_DISABLE=1\n',
    });
    const home = join(t.home, '.nccl.conf');
    const etcConf = join(t.etc, 'nccl.conf');
    // ~/.nccl.conf comes first: its NCCL_IB_GID_INDEX=3 wins over /etc's 0; 3 is right on this node today, so it only warns.
    const r = diagnose(t);
    expect(find(r, 'gid', 'rocep1s0f1:1').summary).toBe(`NCCL_IB_GID_INDEX=3 from ${home} matches today, but breaks when addresses change the table`);
    expect(find(r, 'nccl-ib-disable').status).toBe('fail');
    expect(find(r, 'nccl-ib-disable').summary).toBe(`NCCL_IB_DISABLE=1 from ${etcConf} turns off the IB/RoCE transport: NCCL runs over TCP sockets, or with NCCL_NET=IB aborts`);
    expect(find(r, 'nccl-ib-disable').fix).toBe(`delete the NCCL_IB_DISABLE line from ${etcConf} (or set NCCL_IB_DISABLE=0 in the launch environment)`);
    // The environment wins: the same files with NCCL_IB_GID_INDEX=-1 and NCCL_IB_DISABLE=0 in the environment pass.
    const env = diagnose(t, { env: { NCCL_IB_GID_INDEX: '-1', NCCL_IB_DISABLE: '0' } });
    expect(find(env, 'gid', 'rocep1s0f1:1').status).toBe('pass');
    expect(env.checks.some((c) => c.id === 'nccl-ib-disable')).toBe(false);
    // NCCL_CONF_FILE replaces ~/.nccl.conf (not /etc/nccl.conf): its index 5 is wrong here and fails, naming 3.
    const own = join(t.home, 'own.conf');
    writeFileSync(own, 'NCCL_IB_GID_INDEX=5\n');
    const custom = diagnose(t, { env: { NCCL_CONF_FILE: own } });
    const gid = find(custom, 'gid', 'rocep1s0f1:1');
    expect(gid.status).toBe('fail');
    expect(gid.summary).toBe(`NCCL_IB_GID_INDEX=5 from ${own}, but the IPv4 RoCE v2 GID of rocep1s0f1:1 (192.168.100.10) is index 3; index 5 is not populated`);
    expect(gid.fix).toContain(`delete the line from ${own} or set in the launch environment NCCL_IB_GID_INDEX=-1`);
    const conf = find(custom, 'nccl-conf');
    expect(conf.summary).toContain('NCCL reads NCCL_CONF_FILE, then /etc/nccl.conf');
    expect(conf.evidence.map((e) => e.path)).toEqual([`${own} (NCCL_CONF_FILE)`, `${etcConf} (/etc/nccl.conf)`, `${etcConf} (/etc/nccl.conf)`]);
  });

  it('NCCL_IB_HCA: exact names pass; a prefix that also catches another device warns', () => {
    const t = host(dgxSparkNode());
    expect(find(diagnose(t, { env: { NCCL_IB_HCA: '=rocep1s0f1:1,roceP2p1s0f1:1' } }), 'nccl-ib-hca').status).toBe('pass');
    const prefix = find(diagnose(t, { env: { NCCL_IB_HCA: 'roce' } }), 'nccl-ib-hca');
    expect(prefix.status).toBe('warn');
    expect(prefix.summary).toContain('also selects rocep1s0f1, roceP2p1s0f1 by prefix');
    expect(find(diagnose(t, { env: { NCCL_IB_HCA: '^rocep1s0f1,roceP2p1s0f1' } }), 'nccl-ib-hca').status).toBe('fail');
  });

  it('CmaTotal 0 and a kernel without CMA: warn', () => {
    const t = host(dgxSparkNode(), { cmaTotalKb: 0 });
    const c = find(diagnose(t), 'cma');
    expect(c.status).toBe('warn');
    expect(c.summary).toMatch(/^CmaTotal is 0 kB: no contiguous memory pool is reserved/);
    expect(c.evidence).toEqual([{ path: `${join(t.proc, 'meminfo')} CmaTotal`, value: '0 kB' }]);
    expect(c.fix).toContain('cma=');
    expect(find(diagnose(host(dgxSparkNode(), { cmaTotalKb: null })), 'cma').summary).toContain('no CmaTotal in meminfo');
  });

  it('low memlock: fail; the fix depends on whether the hard limit allows raising it', () => {
    const t = host(dgxSparkNode(), { memlock: { soft: 8388608, hard: 8388608 } });
    const r = diagnose(t);
    expect(notPassing(r)).toEqual(['fail memlock']);
    const c = find(r, 'memlock');
    expect(c.summary).toBe('memlock limit 8MiB is below the 1GiB the planned registrations need: ibv_reg_mr fails with ENOMEM (NCCL falls back or aborts)');
    expect(c.evidence[0]!.path).toBe(`${join(t.proc, 'self', 'limits')} "Max locked memory"`);
    expect(c.evidence[0]!.value).toMatch(/^Max locked memory\s+8388608\s+8388608\s+bytes$/);
    expect(c.fix).toMatch(/^raise the hard limit too: put "\* soft memlock unlimited"/);
    expect(c.fix).toContain('/etc/security/limits.d/');
    expect(c.fix).toContain('--ulimit memlock=-1');
    const raisable = find(diagnose(host(dgxSparkNode(), { memlock: { soft: 65536, hard: 'unlimited' } })), 'memlock');
    expect(raisable.fix).toMatch(/^ulimit -l unlimited \(in this shell/);
    expect(find(diagnose(t, { memlockNeeded: 4 * 2 ** 20 }), 'memlock').status).toBe('pass');
  });

  it('low memlock in a process holding CAP_IPC_LOCK (root): warn, since other processes are not exempt', () => {
    const t = host(dgxSparkNode(), { memlock: { soft: 8388608, hard: 8388608 }, ipcLock: true });
    const c = find(diagnose(t), 'memlock');
    expect(c.status).toBe('warn');
    expect(c.summary).toContain('this process is exempt (it holds CAP_IPC_LOCK');
    expect(c.evidence[1]).toEqual({ path: `${join(t.proc, 'self', 'status')} CapEff`, value: '000001ffffffffff (CAP_IPC_LOCK)' });
  });

  it('memlock through an injected reader, and an unreadable limit', () => {
    const t = host(dgxSparkNode());
    const limit = parseMemlock('Max locked memory         unlimited            unlimited            bytes', 'ulimit -l');
    expect(find(diagnose(t, { readMemlock: () => limit }), 'memlock').summary).toBe('memlock limit unlimited, enough for 1GiB of registrations');
    expect(find(diagnose(t, { readMemlock: () => null }), 'memlock').status).toBe('warn');
  });

  it('/dev/infiniband missing: fail; not accessible: fail; no rdma_cm: warn', () => {
    const missing = find(diagnose(host(dgxSparkNode(), { devInfiniband: null })), 'dev-infiniband');
    expect(missing.status).toBe('fail');
    expect(missing.fix).toContain('sudo modprobe ib_uverbs');
    expect(missing.fix).toContain('--device /dev/infiniband:/dev/infiniband');
    const t = host(dgxSparkNode());
    const denied = find(diagnose(t, { canAccess: (p) => !p.endsWith('uverbs1') }), 'dev-infiniband');
    expect(denied.status).toBe('fail');
    expect(denied.summary).toBe('uverbs1 not readable and writable by this user');
    expect(denied.fix).toContain(`sudo chmod 0666 ${join(t.dev, 'infiniband', 'uverbs1')}`);
    const noCm = find(diagnose(host(dgxSparkNode(), { devInfiniband: ['uverbs0', 'uverbs1', 'uverbs2', 'uverbs3'] })), 'dev-infiniband');
    expect(noCm.status).toBe('warn');
    expect(noCm.fix).toBe('sudo modprobe rdma_ucm');
    const few = find(diagnose(host(dgxSparkNode(), { devInfiniband: ['rdma_cm', 'uverbs0'] })), 'dev-infiniband');
    expect(few.summary).toBe('1 uverbs device(s) for 4 RDMA devices: some devices cannot be opened');
  });

  it('a kernel without RDMA: rdma-devices fails, no rails check', () => {
    const t = host(noRdmaMachine(), { devInfiniband: null });
    const r = diagnose(t);
    const c = find(r, 'rdma-devices');
    expect(c.status).toBe('fail');
    expect(c.summary).toBe(`no ${join(t.sysfs, 'class', 'infiniband')}: this kernel has no RDMA support loaded`);
    expect(r.checks.some((x) => x.id === 'rails')).toBe(false);
  });

  it('every port down: the rails check fails with the cable and link-up fix', () => {
    const r = diagnose(host(brokenVariants.allDown(), { devInfiniband: ['rdma_cm', 'uverbs0', 'uverbs1'] }));
    const c = find(r, 'rails');
    expect(c.status).toBe('fail');
    expect(c.fix).toContain('sudo ip link set dev rail0 up; sudo ip link set dev rail1 up');
  });

  it('renders text: a summary line, then each check with its evidence, fixes only for warn and fail', () => {
    const t = host(brokenSpark.mtu1500());
    const text = renderDoctorText(diagnose(t));
    expect(text.split('\n')[0]).toBe('spark-rdma doctor: 15 checks, 13 pass, 2 warn, 0 fail');
    expect(text).toContain(`WARN  mtu enp1s0f1np1: netdev MTU 1500: RoCE runs at path MTU 1024`);
    expect(text).toContain(`      ${join(t.sysfs, 'class', 'net', 'enp1s0f1np1', 'mtu')} = 1500`);
    expect(text).toContain('      fix: sudo ip link set dev enp1s0f1np1 mtu 9000');
    expect(text.match(/fix: /g)).toHaveLength(2);
  });

  it('rejects a negative memlock size', () => {
    expect(() => doctor({ memlockNeeded: -1 })).toThrow('memlockNeeded -1 must be a whole number of bytes >= 0');
  });
});

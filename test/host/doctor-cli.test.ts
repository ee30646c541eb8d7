// `spark-rdma doctor` in-process through main(argv, io): exit codes, --json, roots from options and environment.
import { describe, expect, it } from 'vitest';
import { main } from '../../lib/cli/main.js';
import type { DoctorReport } from '../../lib/doctor/types.js';
import { brokenSpark, type HostTree } from '../fixtures/host.js';
import { tempHosts } from '../fixtures/temp-trees.js';
import { dgxSparkNode } from '../fixtures/sysfs.js';

const host = tempHosts();

async function run(argv: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), env });
  return { code, stdout, stderr };
}
const rootFlags = (t: HostTree) => ['--sysfs-root', t.sysfs, '--proc-root', t.proc, '--etc-root', t.etc, '--dev-root', t.dev, '--home-dir', t.home];

describe('spark-rdma doctor', () => {
  it('healthy machine: exit 0, text report', async () => {
    const r = await run(['doctor', ...rootFlags(host(dgxSparkNode()))]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')[0]).toBe('spark-rdma doctor: 15 checks, 15 pass, 0 warn, 0 fail');
  });

  it('warnings alone exit 0', async () => {
    const r = await run(['doctor', ...rootFlags(host(brokenSpark.mtu1500()))]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('WARN  mtu enp1s0f1np1');
  });

  it('a failed check exits 1 and names it on stderr; --json keeps stdout pure JSON', async () => {
    const t = host(brokenSpark.carrierDown(), { memlock: { soft: 65536, hard: 65536 } });
    const r = await run(['doctor', '--json', ...rootFlags(t)]);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as DoctorReport;
    expect(report.ok).toBe(false);
    expect(report.counts.fail).toBe(2);
    expect(report.roots).toEqual({ sysfs: t.sysfs, proc: t.proc, etc: t.etc, dev: t.dev, home: t.home });
    expect(report.checks.find((c) => c.id === 'memlock')!.status).toBe('fail');
    expect(r.stderr).toBe('spark-rdma: doctor: 2 checks failed: link roceP2p1s0f1:1 (enP2p1s0f1np1), memlock\n');
  });

  it('reads the roots from SPARK_RDMA_SYSFS_ROOT, _PROC_ROOT, _ETC_ROOT and _DEV_ROOT', async () => {
    const t = host(dgxSparkNode(), { ncclConf: 'NCCL_NET=Socket\n', devInfiniband: null });
    const r = await run(['doctor', '--json'], {
      SPARK_RDMA_SYSFS_ROOT: t.sysfs, SPARK_RDMA_PROC_ROOT: t.proc, SPARK_RDMA_ETC_ROOT: t.etc, SPARK_RDMA_DEV_ROOT: t.dev, SPARK_RDMA_HOME_DIR: t.home,
    });
    const report = JSON.parse(r.stdout) as DoctorReport;
    expect(report.roots).toEqual({ sysfs: t.sysfs, proc: t.proc, etc: t.etc, dev: t.dev, home: t.home });
    expect(report.checks.filter((c) => c.status !== 'pass').map((c) => `${c.status} ${c.id}`)).toEqual(['fail dev-infiniband', 'warn nccl-conf']);
    expect(r.code).toBe(1);
  });

  it('--memlock-needed sets the planned registration size', async () => {
    const t = host(dgxSparkNode(), { memlock: { soft: 64 * 2 ** 20, hard: 64 * 2 ** 20 } });
    expect((await run(['doctor', ...rootFlags(t)])).code).toBe(1);
    const r = await run(['doctor', '--memlock-needed', '32M', ...rootFlags(t)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('PASS  memlock: memlock limit 64MiB, enough for 32MiB of registrations');
    const bad = await run(['doctor', '--memlock-needed', 'lots', ...rootFlags(t)]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--memlock-needed "lots" is not a byte size');
  });
});

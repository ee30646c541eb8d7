// The soft-RoCE VM harness (scripts/vm/run.mjs) booting a real guest. Each boot costs seconds
// under TCG, so every test gets as much as it can out of one boot.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';

const repo = join(import.meta.dirname, '../..');
const runMjs = join(repo, 'scripts', 'vm', 'run.mjs');
// Generous: a loaded CI machine under TCG boots in seconds, but sometimes in tens of them.
const BOOT_TEST_MS = 180_000;

// The host environment without harness settings a developer may have exported.
function harnessEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const name of ['SPARK_RDMA_VM_TIMEOUT', 'SPARK_RDMA_VM_VERBOSE', 'SPARK_RDMA_VM_BOOT_TIMEOUT', 'SPARK_RDMA_VM_TIMER_FIFO']) {
    if (!(name in extra)) delete env[name];
  }
  return env;
}

function runHarness(args: string[], extraEnv: Record<string, string> = {}) {
  return spawnSync(process.execPath, [runMjs, ...args], {
    cwd: repo,
    encoding: 'utf8',
    timeout: BOOT_TEST_MS - 10_000,
    env: harnessEnv(extraEnv),
  });
}

test(
  "the command's exit status becomes the harness's, its stdout reaches the host untouched",
  () => {
    // Quotes, spaces and $ in arguments must arrive as they were given.
    const r = runHarness(['--', 'sh', '-c', 'printf "%s|" "$@"; echo to-stderr >&2; exit 3', 'sh', "it's", 'a b', '$HOME']);
    expect(r.status, r.stderr).toBe(3);
    // Exactly the command's output: no boot noise, no harness messages, no \r from a tty.
    expect(r.stdout).toBe("it's|a b|$HOME|");
    expect(r.stderr).toContain('to-stderr\n');
    expect(r.stderr).toMatch(/spark-vm: booted in [\d.]+ s, rxe0 and rxe1 ACTIVE after [\d.]+ s \((kvm|tcg)/);
  },
  BOOT_TEST_MS,
);

test(
  'the guest has rxe0 on rail0 and rxe1 on rail1, ACTIVE, active_mtu 4096, the hostname spark-vm and the harness environment',
  () => {
    const script = [
      'pwd',
      'echo "VM=$SPARK_RDMA_VM RAILS=$SPARK_RDMA_TEST_RAILS EXTRA=$EXTRA HOME=$HOME"',
      'echo "MEMLOCK=$(ulimit -l)"',
      'echo "HOST=$(hostname) $(getent hosts spark-vm)"',
      'echo ===rdma; rdma link show',
      'echo ===ibv_devices; ibv_devices',
      'echo ===devinfo; ibv_devinfo -d rxe0',
    ].join('; ');
    const r = runHarness(['--env', 'EXTRA=x y', '--', 'sh', '-c', script]);
    expect(r.status, r.stderr).toBe(0);
    const [head = '', rdma = '', devices = '', devinfo = ''] = r.stdout.split(/===\w+\n/);
    const [pwd, envLine, memlock, hostLine] = head.trim().split('\n');
    expect(pwd).toBe(repo);
    expect(envLine).toBe(`VM=1 RAILS=rxe0,rxe1 EXTRA=x y HOME=${process.env.HOME}`);
    expect(memlock).toBe('MEMLOCK=unlimited');
    // A named host that resolves: Open MPI refuses the "(none)" of an unnamed one.
    expect(hostLine).toMatch(/^HOST=spark-vm 127\.0\.1\.1\s+spark-vm$/);
    expect(rdma).toMatch(/link rxe0\/1 state ACTIVE physical_state LINK_UP netdev rail0/);
    expect(rdma).toMatch(/link rxe1\/1 state ACTIVE physical_state LINK_UP netdev rail1/);
    expect(devices).toMatch(/^\s+rxe0\s+[0-9a-f]{16}$/m);
    expect(devices).toMatch(/^\s+rxe1\s+[0-9a-f]{16}$/m);
    expect(devinfo).toMatch(/state:\s+PORT_ACTIVE \(4\)/);
    expect(devinfo).toMatch(/active_mtu:\s+4096 \(5\)/);
    expect(devinfo).toMatch(/link_layer:\s+Ethernet/);
  },
  BOOT_TEST_MS,
);

test(
  'a run past --timeout is killed: exit 124 and a message that names the deadline',
  () => {
    const started = Date.now();
    const r = runHarness(['--timeout', '1', '--', 'sleep', '30']);
    expect(r.status).toBe(124);
    expect(r.stderr).toMatch(/spark-vm: timed out: the (guest was still booting|guest was still creating rails|command was still running) at the deadline of 1 s \(--timeout \/ SPARK_RDMA_VM_TIMEOUT\); QEMU killed/);
    expect(Date.now() - started).toBeLessThan(20_000);
  },
  BOOT_TEST_MS,
);

test(
  'SIGTERM to the harness kills QEMU and exits 143',
  async () => {
    const child = spawn(process.execPath, [runMjs, '--', 'sleep', '300'], { cwd: repo, env: harnessEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // Wait until the guest is up (QEMU running, rails ACTIVE), with a deadline.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the guest was not ready in time: ${stderr}`)), BOOT_TEST_MS - 30_000);
      child.stderr.on('data', () => {
        if (stderr.includes('ACTIVE after')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const childrenFile = `/proc/${child.pid}/task/${child.pid}/children`;
    const qemuPids = readFileSync(childrenFile, 'utf8').trim().split(/\s+/).filter(Boolean);
    expect(qemuPids.length).toBe(1);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    expect(stderr).toMatch(/spark-vm: interrupted by SIGTERM; QEMU killed/);
    // Reaped by the harness before it exited: no such process any more.
    expect(existsSync(`/proc/${qemuPids[0]}`)).toBe(false);
  },
  BOOT_TEST_MS,
);

test('bad arguments are one clear line and exit 125, before anything boots', () => {
  const noCommand = runHarness([]);
  expect(noCommand.status).toBe(125);
  expect(noCommand.stderr).toMatch(/^spark-vm: no command given; usage: node scripts\/vm\/run\.mjs/);
  const badTimeout = runHarness(['--timeout', 'soon', '--', 'true']);
  expect(badTimeout.status).toBe(125);
  expect(badTimeout.stderr).toBe('spark-vm: --timeout soon is not a positive number of seconds; pass e.g. --timeout 600\n');
  const badEnv = runHarness(['--env', '1X=2', '--', 'true']);
  expect(badEnv.status).toBe(125);
  expect(badEnv.stderr).toMatch(/--env 1X=2: "1X" is not a variable name; use --env NAME=VALUE/);
});

test('a missing guest kernel is a clear error that names the package to install', async () => {
  const { findKernel } = await import('../../scripts/vm/kernel.mjs');
  const emptyBoot = mkdtempSync(join(tmpdir(), 'spark-vm-boot-'));
  try {
    expect(() => findKernel({}, emptyBoot)).toThrow(
      `no guest kernel: found no ${emptyBoot}/vmlinuz-*; install the Debian package linux-image-amd64 (apt-get install linux-image-amd64)`,
    );
    writeFileSync(join(emptyBoot, 'vmlinuz-0.0.0-test'), '');
    expect(() => findKernel({}, emptyBoot)).toThrow(/guest kernel 0\.0\.0-test has no \/lib\/modules\/<version>\/modules\.dep; install the Debian package linux-image-amd64/);
  } finally {
    rmSync(emptyBoot, { recursive: true, force: true });
  }
  const r = runHarness(['--', 'true'], { SPARK_RDMA_VM_KERNEL: '/nonexistent/vmlinuz-0.0.0-test' });
  expect(r.status).toBe(125);
  expect(r.stderr).toBe(
    'spark-vm: SPARK_RDMA_VM_KERNEL=/nonexistent/vmlinuz-0.0.0-test is not an existing file named vmlinuz-<version>; unset it or point it at /boot/vmlinuz-<version>\n',
  );
});

test(
  "SPARK_RDMA_VM_TIMER_FIFO raises the booted QEMU's main loop alone, and the harness says so",
  () => {
    // The guest cannot see the host's /proc: what is checked is the harness's read-back (chrt on
    // the QEMU it spawned), next to a guest that ran its command as usual.
    const r = runHarness(['--', 'sh', '-c', 'echo guest-ran'], { SPARK_RDMA_VM_TIMER_FIFO: '10' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('guest-ran\n');
    expect(r.stderr).toMatch(/QEMU's main loop \(pid \d+, the guest's timers\): scheduling policy: SCHED_FIFO\|SCHED_RESET_ON_FORK; scheduling priority: 10\n/);
  },
  BOOT_TEST_MS,
);

// Bad input without RDMA hardware (issue 7, section 2): `spark-rdma bw`/`lat` arguments and the
// runBandwidth/runLatency options are refused before discovery touches a device, each with one
// line naming the value, the limit and the fix (exit 2, whether the parser or the options catch
// it: issue 21) and no stack trace unless --debug; and the device-limit rule itself, fed
// the limits of a ConnectX-7 and of a small device. (The same checks against rxe's real limits
// run in test/rxe/bad-input.test.ts.)
import { afterAll, describe, expect, test } from 'vitest';
import type { DeviceInfo } from '../../binding.js';
import { runBandwidth } from '../../lib/bandwidth/index.js';
import { main } from '../../lib/cli/main.js';
import { RdmaError } from '../../lib/errors.js';
import { runLatency } from '../../lib/latency/index.js';
import { deviceLimitProblem } from '../../lib/run/device-limits.js';
import { plannedCqEntries } from '../../lib/verbs/cq-size.js';
import { makeSysfsTree, rxePair } from '../fixtures/sysfs.js';

const tree = makeSysfsTree(rxePair());
afterAll(() => tree.cleanup());

const STACK_FRAME = /^\s+at .+:\d+:\d+\)?$/m;

async function cli(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), env: {} });
  return { code, stdout, stderr };
}

describe('spark-rdma bw: one line naming the value, the limit and the fix', () => {
  const bw = (...args: string[]) => cli(['bw', '--loopback', '--sysfs-root', tree.root, ...args]);

  test.each([
    [['--size', '0'], /--size "0" \(0 bytes\) is out of range: it must be from 1B \(1\) to 2GiB \(2147483648\) bytes/],
    [['--size', '3G'], /--size "3G" \(3221225472 bytes\) is out of range: it must be from 1B \(1\) to 2GiB \(2147483648\) bytes/],
    [['--qps', '5000'], /--qps 5000: expected a whole number from 1 to 4096/],
    [['--tx-depth', '0'], /--tx-depth 0: expected a whole number from 1 to 1048576/],
    [['--mtu', '9000'], /--mtu 9000: expected a whole number from 256 to 4096/],
    [['--duration', 'soon'], /--duration soon: expected seconds, e.g. 5 or 0.5/],
  ])('the parser refuses %j: exit 2', async (args, message) => {
    const r = await bw(...args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const first = r.stderr.split('\n')[0]!;
    expect(first).toMatch(/^spark-rdma: error: option '.+' argument '.+' is invalid\. /);
    expect(first).toMatch(message);
    expect(r.stderr).not.toMatch(STACK_FRAME);
  });

  test.each([
    [['--duration', '0'], '--duration 0: a run must last longer than 0 s', 'pass --duration 5 (seconds), or --iters N'],
    [['--iters', '100', '--duration', '5'], 'both a duration and an iteration count were given', 'pass either --duration or --iters, not both'],
    [['--rails', '2', '--devices', 'rxe0'], 'both --rails and --devices were given', 'pass one of them: --rails N takes the first N rails, --devices names them'],
    [['--tx-depth', '64', '--signal-every', '100'], 'signaling every 100 WRs with a tx depth of 64 would never free the queue', 'pass --signal-every at most the tx depth'],
    [['--tx-depth', '16', '--post-list', '32'], 'post list 32 exceeds the tx depth 16', 'a doorbell cannot carry more WRs than may be outstanding: lower --post-list or raise --tx-depth'],
    [['--mtu', '3000'], 'MTU 3000 is not a RoCE path MTU: it must be one of 256, 512, 1024, 2048, 4096 bytes', "pass --mtu 4096 (netdev MTU 9000) or 1024 (netdev MTU 1500), or leave it out to use the port's active MTU"],
    [['--devices', 'mlx5_9'], 'device mlx5_9 is not a rail here (rails: rxe0:1, rxe1:1)', 'pass --devices with names that `spark-rdma devices` lists as rails'],
    [['--rails', '3'], 'asked for 3 rails, this machine has 2 (rxe0, rxe1)', 'pass --rails 2 or fewer; bring the other ports up (spark-rdma doctor) to use more'],
  ])('the options refuse %j: exit 2, the message and its hint', async (args, message, hint) => {
    const r = await bw(...args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`spark-rdma: ${message}\nhint: ${hint}\n`);
  });

  test('--debug adds the error fields and the stack, and only then', async () => {
    const plain = await bw('--duration', '0');
    expect(plain.stderr).not.toMatch(STACK_FRAME);
    const debug = await bw('--duration', '0', '--debug');
    expect(debug.code).toBe(2);
    expect(debug.stderr).toMatch(/^spark-rdma: --duration 0: a run must last longer than 0 s$/m);
    expect(debug.stderr).toMatch(/"code":"ERR_RDMA_INVALID_ARGUMENT"/);
    expect(debug.stderr).toMatch(STACK_FRAME);
  });
});

describe('spark-rdma lat', () => {
  test.each([
    [['--iters', '100', '--duration', '1'], 'both a duration and an iteration count were given'],
    [['--mtu', '2000'], 'MTU 2000 is not a RoCE path MTU: it must be one of 256, 512, 1024, 2048, 4096 bytes'],
    [['--rails', '1', '--devices', 'rxe1'], 'both --rails and --devices were given'],
  ])('refuses %j with exit 2', async (args, message) => {
    const r = await cli(['lat', '--loopback', '--sysfs-root', tree.root, ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(`spark-rdma: ${message}`);
    expect(r.stderr).toMatch(/^hint: /m);
  });
});

describe('the API refuses the same before any device is opened', () => {
  async function refusal(run: PromiseLike<unknown>): Promise<RdmaError> {
    const err = await Promise.resolve(run).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RdmaError);
    expect((err as RdmaError).code).toBe('ERR_RDMA_INVALID_ARGUMENT');
    return err as RdmaError;
  }
  const base = { loopback: true, sysfsRoot: tree.root } as const;

  test.each([
    [{ sizes: [0] }, 'message size 0 is out of range: it must be from 1 byte to 2 GiB'],
    [{ sizes: [2 ** 31 + 1] }, 'message size 2147483649 is out of range: it must be from 1 byte to 2 GiB'],
    [{ durationMs: 0 }, 'duration 0 s is not positive'],
    [{ durationMs: 1000, iterations: 10 }, 'both a duration and an iteration count were given'],
    [{ qps: 0 }, 'QPs per rail 0 is out of range: it must be a whole number from 1 to 4096'],
    [{ txDepth: 8, signalEvery: 9 }, 'signaling every 9 WRs with a tx depth of 8 would never free the queue'],
    [{ mtu: 1500 }, 'MTU 1500 is not a RoCE path MTU: it must be one of 256, 512, 1024, 2048, 4096 bytes'],
    [{ rails: 1, devices: ['rxe0'] }, 'both --rails and --devices were given'],
  ])('runBandwidth(%j)', async (options, message) => {
    const err = await refusal(runBandwidth({ ...base, ...options }));
    expect(err.message).toBe(message);
    expect(err.hint).toBeTruthy();
  });

  test('runBandwidth without a peer or loopback, and runLatency with bad sizes', async () => {
    const noPeer = await refusal(runBandwidth({ sysfsRoot: tree.root }));
    expect(noPeer.message).toBe('runBandwidth needs a peer address or loopback: true');
    const lat = await refusal(runLatency({ ...base, sizes: [] }));
    expect(lat.message).toBe('no message sizes given');
    const timer = await refusal(runLatency({ ...base, timer: 'rdtsc' as never }));
    expect(timer.message).toBe("timer 'rdtsc' is not one of auto, clock, counter");
    expect(timer.hint).toBe('pass --timer auto (the default), clock or counter');
  });

  test('spark-rdma lat --timer takes auto, clock or counter only: exit 2 naming the choices', async () => {
    const r = await cli(['lat', '--loopback', '--sysfs-root', tree.root, '--timer', 'rdtsc']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe("spark-rdma: error: option '--timer <kind>' argument 'rdtsc' is invalid. Allowed choices are auto, clock, counter.");
    expect(r.stderr).not.toMatch(STACK_FRAME);
  });
});

describe('the device-limit rule, with other devices than rxe', () => {
  // ConnectX-7 as ibv_devinfo -v reports it on a DGX Spark; a small device to reach every limit.
  function device(limits: Partial<DeviceInfo['limits']>, activeMtu = 4096): DeviceInfo {
    return {
      name: 'mlx5_0',
      nodeGuid: '0000:0000:0000:0000',
      sysImageGuid: '0000:0000:0000:0000',
      vendorId: 0x02c9,
      vendorPartId: 4129,
      hwVer: 0,
      firmware: '28.39.1002',
      nodeType: 'CA',
      limits: { maxQp: 131072, maxQpWr: 32768, maxCq: 16777216, maxCqe: 4194303, maxMr: 16777216, maxMrSize: 2n ** 64n - 1n, maxPd: 8388608, maxSge: 30, maxQpRdAtom: 16, ...limits },
      ports: [{ port: 1, state: 'ACTIVE', physState: 'LINK_UP', activeMtu, maxMtu: 4096, linkLayer: 'Ethernet', rateGbps: 200, lid: 0, gidTableLength: 255, gids: [] }],
    };
  }
  const rail = { device: 'mlx5_0', port: 1, netdev: 'enp1s0f1np1' };
  const plan = { qps: 4, txDepth: 128, regionBytes: 65536 };

  test('a plan that fits is fine', () => {
    expect(deviceLimitProblem(rail, device({}), plan)).toBeNull();
    expect(plannedCqEntries(plan)).toBe(516);
    expect(plannedCqEntries({ qps: 1, txDepth: 1 })).toBe(64);
  });

  test.each([
    ['tx depth past max_qp_wr (ConnectX-7)', { ...plan, txDepth: 40000 }, {}, "tx depth 40000 exceeds mlx5_0's max_qp_wr of 32768", 'pass --tx-depth 32768 or less'],
    ['QPs past max_qp', { ...plan, qps: 300 }, { maxQp: 256 }, "300 QPs per rail exceed mlx5_0's max_qp of 256", 'pass --qps 256 or fewer'],
    ['a message past max_mr_size', { ...plan, regionBytes: 2 ** 31 }, { maxMrSize: 2n ** 30n }, "message size 2147483648 exceeds mlx5_0's max_mr_size of 1073741824", 'pass a smaller --size'],
    ['the shared CQ past max_cqe', { ...plan, qps: 64, txDepth: 1024 }, { maxCqe: 65535 }, "64 QP(s) x (tx depth 1024 + 1) = 65600 completion-queue entries exceed mlx5_0's max_cqe of 65535", 'pass --tx-depth 1022 or less, or fewer --qps'],
    ['so many QPs that no depth fits', { ...plan, qps: 40000, txDepth: 1 }, { maxQp: 65536, maxCqe: 65535 }, "40000 QP(s) x (tx depth 1 + 1) = 80000 completion-queue entries exceed mlx5_0's max_cqe of 65535", 'pass fewer --qps (at most 32767 with --tx-depth 1)'],
  ])('%s', (_name, p, limits, message, hint) => {
    const problem = deviceLimitProblem(rail, device(limits), p);
    expect(problem?.message).toBe(message);
    expect(problem?.hint).toBe(hint);
  });

  test('a requested MTU above the port\'s active MTU names both and the netdev', () => {
    const problem = deviceLimitProblem(rail, device({}, 1024), { ...plan, mtu: 4096 });
    expect(problem?.message).toBe("MTU 4096 exceeds mlx5_0 port 1's active MTU 1024");
    expect(problem?.hint).toBe('pass --mtu 1024 or less, or raise the netdev MTU of enp1s0f1np1 (9000 allows 4096)');
  });
});

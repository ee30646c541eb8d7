// Rail discovery on fixture sysfs trees: every case real machines show (issue 2, section 3).
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { RdmaError } from '../../lib/errors.js';
import { discoverRails, discoverRdma, type DiscoverOptions } from '../../lib/rails/discover.js';
import { listDevicesFromSysfs } from '../../lib/sysfs/devices.js';
import {
  brokenVariants,
  dgxSparkNode,
  ipv4Gid,
  noRdmaMachine,
  rxePair,
  type MachineSpec,
} from '../fixtures/sysfs.js';
import { tempTrees } from '../fixtures/temp-trees.js';

const { tree } = tempTrees();

function rails(spec: MachineSpec, opts: DiscoverOptions = {}) {
  return discoverRails({ sysfsRoot: tree(spec), ...opts });
}

describe('soft-RoCE pair (what the VM has)', () => {
  for (const layout of ['symlinks', 'plain'] as const) {
    test(`rxe0/rail0 and rxe1/rail1, every field (${layout} layout)`, () => {
      const found = rails(rxePair({ layout }));
      expect(found).toEqual([
        {
          index: 0, device: 'rxe0', port: 1, netdev: 'rail0', ipv4: '10.77.0.1',
          gidIndex: 1, gid: ipv4Gid('10.77.0.1'), gidIndexSource: 'ipv4-rocev2',
          activeMtu: 4096, activeMtuSource: 'netdev-mtu', rateGbps: 2.5,
          state: 'ACTIVE', physState: 'LINK_UP', netdevMtu: 9000, carrier: true, pciAddress: null, reason: null,
        },
        {
          index: 1, device: 'rxe1', port: 1, netdev: 'rail1', ipv4: '10.77.1.1',
          gidIndex: 1, gid: '0000:0000:0000:0000:0000:ffff:0a4d:0101', gidIndexSource: 'ipv4-rocev2',
          activeMtu: 4096, activeMtuSource: 'netdev-mtu', rateGbps: 2.5,
          state: 'ACTIVE', physState: 'LINK_UP', netdevMtu: 9000, carrier: true, pciAddress: null, reason: null,
        },
      ]);
    });
  }

  test('netdev MTU 1500 gives active MTU 1024, as the kernel derives it', () => {
    expect(rails(rxePair({ mtu: 1500 })).map((r) => [r.netdevMtu, r.activeMtu])).toEqual([[1500, 1024], [1500, 1024]]);
  });

  test('devices list every port with its populated GID table', () => {
    const devices = listDevicesFromSysfs(tree(rxePair()));
    expect(devices.map((d) => d.name)).toEqual(['rxe0', 'rxe1']);
    const rxe0 = devices[0]!;
    expect(rxe0.pciAddress).toBeNull();
    expect(rxe0.nodeType).toBe('CA');
    expect(rxe0.firmware).toBe('0.0.0');
    expect(rxe0.nodeGuid).toMatch(/^[0-9a-f]{4}(:[0-9a-f]{4}){3}$/);
    const port = rxe0.ports[0]!;
    expect(port).toMatchObject({ port: 1, state: 'ACTIVE', physState: 'LINK_UP', linkLayer: 'Ethernet', rate: '2.5 Gb/sec (1X SDR)', netdev: 'rail0', operstate: 'up', gidTableLength: 16 });
    expect(port.gids).toHaveLength(2);
    expect(port.gids[0]).toMatchObject({ index: 0, type: 'RoCE v2', netdev: 'rail0', ipv4: null });
    expect(port.gids[0]!.gid).toMatch(/^fe80:0000:0000:0000:/);
    expect(port.gids[1]).toEqual({ index: 1, gid: '0000:0000:0000:0000:0000:ffff:0a4d:0001', type: 'RoCE v2', netdev: 'rail0', ipv4: '10.77.0.1' });
  });
});

describe('DGX Spark (four ConnectX-7 functions, the cabled port\'s two up)', () => {
  test('subnet per function: two rails in device order, RoCE v2 IPv4 GID at index 3 (v1 and v2 per address)', () => {
    const found = rails(dgxSparkNode({ ipLayout: 'subnet-per-function' }));
    expect(found.map((r) => [r.index, r.device, r.port, r.netdev, r.ipv4, r.gidIndex])).toEqual([
      [0, 'rocep1s0f1', 1, 'enp1s0f1np1', '192.168.100.10', 3],
      [1, 'roceP2p1s0f1', 1, 'enP2p1s0f1np1', '192.168.101.10', 3],
    ]);
    for (const r of found) {
      expect(r).toMatchObject({ activeMtu: 4096, rateGbps: 200, state: 'ACTIVE', physState: 'LINK_UP', netdevMtu: 9000, carrier: true, reason: null });
    }
    expect(found.map((r) => r.pciAddress)).toEqual(['0000:01:00.1', '0002:01:00.1']);
  });

  test('the peer node gets .11 addresses and the same rail order', () => {
    const found = rails(dgxSparkNode({ node: 1 }));
    expect(found.map((r) => [r.device, r.ipv4])).toEqual([['rocep1s0f1', '192.168.100.11'], ['roceP2p1s0f1', '192.168.101.11']]);
  });

  test('RoCE v1 and v2 entries for the same address: v2 is chosen', () => {
    const root = tree(dgxSparkNode());
    const gids = listDevicesFromSysfs(root).find((d) => d.name === 'rocep1s0f1')!.ports[0]!.gids;
    expect(gids.filter((g) => g.ipv4 === '192.168.100.10').map((g) => [g.index, g.type])).toEqual([[2, 'RoCE v1'], [3, 'RoCE v2']]);
    expect(discoverRails({ sysfsRoot: root })[0]!.gidIndex).toBe(3);
  });

  test('link-local 169.254/16 addresses are rails like any other', () => {
    const found = rails(dgxSparkNode({ ipLayout: 'link-local' }));
    expect(found.map((r) => [r.ipv4, r.gidIndex])).toEqual([['169.254.100.10', 3], ['169.254.101.10', 3]]);
  });

  test('both functions in one /24', () => {
    const found = rails(dgxSparkNode({ ipLayout: 'one-subnet' }));
    expect(found.map((r) => r.ipv4)).toEqual(['192.168.100.10', '192.168.100.12']);
  });

  test('an IPv6 global address shifts the IPv4 RoCE v2 index from 3 to 5', () => {
    expect(rails(dgxSparkNode({ ipv6Globals: 1 })).map((r) => r.gidIndex)).toEqual([5, 5]);
  });

  test('the uncabled functions are listed as devices but are not rails', () => {
    const devices = listDevicesFromSysfs(tree(dgxSparkNode()));
    expect(devices.map((d) => d.name)).toEqual(['rocep1s0f0', 'rocep1s0f1', 'roceP2p1s0f0', 'roceP2p1s0f1']);
    const down = devices[0]!.ports[0]!;
    expect(down).toMatchObject({ state: 'DOWN', physState: 'DISABLED', netdev: 'enp1s0f0np0', netdevMtu: 1500, carrier: false, operstate: 'down', rateGbps: 40 });
    expect(devices.map((d) => d.pciAddress)).toEqual(['0000:01:00.0', '0000:01:00.1', '0002:01:00.0', '0002:01:00.1']);
  });

  test('plain-directory tree (no symlinks) gives the same rails, PCI address from device/uevent', () => {
    const a = rails(dgxSparkNode({ layout: 'plain' }));
    const b = rails(dgxSparkNode({ layout: 'symlinks' }));
    expect(a).toEqual(b);
  });
});

describe('awkward GID tables', () => {
  test('two IPv6 globals before the IPv4 address: index 3 instead of 1', () => {
    expect(rails(brokenVariants.ipv6Shifted())[0]).toMatchObject({ ipv4: '10.77.0.1', gidIndex: 3, gidIndexSource: 'ipv4-rocev2' });
  });

  test('all-zero entries are unused and skipped', () => {
    const root = tree(brokenVariants.zeroGaps());
    expect(listDevicesFromSysfs(root)[0]!.ports[0]!.gids.map((g) => g.index)).toEqual([0, 4]);
    expect(discoverRails({ sysfsRoot: root })[0]).toMatchObject({ ipv4: '10.77.0.1', gidIndex: 4 });
  });

  test('a GID whose type file fails to read is treated as unused', () => {
    const root = tree(brokenVariants.unreadableGidType());
    expect(listDevicesFromSysfs(root)[0]!.ports[0]!.gids.map((g) => g.index)).toEqual([0, 2]);
    expect(discoverRails({ sysfsRoot: root })[0]).toMatchObject({ ipv4: '10.77.0.1', gidIndex: 2 });
  });

  test('RoCE v1 only: the rail keeps its IPv4 but has no GID index, and says why', () => {
    const [rail] = rails(brokenVariants.roceV1Only());
    expect(rail).toMatchObject({ device: 'mlx5_0', ipv4: '10.1.0.1', gidIndex: null, gid: null, gidIndexSource: 'none', activeMtu: 4096, pciAddress: '0000:03:00.0' });
    expect(rail!.reason).toMatch(/RoCE v1.*RoCE v2 is needed/);
  });

  test('a netdev without IPv4 is a rail with ipv4 and gidIndex null and a reason naming the netdev', () => {
    const found = rails(brokenVariants.noIpv4());
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ device: 'rxe0', netdev: 'rail0', ipv4: null, gidIndex: null, gidIndexSource: 'none', activeMtu: 1024 });
    expect(found[0]!.reason).toContain('rail0 has no IPv4 address');
    expect(found[0]!.reason).toContain('ip addr add');
  });
});

describe('ports that are not rails', () => {
  test('InfiniBand link layer: listed, ACTIVE, not a rail', () => {
    const root = tree(brokenVariants.infiniband());
    expect(discoverRails({ sysfsRoot: root })).toEqual([]);
    const port = listDevicesFromSysfs(root)[0]!.ports[0]!;
    expect(port).toMatchObject({ state: 'ACTIVE', linkLayer: 'InfiniBand', netdev: null, activeMtu: null, rateGbps: 200 });
    expect(port.gids[0]!.type).toBe('IB');
  });

  test('ports DOWN are not rails; a down netdev has carrier false', () => {
    const root = tree(brokenVariants.allDown());
    expect(discoverRails({ sysfsRoot: root })).toEqual([]);
    expect(listDevicesFromSysfs(root).map((d) => [d.ports[0]!.state, d.ports[0]!.carrier])).toEqual([['DOWN', false], ['DOWN', false]]);
  });

  test('a kernel without RDMA: no devices, no rails, no error', () => {
    const d = discoverRdma({ sysfsRoot: tree(noRdmaMachine()) });
    expect(d.devices).toEqual([]);
    expect(d.rails).toEqual([]);
    expect(d.warnings).toEqual([]);
  });
});

describe('order', () => {
  test('by device name (case-insensitive, numbers as numbers) then port, indexed 0..n-1', () => {
    const spec: MachineSpec = {
      devices: ['mlx5_10', 'mlx5_2', 'roceP2p1s0f1', 'rocep1s0f1'].map((name, i) => ({
        name,
        pci: `0000:0${i}:00.0`,
        ports: [
          { port: 2, netdev: `${name}-b`, addresses: [`10.0.${i}.2`] },
          { port: 1, netdev: `${name}-a`, addresses: [`10.0.${i}.1`] },
        ],
      })),
    };
    const found = rails(spec);
    expect(found.map((r) => `${r.index}:${r.device}:${r.port}`)).toEqual([
      '0:mlx5_2:1', '1:mlx5_2:2', '2:mlx5_10:1', '3:mlx5_10:2',
      '4:rocep1s0f1:1', '5:rocep1s0f1:2', '6:roceP2p1s0f1:1', '7:roceP2p1s0f1:2',
    ]);
  });
});

describe('root and options', () => {
  test('SPARK_RDMA_SYSFS_ROOT redirects; the sysfsRoot option wins over it', () => {
    const rxe = tree(rxePair());
    const spark = tree(dgxSparkNode());
    expect(discoverRails({ env: { SPARK_RDMA_SYSFS_ROOT: rxe } }).map((r) => r.device)).toEqual(['rxe0', 'rxe1']);
    expect(discoverRails({ env: { SPARK_RDMA_SYSFS_ROOT: rxe }, sysfsRoot: spark }).map((r) => r.device)).toEqual(['rocep1s0f1', 'roceP2p1s0f1']);
  });

  test('a redirected root never calls verbs (no addon load attempted, no warnings)', () => {
    const d = discoverRdma({ sysfsRoot: tree(rxePair()), useVerbs: true });
    expect(d.redirected).toBe(true);
    expect(d.verbsUsed).toBe(false);
    expect(d.warnings).toEqual([]);
    expect(d.rails.every((r) => r.activeMtuSource === 'netdev-mtu')).toBe(true);
  });

  test('a redirected root that does not exist is an RdmaError naming it and the variable', () => {
    const missing = join(tree(noRdmaMachine()), 'no-such-dir');
    const attempt = () => discoverRails({ env: { SPARK_RDMA_SYSFS_ROOT: missing } });
    expect(attempt).toThrow(RdmaError);
    expect(attempt).toThrow(`sysfs root ${missing} does not exist (from SPARK_RDMA_SYSFS_ROOT)`);
  });

  test('the default root is /sys and reads what the machine has', () => {
    const d = discoverRdma({ env: {}, useVerbs: false });
    expect(d.root).toBe('/sys');
    expect(d.redirected).toBe(false);
    const expected = existsSync('/sys/class/infiniband') ? readdirSync('/sys/class/infiniband') : [];
    expect(d.devices.map((x) => x.name).sort()).toEqual(expected.sort());
  });

  test('fixture-only active_mtu file wins over the netdev-MTU derivation', () => {
    const [rail] = rails({ devices: [{ name: 'rxe0', pci: null, ports: [{ netdev: 'rail0', netdevMtu: 9000, activeMtu: 2048, addresses: ['10.77.0.1'] }] }] });
    expect(rail).toMatchObject({ activeMtu: 2048, activeMtuSource: 'fixture-file' });
  });

  test('carrier: 0 is false, unreadable on an up netdev is unknown (null)', () => {
    const found = rails({
      devices: [
        { name: 'rxe0', pci: null, ports: [{ netdev: 'rail0', carrier: false, addresses: ['10.77.0.1'] }] },
        { name: 'rxe1', pci: null, ports: [{ netdev: 'rail1', carrier: 'unreadable', operstate: 'up', addresses: ['10.77.1.1'] }] },
      ],
    });
    expect(found.map((r) => r.carrier)).toEqual([false, null]);
  });
});

describe('GID index override', () => {
  test('one number for every rail', () => {
    const found = rails(dgxSparkNode(), { gidIndex: 1 });
    expect(found.map((r) => [r.gidIndex, r.gidIndexSource, r.ipv4])).toEqual([[1, 'override', '192.168.100.10'], [1, 'override', '192.168.101.10']]);
    expect(found[0]!.gid).toMatch(/^fe80:/);
  });

  test('per device, and per device:port', () => {
    const found = rails(dgxSparkNode(), { gidIndex: { rocep1s0f1: 2, 'roceP2p1s0f1:1': 0 } });
    expect(found.map((r) => [r.device, r.gidIndex, r.gidIndexSource])).toEqual([['rocep1s0f1', 2, 'override'], ['roceP2p1s0f1', 0, 'override']]);
    expect(found[0]!.ipv4).toBe('192.168.100.10');
  });

  test('an unpopulated index is refused with the populated ones listed', () => {
    expect(() => rails(rxePair(), { gidIndex: 7 })).toThrow('GID index 7 is not a populated GID entry of rxe0 port 1 (populated: 0, 1)');
  });

  test('bad values and unknown devices are refused', () => {
    const root = tree(rxePair());
    for (const bad of [-1, 1.5, 70000]) {
      expect(() => discoverRails({ sysfsRoot: root, gidIndex: bad })).toThrow(`gidIndex must be an integer from 0 to 65535, got ${bad}`);
    }
    expect(() => discoverRails({ sysfsRoot: root, gidIndex: { rxe9: 1 } })).toThrow('gidIndex names device "rxe9", which does not exist (devices: rxe0, rxe1)');
    try {
      discoverRails({ sysfsRoot: root, gidIndex: { rxe9: 1 } });
    } catch (err) {
      expect(err).toBeInstanceOf(RdmaError);
      expect((err as RdmaError).code).toBe('ERR_RDMA_INVALID_ARGUMENT');
    }
  });
});

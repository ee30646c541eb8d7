// Real soft-RoCE rails (inside the VM harness, or any machine with rxe0/rail0 and rxe1/rail1):
// discoverRails() on the real /sys must agree with what `rdma link show` and `ibv_devinfo -v`
// print. Their output is parsed here, independently of lib/, as the cross-check.
import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, test } from 'vitest';
import { main } from '../../lib/cli/main.js';
import { discoverRdma, type Discovery } from '../../lib/rails/discover.js';
import { normalizeGid } from '../../lib/sysfs/gid.js';

interface RdmaLink {
  device: string;
  port: number;
  state: string;
  physState: string;
  netdev: string | null;
}

interface DevinfoPort {
  port: number;
  state: string;
  activeMtu: number;
  linkLayer: string;
  physState: string;
  widthLanes: number;
  laneGbps: number;
  gids: { index: number; gid: string; type: string }[];
}

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
}

// "link rxe0/1 state ACTIVE physical_state LINK_UP netdev rail0"
function parseRdmaLinks(text: string): RdmaLink[] {
  const links: RdmaLink[] = [];
  for (const line of text.split('\n')) {
    const m = /^link (\S+)\/(\d+) state (\S+) physical_state (\S+)(?: netdev (\S+))?/.exec(line.trim());
    if (m) links.push({ device: m[1]!, port: Number(m[2]), state: m[3]!, physState: m[4]!, netdev: m[5] ?? null });
  }
  return links;
}

// ibv_devinfo -v: "hca_id:\trxe0" blocks; per port "port:\t1" then "key:\t\tvalue (n)" lines and
// "GID[  1]:\t\t::ffff:10.77.0.1, RoCE v2".
function parseDevinfo(text: string): Map<string, DevinfoPort[]> {
  const devices = new Map<string, DevinfoPort[]>();
  for (const block of text.split(/^hca_id:/m).slice(1)) {
    const name = block.split('\n')[0]!.trim();
    const ports: DevinfoPort[] = [];
    for (const section of block.split(/^\s+port:\s+/m).slice(1)) {
      const field = (key: string) => new RegExp(`^\\s+${key}:\\s+(.+)$`, 'm').exec(section)?.[1]?.trim() ?? '';
      const gids = [...section.matchAll(/GID\[\s*(\d+)\]:\s+([^,\s]+)(?:,\s*(.+))?/g)].map((m) => ({
        index: Number(m[1]),
        gid: normalizeGid(m[2]!) ?? m[2]!,
        type: (m[3] ?? '').trim(),
      }));
      ports.push({
        port: Number(section.split('\n')[0]),
        state: field('state').replace(/^PORT_/, '').replace(/\s*\(\d+\)$/, ''),
        activeMtu: Number(/^(\d+)/.exec(field('active_mtu'))?.[1]),
        linkLayer: field('link_layer'),
        physState: field('phys_state').replace(/\s*\(\d+\)$/, ''),
        widthLanes: Number(/^(\d+)X/.exec(field('active_width'))?.[1]),
        laneGbps: Number(/^([\d.]+)\s*Gbps/.exec(field('active_speed'))?.[1]),
        gids,
      });
    }
    devices.set(name, ports);
  }
  return devices;
}

let links: RdmaLink[] = [];
let devinfo = new Map<string, DevinfoPort[]>();
let discovery: Discovery;

beforeAll(() => {
  links = parseRdmaLinks(run('rdma', ['link', 'show']));
  devinfo = parseDevinfo(run('ibv_devinfo', ['-v']));
  discovery = discoverRdma();
});

describe('rails on real rxe devices', () => {
  test('rxe0 and rxe1 exist (this suite fails rather than skips without them)', () => {
    const rxe = links.filter((l) => l.device.startsWith('rxe')).map((l) => l.device);
    expect(rxe, 'no rxe devices: run this suite with npm run test:rxe (the soft-RoCE VM)').toEqual(expect.arrayContaining(['rxe0', 'rxe1']));
    expect([...devinfo.keys()]).toEqual(expect.arrayContaining(['rxe0', 'rxe1']));
  });

  test('discoverRails() finds rxe0/rail0 10.77.0.1 and rxe1/rail1 10.77.1.1, in that order', () => {
    const rxe = discovery.rails.filter((r) => r.device.startsWith('rxe'));
    expect(rxe.map((r) => [r.device, r.port, r.netdev, r.ipv4, r.pciAddress])).toEqual([
      ['rxe0', 1, 'rail0', '10.77.0.1', null],
      ['rxe1', 1, 'rail1', '10.77.1.1', null],
    ]);
    expect(discovery.rails.map((r) => r.index)).toEqual(discovery.rails.map((_, i) => i));
  });

  test('the verbs cross-check ran and found nothing to complain about', () => {
    expect(discovery.redirected).toBe(false);
    expect(discovery.verbsUsed).toBe(true);
    expect(discovery.warnings).toEqual([]);
  });

  test('state, physical state and netdev match `rdma link show`', () => {
    for (const rail of discovery.rails.filter((r) => r.device.startsWith('rxe'))) {
      const link = links.find((l) => l.device === rail.device && l.port === rail.port);
      expect(link, `${rail.device}/${rail.port} in rdma link show`).toBeDefined();
      expect(rail.state).toBe(link!.state);
      expect(rail.physState).toBe(link!.physState);
      expect(rail.netdev).toBe(link!.netdev);
    }
  });

  test('active MTU, state, rate and the chosen GID match `ibv_devinfo -v`', () => {
    for (const rail of discovery.rails.filter((r) => r.device.startsWith('rxe'))) {
      const port = devinfo.get(rail.device)?.find((p) => p.port === rail.port);
      expect(port, `${rail.device} port ${rail.port} in ibv_devinfo`).toBeDefined();
      expect(port!.linkLayer).toBe('Ethernet');
      expect(rail.state).toBe(port!.state);
      expect(rail.physState).toBe(port!.physState);
      expect(rail.activeMtu).toBe(port!.activeMtu);
      expect(rail.activeMtuSource).toBe('verbs');
      expect(rail.rateGbps).toBeCloseTo(port!.widthLanes * port!.laneGbps, 1);
      // NCCL's rule, checked on ibv_devinfo's table: the first IPv4-mapped RoCE v2 entry.
      const ipv4Gid = normalizeGid(`::ffff:${rail.ipv4}`);
      const first = port!.gids.find((g) => g.type === 'RoCE v2' && g.gid.startsWith('0000:0000:0000:0000:0000:ffff:'));
      expect(first).toEqual({ index: rail.gidIndex, gid: ipv4Gid, type: 'RoCE v2' });
      expect(rail.gid).toBe(ipv4Gid);
    }
  });

  test('each port\'s GID table (index, GID, type) matches ibv_devinfo, netdevs match rdma link', () => {
    for (const device of discovery.devices.filter((d) => d.name.startsWith('rxe'))) {
      for (const port of device.ports) {
        const expected = devinfo.get(device.name)?.find((p) => p.port === port.port)?.gids ?? [];
        expect(port.gids.map((g) => ({ index: g.index, gid: g.gid, type: g.type }))).toEqual(expected);
        const netdev = links.find((l) => l.device === device.name && l.port === port.port)?.netdev;
        for (const g of port.gids) expect(g.netdev).toBe(netdev);
      }
    }
  });

  test('netdev MTU and carrier match the kernel, and the sysfs-only MTU derivation agrees with verbs', () => {
    const sysfsOnly = discoverRdma({ useVerbs: false });
    expect(sysfsOnly.verbsUsed).toBe(false);
    for (const rail of discovery.rails.filter((r) => r.device.startsWith('rxe'))) {
      const ipLink = run('ip', ['-o', 'link', 'show', 'dev', rail.netdev]);
      expect(rail.netdevMtu).toBe(Number(/ mtu (\d+) /.exec(ipLink)?.[1]));
      expect(rail.carrier).toBe(!/NO-CARRIER/.test(ipLink));
      const derived = sysfsOnly.rails.find((r) => r.device === rail.device && r.port === rail.port);
      expect(derived).toMatchObject({ activeMtu: rail.activeMtu, activeMtuSource: 'netdev-mtu', gidIndex: rail.gidIndex, ipv4: rail.ipv4 });
    }
  });

  test('spark-rdma devices --json reports the same rails', async () => {
    let stdout = '';
    const code = await main(['devices', '--json'], { stdout: (s) => (stdout += s), stderr: () => {}, env: {} });
    expect(code).toBe(0);
    const parsed = JSON.parse(stdout) as { rails: unknown[] };
    expect(parsed.rails).toEqual(JSON.parse(JSON.stringify(discovery.rails)));
  });
});

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { check, ev, inUse, portGroups, portPath, type CheckContext } from './context.js';
import type { DoctorCheck } from './types.js';

const LOAD_DRIVER =
  'ConnectX: sudo modprobe mlx5_ib (and install the DGX OS / MLNX OFED packages); without RDMA hardware: ' +
  'sudo modprobe rdma_rxe && sudo rdma link add rxe0 type rxe netdev <if>';

/** Are there RDMA devices at all? */
export function checkDevices(ctx: CheckContext): DoctorCheck {
  const dir = join(ctx.discovery.root, 'class', 'infiniband');
  const names = ctx.discovery.devices.map((d) => d.name);
  if (!existsSync(dir)) {
    return check('rdma-devices', null, 'fail', `no ${dir}: this kernel has no RDMA support loaded`, [ev(dir, '(missing)')], LOAD_DRIVER);
  }
  if (names.length === 0) return check('rdma-devices', null, 'fail', 'no RDMA devices', [ev(dir, '(empty)')], LOAD_DRIVER);
  return check('rdma-devices', null, 'pass', `${names.length} RDMA device${names.length === 1 ? '' : 's'}: ${names.join(', ')}`, [ev(dir, names.join(' '))]);
}

/** Which ports are rails, and which are ignored because their whole QSFP port is down (not cabled). */
export function checkRails(ctx: CheckContext): DoctorCheck | null {
  if (ctx.discovery.devices.length === 0) return null;
  const rails = ctx.discovery.rails;
  const unused = portGroups(ctx.discovery).filter((g) => !inUse(g)).flatMap((g) => g.members);
  const evidence = [
    ...rails.map((r) => ev(portPath(ctx, r.device, r.port, 'state'), `${r.state} (rail ${r.index}: ${r.netdev}, ${r.ipv4 ?? 'no IPv4'})`)),
    ...unused.map((m) => ev(portPath(ctx, m.device.name, m.port.port, 'state'), `${m.port.state} (${m.netdev}: not cabled, ignored)`)),
    ...ctx.discovery.warnings.map((w) => ev('discovery', w)),
  ];
  if (rails.length === 0) {
    const netdevs = unused.map((m) => m.netdev);
    return check(
      'rails', null, 'fail', 'no rail: no port is ACTIVE with link layer Ethernet and a netdev', evidence,
      `plug in the QSFP cable (same port on both machines) and bring the netdevs up: ${netdevs.map((n) => `sudo ip link set dev ${n} up`).join('; ') || 'sudo ip link set dev <netdev> up'}`,
    );
  }
  const names = rails.map((r) => `${r.device}:${r.port} (${r.netdev})`).join(', ');
  return check('rails', null, 'pass', `${rails.length} rail${rails.length === 1 ? '' : 's'}: ${names}`, evidence);
}

import { join } from 'node:path';
import type { Rail } from '../rails/types.js';
import { goodputFraction } from '../report/goodput.js';
import { isZeroGid, parseGid } from '../sysfs/gid.js';
import { roceMtuForNetdevMtu } from '../sysfs/mtu.js';
import { readText } from '../sysfs/read.js';
import type { SysfsGid } from '../sysfs/types.js';
import { settingOrigin } from './checks-nccl.js';
import { check, ev, netPath, portPath, type CheckContext } from './context.js';
import type { DoctorCheck } from './types.js';

const pct = (mtu: number) => `${(goodputFraction(mtu) * 100).toFixed(1)} %`;

/** netdev MTU 9000 lets RoCE use path MTU 4096; at 1500 it runs at 1024. */
export function checkMtu(ctx: CheckContext, rail: Rail): DoctorCheck {
  const evidence = [ev(netPath(ctx, rail.netdev, 'mtu'), rail.netdevMtu)];
  const fix = `sudo ip link set dev ${rail.netdev} mtu 9000 (on both nodes; to keep it, set mtu: 9000 in the netplan file, e.g. /etc/netplan/40-cx7.yaml)`;
  if (rail.netdevMtu === null) return check('mtu', rail.netdev, 'warn', 'netdev MTU unreadable: cannot tell the RoCE path MTU', evidence, fix);
  const roce = roceMtuForNetdevMtu(rail.netdevMtu);
  if (roce !== null && roce >= 4096) {
    return check('mtu', rail.netdev, 'pass', `netdev MTU ${rail.netdevMtu}: RoCE path MTU 4096, at most ${pct(4096)} of line rate`, evidence);
  }
  return check('mtu', rail.netdev, 'warn',
    `netdev MTU ${rail.netdevMtu}: RoCE runs at path MTU ${roce ?? 'none'}, ${roce ? pct(roce) : '0 %'} of line rate instead of ${pct(4096)} at 4096`,
    evidence, fix);
}

function isIpv6Global(g: SysfsGid): boolean {
  const bytes = parseGid(g.gid);
  if (bytes === null || isZeroGid(bytes) || g.ipv4 !== null) return false;
  return !(bytes[0] === 0xfe && (bytes[1]! & 0xc0) === 0x80); // not fe80::/10
}

/** What a GID table entry is, in words (for a pinned NCCL_IB_GID_INDEX that points elsewhere). */
function describeGid(g: SysfsGid | undefined): string {
  if (!g) return 'not populated';
  const bytes = parseGid(g.gid);
  if (bytes === null || isZeroGid(bytes)) return 'not populated';
  if (g.ipv4 !== null) return `IPv4 ${g.ipv4} (${g.type ?? 'type unknown'})`;
  if (isIpv6Global(g)) return `an IPv6 global GID (${g.type ?? 'type unknown'})`;
  return `the link-local GID (${g.type ?? 'type unknown'})`;
}

/**
 * The IPv4 RoCE v2 GID exists; IPv6 globals shifting it; NCCL_IB_GID_INDEX as an NCCL process
 * here sees it (environment, else NCCL's conf files): -1 (automatic, NCCL >= 2.21) passes, a
 * fixed index that points elsewhere fails naming the right one.
 */
export function checkGid(ctx: CheckContext, rail: Rail): DoctorCheck | null {
  const port = ctx.discovery.devices.find((d) => d.name === rail.device)?.ports.find((p) => p.port === rail.port);
  if (!port || rail.ipv4 === null) return null; // no IPv4 at all: the ipv4 check reports it
  const subject = `${rail.device}:${rail.port}`;
  const gidEv = (i: number) => {
    const g = port.gids.find((x) => x.index === i);
    return [ev(portPath(ctx, rail.device, rail.port, 'gids', String(i)), g?.gid), ev(portPath(ctx, rail.device, rail.port, 'gid_attrs', 'types', String(i)), g?.type)];
  };
  if (rail.gidIndex === null) {
    const v1 = port.gids.find((g) => g.ipv4 === rail.ipv4);
    return check('gid', subject, 'fail', `${rail.ipv4} has a RoCE v1 GID only: RoCE v2 (routable, what NCCL uses) is missing`, v1 ? gidEv(v1.index) : [],
      `check the GID types: grep . ${portPath(ctx, rail.device, rail.port, 'gid_attrs', 'types')}/*; for rdma_cm: sudo cma_roce_mode -d ${rail.device} -p ${rail.port} -m 2`);
  }
  const evidence = gidEv(rail.gidIndex);
  const globals = port.gids.filter((g) => g.index < rail.gidIndex! && g.netdev === rail.netdev && isIpv6Global(g));
  const setting = ctx.nccl.settings.get('NCCL_IB_GID_INDEX');
  const pinnedText = setting?.value.trim() ?? '';
  const pinned = pinnedText === '' ? null : Number(pinnedText);
  const auto = pinned !== null && Number.isInteger(pinned) && pinned < 0; // NCCL >= 2.21: negative = find it
  if (setting && pinned !== null) {
    evidence.push(ev(setting.source === 'environment' ? 'environment NCCL_IB_GID_INDEX' : `${setting.source} NCCL_IB_GID_INDEX`, setting.value));
    if (!auto && pinned !== rail.gidIndex) {
      const there = Number.isInteger(pinned) ? `index ${pinned} is ${describeGid(port.gids.find((g) => g.index === pinned))}` : `"${setting.value}" is not an index`;
      if (Number.isInteger(pinned)) evidence.push(...gidEv(pinned));
      const where = setting.source === 'environment' ? 'unset it or set' : `delete the line from ${setting.source} or set in the launch environment`;
      return check('gid', subject, 'fail',
        `NCCL_IB_GID_INDEX=${setting.value} ${settingOrigin(setting)}, but the IPv4 RoCE v2 GID of ${subject} (${rail.ipv4}) is index ${rail.gidIndex}; ${there}`,
        evidence, `${where} NCCL_IB_GID_INDEX=-1 (NCCL >= 2.21 then finds index ${rail.gidIndex} itself; spark-rdma config nccl sets -1), or NCCL_IB_GID_INDEX=${rail.gidIndex} for older NCCL`);
    }
  }
  if (globals.length > 0) {
    for (const g of globals) evidence.push(ev(portPath(ctx, rail.device, rail.port, 'gids', String(g.index)), `${g.gid} (IPv6 global, ${g.type})`));
    const addresses = new Set(globals.map((g) => g.gid)).size;
    return check('gid', subject, 'warn',
      `IPv4 RoCE v2 GID of ${rail.ipv4} is index ${rail.gidIndex}, shifted by ${addresses} IPv6 global address${addresses === 1 ? '' : 'es'} ` +
        `(${globals.length} table entr${globals.length === 1 ? 'y' : 'ies'}): ` +
        'right while NCCL_IB_GID_INDEX is -1 or unset (automatic), wrong for anything that hard-codes an index',
      evidence, `keep NCCL_IB_GID_INDEX=-1 or unset (spark-rdma config nccl sets -1), or drop the IPv6 globals: sudo ip -6 addr flush dev ${rail.netdev} scope global`);
  }
  if (setting && pinned !== null && !auto) {
    return check('gid', subject, 'warn', `NCCL_IB_GID_INDEX=${setting.value} ${settingOrigin(setting)} matches today, but breaks when addresses change the table`, evidence,
      'set NCCL_IB_GID_INDEX=-1 (automatic, NCCL >= 2.21)');
  }
  const how = auto ? ` (NCCL_IB_GID_INDEX=${setting!.value} ${settingOrigin(setting!)}: NCCL >= 2.21 finds it)` : '';
  return check('gid', subject, 'pass', `IPv4 RoCE v2 GID of ${rail.ipv4} at index ${rail.gidIndex}${how}`, evidence);
}

const number = (text: string | null) => (text !== null && /^\d+$/.test(text) ? Number(text) : null);
const gts = (text: string | null) => (text === null ? null : Number(/^([\d.]+)\s*GT\/s/.exec(text)?.[1] ?? NaN));

/** PCIe link of the rail's function trained below its maximum (the pre-2026-04 BIOS left the second function at Gen5 x2). */
export function checkPcie(ctx: CheckContext, rail: Rail): DoctorCheck {
  if (rail.pciAddress === null) {
    return check('pcie', rail.device, 'skip', `skipped: ${rail.device} is not a PCIe function (a virtual device such as rxe), so it has no PCIe link to check`,
      [ev(join(ctx.discovery.root, 'class', 'infiniband', rail.device, 'device'), '(no PCI device)')]);
  }
  const dir = join(ctx.discovery.root, 'class', 'infiniband', rail.device, 'device');
  const read = (name: string) => ({ path: join(dir, name), text: readText(join(dir, name)) });
  const cw = read('current_link_width');
  const mw = read('max_link_width');
  const cs = read('current_link_speed');
  const ms = read('max_link_speed');
  const width = number(cw.text);
  if (width === null) {
    return check('pcie', `${rail.device} (${rail.pciAddress})`, 'skip', `skipped: ${cw.path} is absent or unreadable, so the PCIe link width cannot be checked`,
      [ev(cw.path, cw.text)], `check by hand: sudo lspci -vv -s ${rail.pciAddress} | grep -E 'LnkCap|LnkSta'`);
  }
  const evidence = [cw, mw, cs, ms].filter((r) => r.text !== null).map((r) => ev(r.path, r.text));
  const maxWidth = number(mw.text);
  const speed = gts(cs.text);
  const maxSpeed = gts(ms.text);
  const subject = `${rail.device} (${rail.pciAddress})`;
  const fix =
    'update the system firmware (DGX OS: sudo fwupdmgr refresh && sudo fwupdmgr update, or the DGX Dashboard updater), reboot, and check again: ' +
    `cat ${cw.path}`;
  if (maxWidth !== null && width < maxWidth) {
    return check('pcie', subject, 'warn',
      `PCIe link trained at x${width} of x${maxWidth}: this function gets about ${Math.round((100 * width) / maxWidth)} % of its bandwidth (a BIOS before 2026-04 trained the second function at Gen5 x2)`,
      evidence, fix);
  }
  if (speed !== null && maxSpeed !== null && Number.isFinite(speed) && Number.isFinite(maxSpeed) && speed < maxSpeed) {
    return check('pcie', subject, 'warn', `PCIe link at ${cs.text}, below its maximum ${ms.text}`, evidence, fix);
  }
  const of = maxWidth === null ? ' (maximum unknown)' : ` of x${maxWidth}`;
  return check('pcie', subject, 'pass', `PCIe x${width}${of}${cs.text ? `, ${cs.text}` : ''}`, evidence);
}

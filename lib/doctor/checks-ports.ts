import { check, ev, inUse, netPath, portGroups, portPath, type CheckContext, type PortGroup, type PortRef } from './context.js';
import type { DoctorCheck, Evidence } from './types.js';

function linkEvidence(ctx: CheckContext, m: PortRef): Evidence[] {
  return [
    ev(portPath(ctx, m.device.name, m.port.port, 'state'), m.port.state),
    ev(portPath(ctx, m.device.name, m.port.port, 'phys_state'), m.port.physState),
    ev(portPath(ctx, m.device.name, m.port.port, 'rate'), m.port.rate),
    ev(netPath(ctx, m.netdev, 'operstate'), m.port.operstate),
    ev(netPath(ctx, m.netdev, 'carrier'), m.port.carrier === null ? null : m.port.carrier ? 1 : 0),
  ];
}

function linkCheck(ctx: CheckContext, group: PortGroup, m: PortRef, fastest: number): DoctorCheck {
  const subject = `${m.device.name}:${m.port.port} (${m.netdev})`;
  const evidence = linkEvidence(ctx, m);
  const siblings = group.members.filter((o) => o !== m && o.port.state === 'ACTIVE').map((o) => o.netdev);
  const siblingText = siblings.length > 0 ? ` while ${siblings.join(', ')} on the same port is up` : '';
  if (m.port.state !== 'ACTIVE') {
    if (m.port.carrier === false) {
      return check('link', subject, 'fail', `no carrier on ${m.netdev}${siblingText}: the port is ${m.port.state}`, evidence,
        `reseat the QSFP cable at both ends (same port to same port), then check: ethtool ${m.netdev} | grep 'Link detected'`);
    }
    if (m.port.operstate === 'down') {
      return check('link', subject, 'fail', `${m.netdev} is administratively down${siblingText}`, evidence, `sudo ip link set dev ${m.netdev} up`);
    }
    return check('link', subject, 'fail', `${m.device.name} port ${m.port.port} is ${m.port.state}/${m.port.physState}${siblingText}`, evidence,
      `sudo ip link set dev ${m.netdev} up; check the cable and: ethtool ${m.netdev}`);
  }
  const rate = m.port.rateGbps;
  if (rate !== null && rate < fastest) {
    return check('link', subject, 'warn', `link up at ${rate} Gb/s, below the ${fastest} Gb/s of the fastest rail: this rail drags a multi-rail run`, evidence,
      `check the cable and the negotiated speed: ethtool ${m.netdev} (both ends must support ${fastest} Gb/s)`);
  }
  return check('link', subject, 'pass', `link up, carrier ${m.port.carrier === false ? 'down' : 'present'}, ${rate ?? '?'} Gb/s`, evidence);
}

/** Carrier, state and rate of every function of every port in use (a port with any function up). */
export function checkLinks(ctx: CheckContext): DoctorCheck[] {
  const groups = portGroups(ctx.discovery).filter(inUse);
  const rates = groups.flatMap((g) => g.members).filter((m) => m.port.state === 'ACTIVE').map((m) => m.port.rateGbps ?? 0);
  const fastest = Math.max(0, ...rates);
  return groups.flatMap((g) => g.members.map((m) => linkCheck(ctx, g, m, fastest)));
}

function ipv4Of(m: PortRef): { ip: string; index: number } | null {
  const gid = m.port.gids.find((g) => g.ipv4 !== null && g.netdev === m.netdev);
  return gid ? { ip: gid.ipv4!, index: gid.index } : null;
}

/** The playbook's layout (one /24 per function): the sibling's a.b.c.d suggests a.b.(c+1).d. */
function suggestAddress(siblingIp: string | undefined): string {
  const o = siblingIp?.split('.').map(Number);
  if (!o || o.length !== 4 || o[2]! >= 255) return '192.168.101.10/24';
  return `${o[0]}.${o[1]}.${o[2]! + 1}.${o[3]}/24`;
}

function ipv4Check(ctx: CheckContext, group: PortGroup): DoctorCheck {
  const found = group.members.map((m) => ({ m, ip: ipv4Of(m) }));
  const evidence = found.map(({ m, ip }) =>
    ip ? ev(portPath(ctx, m.device.name, m.port.port, 'gids', String(ip.index)), `${m.port.gids.find((g) => g.index === ip.index)?.gid} (IPv4 ${ip.ip} on ${m.netdev})`)
      : ev(portPath(ctx, m.device.name, m.port.port, 'gids'), `no IPv4-mapped GID on ${m.netdev}`));
  const subject = group.members.map((m) => m.netdev).join(' + ');
  const missing = found.filter((f) => f.ip === null).map((f) => f.m);
  const present = found.filter((f) => f.ip !== null);
  const persist = 'to keep it, add it to the netplan file (e.g. /etc/netplan/40-cx7.yaml) and sudo netplan apply';
  if (missing.length === 0) {
    const what = group.members.length > 1 ? `all ${group.members.length} functions of the port have IPv4` : `${subject} has IPv4`;
    return check('ipv4', subject, 'pass', `${what}: ${present.map((f) => `${f.m.netdev} ${f.ip!.ip}`).join(', ')}`, evidence);
  }
  const fixes = missing.map((m) => `sudo ip addr add ${suggestAddress(present[0]?.ip?.ip)} dev ${m.netdev}`).join('; ');
  if (present.length === 0) {
    return check('ipv4', subject, 'fail', `no IPv4 address on ${subject}: RoCE v2 needs an IPv4 GID (NCCL and spark-rdma pick it)`, evidence,
      `${fixes} (one subnet per function, the peer .11 where this node is .10); ${persist}`);
  }
  return check('ipv4', subject, 'warn',
    `${missing.map((m) => m.netdev).join(', ')} has no IPv4 while ${present.map((f) => f.m.netdev).join(', ')} has: ` +
      'each function is PCIe Gen5 x4 (about 100 Gb/s), so only about half of the 200 Gb/s port is usable',
    evidence, `${fixes} (e.g. a subnet per function, peer .11 where this node is .10); ${persist}`);
}

/** Every function of a port in use has an IPv4 address (else about half the bandwidth). */
export function checkIpv4(ctx: CheckContext): DoctorCheck[] {
  return portGroups(ctx.discovery).filter(inUse).map((g) => ipv4Check(ctx, g));
}

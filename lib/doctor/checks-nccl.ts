// NCCL's own configuration on this host: its conf files (read in NCCL's order, environment
// first: lib/doctor/nccl-env.ts) and the values that contradict this machine.
import { NCCL_CONFIG_NAMES, ncclIbHca } from '../config/nccl.js';
import { check, ev, type CheckContext } from './context.js';
import { ibHcaSelects, parseIbHca } from '../config/ib-hca.js';
import type { NcclSetting } from './nccl-env.js';
import type { DoctorCheck, Evidence } from './types.js';

/** "in this environment" or "from /etc/nccl.conf", for summaries. */
export function settingOrigin(s: NcclSetting): string {
  return s.source === 'environment' ? 'in this environment' : `from ${s.source}`;
}

/** How to get rid of a bad value, wherever it came from. */
function removal(s: NcclSetting): string {
  return s.source === 'environment' ? `unset ${s.name}` : `delete the ${s.name} line from ${s.source}`;
}

const list = (items: readonly NcclSetting[]) => items.map((s) => `${s.name}=${s.value}`).join(', ');

/** NCCL_CONF_FILE or ~/.nccl.conf, then /etc/nccl.conf: what they set and whether it reaches NCCL. */
export function checkNcclConf(ctx: CheckContext): DoctorCheck {
  const { files, settings } = ctx.nccl;
  const evidence: Evidence[] = files.flatMap((f) => {
    if (f.settings === null) return [ev(`${f.path} (${f.role})`, '(absent)')];
    if (f.settings.length === 0) return [ev(`${f.path} (${f.role})`, '(no NAME=value lines)')];
    return f.settings.map((s) => ev(`${f.path} (${f.role})`, `${s.name}=${s.value}`));
  });
  const fromFiles = [...settings.values()].filter((s) => s.source !== 'environment');
  const overridden = [...settings.values()].filter((s) => s.source === 'environment' && s.shadowed.length > 0);
  const order = `NCCL reads ${files.map((f) => f.role).join(', then ')} with setenv(name, value, 0): the environment always wins`;
  if (fromFiles.length === 0 && overridden.length === 0) {
    return check('nccl-conf', null, 'pass', `no NCCL conf file sets anything: the launch environment alone configures NCCL (${order})`, evidence);
  }
  if (fromFiles.length === 0) {
    return check('nccl-conf', null, 'pass', `${order}; every value the conf files set is overridden here by this environment (${overridden.map((s) => s.name).join(', ')})`, evidence);
  }
  const leftOut = fromFiles.filter((s) => !NCCL_CONFIG_NAMES.includes(s.name));
  const covered = fromFiles.filter((s) => NCCL_CONFIG_NAMES.includes(s.name));
  const parts = [order];
  if (leftOut.length > 0) parts.push(`spark-rdma config nccl does not set ${list(leftOut)}, so these apply to every NCCL process here, even with its environment`);
  if (covered.length > 0) parts.push(`${list(covered)} apply only where the launch environment lacks them (spark-rdma config nccl sets them)`);
  const paths = [...new Set(fromFiles.map((s) => s.source))];
  return check('nccl-conf', null, 'warn', parts.join('; '), evidence,
    `delete the lines you do not mean from ${paths.join(' and ')} (or sudo mv ${paths[0]} ${paths[0]}.disabled), or set those variables in the launch environment; ` +
      'images can carry one too: docker run --rm <image> cat /etc/nccl.conf');
}

/** NCCL_IB_HCA (environment or conf file) must select this machine's rails. */
export function checkNcclIbHca(ctx: CheckContext): DoctorCheck | null {
  const hca = ctx.nccl.settings.get('NCCL_IB_HCA');
  const rails = ctx.discovery.rails;
  if (!hca || rails.length === 0) return null;
  const evidence = [ev(hca.source === 'environment' ? 'environment NCCL_IB_HCA' : `${hca.source} NCCL_IB_HCA`, hca.value)];
  const selected = rails.filter((r) => ibHcaSelects(hca.value, r.device, r.port));
  const parsed = parseIbHca(hca.value);
  const devices = ctx.discovery.devices.map((d) => d.name);
  const unknown = parsed.exclude ? [] : parsed.entries.filter((e) => !devices.some((d) => (parsed.exact ? d === e.name : d.startsWith(e.name)))).map((e) => e.name);
  const railNames = rails.map((r) => `${r.device}:${r.port}`).join(', ');
  const right = rails.length > 1 ? `NCCL_IB_HCA=${ncclIbHca(rails)} (dual rail) or =${ncclIbHca(rails.slice(0, 1))} (single)` : `NCCL_IB_HCA=${ncclIbHca(rails)}`;
  const fix = `${removal(hca)}, or set ${right}; spark-rdma config nccl writes it`;
  if (selected.length === 0) {
    return check('nccl-ib-hca', null, 'fail',
      `NCCL_IB_HCA=${hca.value} ${settingOrigin(hca)} selects none of this machine's rails (${railNames})` +
        `${unknown.length > 0 ? `; there is no device ${unknown.join(', ')} here` : ''}: NCCL logs "NET/IB : No device found." and, with NCCL_NET=IB, aborts (else falls back to sockets)`,
      evidence, fix);
  }
  const names = selected.map((r) => `${r.device}:${r.port}`).join(', ');
  if (unknown.length > 0) {
    return check('nccl-ib-hca', null, 'warn', `NCCL_IB_HCA=${hca.value} ${settingOrigin(hca)} names ${unknown.join(', ')}, which is no device here; it selects ${names}`, evidence, fix);
  }
  const byPrefix = parsed.exact || parsed.exclude ? [] : selected.filter((r) => !parsed.entries.some((e) => e.name === r.device));
  if (byPrefix.length > 0) {
    return check('nccl-ib-hca', null, 'warn',
      `NCCL_IB_HCA=${hca.value} ${settingOrigin(hca)} also selects ${byPrefix.map((r) => r.device).join(', ')} by prefix (without a leading "=" names match as prefixes)`, evidence, fix);
  }
  return check('nccl-ib-hca', null, 'pass', `NCCL_IB_HCA=${hca.value} ${settingOrigin(hca)} selects ${names}`, evidence);
}

/** NCCL_IB_DISABLE=1 (environment or conf file) turns the RoCE transport off. */
export function checkNcclIbDisable(ctx: CheckContext): DoctorCheck | null {
  const s = ctx.nccl.settings.get('NCCL_IB_DISABLE');
  if (!s || s.value.trim() === '' || Number(s.value) === 0) return null;
  const evidence = [ev(s.source === 'environment' ? 'environment NCCL_IB_DISABLE' : `${s.source} NCCL_IB_DISABLE`, s.value)];
  return check('nccl-ib-disable', null, 'fail',
    `NCCL_IB_DISABLE=${s.value} ${settingOrigin(s)} turns off the IB/RoCE transport: NCCL runs over TCP sockets, or with NCCL_NET=IB aborts`,
    evidence, `${removal(s)} (or set NCCL_IB_DISABLE=0 in the launch environment)`);
}

import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { formatByteSize } from '../report/units.js';
import { listDir, readText } from '../sysfs/read.js';
import { check, ev, type CheckContext } from './context.js';
import { meminfoKb, type LimitValue } from './procfs.js';
import type { DoctorCheck } from './types.js';

const bytesText = (v: LimitValue) => (v === 'unlimited' ? 'unlimited' : formatByteSize(v));
const atLeast = (v: LimitValue, needed: number) => v === 'unlimited' || v >= needed;

/** `ulimit -l` high enough for the planned registrations (ibv_reg_mr pins against it). */
export function checkMemlock(ctx: CheckContext): DoctorCheck {
  const limit = ctx.memlock;
  const needed = formatByteSize(ctx.memlockNeeded);
  const persist =
    'put "* soft memlock unlimited" and "* hard memlock unlimited" in /etc/security/limits.d/90-rdma.conf and log in again; ' +
    'containers: docker run --ulimit memlock=-1 --cap-add IPC_LOCK';
  if (limit === null) {
    const path = join(ctx.roots.proc, 'self', 'limits');
    return check('memlock', null, 'warn', 'cannot read the memlock limit', [ev(path, null)], `check by hand: ulimit -l (need ${needed} or unlimited)`);
  }
  const evidence = [ev(`${limit.source} "Max locked memory"`, limit.text)];
  if (atLeast(limit.soft, ctx.memlockNeeded)) {
    return check('memlock', null, 'pass', `memlock limit ${bytesText(limit.soft)}, enough for ${needed} of registrations`, evidence);
  }
  const low = `memlock limit ${bytesText(limit.soft)} is below the ${needed} the planned registrations need`;
  const raise = limit.hard === 'unlimited' || limit.hard >= ctx.memlockNeeded
    ? `ulimit -l unlimited (in this shell: the hard limit allows it); ${persist}`
    : `raise the hard limit too: ${persist}`;
  const caps = ctx.capabilities;
  if (caps.ipcLock === true) {
    evidence.push(ev(`${caps.path} CapEff`, `${caps.capEff} (CAP_IPC_LOCK)`));
    return check('memlock', null, 'warn',
      `${low}; this process is exempt (it holds CAP_IPC_LOCK, e.g. as root), but a process without it (a non-root user, a container without --cap-add IPC_LOCK) fails ibv_reg_mr with ENOMEM`,
      evidence, raise);
  }
  return check('memlock', null, 'fail', `${low}: ibv_reg_mr fails with ENOMEM (NCCL falls back or aborts)`, evidence, raise);
}

/** /dev/infiniband/uverbs* present and usable by this user; rdma_cm for connection setup. */
export function checkDevInfiniband(ctx: CheckContext): DoctorCheck {
  const dir = join(ctx.roots.dev, 'infiniband');
  const inContainer = 'in a container: docker run --device /dev/infiniband:/dev/infiniband';
  if (!existsSync(dir)) {
    return check('dev-infiniband', null, 'fail', `${dir} is missing: no process here can open an RDMA device`, [ev(dir, '(missing)')],
      `sudo modprobe ib_uverbs (and mlx5_ib); ${inContainer}`);
  }
  const entries = listDir(dir);
  const uverbs = entries.filter((e) => /^uverbs\d+$/.test(e));
  const evidence = [ev(dir, entries.join(' ') || '(empty)')];
  if (uverbs.length === 0) {
    return check('dev-infiniband', null, 'fail', `no uverbs devices in ${dir}`, evidence, `sudo modprobe ib_uverbs; ${inContainer}`);
  }
  const denied = uverbs.filter((u) => !ctx.canAccess(join(dir, u)));
  for (const u of uverbs) {
    const path = join(dir, u);
    let mode = '';
    try {
      mode = ` mode ${(statSync(path).mode & 0o777).toString(8)}`;
    } catch {
      // stat failing is reported through canAccess
    }
    evidence.push(ev(path, `${denied.includes(u) ? 'not accessible' : 'read-write'}${mode}`));
  }
  if (denied.length > 0) {
    return check('dev-infiniband', null, 'fail', `${denied.join(', ')} not readable and writable by this user`, evidence,
      `sudo chmod 0666 ${denied.map((u) => join(dir, u)).join(' ')} (rdma-core's udev rules normally make them 0666), or run as a user of the owning group`);
  }
  const devices = ctx.discovery.devices.length;
  if (uverbs.length < devices) {
    return check('dev-infiniband', null, 'warn', `${uverbs.length} uverbs device(s) for ${devices} RDMA devices: some devices cannot be opened`, evidence,
      'sudo modprobe ib_uverbs, then ls /sys/class/infiniband_verbs to see which devices have one');
  }
  if (!entries.includes('rdma_cm')) {
    return check('dev-infiniband', null, 'warn', `${uverbs.length} uverbs device(s) usable, but no rdma_cm: connecting with rdma_cm (--cm) fails`, evidence, 'sudo modprobe rdma_ucm');
  }
  return check('dev-infiniband', null, 'pass', `${uverbs.length} uverbs device(s) usable, rdma_cm present`, evidence);
}

/** CmaTotal in /proc/meminfo: 0 means no contiguous memory pool was reserved at boot. */
export function checkCma(ctx: CheckContext): DoctorCheck {
  const path = join(ctx.roots.proc, 'meminfo');
  const text = readText(path);
  const fix = 'reserve a pool at boot: add cma=512M to GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub, sudo update-grub, reboot';
  if (text === null) return check('cma', null, 'warn', `cannot read ${path}`, [ev(path, null)], 'check by hand: grep Cma /proc/meminfo');
  const total = meminfoKb(text, 'CmaTotal');
  if (total === null) {
    return check('cma', null, 'warn', 'no CmaTotal in meminfo: the kernel has no contiguous memory allocator', [ev(`${path} CmaTotal`, '(missing)')], fix);
  }
  const evidence = [ev(`${path} CmaTotal`, `${total} kB`)];
  if (total === 0) {
    return check('cma', null, 'warn',
      'CmaTotal is 0 kB: no contiguous memory pool is reserved; large contiguous DMA allocations fall back to the page allocator and can fail once memory (shared with the GPU on GB10) is fragmented',
      evidence, fix);
  }
  return check('cma', null, 'pass', `CmaTotal ${total} kB reserved`, evidence);
}

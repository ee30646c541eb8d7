// Finds the guest kernel (the host's newest /boot/vmlinuz-*) and the modules the initramfs must
// load before it can mount the host's root over 9p. The host kernel may lack RDMA entirely; the
// Debian kernel package ships rdma_rxe as a module, which is why the guest boots it.
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { VmError } from './errors.mjs';

const KERNEL_PACKAGE_HINT = 'install the Debian package linux-image-amd64 (apt-get install linux-image-amd64)';

// Modules the initramfs needs, leaves first; their dependencies are added from modinfo.
export const INITRAMFS_MODULES = ['virtio_pci', '9pnet_virtio', '9p', 'overlay'];

/** Orders kernel version strings like sort -V: numeric runs compare as numbers. */
export function compareVersions(a, b) {
  const partsA = a.split(/(\d+)/);
  const partsB = b.split(/(\d+)/);
  for (let i = 0; i < Math.max(partsA.length, partsB.length); i++) {
    const x = partsA[i] ?? '';
    const y = partsB[i] ?? '';
    if (x === y) continue;
    if (/^\d+$/.test(x) && /^\d+$/.test(y)) return Number(x) - Number(y);
    return x < y ? -1 : 1;
  }
  return 0;
}

/**
 * The kernel to boot: SPARK_RDMA_VM_KERNEL (a path to a vmlinuz-<version>) or the newest
 * /boot/vmlinuz-<version> that has a matching /lib/modules/<version>.
 */
export function findKernel(env = process.env, bootDir = '/boot', modulesRoot = '/lib/modules') {
  const override = env.SPARK_RDMA_VM_KERNEL;
  let candidates;
  if (override) {
    const match = /vmlinuz-(.+)$/.exec(override);
    if (!match || !existsSync(override)) {
      throw new VmError(`SPARK_RDMA_VM_KERNEL=${override} is not an existing file named vmlinuz-<version>; unset it or point it at /boot/vmlinuz-<version>`);
    }
    candidates = [{ version: match[1], vmlinuz: override }];
  } else {
    let names = [];
    try {
      names = readdirSync(bootDir);
    } catch {
      // No /boot at all: reported below like an empty one.
    }
    candidates = names
      .filter((name) => name.startsWith('vmlinuz-'))
      .map((name) => ({ version: name.slice('vmlinuz-'.length), vmlinuz: join(bootDir, name) }))
      .sort((a, b) => compareVersions(b.version, a.version));
    if (candidates.length === 0) {
      throw new VmError(`no guest kernel: found no ${bootDir}/vmlinuz-*; ${KERNEL_PACKAGE_HINT}`);
    }
  }
  for (const candidate of candidates) {
    const modulesDir = join(modulesRoot, candidate.version);
    if (!existsSync(join(modulesDir, 'modules.dep'))) continue;
    try {
      accessSync(candidate.vmlinuz, constants.R_OK);
    } catch {
      throw new VmError(`guest kernel ${candidate.vmlinuz} is not readable by this user; run as a user that can read it or chmod a+r ${candidate.vmlinuz}`);
    }
    return { ...candidate, modulesDir };
  }
  const versions = candidates.map((c) => c.version).join(', ');
  throw new VmError(`guest kernel ${versions} has no ${modulesRoot}/<version>/modules.dep; ${KERNEL_PACKAGE_HINT}`);
}

function modinfo(version, field, module) {
  const result = spawnSync('modinfo', ['-k', version, '-F', field, module], { encoding: 'utf8' });
  if (result.error) throw new VmError(`cannot run modinfo (${result.error.message}); install the Debian package kmod`);
  if (result.status !== 0) {
    throw new VmError(`kernel ${version} has no module ${module} (modinfo: ${result.stderr.trim()}); ${KERNEL_PACKAGE_HINT}`);
  }
  return result.stdout.trim();
}

/**
 * Module files in load order (every module after all of its dependencies), derived from modinfo
 * for the given kernel version. Built-in modules are skipped: there is nothing to insmod.
 */
export function moduleLoadOrder(version, roots = INITRAMFS_MODULES) {
  const ordered = [];
  const state = new Map(); // name -> 'visiting' | 'done'
  const visit = (name) => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') throw new VmError(`module dependency cycle through ${name} in kernel ${version}`);
    state.set(name, 'visiting');
    const depends = modinfo(version, 'depends', name).split(',').map((d) => d.trim()).filter(Boolean);
    for (const dependency of depends) visit(dependency);
    const file = modinfo(version, 'filename', name);
    if (file.startsWith('/')) ordered.push({ name, file });
    state.set(name, 'done');
  };
  for (const root of roots) visit(root);
  return ordered;
}

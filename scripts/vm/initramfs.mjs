// Builds the guest's initramfs (busybox, the virtio/9p/overlay modules, init.sh) and caches it
// under .vm-cache/, keyed by everything that goes into it: a new kernel or a changed init script
// gives a new file name, so a stale archive is never booted.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { CpioArchive } from './cpio.mjs';
import { INITRAMFS_MODULES, moduleLoadOrder } from './kernel.mjs';
import { VmError } from './errors.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
export const INIT_SCRIPT = join(HERE, 'init.sh');
const BUSYBOX_CANDIDATES = ['/bin/busybox', '/usr/bin/busybox'];

/** A statically linked busybox: the initramfs has no libc for a dynamic one. */
export function findStaticBusybox(candidates = BUSYBOX_CANDIDATES) {
  for (const path of candidates) {
    let data;
    try {
      data = readFileSync(path);
    } catch {
      continue;
    }
    if (!isStaticElf(data)) {
      throw new VmError(`${path} is dynamically linked and cannot run in the initramfs; install the Debian package busybox-static`);
    }
    return { path, data };
  }
  throw new VmError(`no busybox found (looked at ${candidates.join(', ')}); install the Debian package busybox-static`);
}

/** True when an ELF file has no PT_INTERP program header (no dynamic loader). */
export function isStaticElf(data) {
  if (data.length < 64 || data.readUInt32BE(0) !== 0x7f454c46 || data[4] !== 2) return false; // ELF64 only
  const programHeaderOffset = Number(data.readBigUInt64LE(32));
  const entrySize = data.readUInt16LE(54);
  const count = data.readUInt16LE(56);
  const PT_INTERP = 3;
  for (let i = 0; i < count; i++) {
    const offset = programHeaderOffset + i * entrySize;
    if (offset + 4 > data.length) return false;
    if (data.readUInt32LE(offset) === PT_INTERP) return false;
  }
  return true;
}

// Module files may be compressed on other distributions; busybox insmod wants them plain.
function readModule(file) {
  const decompressors = { '.xz': ['xz', '-dc'], '.zst': ['zstd', '-dc'], '.gz': ['gzip', '-dc'] };
  const suffix = Object.keys(decompressors).find((s) => file.endsWith(s));
  if (!suffix) return readFileSync(file);
  const [command, ...args] = decompressors[suffix];
  const result = spawnSync(command, [...args, file], { maxBuffer: 256 * 1024 * 1024 });
  if (result.error || result.status !== 0) {
    throw new VmError(`cannot decompress kernel module ${file} with ${command}; install ${command}`);
  }
  return result.stdout;
}

function cacheKey(kernel, busybox) {
  const hash = createHash('sha256');
  hash.update(kernel.version);
  hash.update(String(statSync(join(kernel.modulesDir, 'modules.dep')).mtimeMs));
  hash.update(readFileSync(INIT_SCRIPT));
  // The builder itself: a change to the archive layout must not reuse an old archive.
  for (const source of ['initramfs.mjs', 'cpio.mjs', 'kernel.mjs']) hash.update(readFileSync(join(HERE, source)));
  hash.update(busybox.data);
  return hash.digest('hex').slice(0, 16);
}

export function buildInitramfsImage(kernel, busybox) {
  const modules = moduleLoadOrder(kernel.version, INITRAMFS_MODULES);
  const archive = new CpioArchive();
  for (const dir of ['bin', 'dev', 'etc', 'etc/spark-vm', 'lib', 'lib/modules', 'lib/modules/spark-vm', 'proc', 'sys']) {
    archive.directory(dir);
  }
  // Without /dev/console the kernel starts /init with no stdout.
  archive.characterDevice('dev/console', 5, 1);
  archive.file('bin/busybox', busybox.data, 0o755);
  archive.file('init', readFileSync(INIT_SCRIPT), 0o755);
  for (const { name, file } of modules) archive.file(`lib/modules/spark-vm/${name}.ko`, readModule(file));
  archive.file('etc/spark-vm/modules', `${modules.map((m) => m.name).join('\n')}\n`);
  return gzipSync(archive.toBuffer());
}

/** The path of an initramfs for this kernel, built now unless the cache already has it. */
export function ensureInitramfs(kernel, cacheDir) {
  const busybox = findStaticBusybox();
  const name = `initramfs-${kernel.version}-${cacheKey(kernel, busybox)}.cpio.gz`;
  const path = join(cacheDir, name);
  try {
    statSync(path);
    return { path, built: false };
  } catch {
    // Not cached yet.
  }
  mkdirSync(cacheDir, { recursive: true });
  const image = buildInitramfsImage(kernel, busybox);
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, image);
  renameSync(temporary, path); // atomic: a concurrent run sees the whole file or none
  for (const old of readdirSync(cacheDir)) {
    if (old.startsWith('initramfs-') && old.endsWith('.cpio.gz') && old !== name) {
      rmSync(join(cacheDir, old), { force: true });
    }
  }
  return { path, built: true };
}

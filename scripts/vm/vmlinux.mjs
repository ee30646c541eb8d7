// Unpacks the ELF kernel (vmlinux) out of a compressed bzImage so QEMU can start it through the
// PVH entry point. Under TCG this skips the kernel's self-decompression, which takes seconds
// (Debian's kernel is xz-compressed): the first kernel line comes after about 0.4 s, not 3 s.
// Anything unexpected falls back to booting the bzImage as it is.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const FORMATS = [
  { magic: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), command: ['xz', '-dc', '--single-stream'] },
  { magic: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), command: ['zstd', '-dcq'] },
  { magic: Buffer.from([0x1f, 0x8b, 0x08]), command: ['gzip', '-dcq'] },
];
const PT_NOTE = 4;
const XEN_ELFNOTE_PHYS32_ENTRY = 18;

/** True when a 64-bit ELF image carries the Xen PVH entry note QEMU needs to boot it. */
export function hasPvhEntry(elf) {
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2) return false;
  const phoff = Number(elf.readBigUInt64LE(32));
  const phentsize = elf.readUInt16LE(54);
  const phnum = elf.readUInt16LE(56);
  for (let i = 0; i < phnum; i++) {
    const header = phoff + i * phentsize;
    if (header + 56 > elf.length || elf.readUInt32LE(header) !== PT_NOTE) continue;
    let at = Number(elf.readBigUInt64LE(header + 8));
    const end = Math.min(elf.length, at + Number(elf.readBigUInt64LE(header + 32)));
    while (at + 12 <= end) {
      const nameSize = elf.readUInt32LE(at);
      const descSize = elf.readUInt32LE(at + 4);
      const type = elf.readUInt32LE(at + 8);
      const name = elf.toString('latin1', at + 12, at + 12 + Math.max(0, nameSize - 1));
      if (name === 'Xen' && type === XEN_ELFNOTE_PHYS32_ENTRY) return true;
      at += 12 + Math.ceil(nameSize / 4) * 4 + Math.ceil(descSize / 4) * 4;
    }
  }
  return false;
}

function decompressPayload(image) {
  for (const { magic, command } of FORMATS) {
    // Short magics also occur by chance: try only the first few places.
    let tries = 0;
    for (let at = image.indexOf(magic); at !== -1 && tries++ < 4; at = image.indexOf(magic, at + 1)) {
      const [program, ...args] = command;
      const result = spawnSync(program, args, { input: image.subarray(at), maxBuffer: 1 << 30 });
      const out = result.stdout;
      // A truncated-input complaint is expected (the bzImage has data after the payload).
      if (out && out.length > 1 << 20 && hasPvhEntry(out)) return out;
    }
  }
  return undefined;
}

/**
 * The file to pass to -kernel: a cached vmlinux with a PVH entry when one can be unpacked from
 * `vmlinuz`, else `vmlinuz` itself. SPARK_RDMA_VM_PVH=0 disables the unpacking.
 */
export function bootableKernel(kernel, cacheDir, env = process.env) {
  if (env.SPARK_RDMA_VM_PVH === '0') return { path: kernel.vmlinuz, pvh: false };
  const stat = statSync(kernel.vmlinuz);
  const key = createHash('sha256').update(`${kernel.vmlinuz}:${stat.size}:${stat.mtimeMs}`).digest('hex').slice(0, 16);
  const name = `vmlinux-${kernel.version}-${key}`;
  const path = join(cacheDir, name);
  const failedMarker = `${path}.not-pvh`;
  for (const candidate of [path, failedMarker]) {
    try {
      statSync(candidate);
      return candidate === path ? { path, pvh: true } : { path: kernel.vmlinuz, pvh: false };
    } catch {
      // Not cached.
    }
  }
  mkdirSync(cacheDir, { recursive: true });
  const vmlinux = decompressPayload(readFileSync(kernel.vmlinuz));
  for (const old of readdirSync(cacheDir)) {
    if (old.startsWith('vmlinux-') && !old.startsWith(name)) rmSync(join(cacheDir, old), { force: true });
  }
  if (!vmlinux) {
    writeFileSync(failedMarker, 'no PVH-bootable ELF kernel inside; booting the bzImage\n');
    return { path: kernel.vmlinuz, pvh: false };
  }
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, vmlinux);
  renameSync(temporary, path);
  return { path, pvh: true };
}

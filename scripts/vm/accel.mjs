// Chooses QEMU's accelerator: KVM when this machine can really use it, TCG otherwise. /dev/kvm
// may exist and still be unusable (no permission, nested virtualisation switched off, a host
// that rejects QEMU's MSRs), so the device and QEMU are asked first, and a KVM boot that fails
// is remembered in the cache so that later runs go straight to TCG.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { VmError } from './errors.mjs';

export const TCG = { name: 'tcg', args: ['-accel', 'tcg,thread=multi'] };
export const KVM = { name: 'kvm', args: ['-accel', 'kvm', '-cpu', 'host'] };

const PROBE_DEADLINE_MS = 10_000;

function canOpenKvm(device) {
  try {
    closeSync(openSync(device, 'r+'));
    return true;
  } catch {
    return false;
  }
}

// Starts QEMU with no machine and asks it over QMP whether KVM is enabled.
function qemuEnablesKvm(qemu) {
  return new Promise((resolve) => {
    const child = spawn(qemu, ['-accel', 'kvm', '-machine', 'none', '-nodefaults', '-display', 'none', '-qmp', 'stdio'], {
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    let output = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), PROBE_DEADLINE_MS);
    child.on('error', () => resolve(false));
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stdin.on('error', () => {}); // QEMU may exit before reading: that is a "no"
    child.stdin.end(
      '{"execute":"qmp_capabilities"}\n{"execute":"query-kvm"}\n{"execute":"quit"}\n',
    );
    child.on('close', () => {
      clearTimeout(timer);
      resolve(/"enabled":\s*true/.test(output));
    });
  });
}

// One file per host kernel and QEMU binary: an upgrade of either gets KVM another try.
function kvmFailureFile(cacheDir, qemuPath) {
  let qemuStamp = qemuPath;
  try {
    const stat = statSync(qemuPath);
    qemuStamp += `:${stat.size}:${stat.mtimeMs}`;
  } catch {
    // A bare command name: its PATH entry is resolved by spawn; the name alone will do.
  }
  const key = createHash('sha256').update(`${release()}|${qemuStamp}`).digest('hex').slice(0, 16);
  return join(cacheDir, `kvm-unusable-${key}`);
}

/** Records that a KVM boot failed on this machine; returns the file that says so. */
export function rememberKvmFailure(cacheDir, qemu, reason) {
  const file = kvmFailureFile(cacheDir, qemu);
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(file, `${reason}\n`);
  return file;
}

/**
 * The accelerator to boot with. SPARK_RDMA_VM_ACCEL=kvm|tcg forces one (kvm then fails loudly
 * if unusable); otherwise TCG if a KVM boot failed here before, KVM when /dev/kvm opens
 * read-write and QEMU enables it, else TCG.
 */
export async function chooseAccelerator(qemu, cacheDir, env = process.env, kvmDevice = '/dev/kvm') {
  const forced = env.SPARK_RDMA_VM_ACCEL;
  if (forced === 'tcg') return { accelerator: TCG, reason: 'SPARK_RDMA_VM_ACCEL=tcg' };
  if (forced !== undefined && forced !== '' && forced !== 'kvm') {
    throw new VmError(`SPARK_RDMA_VM_ACCEL=${forced} is not one of kvm, tcg; unset it to choose automatically`);
  }
  if (forced !== 'kvm') {
    const file = kvmFailureFile(cacheDir, qemu);
    try {
      readFileSync(file);
      return { accelerator: TCG, reason: `KVM failed on this machine before, see ${file}` };
    } catch {
      // No failure remembered.
    }
  }
  if (!canOpenKvm(kvmDevice)) {
    if (forced === 'kvm') throw new VmError(`SPARK_RDMA_VM_ACCEL=kvm but ${kvmDevice} cannot be opened read-write; add this user to group kvm or unset it`);
    return { accelerator: TCG, reason: `${kvmDevice} cannot be opened read-write` };
  }
  if (!(await qemuEnablesKvm(qemu))) {
    if (forced === 'kvm') throw new VmError(`SPARK_RDMA_VM_ACCEL=kvm but QEMU cannot enable KVM on this machine; unset it to use TCG`);
    return { accelerator: TCG, reason: 'QEMU cannot enable KVM' };
  }
  return { accelerator: KVM, reason: `${kvmDevice} usable` };
}

#!/usr/bin/env node
// Runs one command inside a QEMU guest that has real kernel verbs: two soft-RoCE devices, rxe0 on
// rail0 (10.77.0.1/24) and rxe1 on rail1 (10.77.1.1/24), both MTU 9000 (active_mtu 4096). The
// guest sees the host's files (read-only root, writable overlay), starts in the repo root with
// the host's PATH and HOME, and its exit status becomes this process's exit status.
// With --nodes 2, two guests (node0, node1; one vCPU each) run the same command, node i with
// 10.77.0.(i+1) on rail0 and 10.77.1.(i+1) on rail1, rail r of one cabled to rail r of the other
// (nodes.mjs); each output line is prefixed `node<i>: `; the exit status is the first nonzero
// one (in time), 0 when all are 0; one deadline covers the whole run.
//
//   node scripts/vm/run.mjs [--nodes 1|2] [--timeout SECONDS] [--env NAME[=VALUE]]... [--verbose] -- <command...>
//
// Environment: SPARK_RDMA_VM_TIMEOUT (whole run, s, default 2700), SPARK_RDMA_VM_BOOT_TIMEOUT
// (until the rails are ACTIVE, s, default 120), SPARK_RDMA_VM_MEMORY (default 3G),
// SPARK_RDMA_VM_SMP (default 2 alone, 1 per guest with --nodes 2), SPARK_RDMA_VM_ACCEL (kvm|tcg, default: kvm when usable),
// SPARK_RDMA_VM_KERNEL (a /boot/vmlinuz-<version>), SPARK_RDMA_VM_QEMU, SPARK_RDMA_VM_VERBOSE=1,
// SPARK_RDMA_VM_TIMER_FIFO (1..99: QEMU's main loop, the guest's timers, at SCHED_FIFO once booted;
// timer-priority.mjs).
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chooseAccelerator, KVM, rememberKvmFailure, TCG } from './accel.mjs';
import { EXIT_HARNESS_FAILURE, VmError } from './errors.mjs';
import { ensureInitramfs } from './initramfs.mjs';
import { guestEnvironment, writeJob } from './job.mjs';
import { findKernel } from './kernel.mjs';
import { nodeNics, parseNodeCount, prefixedLines } from './nodes.mjs';
import { runGuest } from './qemu.mjs';
import { checkTimerFifoAllowed, raiseMainLoop, timerFifoPriority } from './timer-priority.mjs';
import { bootableKernel } from './vmlinux.mjs';

const SCRIPT_REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const RAIL_DEADLINE_SECONDS = 30;
const KVM_BOOTED_DEADLINE_MS = 30_000;
const MIN_MEMORY_MIB = 512;
// The guest's own watchdog fires this long after the host deadline: it only matters when the
// host process died without killing QEMU.
const GUEST_BACKSTOP_MARGIN_SECONDS = 60;

const USAGE = `usage: node scripts/vm/run.mjs [--nodes 1|2] [--timeout SECONDS] [--env NAME[=VALUE]]... [--verbose] -- <command...>`;

const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

function positiveSeconds(value, what, fix) {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new VmError(`${what} ${value} is not a positive number of seconds; ${fix}`);
  }
  return seconds;
}

export function parseArguments(argv, env = process.env) {
  const options = {
    timeoutSeconds: env.SPARK_RDMA_VM_TIMEOUT
      ? positiveSeconds(env.SPARK_RDMA_VM_TIMEOUT, 'SPARK_RDMA_VM_TIMEOUT=', 'set it to e.g. 2700 or unset it')
      : 2700,
    extraEnv: [],
    nodes: 1,
    verbose: env.SPARK_RDMA_VM_VERBOSE === '1',
    command: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      options.command = argv.slice(i + 1);
      break;
    } else if (arg === '--timeout' || arg.startsWith('--timeout=')) {
      const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[++i];
      options.timeoutSeconds = positiveSeconds(value, '--timeout', 'pass e.g. --timeout 600');
    } else if (arg === '--nodes' || arg.startsWith('--nodes=')) {
      options.nodes = parseNodeCount(arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[++i]);
    } else if (arg === '--env' || arg.startsWith('--env=')) {
      const value = arg.includes('=') && arg.startsWith('--env=') ? arg.slice('--env='.length) : argv[++i];
      if (value === undefined) throw new VmError('--env needs NAME=VALUE or NAME; e.g. --env DEBUG=1');
      options.extraEnv.push(value);
    } else if (arg === '--verbose') {
      options.verbose = true;
    } else if (arg === '--help' || arg === '-h') {
      options.help = true;
    } else if (arg.startsWith('-')) {
      throw new VmError(`unknown option ${arg}; ${USAGE}`);
    } else {
      options.command = argv.slice(i);
      break;
    }
  }
  if (!options.help && options.command.length === 0) throw new VmError(`no command given; ${USAGE}`);
  return options;
}

/** The directory holding package.json at or above cwd (npm run's cwd), else this script's repo. */
export function repoRoot(cwd = process.cwd()) {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return SCRIPT_REPO;
  }
}

function machineSettings(env, nodes) {
  const memory = env.SPARK_RDMA_VM_MEMORY || '3G';
  const size = /^(\d+)([MG])$/.exec(memory);
  if (!size) throw new VmError(`SPARK_RDMA_VM_MEMORY=${memory} is not a size like 3G or 2048M; fix or unset it`);
  const mebibytes = Number(size[1]) * (size[2] === 'G' ? 1024 : 1);
  if (mebibytes < MIN_MEMORY_MIB) {
    throw new VmError(`SPARK_RDMA_VM_MEMORY=${memory} is below the ${MIN_MEMORY_MIB}M the guest needs (kernel, page cache, node); use 3G or unset it`);
  }
  const smp = Number(env.SPARK_RDMA_VM_SMP || (nodes > 1 ? 1 : 2));
  if (!Number.isInteger(smp) || smp < 1 || smp > 64) throw new VmError(`SPARK_RDMA_VM_SMP=${env.SPARK_RDMA_VM_SMP} is not a CPU count from 1 to 64; fix or unset it`);
  const bootSeconds = env.SPARK_RDMA_VM_BOOT_TIMEOUT
    ? positiveSeconds(env.SPARK_RDMA_VM_BOOT_TIMEOUT, 'SPARK_RDMA_VM_BOOT_TIMEOUT=', 'set it to e.g. 120 or unset it')
    : 120;
  return { memory, smp, bootDeadlineMs: bootSeconds * 1000, qemu: env.SPARK_RDMA_VM_QEMU || 'qemu-system-x86_64', timerFifo: timerFifoPriority(env) };
}

// Unix socket paths are limited to 107 bytes; a long TMPDIR falls back to /tmp.
function makeWorkDir() {
  const base = tmpdir().length < 60 ? tmpdir() : '/tmp';
  return mkdtempSync(join(base, 'spark-vm-'));
}

function freshShare(workDir, attempt, node) {
  const shareDir = join(workDir, `share-${attempt}-${node}`);
  const socketDir = join(workDir, `sockets-${attempt}-${node}`);
  mkdirSync(shareDir);
  mkdirSync(socketDir);
  return { shareDir, socketDir };
}

async function main(argv) {
  const startedAt = Date.now();
  const options = parseArguments(argv);
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const env = process.env;
  const guestEnv = guestEnvironment(env, options.extraEnv);
  const machine = machineSettings(env, options.nodes);
  if (machine.timerFifo !== null) checkTimerFifoAllowed(machine.timerFifo);
  const cwd = repoRoot();
  const kernel = findKernel(env);
  const cacheDir = join(cwd, '.vm-cache');
  const initramfs = ensureInitramfs(kernel, cacheDir);
  const kernelImage = bootableKernel(kernel, cacheDir, env);
  const runDeadlineAt = startedAt + options.timeoutSeconds * 1000;
  if (process.stdout.isTTY && guestEnv.FORCE_COLOR === undefined && guestEnv.NO_COLOR === undefined) {
    guestEnv.FORCE_COLOR = '1'; // the guest's stdout is a pipe, the user's is a terminal
  }
  let { accelerator, reason } = await chooseAccelerator(machine.qemu, cacheDir, env);

  const controller = new AbortController();
  const qemuChildren = new Set();
  const onSignal = (name) => {
    if (controller.signal.aborted) process.exit(name === 'SIGTERM' ? 143 : 130);
    controller.abort(name);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  process.on('exit', () => {
    for (const child of qemuChildren) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  const workDir = makeWorkDir();
  try {
    for (let attempt = 1; ; attempt++) {
      const wireDir = join(workDir, `wire-${attempt}`);
      mkdirSync(wireDir);
      // One node failing to boot or timing out ends the run: the others are stopped.
      const attemptController = new AbortController();
      const signal = AbortSignal.any([controller.signal, attemptController.signal]);
      const statuses = [];
      let firstError;
      const guests = Array.from({ length: options.nodes }, (_, node) => {
        const label = options.nodes > 1 ? `node${node}` : '';
        const { shareDir, socketDir } = freshShare(workDir, attempt, node);
        writeJob(shareDir, { cwd, env: guestEnv, command: options.command, railDeadlineSeconds: RAIL_DEADLINE_SECONDS, node, nodes: options.nodes });
        const stdout = label ? prefixedLines(process.stdout, `${label}: `) : process.stdout;
        const stderr = label ? prefixedLines(process.stderr, `${label}: `) : process.stderr;
        let qemuChild;
        return runGuest({
          qemu: machine.qemu,
          accelerator,
          kernelImage: kernelImage.path,
          initrd: initramfs.path,
          memory: machine.memory,
          smp: machine.smp,
          shareDir,
          socketDir,
          nics: nodeNics(node, options.nodes, wireDir),
          bootDeadlineMs: machine.bootDeadlineMs,
          // A KVM guest that cannot reach its init in this time is stuck (seen on hosts with
          // broken nested virtualisation); TCG gets the full boot deadline.
          bootedDeadlineMs: accelerator === KVM ? Math.min(machine.bootDeadlineMs, KVM_BOOTED_DEADLINE_MS) : machine.bootDeadlineMs,
          runDeadlineAt,
          timeoutSeconds: options.timeoutSeconds,
          guestDeadlineSeconds: options.timeoutSeconds + GUEST_BACKSTOP_MARGIN_SECONDS,
          verbose: options.verbose,
          stdout,
          stderr,
          signal,
          onSpawn: (child) => {
            qemuChild = child;
            qemuChildren.add(child);
          },
          onReady: ({ bootedMs, readyMs }) => {
            process.stderr.write(
              `spark-vm: ${label ? `${label} ` : ''}booted in ${seconds(bootedMs)}, rxe0 and rxe1 ACTIVE after ${seconds(readyMs)} ` +
                `(${accelerator.name}: ${reason}${initramfs.built ? '; initramfs rebuilt' : ''})\n`,
            );
            // Raised only now: the vCPU threads exist, and keep the ordinary policy.
            if (machine.timerFifo !== null) {
              try {
                const policy = raiseMainLoop(qemuChild.pid, machine.timerFifo);
                process.stderr.write(`spark-vm: ${label ? `${label} ` : ''}QEMU's main loop (pid ${qemuChild.pid}, the guest's timers): ${policy}\n`);
              } catch (error) {
                // The run must not go on with the setting silently missing: stop this guest.
                process.stderr.write(`spark-vm: ${error.message}\n`);
                qemuChild.kill('SIGKILL');
              }
            }
          },
        }).then(
          ({ status }) => statuses.push(status),
          (error) => {
            if (!firstError) {
              if (label && error instanceof VmError) error.message = `${label}: ${error.message}`;
              firstError = error;
            }
            attemptController.abort(`${label} failing`);
          },
        ).finally(() => {
          stdout.flush?.();
          stderr.flush?.();
        });
      });
      await Promise.all(guests);
      qemuChildren.clear();
      if (!firstError) return statuses.find((status) => status !== 0) ?? 0;
      const error = firstError;
      const retryable = error instanceof VmError && error.bootFailure && error.exitCode === EXIT_HARNESS_FAILURE;
      if (accelerator === KVM && retryable && env.SPARK_RDMA_VM_ACCEL !== 'kvm') {
        const file = rememberKvmFailure(cacheDir, machine.qemu, error.message);
        process.stderr.write(`spark-vm: KVM boot failed (${error.message}); using TCG, now and from now on (delete ${file} to retry KVM)\n`);
        accelerator = TCG;
        reason = 'KVM boot failed';
        continue;
      }
      throw error;
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status;
  },
  (error) => {
    if (error instanceof VmError) {
      process.stderr.write(`spark-vm: ${error.message}\n`);
      process.exitCode = error.exitCode;
    } else {
      process.stderr.write(`spark-vm: internal error: ${error?.stack ?? error}\n`);
      process.exitCode = EXIT_HARNESS_FAILURE;
    }
  },
);

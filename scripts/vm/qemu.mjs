// Boots one guest and runs one job in it. Three serial ports, each a unix socket QEMU connects
// to: ttyS0 is the console (kernel, init and the @@spark-vm: markers), ttyS1 and ttyS2 carry the
// job's stdout and stderr. Every phase has a deadline; on any failure QEMU is killed.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { EXIT_TIMEOUT, VmError } from './errors.mjs';

const MARK = '@@spark-vm:';
const CONSOLE_LINES_KEPT = 50;
const QEMU_STDERR_KEPT = 4000;
const VERBOSE_HINT = '; rerun with --verbose (or SPARK_RDMA_VM_VERBOSE=1) to see the guest console';

export function kernelCommandLine({ verbose, guestDeadlineSeconds }) {
  const noise = verbose ? ['loglevel=6'] : ['quiet', 'loglevel=0'];
  // softdog accepts 1..65535 s; modprobe applies module parameters given here.
  const watchdog = Math.min(65535, Math.max(1, Math.ceil(guestDeadlineSeconds)));
  return [
    'console=ttyS0',
    ...noise,
    'panic=-1', // with -no-reboot: a guest that panics stops QEMU instead of hanging
    '8250.nr_uarts=4', // ttyS0..ttyS2 are used
    'mitigations=off', // a throwaway test guest; makes syscalls cheaper under TCG
    `softdog.soft_margin=${watchdog}`,
  ].join(' ');
}

export function qemuArguments({ accelerator, kernelImage, initrd, memory, smp, shareDir, sockets, verbose, guestDeadlineSeconds, nics = [] }) {
  const args = ['-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot'];
  args.push(...accelerator.args, '-smp', String(smp), '-m', memory);
  args.push('-kernel', kernelImage, '-initrd', initrd, '-append', kernelCommandLine({ verbose, guestDeadlineSeconds }));
  for (const [id, path] of Object.entries(sockets)) {
    args.push('-chardev', `socket,id=${id},path=${path}`, '-serial', `chardev:${id}`);
  }
  args.push('-virtfs', 'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap');
  args.push('-virtfs', `local,path=${shareDir},mount_tag=job,security_model=none`);
  if (nics.length === 0) args.push('-nic', 'none');
  // One virtual cable per rail: a unix datagram socket pair, no host networking (nodes.mjs).
  for (const nic of nics) {
    args.push('-netdev', `dgram,id=${nic.id},local.type=unix,local.path=${nic.localPath},remote.type=unix,remote.path=${nic.remotePath}`);
    args.push('-device', `virtio-net-pci,netdev=${nic.id},host_mtu=${nic.mtu},mac=${nic.mac}`);
  }
  return args;
}

// A unix socket server that accepts QEMU's one connection for a serial port.
async function listenForPort(path, onConnection) {
  const server = createServer({ pauseOnConnect: false }, (socket) => {
    server.close(); // one connection only
    onConnection(socket);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, resolve);
  });
  return server;
}

function readOptional(path) {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * Boots the guest and resolves with { status, timings } once the job has finished and the guest
 * is off; rejects with a VmError (exitCode set) on a boot failure, a deadline or `signal`.
 * `bootFailure` on the error tells whether the guest never reached its init (the caller may
 * retry with another accelerator).
 */
export async function runGuest(options) {
  const { qemu, shareDir, socketDir, bootDeadlineMs, runDeadlineAt, verbose, stdout, stderr, signal } = options;
  const sockets = {
    console: join(socketDir, 'console.sock'),
    stdout: join(socketDir, 'stdout.sock'),
    stderr: join(socketDir, 'stderr.sock'),
  };
  const startedAt = Date.now();
  const timings = {};
  const consoleLines = [];
  let qemuStderr = '';
  let phase = 'starting'; // -> booted -> ready -> exited
  let markerStatus;
  let markerError;
  const openStreams = new Set();
  const servers = [];

  let child;
  let settle;
  const finished = new Promise((resolve, reject) => {
    settle = { resolve, reject };
  });
  let failure;
  const fail = (error) => {
    if (failure) return;
    failure = error;
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };

  const onConsoleLine = (raw) => {
    const line = raw.replace(/\r/g, '');
    const at = line.indexOf(MARK);
    if (at === -1) {
      consoleLines.push(line);
      if (consoleLines.length > CONSOLE_LINES_KEPT) consoleLines.shift();
      if (verbose) stderr.write(`[guest console] ${line}\n`);
      return;
    }
    if (verbose) stderr.write(`[guest marker +${((Date.now() - startedAt) / 1000).toFixed(1)} s] ${line.slice(at)}\n`);
    const [event, ...rest] = line.slice(at + MARK.length).split(' ');
    const argument = rest.join(' ');
    if (event === 'booted') {
      phase = 'booted';
      timings.bootedMs = Date.now() - startedAt;
    } else if (event === 'ready') {
      phase = 'ready';
      timings.readyMs = Date.now() - startedAt;
      options.onReady?.(timings);
    } else if (event === 'exit') {
      markerStatus = Number(argument);
    } else if (event === 'error') {
      markerError = argument;
    }
  };

  const trackStream = (socket, onData) => {
    openStreams.add(socket);
    socket.on('data', onData);
    socket.on('error', () => {}); // a reset at power-off is the normal end
    socket.on('close', () => {
      openStreams.delete(socket);
      maybeDone();
    });
  };

  let consoleBuffer = '';
  servers.push(
    await listenForPort(sockets.console, (socket) =>
      trackStream(socket, (chunk) => {
        consoleBuffer += chunk.toString('utf8');
        const lines = consoleBuffer.split('\n');
        consoleBuffer = lines.pop();
        for (const line of lines) onConsoleLine(line);
      }),
    ),
  );
  // Job output goes through untouched (bytes, not lines), honouring back-pressure.
  for (const [name, destination] of [['stdout', stdout], ['stderr', stderr]]) {
    servers.push(
      await listenForPort(sockets[name], (socket) => {
        // A reader that went away (| head) must not crash the harness: discard the rest.
        destination.once('error', () => {
          socket.unpipe(destination);
          socket.resume();
        });
        socket.pipe(destination, { end: false });
        trackStream(socket, () => {});
      }),
    );
  }

  const describeConsole = () => {
    const last = consoleLines.filter((l) => l.trim() !== '').slice(-3).join(' | ');
    return last ? `; last console lines: ${last}` : '';
  };
  const describeQemu = () => {
    const text = qemuStderr.trim().split('\n').slice(-2).join(' | ');
    return text ? `; qemu said: ${text}` : '';
  };

  // An earlier deadline for reaching the guest init (used for KVM, whose boot takes a second).
  const bootedDeadlineMs = options.bootedDeadlineMs ?? bootDeadlineMs;
  const bootedTimer =
    bootedDeadlineMs < bootDeadlineMs
      ? setTimeout(() => {
          if (phase !== 'starting') return;
          const seconds = Math.round(bootedDeadlineMs / 1000);
          const error = new VmError(`guest did not reach its init within ${seconds} s (${options.accelerator.name})${describeConsole()}${describeQemu()}${VERBOSE_HINT}`);
          error.bootFailure = true;
          fail(error);
        }, bootedDeadlineMs)
      : undefined;
  const bootTimer = setTimeout(() => {
    if (phase === 'ready') return;
    const seconds = Math.round(bootDeadlineMs / 1000);
    const error =
      phase === 'starting'
        ? new VmError(`guest did not boot within ${seconds} s (${options.accelerator.name})${describeConsole()}${describeQemu()}${VERBOSE_HINT}`)
        : new VmError(`guest booted but rxe0/rxe1 were not ready within ${seconds} s${describeConsole()}${VERBOSE_HINT}`);
    error.bootFailure = phase === 'starting';
    fail(error);
  }, bootDeadlineMs);
  const runTimer = setTimeout(() => {
    const what = phase === 'ready' ? 'the command was still running' : `the guest was still ${phase === 'booted' ? 'creating rails' : 'booting'}`;
    fail(new VmError(`timed out: ${what} at the deadline of ${options.timeoutSeconds} s (--timeout / SPARK_RDMA_VM_TIMEOUT); QEMU killed`, EXIT_TIMEOUT));
  }, Math.max(0, runDeadlineAt - startedAt));
  const onAbort = () => fail(new VmError(`interrupted by ${signal.reason ?? 'a signal'}; QEMU killed`, signal.reason === 'SIGTERM' ? 143 : 130));
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) onAbort();

  const stopWatching = () => {
    clearTimeout(bootedTimer);
    clearTimeout(bootTimer);
    clearTimeout(runTimer);
    signal?.removeEventListener('abort', onAbort);
    for (const server of servers) server.close();
  };

  let qemuExit;
  function maybeDone() {
    if (qemuExit === undefined || openStreams.size > 0) return;
    stopWatching();
    if (failure) return settle.reject(failure);
    if (consoleBuffer) onConsoleLine(consoleBuffer);
    const statusText = readOptional(join(shareDir, 'status'));
    const status = statusText !== undefined && /^\d+$/.test(statusText) ? Number(statusText) : markerStatus;
    if (status !== undefined && Number.isInteger(status)) return settle.resolve({ status, timings });
    const reason = readOptional(join(shareDir, 'error')) ?? markerError;
    const error = reason
      ? new VmError(`guest setup failed: ${reason}`)
      : new VmError(`guest stopped before the command finished (QEMU ${qemuExit})${describeConsole()}${describeQemu()}${VERBOSE_HINT}`);
    error.bootFailure = phase === 'starting';
    settle.reject(error);
  }

  if (failure) {
    // Aborted before QEMU started.
    stopWatching();
    throw failure;
  }
  // Its own process group: a terminal's Ctrl-C reaches this process, which then kills QEMU, so
  // the failure is always reported as the interruption it is.
  child = spawn(qemu, qemuArguments({ ...options, sockets }), { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  options.onSpawn?.(child);
  child.stderr.on('data', (chunk) => {
    qemuStderr = (qemuStderr + chunk.toString('utf8')).slice(-QEMU_STDERR_KEPT);
    if (verbose) stderr.write(chunk);
  });
  child.on('error', (error) => {
    const message =
      error.code === 'ENOENT'
        ? `cannot run ${qemu}: not found; install the Debian package qemu-system-x86`
        : `cannot run ${qemu}: ${error.message}`;
    fail(new VmError(message));
    qemuExit = 'not started';
    openStreams.clear();
    maybeDone();
  });
  child.on('exit', (code, killedBy) => {
    qemuExit = killedBy ? `killed by ${killedBy}` : `exit status ${code}`;
    // QEMU closes its sockets as it exits; do not wait on a stream that never connected.
    setTimeout(() => {
      for (const socket of openStreams) socket.destroy();
    }, 2000).unref();
    maybeDone();
  });
  return finished;
}

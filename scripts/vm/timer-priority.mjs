// SPARK_RDMA_VM_TIMER_FIFO=<1..99>: once the guest is up, QEMU's main-loop thread on the host runs
// at SCHED_FIFO with that priority. Under TCG that thread fires the guest's timers (the APIC
// timer is a QEMU timer) and kicks the vCPU threads; on a 2-CPU host with both vCPUs spinning it
// waits behind them for the host scheduler, so every guest timer is late (bench/results/issue-17.md).
// A real machine has no such thread: this takes the emulator's share out of a lag measurement.
// Only the main thread is raised, with reset-on-fork, so threads QEMU creates later stay ordinary.
import { spawn, spawnSync } from 'node:child_process';
import { VmError } from './errors.mjs';

/** The priority asked for, or null when unset; a clear error for anything else. */
export function timerFifoPriority(env) {
  const value = env.SPARK_RDMA_VM_TIMER_FIFO;
  if (value === undefined || value === '') return null;
  const priority = Number(value);
  if (!Number.isInteger(priority) || priority < 1 || priority > 99) {
    throw new VmError(`SPARK_RDMA_VM_TIMER_FIFO=${value} is not a SCHED_FIFO priority from 1 to 99; use e.g. 10, or unset it`);
  }
  return priority;
}

/**
 * Before booting: whether this host lets us set SCHED_FIFO at all, tried on a throwaway `sleep`,
 * so a missing CAP_SYS_NICE is refused up front rather than after a boot.
 */
export function checkTimerFifoAllowed(priority) {
  const probe = spawn('sleep', ['5'], { stdio: 'ignore' });
  try {
    raiseMainLoop(probe.pid, priority);
  } finally {
    probe.kill('SIGKILL');
  }
}

/** Raises QEMU's main thread (its pid) and returns the policy chrt reads back, for the log. */
export function raiseMainLoop(pid, priority) {
  const set = spawnSync('chrt', ['--reset-on-fork', '--fifo', '--pid', String(priority), String(pid)], { encoding: 'utf8' });
  if (set.error || set.status !== 0) {
    const why = set.error ? set.error.message : set.stderr.trim();
    throw new VmError(`SPARK_RDMA_VM_TIMER_FIFO: could not give QEMU's main loop (pid ${pid}) SCHED_FIFO ${priority}: ${why}; it needs CAP_SYS_NICE on the host (run as root), or unset it`);
  }
  const read = spawnSync('chrt', ['--pid', String(pid)], { encoding: 'utf8' });
  return read.stdout.replace(/pid \d+'s current /g, '').replace(/\n/g, '; ').replace(/; $/, '');
}

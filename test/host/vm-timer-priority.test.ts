// SPARK_RDMA_VM_TIMER_FIFO: the testbed setting that lets the emulator's timer thread (QEMU's main
// loop, on the host) run ahead of the spinning vCPU threads. Checked on throwaway processes here;
// the boot test checks the harness applies it to a real QEMU.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { raiseMainLoop, timerFifoPriority } from '../../scripts/vm/timer-priority.mjs';

const repo = join(import.meta.dirname, '../..');

/** The scheduling policy of a thread, from /proc (1 is SCHED_FIFO, 0 SCHED_OTHER). */
function policyOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[38]);
}

describe('SPARK_RDMA_VM_TIMER_FIFO', () => {
  it('is a SCHED_FIFO priority from 1 to 99, or unset; anything else says what to pass', () => {
    expect(timerFifoPriority({})).toBeNull();
    expect(timerFifoPriority({ SPARK_RDMA_VM_TIMER_FIFO: '' })).toBeNull();
    expect(timerFifoPriority({ SPARK_RDMA_VM_TIMER_FIFO: '10' })).toBe(10);
    for (const bad of ['0', '100', '1.5', 'fifo', '-3']) {
      expect(() => timerFifoPriority({ SPARK_RDMA_VM_TIMER_FIFO: bad })).toThrow(`SPARK_RDMA_VM_TIMER_FIFO=${bad} is not a SCHED_FIFO priority from 1 to 99; use e.g. 10, or unset it`);
    }
  });

  it('raises the one thread it names, reset on fork, and reports what the kernel read back', () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      expect(policyOf(child.pid!)).toBe(0);
      expect(raiseMainLoop(child.pid!, 7)).toBe('scheduling policy: SCHED_FIFO|SCHED_RESET_ON_FORK; scheduling priority: 7');
      expect(policyOf(child.pid!)).toBe(1);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('a pid that is gone is an error that names the setting and what to do', () => {
    const gone = spawnSync('true').pid;
    expect(() => raiseMainLoop(gone, 10)).toThrow(/SPARK_RDMA_VM_TIMER_FIFO: could not give QEMU's main loop \(pid \d+\) SCHED_FIFO 10: .*or unset it/);
  });

  it('a bad value stops the harness before it boots anything (exit 125)', () => {
    const r = spawnSync(process.execPath, [join(repo, 'scripts', 'vm', 'run.mjs'), '--', 'true'], { encoding: 'utf8', env: { ...process.env, SPARK_RDMA_VM_TIMER_FIFO: '100' }, timeout: 20_000 });
    expect(r.status).toBe(125);
    expect(r.stderr).toContain('SPARK_RDMA_VM_TIMER_FIFO=100 is not a SCHED_FIFO priority');
    expect(r.stderr).not.toContain('booted');
  });
});

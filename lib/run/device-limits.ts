import type { DeviceInfo } from '@spark/rdma/binding';
import { invalidArgument, type RdmaError } from '../errors.js';
import { loadBinding } from '../native/load.js';
import type { Rail } from '../rails/types.js';
import { plannedCqEntries } from '../verbs/cq-size.js';

export interface PlannedResources {
  qps: number;
  txDepth: number;
  /** Largest region each QP registers. */
  regionBytes: number;
  mtu?: number;
}

/**
 * Why `plan` does not fit one rail's device, or null. Pure: `info` is what queryDevice
 * returned, so the same rule serves the client, the server and tests with any device's limits.
 */
export function deviceLimitProblem(rail: Pick<Rail, 'device' | 'port' | 'netdev'>, info: DeviceInfo, plan: PlannedResources): RdmaError | null {
  const limits = info.limits;
  const port = info.ports.find((p) => p.port === rail.port);
  if (plan.qps > limits.maxQp) {
    return invalidArgument(`${plan.qps} QPs per rail exceed ${rail.device}'s max_qp of ${limits.maxQp}`, `pass --qps ${limits.maxQp} or fewer`);
  }
  if (plan.txDepth > limits.maxQpWr) {
    return invalidArgument(`tx depth ${plan.txDepth} exceeds ${rail.device}'s max_qp_wr of ${limits.maxQpWr}`, `pass --tx-depth ${limits.maxQpWr} or less`);
  }
  const cqEntries = plannedCqEntries(plan);
  if (cqEntries > limits.maxCqe) {
    // All QPs of a rail share one CQ, so depth and QP count meet here (ibv_create_cq: EINVAL).
    const depthFits = Math.floor(limits.maxCqe / plan.qps) - 1;
    return invalidArgument(
      `${plan.qps} QP(s) x (tx depth ${plan.txDepth} + 1) = ${cqEntries} completion-queue entries exceed ${rail.device}'s max_cqe of ${limits.maxCqe}`,
      depthFits >= 1 ? `pass --tx-depth ${depthFits} or less, or fewer --qps` : `pass fewer --qps (at most ${Math.floor(limits.maxCqe / 2)} with --tx-depth 1)`,
    );
  }
  if (BigInt(plan.regionBytes) > limits.maxMrSize) {
    return invalidArgument(`message size ${plan.regionBytes} exceeds ${rail.device}'s max_mr_size of ${limits.maxMrSize}`, 'pass a smaller --size');
  }
  if (plan.mtu !== undefined && port && plan.mtu > port.activeMtu) {
    return invalidArgument(
      `MTU ${plan.mtu} exceeds ${rail.device} port ${rail.port}'s active MTU ${port.activeMtu}`,
      `pass --mtu ${port.activeMtu} or less, or raise the netdev MTU of ${rail.netdev} (9000 allows 4096)`,
    );
  }
  return null;
}

/** Checks a plan against each rail device's limits before any object is created. */
export function checkDeviceLimits(rails: Rail[], plan: PlannedResources): void {
  const native = loadBinding();
  for (const rail of rails) {
    const problem = deviceLimitProblem(rail, native.queryDevice(rail.device), plan);
    if (problem) throw problem;
  }
}

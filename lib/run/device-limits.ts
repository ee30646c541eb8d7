import type { DeviceLimits } from '../../binding.js';
import { invalidArgument } from '../errors.js';
import { loadBinding } from '../native/load.js';
import type { Rail } from '../rails/types.js';

export interface PlannedResources {
  qps: number;
  txDepth: number;
  /** Largest region each QP registers. */
  regionBytes: number;
  mtu?: number;
}

/** Checks a plan against each rail device's limits before any object is created. */
export function checkDeviceLimits(rails: Rail[], plan: PlannedResources): void {
  const native = loadBinding();
  for (const rail of rails) {
    const info = native.queryDevice(rail.device);
    const limits: DeviceLimits = info.limits;
    const port = info.ports.find((p) => p.port === rail.port);
    if (plan.qps > limits.maxQp) {
      throw invalidArgument(`${plan.qps} QPs per rail exceed ${rail.device}'s max_qp of ${limits.maxQp}`, `pass --qps ${limits.maxQp} or fewer`);
    }
    if (plan.txDepth > limits.maxQpWr) {
      throw invalidArgument(`tx depth ${plan.txDepth} exceeds ${rail.device}'s max_qp_wr of ${limits.maxQpWr}`, `pass --tx-depth ${limits.maxQpWr} or less`);
    }
    if (BigInt(plan.regionBytes) > limits.maxMrSize) {
      throw invalidArgument(
        `message size ${plan.regionBytes} exceeds ${rail.device}'s max_mr_size of ${limits.maxMrSize}`,
        'pass a smaller --size',
      );
    }
    if (plan.mtu !== undefined && port && plan.mtu > port.activeMtu) {
      throw invalidArgument(
        `MTU ${plan.mtu} exceeds ${rail.device} port ${rail.port}'s active MTU ${port.activeMtu}`,
        `pass --mtu ${port.activeMtu} or less, or raise the netdev MTU of ${rail.netdev} (9000 allows 4096)`,
      );
    }
  }
}

/**
 * Completion-queue entries one side of a rail asks for: one CQ shared by every QP, one entry
 * per outstanding WR plus one (RailEndpoint and CmRailEndpoint size it this way; the run plan
 * checks the same figure against the device's max_cqe before any object exists).
 */
export function plannedCqEntries(plan: { qps: number; txDepth: number }): number {
  return Math.max(64, plan.qps * (plan.txDepth + 1));
}

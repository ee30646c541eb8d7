// Which saved runs may decide single or dual rail for a two-node config: runs between two nodes,
// run to the end, on rails this machine has. Anything else would decide from the wrong evidence.
import { invalidArgument } from '../errors.js';
import type { Rail } from '../rails/types.js';
import type { MeasuredRun } from './measurements.js';

const MEASURE_HINT = 'measure between the two nodes: spark-rdma bw on one, then on the other spark-rdma bw <its address> --rails 1 --json > single.json and --rails 2 --json > dual.json';

/**
 * @throws RdmaError ERR_RDMA_INVALID_ARGUMENT for a loopback run (it measured each device against
 * itself, not the link between the nodes), a run that stopped early (partial, undercounted), or a
 * run on rails this machine does not have (taken on other hardware).
 */
export function checkEvidence(runs: readonly MeasuredRun[], rails: readonly Rail[]): void {
  const here = rails.map((r) => `${r.device}:${r.port}`);
  for (const run of runs) {
    if (run.mode === 'loopback') {
      throw invalidArgument(
        `${run.source} is a loopback run (params.mode "loopback"): it measured each device against itself, not the link between the nodes, so it cannot decide single or dual rail`,
        MEASURE_HINT,
      );
    }
    if (run.stoppedEarly) {
      throw invalidArgument(`${run.source} stopped early (stoppedEarly: true): an interrupted run undercounts and cannot decide single or dual rail`, `run it again to the end; ${MEASURE_HINT}`);
    }
    const foreign = run.rails.filter((name) => !here.includes(name.includes(':') ? name : `${name}:1`));
    if (foreign.length > 0) {
      throw invalidArgument(
        `${run.source} was measured on ${foreign.join(', ')}, which ${foreign.length === 1 ? 'is not a rail' : 'are not rails'} of this machine (rails here: ${here.join(', ') || 'none'}): ` +
          'it comes from other hardware and says nothing about these rails',
        `measure on this machine (${MEASURE_HINT}), or choose yourself with --single or --dual`,
      );
    }
  }
}

import { RdmaError, invalidArgument } from '../errors.js';
import { discoverRails } from '../rails/discover.js';
import type { Rail } from '../rails/types.js';
import type { SysfsRootOptions } from '../sysfs/root.js';
import { compareRailCounts, DUAL_RAIL_MIN_SPEEDUP, DUAL_RAIL_TOKENS_NOTE } from './compare.js';
import { checkEvidence } from './evidence.js';
import type { MeasuredRun } from './measurements.js';
import type { RailDecision, RailMode } from './types.js';

/** Which rails a launch config uses. Without any of these: one rail, the first. */
export interface RailChoiceOptions extends SysfsRootOptions {
  /** Rails to choose from instead of discovering this machine's (e.g. discoverRails() output). */
  fromRails?: readonly Rail[];
  /** Use the first N rails (CLI `--rails N`), as `rails` means in runBandwidth and watchRails. */
  rails?: number;
  /** Use exactly these rails, in this order: device names or `device:port` (CLI `--devices a,b`). */
  devices?: readonly string[];
  /** Force one rail or two (CLI `--single` / `--dual`). */
  mode?: RailMode;
  /** Saved bandwidth runs (loadMeasurement / measurementFromResult): dual rail only if clearly faster. */
  measurements?: readonly MeasuredRun[];
  /** Speedup dual rail must show over single rail; default {@link DUAL_RAIL_MIN_SPEEDUP} (1.3). */
  dualThreshold?: number;
}

const NO_RAILS_HINT =
  'no ACTIVE Ethernet RDMA port with a netdev was found: run spark-rdma doctor, check the cable and `ip link`; ' +
  'to write a config for another machine pass its rails (--sysfs-root, or fromRails: in the API)';

const railName = (r: Rail) => `${r.device}:${r.port}`;

function findRail(all: readonly Rail[], name: string): Rail {
  const [device, portText] = name.split(':');
  const rail = all.find((r) => r.device === device && (portText === undefined || r.port === Number(portText)));
  if (!rail) {
    throw invalidArgument(
      `device ${name} is not a rail here (rails: ${all.map(railName).join(', ') || 'none'})`,
      'pass --devices with names that `spark-rdma devices` lists as rails',
    );
  }
  return rail;
}

/** The rails the options narrow to (before single/dual), and whether that count was asked for. */
function pool(all: readonly Rail[], opts: RailChoiceOptions): { rails: Rail[]; explicit: string | null } {
  if (opts.rails !== undefined && opts.devices !== undefined) {
    throw invalidArgument('both --rails and --devices were given', 'pass one of them: --rails N takes the first N rails, --devices names them');
  }
  if (opts.devices !== undefined) {
    if (opts.devices.length === 0) throw invalidArgument('--devices is empty', 'name at least one rail, e.g. --devices rocep1s0f1');
    const rails = opts.devices.map((d) => findRail(all, d));
    const names = rails.map(railName);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup) throw invalidArgument(`--devices names ${dup} twice`, 'name each rail once');
    return { rails, explicit: `--devices ${opts.devices.join(',')}` };
  }
  if (opts.rails !== undefined) {
    const n = opts.rails;
    if (!Number.isInteger(n) || n < 1) throw invalidArgument(`--rails ${n} must be a whole number of 1 or more`, 'pass e.g. --rails 2');
    if (n > all.length) {
      throw invalidArgument(
        `asked for ${n} rails, this machine has ${all.length} (${all.map(railName).join(', ')})`,
        `pass --rails ${all.length} or fewer; spark-rdma doctor says why other ports are not rails`,
      );
    }
    return { rails: all.slice(0, n), explicit: `--rails ${n}` };
  }
  return { rails: [...all], explicit: null };
}

function requireIpv4(rails: Rail[]): void {
  for (const rail of rails) {
    if (rail.gidIndex === null || rail.ipv4 === null) {
      throw new RdmaError(`rail ${railName(rail)} (${rail.netdev}) has no IPv4 RoCE v2 GID${rail.reason ? `: ${rail.reason}` : ''}`, {
        code: 'ERR_RDMA_NO_GID',
        hint: `give ${rail.netdev} an IPv4 address (sudo ip addr add <a.b.c.d/len> dev ${rail.netdev}), or choose other rails with --devices`,
      });
    }
  }
}

// The shapes before `rails` meant "the first N" everywhere: a Rail[] in `rails`, the count in `railCount`.
function refuseOldShapes(opts: RailChoiceOptions): void {
  const old = opts as { rails?: unknown; railCount?: unknown };
  if (Array.isArray(old.rails)) {
    throw invalidArgument(
      'rails takes a number of rails now (the first N, as in runBandwidth), not a list of rails',
      'pass the rails to choose from as fromRails: discoverRails(), and rails: N to take the first N of them',
    );
  }
  if (old.railCount !== undefined) throw invalidArgument('railCount is now rails', `pass rails: ${String(old.railCount)}`);
  if (opts.rails !== undefined && (typeof opts.rails !== 'number' || !Number.isInteger(opts.rails))) {
    throw invalidArgument(`rails ${String(opts.rails)} must be a whole number of 1 or more`, 'pass e.g. rails: 2 (the first two rails)');
  }
}

/** Rails named by the measured multi-rail run, when this machine has them all; else the first n. */
function measuredRails(candidates: Rail[], names: readonly string[]): Rail[] | null {
  const found = names.map((n) => candidates.find((r) => railName(r) === n));
  return found.every((r): r is Rail => r !== undefined) ? found : null;
}

/**
 * Picks the rails of a launch config and says why. Order of precedence: `mode` (--single /
 * --dual), then an explicit `rails`/`devices` selection, then measurements (dual rail only
 * when it measured at least `dualThreshold` times single rail), then the default: single rail.
 * @throws RdmaError ERR_RDMA_NO_RAILS, ERR_RDMA_NO_GID, ERR_RDMA_INVALID_ARGUMENT.
 */
export function chooseRails(opts: RailChoiceOptions = {}): RailDecision {
  refuseOldShapes(opts);
  const all = opts.fromRails ?? discoverRails({
    ...(opts.sysfsRoot !== undefined ? { sysfsRoot: opts.sysfsRoot } : {}),
    ...(opts.env !== undefined ? { env: opts.env } : {}),
  });
  if (all.length === 0) throw new RdmaError('this machine has no RDMA rails to configure', { code: 'ERR_RDMA_NO_RAILS', hint: NO_RAILS_HINT });
  const { rails: candidates, explicit } = pool(all, opts);
  if (opts.measurements !== undefined) checkEvidence(opts.measurements, all);
  const measured = opts.measurements !== undefined && opts.measurements.length > 0
    ? compareRailCounts(opts.measurements, opts.dualThreshold ?? DUAL_RAIL_MIN_SPEEDUP)
    : null;
  const alsoMeasured = measured ? ` (measurements alone would choose: ${measured.reason})` : '';

  let chosen: Rail[];
  let source: RailDecision['source'];
  let reason: string;
  if (opts.mode === 'single') {
    chosen = candidates.slice(0, 1);
    source = 'explicit';
    reason = `single rail, as asked (--single)${alsoMeasured}`;
  } else if (opts.mode === 'dual') {
    if (candidates.length < 2) {
      throw invalidArgument(
        `dual rail needs 2 rails, the selection has ${candidates.length} (${candidates.map(railName).join(', ')})`,
        'give both functions of the cabled port an IPv4 address (spark-rdma doctor), or drop --dual',
      );
    }
    chosen = candidates.slice(0, 2);
    source = 'explicit';
    reason = `dual rail, as asked (--dual)${alsoMeasured}`;
  } else if (explicit !== null) {
    chosen = candidates;
    source = 'explicit';
    reason = `${candidates.length === 1 ? 'single' : 'dual'} rail, as selected (${explicit})${alsoMeasured}`;
  } else if (measured) {
    source = 'measured';
    if (measured.verdict === 'dual') {
      const names = measured.comparison?.dualRails ?? [];
      // checkEvidence() refused runs on rails this machine lacks, so the names are here (candidates may be narrower).
      const same = measuredRails(candidates, names);
      if (same) {
        chosen = same;
        reason = measured.reason;
      } else {
        chosen = candidates.slice(0, 1);
        reason = `single rail: the measurements favour ${names.length} rails but this machine has ${candidates.length} (${candidates.map(railName).join(', ')}); ${measured.reason}`;
      }
    } else {
      chosen = candidates.slice(0, 1);
      reason = measured.reason;
    }
  } else {
    chosen = candidates.slice(0, 1);
    source = 'default';
    reason =
      `single rail by default: no measurements were given; ${DUAL_RAIL_TOKENS_NOTE}. To decide from data, save ` +
      'spark-rdma bw --rails 1 --json and --rails 2 --json runs and pass both with --from';
  }
  requireIpv4(chosen);
  return {
    mode: chosen.length === 1 ? 'single' : 'dual',
    rails: chosen.map((r, i) => ({ ...r, index: i })),
    source,
    reason,
    comparison: measured?.comparison ?? null,
  };
}

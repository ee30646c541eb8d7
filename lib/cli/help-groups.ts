import { Option, type Command } from 'commander';

// Every command's --help lists its options under headings (issue 21.10), the same headings
// everywhere, in this order. Commander (14.x) prints groups in the order their first option was
// added, so the grouping is set here, once, after every command registered its options.
const SESSION = 'Peer and session:';
const CLUSTER = 'Cluster:';
const RAILS = 'Rails:';
const MEASUREMENT = 'Measurement:';
const TUNING = 'Tuning:';
const VERDICT = 'Verdict:';
const SERVING = 'Serving:';
const OUTPUT = 'Output:';
const PERFTEST = 'perftest habits:';
const MACHINE = 'Machine (another tree than the live system):';
const OTHER = 'Other:';

/** heading -> options (commander attribute names) in each command, keyed by its path. */
type Layout = Readonly<Record<string, readonly string[]>>;

const RUN_SHARED = {
  [SESSION]: ['loopback', 'perftest', 'port', 'bind', 'cm', 'peerTimeout'],
  [RAILS]: ['rails', 'devices', 'mtu', 'gidIndex'],
  [PERFTEST]: ['F', 'report_gbits'],
  [MACHINE]: ['sysfsRoot'],
} as const;
const CONFIG_SHARED = {
  [RAILS]: ['rails', 'devices', 'single', 'dual', 'from', 'dualThreshold'],
  [MACHINE]: ['sysfsRoot'],
} as const;

const LAYOUTS: Readonly<Record<string, Layout>> = {
  bw: {
    ...RUN_SHARED,
    [MEASUREMENT]: ['size', 'sizes', 'a', 'duration', 'iters', 'warmup', 'bidir'],
    [TUNING]: ['qps', 'threads', 'txDepth', 'postList', 'signalEvery', 'inline', 'events'],
    [OUTPUT]: ['json', 'interval'],
  },
  lat: {
    ...RUN_SHARED,
    [MEASUREMENT]: ['size', 'sizes', 'a', 'duration', 'iters', 'warmup', 'warmupIters', 'concurrent'],
    [TUNING]: ['inline', 'timer', 'events'],
    [OUTPUT]: ['json', 'histogram'],
  },
  monitor: { [RAILS]: ['rails', 'devices'], [OUTPUT]: ['interval', 'count', 'json'], [MACHINE]: ['sysfsRoot'] },
  exporter: { [SERVING]: ['listen'], [MACHINE]: ['sysfsRoot'] },
  devices: { [OUTPUT]: ['json'], [MACHINE]: ['sysfsRoot'] },
  doctor: { [MEASUREMENT]: ['memlockNeeded'], [OUTPUT]: ['json'], [MACHINE]: ['sysfsRoot', 'procRoot', 'etcRoot', 'devRoot', 'homeDir'] },
  'nccl-check': { [RAILS]: ['devices'], [OUTPUT]: ['json'], [MACHINE]: ['sysfsRoot'] },
  mesh: {
    [CLUSTER]: ['rank', 'worldSize', 'rdzv', 'rdzvTimeout', 'port', 'peerTimeout'],
    [RAILS]: ['rails'],
    [MEASUREMENT]: ['size', 'qps', 'duration', 'warmup', 'lat', 'latIters', 'serial'],
    [VERDICT]: ['slowFraction', 'slowShare'],
    [OUTPUT]: ['json', 'svg', 'verbose'],
    [MACHINE]: ['sysfsRoot'],
  },
  'config nccl': { ...CONFIG_SHARED, [OUTPUT]: ['format', 'json', 'debugNccl'] },
  'config vllm': {
    [CLUSTER]: ['headIp', 'workerIp', 'gpusPerNode'],
    [SERVING]: ['model', 'image', 'hfHome', 'runCluster', 'tensorParallelSize', 'gpuMemoryUtilization', 'kvCacheDtype', 'maxNumBatchedTokens'],
    ...CONFIG_SHARED,
    [OUTPUT]: ['out', 'force', 'json', 'debugNccl'],
  },
};

/** The headings in the order help shows them. */
export const HELP_GROUP_ORDER: readonly string[] = [SESSION, CLUSTER, SERVING, RAILS, MEASUREMENT, TUNING, VERDICT, OUTPUT, PERFTEST, MACHINE, OTHER];

function pathOf(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * Puts each option of every command with options under its heading, help last under "Other:".
 * An option missing from the layout (or a layout naming an option that is gone) throws when the
 * program is built, so a new flag cannot reach --help ungrouped.
 */
export function groupHelpOptions(program: Command): void {
  for (const cmd of program.commands) {
    groupHelpOptions(cmd);
    if (cmd.options.length === 0) continue;
    const path = pathOf(cmd);
    const layout = LAYOUTS[path];
    if (!layout) throw new Error(`help groups: no layout for '${path}' (lib/cli/help-groups.ts)`);
    const headingOf = new Map<string, string>();
    for (const [heading, names] of Object.entries(layout)) for (const n of names) headingOf.set(n, heading);
    const known = new Set(cmd.options.map((o) => o.attributeName()));
    for (const name of headingOf.keys()) if (!known.has(name)) throw new Error(`help groups: '${path}' has no option '${name}'`);
    // Commander shows groups in the order of their first option: reorder the list accordingly.
    const rank = (o: Option) => HELP_GROUP_ORDER.indexOf(headingOf.get(o.attributeName()) ?? '');
    for (const option of cmd.options) {
      if (option.hidden) continue; // a refused old spelling: never shown
      const heading = headingOf.get(option.attributeName());
      if (heading === undefined) throw new Error(`help groups: '${path}' option ${option.flags} is in no group`);
      option.helpGroup(heading);
    }
    (cmd.options as Option[]).sort((a, b) => rank(a) - rank(b));
    cmd.addHelpOption(new Option('-h, --help', 'show help for a command').helpGroup(OTHER));
  }
}

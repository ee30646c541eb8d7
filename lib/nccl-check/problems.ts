// What is wrong with one process's NCCL log, each finding with its cause and fix in the words of
// the config's own log check (ncclLogCheck in lib/config/nccl.ts).
import { hcaEntryMatches, parseIbHca, type ParsedIbHca } from '../config/ib-hca.js';
import { NCCL_CONFIG_NAMES, ncclLogCheck } from '../config/nccl.js';
import { NCCL_FLOORS } from '../config/nccl-upstream.js';
import type { ProcessState } from './process.js';

export interface NcclProblem {
  code: string;
  /** fail: NCCL did not run the way the config means; warn: works, but fragile or not as configured. */
  severity: 'fail' | 'warn';
  message: string;
  cause: string;
  fix: string;
  /** Line number (1-based) of the evidence, when one line shows it. */
  line: number | null;
}

/** The rails a process should use, and where that list comes from. */
export interface ExpectedRails {
  source: 'devices' | 'log' | 'machine' | 'none';
  /** As given: `device` or `device:port` (prefixes when `exact` is false). */
  rails: string[];
  exact: boolean;
}

const meaning = (() => {
  const reject = ncclLogCheck([]).reject;
  return (text: string) => reject.find((r) => r.text === text)?.meaning ?? text;
})();

const CONTAINER_FIX = 'in a container: docker run --device /dev/infiniband:/dev/infiniband --ulimit memlock=-1 --cap-add IPC_LOCK; spark-rdma doctor checks the host';
const LOG_FIX = 'run once with NCCL_DEBUG=INFO NCCL_DEBUG_SUBSYS=INIT,NET (spark-rdma config nccl --debug-nccl) and keep the whole log';

/** Expected rails for a process: --devices, else the log's "NCCL_IB_HCA set to", else this machine's rails. */
export function expectedRails(p: ProcessState, devices: readonly string[] | undefined, machineRails: readonly string[] | undefined): ExpectedRails {
  if (devices && devices.length > 0) return { source: 'devices', rails: [...devices], exact: true };
  if (p.hca) {
    const parsed = parseIbHca(p.hca);
    if (!parsed.exclude && parsed.entries.length > 0) {
      return { source: 'log', rails: parsed.entries.map((e) => (e.port === null ? e.name : `${e.name}:${e.port}`)), exact: parsed.exact };
    }
  }
  if (machineRails && machineRails.length > 0) return { source: 'machine', rails: [...machineRails], exact: true };
  return { source: 'none', rails: [], exact: true };
}

function asParsed(expected: ExpectedRails, rail: string): ParsedIbHca {
  const [name = '', port] = rail.split(':');
  return { exclude: false, exact: expected.exact, entries: [{ name, port: port === undefined ? null : Number(port) }] };
}

const nameAndPort = (s: string): [string, number | null] => {
  const [name = '', port] = s.split(':');
  return [name, port === undefined ? null : Number(port)];
};

function versionBelow(version: string, floor: string): boolean {
  const a = version.split('.').map(Number);
  const b = floor.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0);
  return false;
}

function transportProblems(p: ProcessState): NcclProblem[] {
  const out: NcclProblem[] = [];
  const line = (kind: string) => p.firstLine.get(kind) ?? null;
  const socket = p.otherChannels.get('Socket') ?? 0;
  if (p.networks.includes('Socket') || socket > 0) {
    const what = [p.networks.includes('Socket') ? '"Using network Socket"' : '', socket > 0 ? `${socket} channel line(s) via NET/Socket` : ''].filter(Boolean).join(' and ');
    out.push({ code: 'socket-fallback', severity: 'fail', message: `NCCL ran over TCP sockets: ${what}`, cause: meaning('Using network Socket'),
      fix: `set NCCL_NET=IB so NCCL fails loudly instead (spark-rdma config nccl does); ${CONTAINER_FIX}`, line: line('network') ?? line('channel') });
  }
  const plugins = p.networks.filter((n) => n !== 'IB' && n !== 'Socket');
  if (p.pluginLoaded !== null || plugins.length > 0) {
    const name = p.pluginLoaded ?? plugins[0]!;
    out.push({ code: 'plugin-loaded', severity: 'fail', message: `an external net plugin loaded: ${name}${plugins.length > 0 ? ` (Using network ${plugins.join(', ')})` : ''}`,
      cause: meaning('Successfully loaded external'),
      fix: 'pass NCCL_NET_PLUGIN=none in the container environment (docker run -e or --env-file), and check NCCL conf files in the image: docker run --rm <image> cat /etc/nccl.conf',
      line: line('plugin-loaded') ?? line('network') });
  }
  if (p.noIbDevice) {
    out.push({ code: 'no-ib-device', severity: 'fail', message: 'NCCL found no usable IB device ("NET/IB : No device found.")', cause: meaning('NET/IB : No device found.'),
      fix: `compare NCCL_IB_HCA${p.hca ? ` (${p.hca})` : ''} with spark-rdma devices; ${CONTAINER_FIX}`, line: line('no-ib-device') });
  }
  if (p.noNet !== null) {
    out.push({ code: 'no-net', severity: 'fail', message: `no network transport came up: "${p.noNet}"`, cause: meaning('Failed to initialize any NET plugin'),
      fix: `make an IB device usable (see the lines before it), or for now NCCL_NET=Socket (slow, but it works); ${CONTAINER_FIX}`, line: line('no-net') });
  }
  if (p.gdrChannels > 0 || p.gdrEnabledLines > 0) {
    const what = p.gdrChannels > 0 ? `${p.gdrChannels} channel line(s) end in /GDRDMA` : '"GPU Direct RDMA Enabled" in the log';
    out.push({ code: 'gdr', severity: 'fail', message: `GPUDirect RDMA was attempted: ${what}`, cause: meaning('/GDRDMA'),
      fix: 'pass NCCL_NET_GDR_LEVEL=LOC (and NCCL_NET_GDR_C2C=0, NCCL_DMABUF_ENABLE=0) in the container environment', line: line('channel') ?? line('gdr-enabled') });
  }
  return out;
}

function railProblems(p: ProcessState, expected: ExpectedRails): NcclProblem[] {
  const out: NcclProblem[] = [];
  const used = p.railsUsed();
  const ibChannels = [...p.ibChannels.values()].reduce((a, b) => a + b, 0);
  const where = expected.source === 'devices' ? '--devices' : expected.source === 'log' ? `NCCL_IB_HCA (${p.hca})` : "this machine's rails";
  for (const rail of expected.rails) {
    const wanted = asParsed(expected, rail);
    const opened = p.devices.some((d) => hcaEntryMatches(wanted, d.name, d.port));
    if (!opened) {
      if (p.networks.includes('IB') || p.devices.length > 0) {
        out.push({ code: 'rail-not-opened', severity: 'fail', message: `rail ${rail} (from ${where}) is not among the devices NCCL opened (${p.devices.map((d) => `${d.name}:${d.port}`).join(', ') || 'none'})`,
          cause: 'NCCL_IB_HCA in the process does not name it, or the device is missing in the container',
          fix: `pass the same NCCL_IB_HCA on every node (spark-rdma config nccl), and ${CONTAINER_FIX}`, line: p.firstLine.get('ib-devices') ?? null });
      }
      continue;
    }
    if (ibChannels > 0 && !used.some((u) => hcaEntryMatches(wanted, ...nameAndPort(u)))) {
      out.push({ code: 'rail-unused', severity: 'fail', message: `rail ${rail} was opened but no channel uses it (channels use ${used.join(', ')})`,
        cause: 'NCCL put every channel on the other rail(s): the peer did not offer this rail (different NCCL_IB_HCA or rail order there), or NCCL chose fewer rails',
        fix: 'use the same NCCL_IB_HCA, in the same order, on every node; dual rail needs both functions cabled and addressed on both nodes (spark-rdma doctor)',
        line: p.firstLine.get('channel') ?? null });
    }
  }
  if (expected.rails.length > 0) {
    const extra = used.filter((u) => !expected.rails.some((r) => hcaEntryMatches(asParsed(expected, r), ...nameAndPort(u))));
    if (extra.length > 0) {
      out.push({ code: 'unexpected-rail', severity: 'warn', message: `channels also use ${extra.join(', ')}, which ${where} does not name`,
        cause: 'NCCL_IB_HCA matches more devices than meant (a prefix without "=") or differs from the expected rails',
        fix: 'write NCCL_IB_HCA with "=" and exact device:port names (spark-rdma config nccl)', line: p.firstLine.get('channel') ?? null });
    }
  }
  return out;
}

function variableProblems(p: ProcessState): NcclProblem[] {
  const out: NcclProblem[] = [];
  const line = p.firstLine.get('variable') ?? null;
  const origin = 'set by the environment or an NCCL conf file (NCCL logs both as "set by environment": src/misc/param.cc)';
  const gid = p.variables.get('NCCL_IB_GID_INDEX');
  if (gid !== undefined && Number(gid) >= 0) {
    out.push({ code: 'gid-index-pinned', severity: 'warn', message: `NCCL_IB_GID_INDEX=${gid}, ${origin}`, cause: 'a fixed GID index breaks when IPv6 global addresses shift the table',
      fix: `NCCL_IB_GID_INDEX=-1 (automatic, NCCL >= ${NCCL_FLOORS.autoGidIndex}); spark-rdma doctor names the right index`, line });
  }
  const disable = p.variables.get('NCCL_IB_DISABLE');
  if (disable !== undefined && Number(disable) !== 0) {
    out.push({ code: 'ib-disabled', severity: 'fail', message: `NCCL_IB_DISABLE=${disable}, ${origin}`, cause: 'it turns off the IB/RoCE transport',
      fix: 'remove it from the environment and from NCCL conf files (spark-rdma doctor lists them)', line });
  }
  const level = p.variables.get('NCCL_NET_GDR_LEVEL');
  if (level !== undefined && level !== 'LOC' && level !== '0') {
    out.push({ code: 'gdr-level', severity: 'warn', message: `NCCL_NET_GDR_LEVEL=${level}, ${origin}`, cause: 'GB10 has no GPUDirect RDMA; any level above LOC lets NCCL try it',
      fix: 'NCCL_NET_GDR_LEVEL=LOC (spark-rdma config nccl)', line });
  }
  return out;
}

/** Every problem of one process, given the rails it should use. */
export function processProblems(p: ProcessState, expected: ExpectedRails): NcclProblem[] {
  const out = transportProblems(p);
  const line = (kind: string) => p.firstLine.get(kind) ?? null;
  if (p.networks.length === 0 && p.noNet === null) {
    out.push({ code: 'no-network-line', severity: 'fail', message: 'no "Using network" line: NCCL did not get as far as choosing a transport in this log',
      cause: 'the log is truncated, or NCCL_DEBUG_SUBSYS leaves out INIT', fix: LOG_FIX, line: null });
  } else if (p.noNet === null && p.channelCount() === 0) {
    out.push({ code: 'no-channels', severity: 'fail', message: 'no channel line ("Channel ... via NET/..."): the log ends before NCCL connected to a peer',
      cause: 'the log is truncated (NCCL stopped or was killed during init), or NCCL_DEBUG_SUBSYS leaves out NET, or the job ran on one node only', fix: LOG_FIX, line: line('network') });
  }
  if (p.noNet === null && !p.noIbDevice) out.push(...railProblems(p, expected));
  out.push(...variableProblems(p));
  if (p.version !== null && versionBelow(p.version, NCCL_FLOORS.autoGidIndex)) {
    out.push({ code: 'old-nccl', severity: 'warn', message: `NCCL ${p.version} is older than ${NCCL_FLOORS.autoGidIndex}`,
      cause: 'before 2.21 NCCL has no automatic GID choice: NCCL_IB_GID_INDEX=-1 fails there and the default index 0 is the link-local GID',
      fix: 'use an image with NCCL >= 2.21, or set NCCL_IB_GID_INDEX to the index spark-rdma doctor shows', line: line('version') });
  }
  return out;
}

/** Whether a variable is one spark-rdma config nccl sets. */
export const inConfig = (name: string) => NCCL_CONFIG_NAMES.includes(name);

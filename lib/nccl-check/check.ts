// nccl-check: an NCCL_DEBUG=INFO log in, per process (host:pid) what NCCL did and what is wrong,
// out. A pure function of the text, fed one line at a time (memory does not grow with the log).
import { NCCL_CHECKED_RANGE } from '../config/nccl-upstream.js';
import { parseNcclLine } from './line.js';
import { interpret } from './messages.js';
import { expectedRails, inConfig, processProblems, type ExpectedRails, type NcclProblem } from './problems.js';
import { MAX_ITEMS, ProcessState } from './process.js';

export const NCCL_CHECK_SCHEMA_VERSION = 1;

export interface NcclCheckOptions {
  /** The rails every process should use (`device` or `device:port`): CLI --devices. */
  devices?: readonly string[];
  /** This machine's rails, used when neither --devices nor the log's NCCL_IB_HCA says. */
  machineRails?: readonly string[];
}

export interface NcclProcessReport {
  /** host:pid, or null for lines without NCCL's prefix. */
  process: string | null;
  host: string | null;
  pid: number | null;
  ranks: number[];
  nranks: number | null;
  version: string | null;
  /** Transports named by "Using network X" (IB, Socket, or a plugin's name). */
  networks: string[];
  /** Devices NCCL's IB transport opened, as `[index]name:port/link` said. */
  devices: { index: number; name: string; port: number; link: string }[];
  oob: string | null;
  /** NCCL_IB_HCA as NCCL reported it ("NCCL_IB_HCA set to"). */
  ibHca: string | null;
  expected: ExpectedRails;
  /** IB channel lines per rail (name:port), and other transports' channel lines per name. */
  channels: { rail: string; netDev: number; count: number }[];
  otherChannels: { net: string; count: number }[];
  railsUsed: string[];
  gdrAttempted: boolean;
  socketFallback: boolean;
  pluginLoaded: string | null;
  /** NCCL_* values NCCL reported: from the environment or a conf file (NCCL does not say which). */
  variables: { name: string; value: string; setByConfig: boolean }[];
  problems: NcclProblem[];
}

export interface NcclLogReport {
  schemaVersion: number;
  ok: boolean;
  /** Lines read, NCCL lines among them, and lines longer than the reader keeps (skipped). */
  lines: number;
  ncclLines: number;
  overlongLines: number;
  checkedAgainst: string;
  processes: NcclProcessReport[];
  /** Problems that concern the whole log (e.g. no NCCL line at all). */
  problems: NcclProblem[];
}

export class NcclLogChecker {
  private readonly processes = new Map<string, ProcessState>();
  private lines = 0;
  private ncclLines = 0;
  private overlong = 0;
  /** Versions printed without a prefix (VERSION level): they belong to whichever process printed them. */
  private readonly bareVersions = new Set<string>();

  constructor(private readonly opts: NcclCheckOptions = {}) {}

  /** One line of the log, without its newline. */
  push(text: string): void {
    this.lines++;
    const line = parseNcclLine(text);
    if (!line) return;
    this.ncclLines++;
    const event = interpret(line.message);
    if (!event) return;
    if (line.process === null && event.kind === 'version') {
      if (this.bareVersions.size < MAX_ITEMS) this.bareVersions.add(event.version);
      return;
    }
    const key = line.process ?? '';
    let state = this.processes.get(key);
    if (!state) {
      if (this.processes.size >= MAX_ITEMS) return; // a log of more processes than that is not one job
      state = new ProcessState(line.host, line.pid);
      this.processes.set(key, state);
    }
    state.apply(event, this.lines);
  }

  /** A line too long to be NCCL's (its buffer is 1 KiB: src/debug.cc) was skipped. */
  skipOverlong(): void {
    this.lines++;
    this.overlong++;
  }

  finish(): NcclLogReport {
    const bare = this.bareVersions.size === 1 ? [...this.bareVersions][0]! : null;
    const processes = [...this.processes.entries()].map(([key, p]) => {
      if (p.version === null && bare !== null) p.version = bare;
      return this.processReport(key, p);
    });
    const problems: NcclProblem[] = [];
    if (this.ncclLines === 0) {
      problems.push({
        code: 'no-nccl-lines', severity: 'fail',
        message: `no NCCL log line in ${this.lines} line(s) of input`,
        cause: 'this is not an NCCL debug log, or NCCL ran without NCCL_DEBUG=INFO',
        fix: 'run once with NCCL_DEBUG=INFO NCCL_DEBUG_SUBSYS=INIT,NET (spark-rdma config nccl --debug-nccl) and pass that output',
        line: null,
      });
    } else if (processes.length === 0) {
      problems.push({
        code: 'no-init-lines', severity: 'fail', message: 'NCCL lines, but none about its transport or channels',
        cause: 'NCCL_DEBUG_SUBSYS leaves out INIT and NET, or the log was cut before NCCL initialized',
        fix: 'run once with NCCL_DEBUG=INFO NCCL_DEBUG_SUBSYS=INIT,NET and keep the whole log', line: null,
      });
    }
    const failed = problems.some((x) => x.severity === 'fail') || processes.some((p) => p.problems.some((x) => x.severity === 'fail'));
    return {
      schemaVersion: NCCL_CHECK_SCHEMA_VERSION,
      ok: !failed,
      lines: this.lines,
      ncclLines: this.ncclLines,
      overlongLines: this.overlong,
      checkedAgainst: `NCCL ${NCCL_CHECKED_RANGE}`,
      processes,
      problems,
    };
  }

  private processReport(key: string, p: ProcessState): NcclProcessReport {
    const expected = expectedRails(p, this.opts.devices, this.opts.machineRails);
    const channels = [...p.ibChannels.entries()].sort((a, b) => a[0] - b[0]).map(([netDev, count]) => ({
      rail: (p.netDevs.get(netDev) ?? [`NET/IB/${netDev}`]).join('+'),
      netDev,
      count,
    }));
    return {
      process: key === '' ? null : key,
      host: p.host,
      pid: p.pid,
      ranks: [...p.ranks].sort((a, b) => a - b),
      nranks: p.nranks,
      version: p.version,
      networks: p.networks,
      devices: p.devices,
      oob: p.oob,
      ibHca: p.hca,
      expected,
      channels,
      otherChannels: [...p.otherChannels.entries()].map(([net, count]) => ({ net, count })),
      railsUsed: p.railsUsed(),
      gdrAttempted: p.gdrChannels > 0 || p.gdrEnabledLines > 0,
      socketFallback: p.networks.includes('Socket') || (p.otherChannels.get('Socket') ?? 0) > 0,
      pluginLoaded: p.pluginLoaded,
      variables: [...p.variables.entries()].sort().map(([name, value]) => ({ name, value, setByConfig: inConfig(name) })),
      problems: processProblems(p, expected),
    };
  }
}

/** Checks a whole log held as text (tests, small logs); big logs go through checkNcclLogStream. */
export function checkNcclLogText(text: string, opts: NcclCheckOptions = {}): NcclLogReport {
  const checker = new NcclLogChecker(opts);
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  for (const line of lines) checker.push(line);
  return checker.finish();
}

/** 0 when everything holds, 1 when something does not, 2 when the input holds no NCCL log. */
export function ncclCheckExitCode(report: NcclLogReport): 0 | 1 | 2 {
  if (report.problems.some((p) => p.code === 'no-nccl-lines')) return 2;
  return report.ok ? 0 : 1;
}

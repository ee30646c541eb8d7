// The nccl-check report as text (what a person reads) and as JSON (schemaVersion'd).
import type { NcclProblem } from './problems.js';
import type { NcclLogReport, NcclProcessReport } from './check.js';

const SOURCES = { devices: '--devices', log: 'NCCL_IB_HCA in the log', machine: "this machine's rails", none: 'nothing to compare with' } as const;

function problemLines(p: NcclProblem): string[] {
  return [
    `  ${p.severity.toUpperCase()}  ${p.code}: ${p.message}${p.line !== null ? ` (line ${p.line})` : ''}`,
    `        cause: ${p.cause}`,
    `        fix: ${p.fix}`,
  ];
}

function ranks(p: NcclProcessReport): string {
  if (p.ranks.length === 0) return '';
  return ` rank${p.ranks.length === 1 ? '' : 's'} ${p.ranks.join(', ')}${p.nranks !== null ? ` of ${p.nranks}` : ''}`;
}

function processLines(p: NcclProcessReport): string[] {
  const devices = p.devices.map((d) => `[${d.index}]${d.name}:${d.port}/${d.link}`).join(' ');
  const channels = [
    ...p.channels.map((c) => `${c.rail} ${c.count}`),
    ...p.otherChannels.map((c) => `NET/${c.net} ${c.count}`),
  ].join(', ');
  const lines = [
    `${p.process ?? 'lines without a host:pid prefix'}${ranks(p)}, NCCL ${p.version ?? 'version not in the log'}`,
    `  transport: ${p.networks.join(', ') || 'not in the log'}${devices ? `; NET/IB opened ${devices}` : ''}${p.oob ? `; OOB ${p.oob}` : ''}`,
    `  expected rails (${SOURCES[p.expected.source]}): ${p.expected.rails.join(', ') || '-'}`,
    `  channel lines per rail: ${channels || 'none'}`,
    `  GPUDirect RDMA: ${p.gdrAttempted ? 'ATTEMPTED' : 'not attempted'}; TCP sockets: ${p.socketFallback ? 'USED' : 'not used'}; net plugin: ${p.pluginLoaded ?? 'none loaded'}`,
  ];
  if (p.variables.length > 0) {
    lines.push(`  set by the environment or a conf file: ${p.variables.map((v) => `${v.name}=${v.value}${v.setByConfig ? '' : ' (not from spark-rdma config)'}`).join(', ')}`);
  }
  for (const problem of p.problems) lines.push(...problemLines(problem));
  return lines;
}

export function renderNcclCheckText(report: NcclLogReport, source: string): string {
  const all = [...report.problems, ...report.processes.flatMap((p) => p.problems)];
  const fails = all.filter((p) => p.severity === 'fail').length;
  const warns = all.length - fails;
  const verdict = report.ok
    ? `ok: every process used NET/IB on its expected rails${warns > 0 ? ` (${warns} warning${warns === 1 ? '' : 's'})` : ''}`
    : `${fails} problem${fails === 1 ? '' : 's'}${warns > 0 ? `, ${warns} warning${warns === 1 ? '' : 's'}` : ''}`;
  const out = [
    `spark-rdma nccl-check: ${source}: ${report.lines} lines, ${report.ncclLines} from NCCL, ${report.processes.length} process${report.processes.length === 1 ? '' : 'es'}; ${verdict}`,
  ];
  if (report.overlongLines > 0) out.push(`(${report.overlongLines} line(s) longer than 64 KiB skipped: not NCCL's)`);
  for (const p of report.problems) out.push('', ...problemLines(p));
  for (const p of report.processes) out.push('', ...processLines(p));
  out.push('', `Line formats checked against ${report.checkedAgainst} (docs/nccl.md).`);
  return `${out.join('\n')}\n`;
}

export function renderNcclCheckJson(report: NcclLogReport, source: string): string {
  return `${JSON.stringify({ source, ...report }, null, 2)}\n`;
}

import type { DoctorReport } from './types.js';

/** The report as text: a summary line, then each check with its evidence and, unless it passed, its fix. */
export function renderDoctorText(report: DoctorReport): string {
  const { pass, warn, fail, skip } = report.counts;
  const lines = [`spark-rdma doctor: ${report.checks.length} checks, ${pass} pass, ${warn} warn, ${fail} fail${skip > 0 ? `, ${skip} skipped` : ''}`];
  for (const c of report.checks) {
    lines.push('', `${c.status.toUpperCase().padEnd(4)}  ${c.id}${c.subject ? ` ${c.subject}` : ''}: ${c.summary}`);
    for (const e of c.evidence) lines.push(`      ${e.path} = ${e.value}`);
    if (c.fix) lines.push(`      fix: ${c.fix}`);
  }
  return lines.join('\n');
}

/** The report as JSON (what `doctor --json` prints). */
export function renderDoctorJson(report: DoctorReport): string {
  return JSON.stringify(report, null, 2);
}

// One line of an NCCL debug log, taken apart the way NCCL's src/debug.cc writes it:
//   2.21:      "<host>:<pid>:<tid> [<dev>] NCCL INFO <msg>"
//              "\n<host>:<pid>:<tid> [<dev>] <file>:<line> NCCL WARN <msg>"
//   2.23-2.29: the same, after an optional timestamp ("[%F %T] " by default, on WARN lines only
//              unless NCCL_DEBUG_TIMESTAMP_LEVELS says otherwise)
//   2.30:      WARN as "[<dev>] <file>:<line> (<func>) NCCL WARN <msg>"
// The version line has no prefix when NCCL prints it at the VERSION level (2.21 printf, 2.27+
// VERSION()). Anything before the prefix (a timestamp, a Ray worker tag, `ts`) is skipped; a
// line with no prefix at all ("NCCL INFO <msg>") still counts, without a process.

export interface NcclLine {
  /** host:pid of the process that wrote it, or null without the prefix. */
  process: string | null;
  host: string | null;
  pid: number | null;
  /** CUDA device in brackets, or null. */
  dev: number | null;
  level: 'INFO' | 'WARN' | 'VERSION';
  /** The text after "NCCL INFO " / "NCCL WARN " (or the whole version text). */
  message: string;
}

// Hostnames hold no spaces, colons or brackets (2.30 replaces special characters with '-').
const PREFIXED = /(?:^|[\s\]])([^\s:[\]]+):(\d+):(\d+) \[(\d+)\] (?:\S+:\d+ (?:\([^)]*\) )?)?NCCL (INFO|WARN) (.*)$/;
const BARE = /(?:^|\s)NCCL (INFO|WARN) (.*)$/;
const VERSION = /(?:^|\s)(NCCL version \d+\.\d+\.\d+\S*)/;

/** Parses one line (without its newline); null when it is not an NCCL log line. */
export function parseNcclLine(text: string): NcclLine | null {
  if (!text.includes('NCCL ')) return null; // the cheap test first: most lines of a big log are other output
  const line = text.endsWith('\r') ? text.slice(0, -1) : text;
  const p = PREFIXED.exec(line);
  if (p) {
    return {
      process: `${p[1]}:${p[2]}`,
      host: p[1]!,
      pid: Number(p[2]),
      dev: Number(p[4]),
      level: p[5] as 'INFO' | 'WARN',
      message: p[6]!,
    };
  }
  const b = BARE.exec(line);
  if (b) return { process: null, host: null, pid: null, dev: null, level: b[1] as 'INFO' | 'WARN', message: b[2]! };
  const v = VERSION.exec(line);
  if (v) return { process: null, host: null, pid: null, dev: null, level: 'VERSION', message: v[1]! };
  return null;
}

// Parsers for what ib_write_bw and ib_write_lat print (perftest 4.x): the result table after
// the "#bytes" header. Pure functions, so they are tested on captured output.

export interface PerftestBwRow {
  bytes: number;
  iterations: number;
  /** Gb/s (10^9 bit/s): converted when perftest printed MiB/s (run without --report_gbits). */
  peakGbps: number;
  averageGbps: number;
  /** Million messages per second. */
  msgRateMpps: number;
  /**
   * The more precise of two readings of the same figure: the BW average column (printed with 2
   * decimals: 0.00 Gb/s for small messages) or MsgRate x size (6 decimals of Mpps: 2 digits
   * left at 8 MiB).
   */
  gbps: number;
}

export interface PerftestLatRow {
  bytes: number;
  iterations: number;
  minUs: number;
  maxUs: number;
  /** perftest's median. */
  typicalUs: number;
  avgUs: number;
  /** NaN when perftest printed -nan (its stdev overflows on long tails). */
  stdevUs: number;
  p99Us: number;
  p999Us: number;
}

const MIB_PER_SEC_TO_GBPS = (2 ** 20 * 8) / 1e9;

function numbers(line: string): number[] | null {
  const fields = line.trim().split(/\s+/);
  if (fields.length === 0 || !/^\d+$/.test(fields[0]!)) return null;
  return fields.map((f) => (/^-?nan$/i.test(f) ? NaN : /^-?inf$/i.test(f) ? Infinity : Number(f)));
}

/** Every result row of an ib_write_bw run (one per size; several with -a). */
export function parseBwOutput(text: string): PerftestBwRow[] {
  const rows: PerftestBwRow[] = [];
  let unit: number | null = null;
  for (const line of text.split('\n')) {
    if (line.includes('#bytes') && line.includes('BW average')) {
      unit = /Gb\/sec/.test(line) ? 1 : MIB_PER_SEC_TO_GBPS;
      continue;
    }
    if (unit === null) continue;
    const n = numbers(line);
    if (!n || n.length < 5 || n.some((v) => Number.isNaN(v))) continue;
    const [bytes, iterations, peak, average, rate] = n as [number, number, number, number, number];
    const fromRate = (rate * bytes * 8) / 1000;
    // Half a unit of the last printed digit is each reading's rounding error.
    const averageError = 0.005 * unit;
    const rateError = (0.0000005 * bytes * 8) / 1000;
    const gbps = averageError <= rateError ? average * unit : fromRate;
    rows.push({ bytes, iterations, peakGbps: peak * unit, averageGbps: average * unit, msgRateMpps: rate, gbps });
  }
  return rows;
}

/**
 * The result rows of an ib_write_lat run. A row of `inf` means perftest could not calibrate
 * its cycle counter (it prints "Correlation coefficient r^2 < 0.9" first): it is returned with
 * infinite values so the caller can retry, never read as a latency.
 */
export function parseLatOutput(text: string): PerftestLatRow[] {
  const rows: PerftestLatRow[] = [];
  let inTable = false;
  for (const line of text.split('\n')) {
    if (line.includes('#bytes') && line.includes('t_typical')) {
      inTable = true;
      continue;
    }
    if (!inTable) continue;
    const n = numbers(line);
    if (!n || n.length < 9) continue;
    rows.push({
      bytes: n[0]!,
      iterations: n[1]!,
      minUs: n[2]!,
      maxUs: n[3]!,
      typicalUs: n[4]!,
      avgUs: n[5]!,
      stdevUs: n[6]!,
      p99Us: n[7]!,
      p999Us: n[8]!,
    });
  }
  return rows;
}

/**
 * An ib_write_lat minimum above this is a failed cycle-counter calibration, not a latency: a
 * 2 B write between two QPs of one soft-RoCE device takes about 10 us even under emulation.
 */
export const IMPLAUSIBLE_MIN_US = 1000;

/** True when a latency row holds real figures (perftest's clock calibration worked). */
export function latRowValid(row: PerftestLatRow): boolean {
  const ordered = row.minUs <= row.typicalUs && row.typicalUs <= row.p99Us;
  return [row.minUs, row.typicalUs, row.p99Us].every((v) => Number.isFinite(v) && v > 0) && ordered && row.minUs < IMPLAUSIBLE_MIN_US;
}

/** perftest's own warnings (clock calibration, CPU frequency), kept next to its figures. */
export function perftestWarnings(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /correlation coefficient|conflicting cpu frequency|warning/i.test(l));
}

/** The "Key : value" lines of perftest's banner (TX depth, CQ Moderation, Max inline data...). */
export function parseBanner(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    // Two columns per line in places: " Dual-port       : OFF		Device         : rxe0"
    for (const part of line.split('\t').filter((p) => p.includes(':'))) {
      const m = /^\s*([A-Za-z][\w .*/-]*?)\s*:\s*(\S.*?)\s*$/.exec(part);
      if (m && !/address|GID/.test(m[1]!)) out[m[1]!] = m[2]!;
    }
  }
  return out;
}

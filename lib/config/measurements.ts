// Saved `spark-rdma bw --json` results, read back for the single-or-dual-rail decision. Only
// the fields the decision uses are checked, by hand, with the JSON path of whatever is wrong.
import { readFileSync } from 'node:fs';
import { describeFsError } from '../report/fs-error.js';
import { invalidArgument } from '../errors.js';

/** One message size of a saved run: the aggregate and each rail. */
export interface MeasuredSize {
  size: number;
  totalGbps: number;
  /** Per rail: `device:port` and its own rate. */
  rails: { name: string; gbps: number }[];
}

/** What the rail decision needs from one saved bandwidth result. */
export interface MeasuredRun {
  /** File name (or another label) used in messages. */
  source: string;
  /** The run's rails as `device:port`, in rail order. */
  rails: string[];
  sizes: MeasuredSize[];
  stoppedEarly: boolean;
  /** params.mode: 'client' (between two nodes) or 'loopback' (each device against itself); null when absent. */
  mode: 'client' | 'loopback' | null;
}

const HINT = 'pass the output of `spark-rdma bw --json > result.json` (its top level has params.rails and sizes[])';

function bad(source: string, path: string, what: string, got: unknown): never {
  const shown = got === undefined ? 'nothing' : JSON.stringify(got)?.slice(0, 60) ?? String(got);
  throw invalidArgument(`${source}: ${path} must be ${what}, got ${shown}`, HINT);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function rate(source: string, path: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) bad(source, path, 'a rate in Gb/s (a finite number >= 0)', v);
  return v;
}

function railName(source: string, path: string, v: unknown): string {
  if (!isObject(v)) bad(source, path, 'an object with device and gbps', v);
  if (typeof v.device !== 'string' || v.device === '') bad(source, `${path}.device`, 'a device name', v.device);
  if (v.port === undefined) return v.device;
  if (typeof v.port !== 'number' || !Number.isInteger(v.port) || v.port < 1) bad(source, `${path}.port`, 'a port number >= 1', v.port);
  return `${v.device}:${v.port}`;
}

function measuredSize(source: string, path: string, v: unknown): MeasuredSize {
  if (!isObject(v)) bad(source, path, 'an object with size, rails and total', v);
  if (typeof v.size !== 'number' || !Number.isInteger(v.size) || v.size < 1) bad(source, `${path}.size`, 'a message size in bytes (a whole number >= 1)', v.size);
  if (!Array.isArray(v.rails) || v.rails.length === 0) bad(source, `${path}.rails`, 'a non-empty array of per-rail results', v.rails);
  if (!isObject(v.total)) bad(source, `${path}.total`, 'an object with gbps', v.total);
  return {
    size: v.size,
    totalGbps: rate(source, `${path}.total.gbps`, v.total.gbps),
    rails: v.rails.map((r: unknown, i: number) => ({
      name: railName(source, `${path}.rails[${i}]`, r),
      gbps: rate(source, `${path}.rails[${i}].gbps`, (r as Record<string, unknown>).gbps),
    })),
  };
}

/**
 * Checks a parsed `spark-rdma bw --json` result (or a BandwidthResult object) and keeps what the
 * rail decision needs. `source` names it in errors.
 * @throws RdmaError `ERR_RDMA_INVALID_ARGUMENT` naming the source, the JSON path and what is wrong.
 */
export function measurementFromResult(value: unknown, source: string): MeasuredRun {
  if (!isObject(value)) bad(source, 'the top level', 'an object (a spark-rdma bw --json result)', value);
  const params = value.params;
  if (!isObject(params)) bad(source, 'params', 'an object with rails', params);
  const rails = params.rails;
  if (!Array.isArray(rails) || rails.length === 0) bad(source, 'params.rails', 'a non-empty array of "device:port" names', rails);
  rails.forEach((r: unknown, i: number) => {
    if (typeof r !== 'string' || !/^[^:\s]+(:\d+)?$/.test(r)) bad(source, `params.rails[${i}]`, 'a "device:port" name', r);
  });
  if (!Array.isArray(value.sizes) || value.sizes.length === 0) bad(source, 'sizes', 'a non-empty array of per-size results', value.sizes);
  const sizes = value.sizes.map((s: unknown, i: number) => measuredSize(source, `sizes[${i}]`, s));
  if (value.stoppedEarly !== undefined && typeof value.stoppedEarly !== 'boolean') bad(source, 'stoppedEarly', 'true or false', value.stoppedEarly);
  if (params.mode !== undefined && params.mode !== 'client' && params.mode !== 'loopback') bad(source, 'params.mode', '"client" or "loopback"', params.mode);
  const mode = params.mode === undefined ? null : (params.mode as 'client' | 'loopback');
  return { source, rails: rails as string[], sizes, stoppedEarly: value.stoppedEarly === true, mode };
}

/** Parses the text of a saved result; see {@link measurementFromResult}. */
export function parseMeasurement(text: string, source: string): MeasuredRun {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw invalidArgument(`${source} is not valid JSON: ${(err as Error).message}`, HINT);
  }
  return measurementFromResult(value, source);
}

/** Reads and checks a saved `spark-rdma bw --json` result file. */
export function loadMeasurement(file: string): MeasuredRun {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw invalidArgument(`cannot read measurement file ${file}: ${describeFsError(err)}`, HINT);
  }
  return parseMeasurement(text, file);
}

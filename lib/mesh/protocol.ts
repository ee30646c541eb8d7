// Messages of the mesh's control connection (each rank <-> rank 0), one JSON object per line.
// Rank 0 trusts nothing it reads: every field is checked here before it is used.
import { RdmaError } from '../errors.js';
import type { MeshRailInfo } from './matrix.js';

export const MESH_PROTOCOL = 'spark-rdma-mesh/1';
export const ERR_MESH_PROTOCOL = 'ERR_MESH_PROTOCOL';
export const MAX_MESH_LINE_BYTES = 1 << 20;

/** What the pair runner needs; rank 0 decides it for everyone. */
export interface PairParams {
  rails: number;
  size: number;
  qps: number;
  durationMs: number;
  warmupMs: number;
  peerTimeoutMs: number;
  /** Also measure latency p50 with this many exchanges (0: no latency). */
  latIterations: number;
}

export interface TableRank {
  rank: number;
  host: string;
  port: number;
  rails: MeshRailInfo[];
}

export interface RailOutcome {
  rail: number;
  gbps?: number;
  shareOfLimit?: number | null;
  latP50Us?: number;
  failed?: string;
}

export type ToRank0 =
  | { type: 'join'; protocol: string; rank: number; worldSize: number; host: string; rails: MeshRailInfo[] }
  | { type: 'listening'; port: number }
  | { type: 'result'; step: number; src: number; dst: number; rails: RailOutcome[] }
  | { type: 'abort'; message: string };

export type FromRank0 =
  | { type: 'table'; ranks: TableRank[]; steps: number; stepDeadlineMs: number }
  | { type: 'step'; step: number; task: { src: number; dst: number; address: string; port: number; params: PairParams } | null }
  | { type: 'done'; failedCells: number }
  | { type: 'abort'; message: string };

function bad(what: string): RdmaError {
  return new RdmaError(`mesh control message: ${what}`, {
    code: ERR_MESH_PROTOCOL,
    hint: 'every rank must run the same spark-rdma version, and nothing else may connect to the rendezvous port',
  });
}

type Obj = Record<string, unknown>;

function obj(v: unknown, what: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(`${what} is not an object`);
  return v as Obj;
}

function int(o: Obj, key: string, min: number, max: number): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw bad(`"${key}" must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return v;
}

function num(o: Obj, key: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw bad(`"${key}" must be a number >= 0, got ${JSON.stringify(v)}`);
  return v;
}

function str(o: Obj, key: string, max = 1024): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0 || v.length > max) throw bad(`"${key}" must be a text of 1 to ${max} characters`);
  return v;
}

function arr(o: Obj, key: string, max: number): unknown[] {
  const v = o[key];
  if (!Array.isArray(v) || v.length > max) throw bad(`"${key}" must be a list of at most ${max} entries`);
  return v;
}

function railInfo(v: unknown): MeshRailInfo {
  const o = obj(v, 'a rail');
  const ipv4 = str(o, 'ipv4', 15);
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(ipv4)) throw bad(`rail address ${JSON.stringify(ipv4)} is not IPv4`);
  return { device: str(o, 'device', 64), netdev: str(o, 'netdev', 64), ipv4, activeMtu: int(o, 'activeMtu', 256, 4096), rateGbps: num(o, 'rateGbps') };
}

function railOutcome(v: unknown): RailOutcome {
  const o = obj(v, 'a rail outcome');
  const out: RailOutcome = { rail: int(o, 'rail', 0, 63) };
  if (o.failed !== undefined) out.failed = str(o, 'failed', 4096);
  if (o.gbps !== undefined) out.gbps = num(o, 'gbps');
  if (o.shareOfLimit !== undefined) out.shareOfLimit = o.shareOfLimit === null ? null : num(o, 'shareOfLimit');
  if (o.latP50Us !== undefined) out.latP50Us = num(o, 'latP50Us');
  if (out.failed === undefined && out.gbps === undefined) throw bad('a rail outcome has neither "gbps" nor "failed"');
  return out;
}

/** A message a rank sent to rank 0, checked field by field. */
export function parseToRank0(v: unknown): ToRank0 {
  const o = obj(v, 'the message');
  switch (o.type) {
    case 'join':
      if (o.protocol !== MESH_PROTOCOL) throw bad(`protocol ${JSON.stringify(o.protocol)}, expected "${MESH_PROTOCOL}"`);
      return { type: 'join', protocol: MESH_PROTOCOL, rank: int(o, 'rank', 0, 1 << 20), worldSize: int(o, 'worldSize', 2, 1 << 20), host: str(o, 'host', 255), rails: arr(o, 'rails', 64).map(railInfo) };
    case 'listening':
      return { type: 'listening', port: int(o, 'port', 1, 65535) };
    case 'result':
      return { type: 'result', step: int(o, 'step', 0, 1 << 30), src: int(o, 'src', 0, 1 << 20), dst: int(o, 'dst', 0, 1 << 20), rails: arr(o, 'rails', 64).map(railOutcome) };
    case 'abort':
      return { type: 'abort', message: str(o, 'message', 4096) };
    default:
      throw bad(`unknown type ${JSON.stringify(o.type)}`);
  }
}

function pairParams(v: unknown): PairParams {
  const o = obj(v, 'params');
  return {
    rails: int(o, 'rails', 1, 64),
    size: int(o, 'size', 1, 2 ** 31),
    qps: int(o, 'qps', 1, 4096),
    durationMs: int(o, 'durationMs', 1, 2 ** 31),
    warmupMs: int(o, 'warmupMs', 0, 2 ** 31),
    peerTimeoutMs: int(o, 'peerTimeoutMs', 1, 2 ** 31),
    latIterations: int(o, 'latIterations', 0, 2 ** 31),
  };
}

/** A message rank 0 sent, checked field by field. */
export function parseFromRank0(v: unknown): FromRank0 {
  const o = obj(v, 'the message');
  switch (o.type) {
    case 'table':
      return {
        type: 'table',
        steps: int(o, 'steps', 0, 1 << 30),
        stepDeadlineMs: int(o, 'stepDeadlineMs', 1, 2 ** 31),
        ranks: arr(o, 'ranks', 1 << 16).map((r) => {
          const x = obj(r, 'a rank');
          return { rank: int(x, 'rank', 0, 1 << 20), host: str(x, 'host', 255), port: int(x, 'port', 1, 65535), rails: arr(x, 'rails', 64).map(railInfo) };
        }),
      };
    case 'step': {
      const step = int(o, 'step', 0, 1 << 30);
      if (o.task === null) return { type: 'step', step, task: null };
      const t = obj(o.task, 'task');
      return { type: 'step', step, task: { src: int(t, 'src', 0, 1 << 20), dst: int(t, 'dst', 0, 1 << 20), address: str(t, 'address', 255), port: int(t, 'port', 1, 65535), params: pairParams(t.params) } };
    }
    case 'done':
      return { type: 'done', failedCells: int(o, 'failedCells', 0, 2 ** 31) };
    case 'abort':
      return { type: 'abort', message: str(o, 'message', 4096) };
    default:
      throw bad(`unknown type ${JSON.stringify(o.type)}`);
  }
}

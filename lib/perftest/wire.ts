// The byte formats of perftest's default out-of-band exchange (plain TCP, no -R), as pure
// functions. Facts from linux-rdma/perftest src/perftest_communication.c and .h, checked in
// releases 5.92 (4.4-0.29), 6.06 (v4.5-0.17, Debian's 4.5+0.17), 6.16 (23.07.0-0.27), 6.27
// (25.10.0-0.128), 6.28 (perftest-26.01.5) and 6.29 (26.04.17): exchange_versions,
// check_sys_data, check_mtu, ethernet_write_keys / ethernet_read_keys, xchg_bw_reports.
import { RdmaError } from '../errors.js';

export const ERR_PROTOCOL_PERFTEST = 'ERR_PROTOCOL_PERFTEST';
export const ERR_PEER_VERSION = 'ERR_PEER_VERSION';
/** The peer runs with other flags than ours (-q, -s, -n, -b): named with the flag to change. */
export const ERR_PEER_MISMATCH = 'ERR_PEER_MISMATCH';

/** `char version[MAX_VERSION]` with MAX_VERSION 16, sent whole (NUL padded). */
export const VERSION_BYTES = 16;
/**
 * What we advertise. perftest exits on a peer below 5.70 (check_version_compatibility), and from
 * 6.28 runs negotiate_params only when the peer's version is 6.28 or more: its struct's size
 * depends on how perftest was built, so we stay below and both sides skip it.
 */
export const OUR_VERSION = '6.27';
export const OLDEST_PEER = 5.7;
/** check_sys_data: cycle buffer (page size) and cache line, 4-byte big-endian ints; both keep the larger. */
export const OUR_CYCLE_BUFFER = 4096;
export const OUR_CACHE_LINE = 64;
/** check_mtu from 5.31: the ASCII digit of enum ibv_mtu and a NUL. */
export const MTU_BYTES = 2;
/** KEY_MSG_SIZE_GID: `%04x:%04x:%06x:%06x:%08x:%016llx:` + 16 x `%02x:` + `%08x:` + NUL. */
export const KEY_BYTES = 108;
/** xchg_bw_reports from 5.33: size and iters as u64, then bw_peak, bw_avg, msgRate_avg as doubles, all big-endian. */
export const REPORT_FIELD_BYTES = 8;
/** ctx_close_connection up to 6.16 writes this after the last key message. */
export const DONE_BYTES = 5;

function protocolError(message: string, hint?: string): RdmaError {
  return new RdmaError(message, { code: ERR_PROTOCOL_PERFTEST, ...(hint ? { hint } : {}) });
}

export function encodeVersion(version: string = OUR_VERSION): Buffer {
  const out = Buffer.alloc(VERSION_BYTES);
  out.write(version, 'latin1');
  return out;
}

/** The peer's version text (up to the first NUL) and its value as perftest reads it (atof). */
export function decodeVersion(bytes: Buffer): { text: string; value: number } {
  const end = bytes.indexOf(0);
  const text = bytes.subarray(0, end < 0 ? bytes.length : end).toString('latin1');
  const match = /^\s*[+-]?(\d+(\.\d*)?|\.\d+)/.exec(text);
  return { text, value: match ? Number(match[0]) : 0 };
}

/** True when these bytes can start a perftest version string (what the server sniffs for). */
export function looksLikeVersion(first: number): boolean {
  return first >= 0x30 && first <= 0x39;
}

/** Checks a peer's version text; perftest itself exits below 5.70. */
export function checkPeerVersion(bytes: Buffer, flagHint: string): { text: string; value: number } {
  const version = decodeVersion(bytes);
  if (!/^\d+\.\d+/.test(version.text) || version.value <= 0) {
    throw protocolError(`the peer's first 16 bytes are not a perftest version string: ${JSON.stringify(version.text.slice(0, 16))}`, `is ${flagHint} really a perftest peer without -R?`);
  }
  if (version.value < OLDEST_PEER) {
    throw new RdmaError(`the perftest peer is version ${version.text}; spark-rdma speaks perftest 5.70 and newer`, {
      code: ERR_PEER_VERSION,
      hint: 'upgrade perftest on the peer (ib_write_bw --version shows it), or run spark-rdma on both ends',
    });
  }
  return version;
}

export function encodeInt32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeInt32BE(value);
  return out;
}

/** enum ibv_mtu: 1 = 256 ... 5 = 4096. */
export function mtuToEnum(bytes: number): number {
  const e = Math.log2(bytes) - 7;
  if (!Number.isInteger(e) || e < 1 || e > 5) throw protocolError(`MTU ${bytes} has no ibv_mtu value`);
  return e;
}

export function enumToMtu(value: number): number {
  return 128 << value;
}

export function encodeMtu(bytes: number): Buffer {
  return Buffer.from([0x30 + mtuToEnum(bytes), 0]);
}

/** The peer's MTU enum as strtol reads it; null when it is not 1..5 (perftest then keeps its own). */
export function decodeMtu(bytes: Buffer): number | null {
  const value = Number.parseInt(bytes.subarray(0, bytes.indexOf(0) < 0 ? bytes.length : bytes.indexOf(0)).toString('latin1'), 10);
  return Number.isInteger(value) && value >= 1 && value <= 5 ? value : null;
}

/** One QP's key message (RoCE: always with a GID). */
export interface KeyMessage {
  lid: number;
  outReads: number;
  qpn: number;
  psn: number;
  rkey: number;
  vaddr: bigint;
  /** 16 raw GID bytes. */
  gid: Buffer;
  srqn: number;
}

const hex = (value: number | bigint, width: number) => value.toString(16).padStart(width, '0');

export function encodeKey(k: KeyMessage): Buffer {
  const gid = [...k.gid].map((b) => `${hex(b, 2)}:`).join('');
  const text = `${hex(k.lid, 4)}:${hex(k.outReads, 4)}:${hex(k.qpn, 6)}:${hex(k.psn, 6)}:${hex(k.rkey >>> 0, 8)}:${hex(k.vaddr, 16)}:${gid}${hex(k.srqn, 8)}:`;
  const out = Buffer.alloc(KEY_BYTES);
  if (out.write(text, 'latin1') !== KEY_BYTES - 1) throw protocolError(`a key message came out ${text.length} bytes long, not ${KEY_BYTES - 1}`);
  return out;
}

const KEY_SHAPE = /^([0-9a-f]{4}):([0-9a-f]{4}):([0-9a-f]{6}):([0-9a-f]{6}):([0-9a-f]{8}):([0-9a-f]{16}):((?:[0-9a-f]{2}:){16})([0-9a-f]{8}):$/i;

/** Parses a key message strictly: anything else is garbage on the wire, named with its bytes. */
export function decodeKey(bytes: Buffer, what: string): KeyMessage {
  const end = bytes.indexOf(0);
  const text = bytes.subarray(0, end < 0 ? bytes.length : end).toString('latin1');
  const m = bytes.length === KEY_BYTES && end === KEY_BYTES - 1 ? KEY_SHAPE.exec(text) : null;
  if (!m) {
    throw protocolError(
      `the perftest peer's ${what} is not a ${KEY_BYTES}-byte RoCE key message: ${JSON.stringify(text.slice(0, 120))}`,
      'is the peer an ib_write_bw / ib_write_lat without -R, --data_validation or an InfiniBand-only (no GID) port?',
    );
  }
  return {
    lid: Number.parseInt(m[1]!, 16),
    outReads: Number.parseInt(m[2]!, 16),
    qpn: Number.parseInt(m[3]!, 16),
    psn: Number.parseInt(m[4]!, 16),
    rkey: Number.parseInt(m[5]!, 16),
    vaddr: BigInt(`0x${m[6]!}`),
    gid: Buffer.from(m[7]!.replaceAll(':', ''), 'hex'),
    srqn: Number.parseInt(m[8]!, 16),
  };
}

/** Our GID text (8 groups of 4 hex digits) as 16 bytes, and back. */
export function gidToBytes(gid: string): Buffer {
  const digits = gid.replaceAll(':', '');
  if (!/^[0-9a-f]{32}$/i.test(digits)) throw protocolError(`GID ${gid} is not 8 groups of 4 hex digits`);
  return Buffer.from(digits, 'hex');
}

export function gidFromBytes(bytes: Buffer): string {
  return (bytes.toString('hex').match(/.{4}/g) ?? []).join(':');
}

/** A bandwidth report as xchg_bw_reports carries it, in the sender's units (MiB/s or Gb/s). */
export interface BandwidthReport {
  size: bigint;
  iters: bigint;
  bwPeak: number;
  bwAvg: number;
  msgRateMpps: number;
}

/** The five report fields, each its own 8-byte exchange, in order. */
export function encodeReport(r: BandwidthReport): Buffer[] {
  const u64 = (v: bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(v);
    return b;
  };
  const f64 = (v: number) => {
    const b = Buffer.alloc(8);
    b.writeDoubleBE(v);
    return b;
  };
  return [u64(r.size), u64(r.iters), f64(r.bwPeak), f64(r.bwAvg), f64(r.msgRateMpps)];
}

export function decodeReport(fields: Buffer[]): BandwidthReport {
  return {
    size: fields[0]!.readBigUInt64BE(),
    iters: fields[1]!.readBigUInt64BE(),
    bwPeak: fields[2]!.readDoubleBE(),
    bwAvg: fields[3]!.readDoubleBE(),
    msgRateMpps: fields[4]!.readDoubleBE(),
  };
}

/**
 * perftest sends bandwidth in its own units (MiB/s by default, Gb/s with --report_gbits) and
 * never says which; the message rate is unit-free, so the units are the ones it agrees with.
 * null when there is nothing to compare: an ib_write_bw -D run whose timed window caught no
 * message (a short -D on a loaded machine) reports 0 for both.
 */
export function reportUnits(r: BandwidthReport): 'MiB/s' | 'Gb/s' | null {
  if (r.msgRateMpps <= 0 || r.bwAvg <= 0) return null;
  const bytesPerSecond = r.msgRateMpps * 1e6 * Number(r.size);
  const asMib = bytesPerSecond / 2 ** 20;
  const asGbit = (bytesPerSecond * 8) / 1e9;
  return Math.abs(r.bwAvg - asGbit) < Math.abs(r.bwAvg - asMib) ? 'Gb/s' : 'MiB/s';
}

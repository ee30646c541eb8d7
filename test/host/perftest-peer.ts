// A scripted perftest peer for host tests: the order and sizes of every read and write of
// ib_write_bw / ib_write_lat without -R, derived from perftest's source per release
// (src/write_bw.c and src/write_lat.c main(), src/perftest_communication.c: exchange_versions,
// check_sys_data, check_mtu, negotiate_params, ctx_hand_shake, xchg_bw_reports,
// ctx_close_connection). It records what it read so a test can check what we sent.
import type { Socket } from 'node:net';

export interface PeerScript {
  /** perftest's own version: 6.28+ negotiates with peers of 6.28+, 6.16 and older write "done". */
  version: string;
  role: 'server' | 'client';
  test: 'bw' | 'lat';
  qps: number;
  /** ib_write_bw -b: its one sync comes before the run, then the reports (write_bw.c RUN_REGULAR, 5.70-6.29). */
  duplex?: boolean;
  /** The report this peer sends (ours is what it reads); zeros by default, as perftest's server. */
  report?: Buffer[];
  /** Break the script: return after `stopAfter` steps (closing the socket). */
  stopAfter?: number;
}

export interface PeerRecord {
  version: string;
  cycle: number;
  cache: number;
  mtu: Buffer;
  keys: Buffer[];
  report: Buffer[];
  steps: number;
  negotiated: boolean;
}

/** Exact reads over a socket (perftest's `read(fd, buf, n) != n` is an error). */
function reader(socket: Socket): (n: number) => Promise<Buffer> {
  let buffered = Buffer.alloc(0);
  let wake: (() => void) | null = null;
  let ended = false;
  socket.on('data', (c: Buffer) => {
    buffered = Buffer.concat([buffered, c]);
    wake?.();
  });
  socket.on('end', () => {
    ended = true;
    wake?.();
  });
  return async (n) => {
    while (buffered.length < n) {
      if (ended) throw new Error(`peer script: EOF with ${buffered.length} of ${n} bytes`);
      await new Promise<void>((r) => (wake = r));
      wake = null;
    }
    const out = buffered.subarray(0, n);
    buffered = buffered.subarray(n);
    return out;
  };
}

const version16 = (v: string) => Buffer.concat([Buffer.from(v, 'latin1'), Buffer.alloc(16 - v.length)]);
const int32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  return b;
};

/** A RoCE key message as perftest's sprintf(KEY_PRINT_FMT_GID) makes it. */
export function perftestKey(qpn: number, psn: number, rkey: number, vaddr: bigint, gid: number[]): Buffer {
  const h = (v: number | bigint, w: number) => v.toString(16).padStart(w, '0');
  const text = `${h(0, 4)}:${h(16, 4)}:${h(qpn, 6)}:${h(psn, 6)}:${h(rkey, 8)}:${h(vaddr, 16)}:${gid.map((g) => `${h(g, 2)}:`).join('')}${h(0, 8)}:`;
  return Buffer.concat([Buffer.from(text, 'latin1'), Buffer.alloc(1)]);
}

const GID = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 77, 0, 1];

/** Runs the script on a connected socket; resolves with what the peer read. */
export async function runPeer(socket: Socket, s: PeerScript): Promise<PeerRecord> {
  const read = reader(socket);
  const rec: PeerRecord = { version: '', cycle: 0, cache: 0, mtu: Buffer.alloc(0), keys: [], report: [], steps: 0, negotiated: false };
  const own = Number.parseFloat(s.version);
  // ctx_xchg_data: the client (servername set) writes first, the server reads first.
  const xchg = async (mine: Buffer, n: number): Promise<Buffer> => {
    rec.steps++;
    if (s.stopAfter !== undefined && rec.steps > s.stopAfter) throw new Error('stop');
    if (s.role === 'client') {
      socket.write(mine);
      return read(n);
    }
    const theirs = await read(n);
    socket.write(mine);
    return theirs;
  };
  const keyOf = (i: number) => perftestKey(0x100 + i, 0x1234 + i, 0xabc0 + i, 0x7f0000001000n + BigInt(i) * 0x10000n, GID);
  try {
    const theirs = (await xchg(version16(s.version), 16)).toString('latin1');
    rec.version = theirs.slice(0, theirs.indexOf('\0') < 0 ? 16 : theirs.indexOf('\0'));
    const rem = Number.parseFloat(rec.version);
    if (!(rem >= 5.7)) throw new Error('stop'); // check_version_compatibility: exit(1)
    if (rem >= 5.32) {
      rec.cycle = (await xchg(int32(4096), 4)).readInt32BE();
      rec.cache = (await xchg(int32(64), 4)).readInt32BE();
    }
    rec.mtu = await xchg(Buffer.from('3\0'), rem >= 5.31 ? 2 : 4);
    if (own >= 6.28 && rem >= 6.28) {
      rec.negotiated = true; // negotiate_params: a build-dependent struct; we never get here
      throw new Error('stop');
    }
    const key = async (i: number) => rec.keys.push(Buffer.from(await xchg(keyOf(i), 108)));
    if (s.test === 'lat') await key(0);
    for (let i = 0; i < s.qps; i++) await key(i);
    for (let i = 0; i < s.qps; i++) await key(i);
    await key(0); // after RTR
    if (s.test === 'bw') {
      await key(0); // -b: the sync before the run; one way: the client's after its run
      const mine = s.report ?? Array.from({ length: 5 }, () => Buffer.alloc(8));
      for (const field of mine) rec.report.push(Buffer.from(await xchg(field, rem >= 5.33 ? 8 : 4)));
      await key(0); // ctx_close_connection
      if (own <= 6.16) socket.write(Buffer.from('done\0', 'latin1'));
    }
  } catch (err) {
    if (!(err instanceof Error) || (err.message !== 'stop' && !err.message.startsWith('peer script: EOF'))) throw err;
  } finally {
    socket.end();
  }
  return rec;
}

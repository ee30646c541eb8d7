// The server end for a stock ib_write_bw / ib_write_lat client, handed over by the session
// server once the first bytes were a version string instead of our hello. The rail is the one
// whose address the client dialled; QPs come from the same endpoint and engines as our own
// sessions. perftest's server writes nothing in ib_write_bw (the client measures and reports)
// and writes first in ib_write_lat (src/perftest_resources.c run_iter_lat_write).
import type { Socket } from 'node:net';
import { RdmaError } from '../errors.js';
import { initiate } from '../latency/ping-pong.js';
import type { Rail } from '../rails/types.js';
import { summarizeLatency } from '../stats/latency.js';
import { RailEndpoint } from '../verbs/endpoint.js';
import { confirmConnected, exchangeKeys, keyOf, peerWire, prelude, shakeHands } from './handshake.js';
import { lastWrittenByte } from './lat-mismatch.js';
import { ExactStream } from './stream.js';
import {
  decodeKey,
  decodeReport,
  encodeKey,
  ERR_PEER_MISMATCH,
  KEY_BYTES,
  REPORT_FIELD_BYTES,
  reportUnits,
  type KeyMessage,
} from './wire.js';

/** Each perftest QP writes into its own region; 8 MiB covers ib_write_bw -a (2 B to 8 MiB). */
export const SERVED_REGION_BYTES = 8 * 2 ** 20;
/** The most QPs a perftest client may bring (the CQ is sized for them up front). */
export const SERVED_MAX_QPS = 64;

export interface PerftestServeOptions {
  test: 'bw' | 'lat';
  rails: Rail[];
  log: (line: string) => void;
  peerTimeoutMs: number;
  /** ib_write_lat needs both ends to agree: the server's --size and --iters (defaults 2 and 1000, as perftest). */
  latency: { size: number; iterations: number; inlineThreshold: number };
}

/** The rail whose IPv4 address the client dialled (the first rail when bound elsewhere). */
function railFor(socket: Socket, rails: Rail[]): Rail {
  const local = (socket.localAddress ?? '').replace(/^::ffff:/, '');
  return rails.find((r) => r.ipv4 === local) ?? rails[0]!;
}

export async function servePerftestClient(socket: Socket, initial: Buffer, o: PerftestServeOptions): Promise<void> {
  const tool = o.test === 'bw' ? 'ib_write_bw' : 'ib_write_lat';
  const stream = new ExactStream(socket, `the ${tool} client`, initial);
  const rail = railFor(socket, o.rails);
  let endpoint: RailEndpoint | null = null;
  try {
    const agreed = await prelude(stream, 'server', rail.activeMtu, o.peerTimeoutMs, stream.peer);
    const shape = {
      device: rail.device,
      port: rail.port,
      gidIndex: rail.gidIndex!,
      mtu: agreed.mtu,
      regionBytes: Math.max(SERVED_REGION_BYTES, agreed.cycleBuffer),
    };
    const who = `perftest ${agreed.peerVersion} ${tool} client at ${stream.peer} on ${rail.device}`;
    if (o.test === 'bw') {
      endpoint = RailEndpoint.open({ ...shape, qps: 1, maxQps: SERVED_MAX_QPS, txDepth: 16, inlineBytes: 0 });
      const served = endpoint;
      const qps = await keysOfUnknownCount(stream, endpoint, agreed.mtu, o.peerTimeoutMs, () => markRegions(served, agreed.cycleBuffer));
      o.log(`${who}: ${qps} QP(s), MTU ${agreed.mtu}: connected; the client writes and reports`);
      await followBandwidthClient(stream, keyOf(endpoint.wire(), 0), who, { ...o, landed: () => writesLanded(served, agreed.cycleBuffer) });
    } else {
      const { size, iterations, inlineThreshold } = o.latency;
      endpoint = RailEndpoint.open({ ...shape, qps: 1, txDepth: 64, inlineBytes: inlineThreshold, regionBytes: Math.max(shape.regionBytes, size) });
      const wire = endpoint.wire();
      const keys = [keyOf(wire, 0)];
      const theirs = await exchangeKeys(stream, 'server', keys, true, o.peerTimeoutMs);
      const peer = peerWire(theirs, `${tool} at ${stream.peer}`, agreed.mtu);
      endpoint.connect(peer);
      await confirmConnected(stream, 'server', keys, theirs, o.peerTimeoutMs);
      const params = { iterations, warmupIterations: 0, warmupMs: 0, inlineThreshold, silenceTimeoutMs: o.peerTimeoutMs, timer: 'auto' as const };
      let raw;
      try {
        raw = await initiate(endpoint, peer, size, { ...params, sizes: [size], concurrent: false, cm: false, events: false, sampleBudget: 10_000_000 }, undefined).done;
      } catch (err) {
        throw latencyMismatch(err, endpoint, size, iterations);
      }
      const { latency } = summarizeLatency(raw.samplesNs);
      o.log(
        `${who}: ${size} B x ${raw.exchanges} exchanges: p50 ${latency.p50Us.toFixed(2)} us, p99 ${latency.p99Us.toFixed(2)} us, ` +
          `min ${latency.minUs.toFixed(2)} us, max ${latency.maxUs.toFixed(2)} us (one way, half a round trip)`,
      );
    }
    await stream.finish(1000);
  } finally {
    endpoint?.close();
    stream.destroy();
  }
}

/**
 * ib_write_bw's client sends one key message per QP, then (after its RTR) the same keys again:
 * the count is known when its QP 0 comes round a second time. Each of our QPs is created as
 * its key arrives, because each answer carries ours.
 */
export async function keysOfUnknownCount(
  stream: ExactStream,
  endpoint: Pick<RailEndpoint, 'wire' | 'addQueuePair' | 'connect'>,
  mtu: number,
  timeoutMs: number,
  onConnected: () => void = () => undefined,
): Promise<number> {
  const theirs: KeyMessage[] = [];
  const mine: KeyMessage[] = [];
  for (;;) {
    const key = decodeKey(await stream.read(KEY_BYTES, timeoutMs, `the key message of QP ${theirs.length}`), `key message ${theirs.length + 1}`);
    if (theirs.length > 0 && key.qpn === theirs[0]!.qpn) {
      // The second round began: connect, then answer it and the rest of it.
      endpoint.connect(peerWire(theirs, 'the perftest client', mtu));
      onConnected();
      stream.write(encodeKey(mine[0]!));
      const rest = mine.slice(1);
      for (const [i, k] of rest.entries()) {
        const again = await shakeHands(stream, 'server', k, timeoutMs, `the second key message of QP ${i + 1}`);
        if (again.qpn !== theirs[i + 1]!.qpn) throw new RdmaError('the perftest client repeated its keys out of order', { code: 'ERR_PROTOCOL_PERFTEST' });
      }
      await shakeHands(stream, 'server', mine[0]!, timeoutMs, 'the sync after RTR');
      return theirs.length;
    }
    if (theirs.length > 0) endpoint.addQueuePair();
    theirs.push(key);
    const wire = endpoint.wire();
    mine.push(keyOf(wire, theirs.length - 1));
    stream.write(encodeKey(mine[mine.length - 1]!));
  }
}

/** A byte no region holds before the client writes: perftest's bw buffers are rand() bytes (create_mr). */
const UNWRITTEN = 0xa5;

/** Where a client's writes land: each QP's region from its start, cycling within the cycle buffer. */
function landingBytes(endpoint: RailEndpoint, cycleBuffer: number): Uint8Array[] {
  return endpoint.targets.map((t) => t.view().subarray(0, Math.max(cycleBuffer, 4096)));
}

function markRegions(endpoint: RailEndpoint, cycleBuffer: number): void {
  for (const bytes of landingBytes(endpoint, cycleBuffer)) bytes.fill(UNWRITTEN);
}

function writesLanded(endpoint: RailEndpoint, cycleBuffer: number): boolean {
  return landingBytes(endpoint, cycleBuffer).some((bytes) => bytes.some((b) => b !== UNWRITTEN));
}

/**
 * The run: wait for the client's end sync (its run's length is its own), its report, the closing
 * sync. ib_write_bw -b sends the same messages, but its sync comes before its run, a one-way
 * client's after it (write_bw.c, RUN_REGULAR and RUN_ALL, 5.70 through 6.29), when every write
 * of its run completed, so landed. `landed` tells them apart at that sync, before it is answered
 * (the -b client starts writing only then). Nothing in the exchange itself carries -b.
 */
export async function followBandwidthClient(
  stream: ExactStream,
  key: KeyMessage,
  who: string,
  o: Pick<PerftestServeOptions, 'log' | 'peerTimeoutMs'> & { landed?: () => boolean },
): Promise<void> {
  // An iteration run has no length we know of: a generous deadline, as for our own sessions.
  decodeKey(await stream.read(KEY_BYTES, o.peerTimeoutMs + 3_600_000, 'the sync after the run'), 'the sync after the run');
  if (o.landed && !o.landed()) {
    throw new RdmaError(`the ${who.replace(/^perftest \S+ /, '')} runs bidirectional (-b): it synced before writing anything; this server does not serve -b`, {
      code: ERR_PEER_MISMATCH,
      hint: 'run ib_write_bw without -b against spark-rdma (or spark-rdma bw --bidir against a spark-rdma server)',
    });
  }
  stream.write(encodeKey(key));
  const fields: Buffer[] = [];
  for (let i = 0; i < 5; i++) {
    fields.push(await stream.exchange('server', Buffer.alloc(REPORT_FIELD_BYTES), REPORT_FIELD_BYTES, o.peerTimeoutMs, `field ${i + 1} of 5 of the bandwidth report`));
  }
  const report = decodeReport(fields);
  await shakeHands(stream, 'server', key, o.peerTimeoutMs, 'the closing sync');
  const units = reportUnits(report);
  if (units === null) {
    o.log(`${who}: it reported ${report.size} B x ${report.iters} messages and a bandwidth of 0 (its timed window measured nothing: run it with a longer -D)`);
    return;
  }
  const gbps = units === 'Gb/s' ? report.bwAvg : (report.bwAvg * 2 ** 20 * 8) / 1e9;
  o.log(
    `${who}: it reported ${report.size} B x ${report.iters} messages, BW average ${report.bwAvg.toFixed(2)} ${units} ` +
      `(${gbps.toFixed(3)} Gb/s), peak ${report.bwPeak.toFixed(2)} ${units}, ${report.msgRateMpps.toFixed(6)} Mmsg/s`,
  );
}

function latencyMismatch(err: unknown, endpoint: RailEndpoint, size: number, iterations: number): unknown {
  if (!(err instanceof RdmaError) || err.code !== 'ERR_RDMA_PEER_SILENT') return err;
  const last = lastWrittenByte(endpoint);
  const theirSize = last >= 0 && last !== size - 1 ? ` (it writes ${last + 1}-byte messages)` : '';
  return new RdmaError(`the ib_write_lat client stopped answering${theirSize}: ${err.message}`, {
    code: ERR_PEER_MISMATCH,
    hint: `start ib_write_lat with -s ${size} -n ${iterations}, or this server with --size and --iters matching the client's -s and -n`,
  });
}

// ib_write_lat spins forever when the two ends disagree on -s or -n; this side must not. Each
// side spins on the last byte of its own message size, carrying the exchange number (see
// native/engine/write_lat.cc), so a silent peer or a byte in the wrong place tells which flag
// differs.
import { RdmaError } from '../errors.js';
import type { RailSide } from '../verbs/rail-side.js';
import { ERR_PEER_MISMATCH } from './wire.js';

/** The byte exchange n carries (perftest: `(char)++scnt`). */
export function sequenceByte(n: number): number {
  return (n + 1) & 0xff;
}

/** Index of the last non-zero byte the peer wrote into our region, or -1: its message size - 1. */
export function lastWrittenByte(endpoint: RailSide): number {
  const view = endpoint.targets[0]!.view();
  for (let i = view.length - 1; i >= 0; i--) if (view[i] !== 0) return i;
  return -1;
}

/** Turns a silent peer during a perftest ping-pong into the flag to change. */
export function mismatchError(err: unknown, rail: { endpoint: RailSide }, size: number, iterations: number, where: string): unknown {
  if (!(err instanceof RdmaError) || err.code !== 'ERR_RDMA_PEER_SILENT') return err;
  const last = lastWrittenByte(rail.endpoint);
  if (last >= 0 && last !== size - 1) {
    return new RdmaError(`the ib_write_lat peer at ${where} writes ${last + 1}-byte messages, this side ${size}: ${err.message}`, {
      code: ERR_PEER_MISMATCH,
      hint: `start ib_write_lat with -s ${size}, or pass --size ${last + 1} here`,
    });
  }
  return new RdmaError(`the ib_write_lat peer at ${where} stopped answering: ${err.message}`, {
    code: ERR_PEER_MISMATCH,
    hint: `both ends must use the same size and count: start ib_write_lat with -s ${size} -n ${iterations} (perftest spins forever on a mismatch; stop it)`,
  });
}

/**
 * After our last exchange, a peer with a larger -n writes exchange `iterations` at once. Looks
 * for it for a short while; null when the peer stopped where we did.
 */
export async function lingeringPeerProblem(rail: { endpoint: RailSide }, size: number, iterations: number, where: string, waitMs = 200): Promise<RdmaError | null> {
  const view = rail.endpoint.targets[0]!.view();
  const next = sequenceByte(iterations);
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    if (view[size - 1] === next) {
      return new RdmaError(`the ib_write_lat peer at ${where} runs more than this side's ${iterations} exchanges`, {
        code: ERR_PEER_MISMATCH,
        hint: `start ib_write_lat with -n ${iterations}, or pass --iters to match its -n (it now waits forever: stop it)`,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return null;
}

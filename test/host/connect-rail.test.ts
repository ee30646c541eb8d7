// What a rail's QP bring-up failure says: the rail, the peer rail it was meeting, and for an
// ETIMEDOUT at RTR (no ARP answer) what to check. The native error is built as the addon builds it.
import { describe, expect, test } from 'vitest';
import { RdmaError } from '../../lib/errors.js';
import { explainRailConnect } from '../../lib/verbs/connect-rail.js';
import type { RailWire } from '../../lib/verbs/endpoint.js';

const peer: RailWire = { device: 'rxe1', port: 1, gid: '0000:0000:0000:0000:0000:ffff:0a4d:0101', mtu: 4096, qps: [] };
const meeting = { position: 1, device: 'rxe1', netdev: 'rail1', peerRole: 'server', peerIndex: 1 };

function nativeError(errno: number, errnoName: string, strerror: string, what: string): RdmaError {
  return new RdmaError(`ibv_modify_qp failed (${what}): ${strerror} (${errnoName}) (hint: check the local GID index)`, {
    code: 'ERR_RDMA_SYSCALL',
    errno,
    syscall: 'ibv_modify_qp',
    hint: 'check the local GID index',
  });
}

describe('explainRailConnect', () => {
  test('ETIMEDOUT at RTR names both rails, the netdev and the ARP probe to run', () => {
    const err = explainRailConnect(nativeError(110, 'ETIMEDOUT', 'Connection timed out', 'INIT->RTR, gid index 1'), peer, meeting) as RdmaError;
    expect(err).toBeInstanceOf(RdmaError);
    expect(err.code).toBe('ERR_RDMA_UNREACHABLE');
    expect(err.message).toBe(
      "rail 1 (rxe1) cannot reach the server's rail 1 (rxe1 10.77.1.1): no ARP answer on rail1 when its QPs moved to RTR (ibv_modify_qp: ETIMEDOUT)",
    );
    expect(err.hint).toBe('the link passes nothing: check the cable and both ports (ip link), then `ping -I rail1 10.77.1.1` and `ip neigh show dev rail1`');
    expect(err.errno).toBe(110);
  });

  test('another failure keeps its code, errno and hint, and gains the rails (a server knows only the client device)', () => {
    const err = explainRailConnect(nativeError(22, 'EINVAL', 'Invalid argument', 'RTR->RTS'), peer, { ...meeting, peerRole: 'client', peerIndex: undefined }) as RdmaError;
    expect(err.code).toBe('ERR_RDMA_SYSCALL');
    expect(err.errno).toBe(22);
    expect(err.hint).toBe('check the local GID index');
    expect(err.message).toBe("rail 1 (rxe1) meeting the client's rail (rxe1 10.77.1.1): ibv_modify_qp failed (RTR->RTS): Invalid argument (EINVAL)");
  });

  test('a peer GID that is not IPv4-mapped names the device only', () => {
    const err = explainRailConnect(nativeError(110, 'ETIMEDOUT', 'Connection timed out', 'INIT->RTR, gid index 0'), { ...peer, gid: 'fe80:0000:0000:0000:5054:00ff:fe12:3401' }, meeting) as RdmaError;
    expect(err.message).toMatch(/^rail 1 \(rxe1\) cannot reach the server's rail 1 \(rxe1\): no ARP answer on rail1/);
    expect(err.hint).toMatch(/then `ip neigh show dev rail1`$/);
  });

  test('what is not an Error passes through unchanged', () => {
    expect(explainRailConnect('boom', peer, meeting)).toBe('boom');
  });
});

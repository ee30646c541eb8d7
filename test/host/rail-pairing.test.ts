// Rail pairing (lib/run/rail-pairing.ts): each client rail meets the server rail in its subnet,
// never the one at its position when that one cannot be reached.
import { describe, expect, test } from 'vitest';
import { describePairing, ipv4PrefixLength, pairRails, sameSubnet, subnetOf, type PairingRail } from '../../lib/run/rail-pairing.js';
import type { HelloRail } from '../../lib/session/protocol.js';

const server = (index: number, device: string, ipv4: string | null): HelloRail => ({
  index,
  device,
  port: 1,
  ipv4,
  gid: null,
  gidIndex: 1,
  activeMtu: 4096,
});
const client = (index: number, device: string, ipv4: string | null, prefixLength: number | null = 24): PairingRail => ({ index, device, ipv4, prefixLength });
const twoRails = [server(0, 'rxe0', '10.77.0.1'), server(1, 'rxe1', '10.77.1.1')];

describe('pairRails', () => {
  test('a client that uses only its rail 1 meets the server rail 1, whatever address it dialled', () => {
    for (const dialled of ['10.77.1.1', '10.77.0.1']) {
      const [pair] = pairRails([client(0, 'rxe1', '10.77.1.2')], twoRails, dialled);
      expect(pair).toEqual({ rail: 0, device: 'rxe1', ipv4: '10.77.1.2', subnet: '10.77.1.0/24', peerRail: 1, peerDevice: 'rxe1', peerIpv4: '10.77.1.1', rule: 'subnet' });
    }
  });

  test('crossed lists pair by subnet, not position', () => {
    const pairs = pairRails([client(0, 'mlx_b', '10.77.1.2'), client(1, 'mlx_a', '10.77.0.2')], twoRails, '10.77.0.1');
    expect(pairs.map((p) => [p.device, p.peerDevice])).toEqual([
      ['mlx_b', 'rxe1'],
      ['mlx_a', 'rxe0'],
    ]);
  });

  test('a rail whose subnet no server rail is in is refused, naming the rail, its subnet and the server rails', () => {
    expect(() => pairRails([client(0, 'rxe0', '10.77.0.2')], [server(0, 'rxe1', '10.77.1.1')], '10.77.1.1')).toThrow(
      "rail 0 (rxe0 10.77.0.2/24) cannot reach the server at 10.77.1.1: none of the server's rails, rxe1 (10.77.1.1), is in 10.77.0.0/24",
    );
  });

  test('two client rails in one subnet with one server rail there: refused, naming the rail to fix', () => {
    expect(() => pairRails([client(0, 'a', '10.77.0.2'), client(1, 'b', '10.77.0.3')], twoRails, '10.77.0.1')).toThrow(
      /^rails 0 \(a 10\.77\.0\.2\/24\) and 1 \(b 10\.77\.0\.3\/24\) of this node are both in 10\.77\.0\.0\/24; rail 1 \(b\) does not reach the server's rail 1 \(rxe1 \(10\.77\.1\.1\)\): give it an address in 10\.77\.1\.0\/24/,
    );
  });

  test('several server rails in the subnet: the dialled address first, then the same position', () => {
    const flat = [server(0, 's0', '10.0.0.1'), server(1, 's1', '10.0.0.2')];
    expect(pairRails([client(0, 'c0', '10.0.0.9', 16)], flat, '10.0.0.2')[0]).toMatchObject({ peerDevice: 's1', rule: 'dialled-address' });
    expect(pairRails([client(0, 'c0', '10.0.0.9'), client(1, 'c1', '10.0.0.8')], flat, '192.0.2.1').map((p) => [p.peerDevice, p.rule])).toEqual([
      ['s0', 'same-position'],
      ['s1', 'subnet'],
    ]);
  });

  test('unknown prefix (fixture sysfs): the dialled address, then position', () => {
    const pairs = pairRails([client(0, 'rxe1', '10.77.1.2', null), client(1, 'rxe0', '10.77.0.2', null)], twoRails, '10.77.1.1');
    expect(pairs.map((p) => [p.peerDevice, p.rule, p.subnet])).toEqual([
      ['rxe1', 'dialled-address', null],
      ['rxe0', 'first-free', null],
    ]);
    expect(describePairing(pairs[0]!)).toBe('rxe1 10.77.1.2 -> rxe1 10.77.1.1 (the address dialled)');
  });
});

test('subnet helpers', () => {
  expect(subnetOf('192.168.100.10', 24)).toBe('192.168.100.0/24');
  expect(subnetOf('10.1.2.3', 0)).toBe('0.0.0.0/0');
  expect(sameSubnet('10.77.0.1', '10.77.0.254', 24)).toBe(true);
  expect(sameSubnet('10.77.0.1', '10.77.1.1', 24)).toBe(false);
  expect(sameSubnet('10.77.0.1', '10.77.1.1', 16)).toBe(true);
  const interfaces = { rail0: [{ family: 'IPv4' as const, address: '10.77.0.1', cidr: '10.77.0.1/24', netmask: '255.255.255.0', mac: '', internal: false }] };
  expect(ipv4PrefixLength('rail0', '10.77.0.1', interfaces)).toBe(24);
  expect(ipv4PrefixLength('rail0', '10.77.0.9', interfaces)).toBe(null);
  expect(ipv4PrefixLength('rail9', '10.77.0.1', interfaces)).toBe(null);
});

test('wrong cabling: two of our rails in one subnet is refused, naming the rail that does not reach its peer rail', () => {
  // node1's rail0 addressed in node0's rail1 subnet.
  expect(() => pairRails([client(0, 'rxe0', '10.77.1.3'), client(1, 'rxe1', '10.77.1.2')], twoRails, '10.77.0.1')).toThrow(
    "rails 0 (rxe0 10.77.1.3/24) and 1 (rxe1 10.77.1.2/24) of this node are both in 10.77.1.0/24; rail 0 (rxe0) does not reach the server's rail 0 (rxe0 (10.77.0.1)): give it an address in 10.77.0.0/24, or cable it to the port in 10.77.1.0/24",
  );
});

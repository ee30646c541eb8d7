// The small parsers discovery is built from: GIDs, sysfs state/rate text, MTU derivation, order.
import { describe, expect, test } from 'vitest';
import { formatGid, ipv4FromGid, isZeroGid, normalizeGid, parseGid } from '../../lib/sysfs/gid.js';
import { parseIbMtu, roceMtuForNetdevMtu } from '../../lib/sysfs/mtu.js';
import { compareDeviceNames } from '../../lib/sysfs/order.js';
import { parseGidType, parseLinkLayer, parseNodeType, parsePhysState, parsePortState, parseRateGbps } from '../../lib/sysfs/parse.js';

describe('GIDs', () => {
  test('sysfs and inet_ntop spellings parse to the same bytes', () => {
    expect(normalizeGid('::ffff:10.77.0.1')).toBe('0000:0000:0000:0000:0000:ffff:0a4d:0001');
    expect(normalizeGid('0000:0000:0000:0000:0000:ffff:0a4d:0001')).toBe('0000:0000:0000:0000:0000:ffff:0a4d:0001');
    expect(normalizeGid('fe80::a00:27ff:fe4e:8b01')).toBe('fe80:0000:0000:0000:0a00:27ff:fe4e:8b01');
    expect(normalizeGid('FE80:0000:0000:0000:0A00:27FF:FE4E:8B01')).toBe('fe80:0000:0000:0000:0a00:27ff:fe4e:8b01');
    expect(normalizeGid('::')).toBe('0000:0000:0000:0000:0000:0000:0000:0000');
  });

  test('garbage is refused', () => {
    for (const bad of ['', 'fe80', '1:2:3:4:5:6:7:8:9', 'fe80::1::2', '::ffff:10.77.0.300', 'zzzz::1']) expect(parseGid(bad)).toBeNull();
  });

  test('IPv4 only from IPv4-mapped GIDs', () => {
    expect(ipv4FromGid(parseGid('0000:0000:0000:0000:0000:ffff:c0a8:640a')!)).toBe('192.168.100.10');
    expect(ipv4FromGid(parseGid('::ffff:169.254.3.4')!)).toBe('169.254.3.4');
    expect(ipv4FromGid(parseGid('fe80::1')!)).toBeNull();
    expect(ipv4FromGid(parseGid('2001:db8::ffff:a4d:1')!)).toBeNull();
  });

  test('zero GID and formatting round trip', () => {
    expect(isZeroGid(parseGid('0000:0000:0000:0000:0000:0000:0000:0000')!)).toBe(true);
    expect(isZeroGid(parseGid('fe80::1')!)).toBe(false);
    expect(formatGid(parseGid('2001:db8::10')!)).toBe('2001:0db8:0000:0000:0000:0000:0000:0010');
  });
});

describe('sysfs text', () => {
  test('port and physical states map by number to verbs names', () => {
    expect(parsePortState('4: ACTIVE')).toBe('ACTIVE');
    expect(parsePortState('1: DOWN')).toBe('DOWN');
    expect(parsePortState(null)).toBe('UNKNOWN');
    expect(parsePhysState('5: LinkUp')).toBe('LINK_UP');
    expect(parsePhysState('3: Disabled')).toBe('DISABLED');
    expect(parsePhysState('2: Polling')).toBe('POLLING');
  });

  test('rate in Gb/s', () => {
    expect(parseRateGbps('200 Gb/sec (4X HDR)')).toBe(200);
    expect(parseRateGbps('100 Gb/sec (4X EDR)')).toBe(100);
    expect(parseRateGbps('2.5 Gb/sec (1X SDR)')).toBe(2.5);
    expect(parseRateGbps('garbage')).toBeNull();
    expect(parseRateGbps(null)).toBeNull();
  });

  test('GID types: "IB/RoCE v1" is RoCE v1 on Ethernet and IB on InfiniBand; unknown text is unused', () => {
    expect(parseGidType('RoCE v2', 'Ethernet')).toBe('RoCE v2');
    expect(parseGidType('IB/RoCE v1', 'Ethernet')).toBe('RoCE v1');
    expect(parseGidType('IB/RoCE v1', 'InfiniBand')).toBe('IB');
    expect(parseGidType(null, 'Ethernet')).toBeNull();
    expect(parseGidType('', 'Ethernet')).toBeNull();
  });

  test('link layer and node type', () => {
    expect(parseLinkLayer('Ethernet')).toBe('Ethernet');
    expect(parseLinkLayer('InfiniBand')).toBe('InfiniBand');
    expect(parseLinkLayer(null)).toBe('Unspecified');
    expect(parseNodeType('1: CA')).toBe('CA');
  });
});

describe('active MTU from the netdev MTU (kernel iboe_get_mtu: 96 bytes of RoCE headers)', () => {
  test.each([
    [9000, 4096], [4200, 4096], [4192, 4096], [4191, 2048], [2200, 2048], [2144, 2048], [2143, 1024],
    [1500, 1024], [1200, 1024], [1100, 512], [576, 256], [300, null],
  ])('netdev %i -> %s', (netdev, expected) => {
    expect(roceMtuForNetdevMtu(netdev)).toBe(expected);
  });

  test('explicit MTU text', () => {
    expect(parseIbMtu('4096')).toBe(4096);
    expect(parseIbMtu('4096 (5)')).toBe(4096);
    expect(parseIbMtu('9000')).toBeNull();
    expect(parseIbMtu(null)).toBeNull();
  });
});

describe('device order', () => {
  test('case-insensitive, digit runs numeric, deterministic ties', () => {
    const names = ['roceP2p1s0f1', 'mlx5_10', 'rocep1s0f1', 'mlx5_2', 'rxe1', 'rxe0', 'roceP2p1s0f0', 'rocep1s0f0'];
    expect([...names].sort(compareDeviceNames)).toEqual(['mlx5_2', 'mlx5_10', 'rocep1s0f0', 'rocep1s0f1', 'roceP2p1s0f0', 'roceP2p1s0f1', 'rxe0', 'rxe1']);
    expect(compareDeviceNames('rxe0', 'RXE0')).not.toBe(0);
    expect(compareDeviceNames('rxe0', 'rxe0')).toBe(0);
  });
});

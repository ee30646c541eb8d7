// Issue 21, point 11: error codes as an API. Every code the sources (TypeScript and C++) can
// put on an RdmaError is in the exported list with its meaning and what to do, every listed
// code is used, all follow ERR_<AREA>_<WHAT>, and a server with no IPv4 address to listen on
// says so with its own code (it reused ERR_RDMA_NO_GID, "a rail has no IPv4 RoCE v2 GID").
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ERROR_CODES, ErrorCode, describeErrorCode } from '../../lib/index.js';
import { RdmaError } from '../../lib/errors.js';
import { serve } from '../../lib/serve/index.js';
import { rxePair } from '../fixtures/machines.js';
import { makeSysfsTree } from '../fixtures/sysfs.js';

const repo = join(import.meta.dirname, '../..');

function files(dir: string, ext: RegExp): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path, ext);
    return ext.test(name) ? [path] : [];
  });
}

/** Every ERR_ code written as a string literal in lib/ and native/, with where it is. */
function codesInSources(): Map<string, string> {
  const found = new Map<string, string>();
  const sources = [...files(join(repo, 'lib'), /\.ts$/), ...files(join(repo, 'native'), /\.(cc|h)$/)];
  for (const file of sources) {
    if (file.endsWith('error-codes.ts')) continue;
    for (const m of readFileSync(file, 'utf8').matchAll(/['"](ERR_[A-Z0-9_]+)['"]/g)) {
      if (!found.has(m[1]!)) found.set(m[1]!, relative(repo, file));
    }
  }
  return found;
}

describe('the exported error codes', () => {
  const listed = Object.keys(ERROR_CODES);
  const used = codesInSources();

  test('every code the sources use is listed, with a meaning and an action', () => {
    const missing = [...used].filter(([code]) => !(code in ERROR_CODES)).map(([code, file]) => `${code} (${file})`);
    expect(missing).toEqual([]);
    for (const code of listed) {
      const info = describeErrorCode(code)!;
      expect(info.meaning.length, code).toBeGreaterThan(10);
      expect(info.action.length, code).toBeGreaterThan(5);
    }
  });

  test('every listed code is used somewhere (no stale entries)', () => {
    expect(listed.filter((code) => !used.has(code))).toEqual([]);
  });

  test('one scheme: ERR_<AREA>[_<WHAT>], areas RDMA, PEER, SESSION, SERVER, MESH, PROTOCOL; constants equal their names', () => {
    for (const code of listed) {
      expect(code).toMatch(/^ERR_(RDMA|PEER|SESSION|SERVER|MESH|PROTOCOL)(_[A-Z0-9]+)*$/);
      expect(ErrorCode[code as keyof typeof ErrorCode]).toBe(code);
    }
    expect(Object.isFrozen(ErrorCode)).toBe(true);
    expect(describeErrorCode('ERR_FROM_A_NEWER_PEER')).toBeUndefined();
    expect(describeErrorCode('toString')).toBeUndefined();
  });

  test('only ERR_RDMA_INVALID_ARGUMENT is a usage error (exit 2)', () => {
    expect(listed.filter((code) => describeErrorCode(code)!.exit === 2)).toEqual(['ERR_RDMA_INVALID_ARGUMENT']);
  });

  test('a server whose rails have no IPv4 address: ERR_RDMA_NO_IPV4, not ERR_RDMA_NO_GID', async () => {
    const spec = rxePair();
    for (const device of spec.devices) for (const port of device.ports) port.addresses = [];
    const tree = makeSysfsTree(spec);
    try {
      const err = await serve({ sysfsRoot: tree.root, port: 0 }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(RdmaError);
      expect((err as RdmaError).code).toBe(ErrorCode.ERR_RDMA_NO_IPV4);
      expect((err as RdmaError).message).toBe('no rail has an IPv4 address to listen on');
    } finally {
      tree.cleanup();
    }
  });
});

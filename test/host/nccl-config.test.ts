import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMeasurement } from '../../lib/config/measurements.js';
import { ncclConfig, type NcclConfig } from '../../lib/config/nccl.js';
import { renderNcclConfig } from '../../lib/config/render-nccl.js';
import { RdmaError } from '../../lib/errors.js';
import { discoverRails } from '../../lib/rails/discover.js';
import { brokenSpark } from '../fixtures/host.js';
import { bashSyntaxError, dockerEnvFile, hasShellcheck, shellcheck, shellWords, sourcedEnv } from '../fixtures/shell.js';
import { dgxSparkNode, rxePair, sparkAddresses, type SparkIpLayout } from '../fixtures/sysfs.js';
import { tempTrees } from '../fixtures/temp-trees.js';

// Building and removing fixture trees is slow on a loaded machine; the default 10 s hook deadline is too tight.
const HOOK_MS = 60_000;

const results = join(import.meta.dirname, '..', 'fixtures', 'results');
// Labelled by file name (not the absolute path) so rendered text is the same on every machine.
const measured = (...names: string[]) => names.map((n) => parseMeasurement(readFileSync(join(results, n), 'utf8'), n));

const { tree } = tempTrees('all', HOOK_MS);

const envOf = (c: NcclConfig) => Object.fromEntries(c.variables.map((v) => [v.name, v.value]));

const LAYOUTS: SparkIpLayout[] = ['subnet-per-function', 'link-local', 'one-subnet'];

describe.each(LAYOUTS)('NCCL config on a DGX Spark pair, IP layout %s', (layout) => {
  const roots = [0, 1].map((node) => tree(dgxSparkNode({ ipLayout: layout, node: node as 0 | 1 })));

  it.each([0, 1])('node %i, no measurements: single rail rocep1s0f1, each value on its own', (node) => {
    const c = ncclConfig({ sysfsRoot: roots[node]! });
    expect(c.decision.mode).toBe('single');
    expect(c.decision.source).toBe('default');
    expect(c.decision.reason).toMatch(/^single rail by default: no measurements were given/);
    expect(c.decision.reason).toContain('299 tok/s on one rail vs 239 tok/s on two');
    expect(c.rails.map((r) => r.ipv4)).toEqual([sparkAddresses(layout, node as 0 | 1)[0]]);
    const env = envOf(c);
    expect(env.NCCL_IB_HCA).toBe('=rocep1s0f1:1');
    expect(env.NCCL_NET).toBe('IB');
    expect(env.NCCL_NET_PLUGIN).toBe('none');
    expect(env.NCCL_NET_GDR_LEVEL).toBe('LOC');
    expect(env.NCCL_NET_GDR_C2C).toBe('0');
    expect(env.NCCL_DMABUF_ENABLE).toBe('0');
    expect(env.NCCL_SOCKET_IFNAME).toBe('enp1s0f1np1');
    expect(env.GLOO_SOCKET_IFNAME).toBe('enp1s0f1np1');
    expect(env.UCX_NET_DEVICES).toBe('enp1s0f1np1');
    expect(env.NCCL_IB_GID_INDEX).toBe('-1');
    expect(env).not.toHaveProperty('NCCL_CROSS_NIC');
    expect(env).not.toHaveProperty('NCCL_DEBUG');
    expect(Object.keys(env)).toHaveLength(10);
  });

  it('dual rail from measurements: both functions in rail order, same on both nodes', () => {
    const [a, b] = roots.map((root) => ncclConfig({ sysfsRoot: root, measurements: measured('single-rail.json', 'dual-rail-faster.json') }));
    expect(a!.decision.mode).toBe('dual');
    expect(a!.decision.source).toBe('measured');
    expect(envOf(a!).NCCL_IB_HCA).toBe('=rocep1s0f1:1,roceP2p1s0f1:1');
    expect(envOf(a!).NCCL_SOCKET_IFNAME).toBe('enp1s0f1np1');
    expect(envOf(a!).NCCL_CROSS_NIC).toBe('0');
    expect(envOf(b!)).toEqual(envOf(a!));
    const crossNic = a!.variables.find((v) => v.name === 'NCCL_CROSS_NIC')!.reason;
    expect(crossNic.includes('(as here)')).toBe(layout === 'subnet-per-function');
  });
});

describe('NCCL config: rail selection', () => {
  const spark = tree(dgxSparkNode());

  it('dual rail not clearly faster: single rail, and the output says why', () => {
    const c = ncclConfig({ sysfsRoot: spark, measurements: measured('single-rail.json', 'dual-rail-not-faster.json') });
    expect(c.decision.mode).toBe('single');
    expect(c.decision.source).toBe('measured');
    expect(envOf(c).NCCL_IB_HCA).toBe('=rocep1s0f1:1');
    const text = renderNcclConfig(c, 'env');
    expect(text).toContain('# rail choice (measured): single rail: 2 rails measured 113.1 Gb/s');
    expect(text).toContain('not clearly faster');
  });

  it('--devices keeps the order given: NCCL_IB_HCA and the socket netdev follow it', () => {
    const c = ncclConfig({ sysfsRoot: spark, devices: ['roceP2p1s0f1', 'rocep1s0f1:1'] });
    expect(c.decision.source).toBe('explicit');
    expect(envOf(c).NCCL_IB_HCA).toBe('=roceP2p1s0f1:1,rocep1s0f1:1');
    expect(envOf(c).NCCL_SOCKET_IFNAME).toBe('enP2p1s0f1np1');
  });

  it('--rails 2 is dual; --single wins over it and over measurements; --dual forces two', () => {
    expect(envOf(ncclConfig({ sysfsRoot: spark, rails: 2 })).NCCL_IB_HCA).toBe('=rocep1s0f1:1,roceP2p1s0f1:1');
    const single = ncclConfig({ sysfsRoot: spark, rails: 2, mode: 'single', measurements: measured('single-rail.json', 'dual-rail-faster.json') });
    expect(envOf(single).NCCL_IB_HCA).toBe('=rocep1s0f1:1');
    expect(single.decision.reason).toMatch(/^single rail, as asked \(--single\) \(measurements alone would choose: dual rail/);
    expect(envOf(ncclConfig({ sysfsRoot: spark, mode: 'dual' })).NCCL_IB_HCA).toBe('=rocep1s0f1:1,roceP2p1s0f1:1');
  });

  it('rejects selections that cannot work, naming the value and the fix', () => {
    const err = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(RdmaError);
        return e as RdmaError;
      }
      throw new Error('expected an RdmaError');
    };
    expect(err(() => ncclConfig({ sysfsRoot: spark, devices: ['mlx5_0'] })).message).toBe('device mlx5_0 is not a rail here (rails: rocep1s0f1:1, roceP2p1s0f1:1)');
    expect(err(() => ncclConfig({ sysfsRoot: spark, rails: 3 })).message).toContain('asked for 3 rails, this machine has 2');
    expect(err(() => ncclConfig({ sysfsRoot: spark, rails: 2, devices: ['rocep1s0f1'] })).message).toBe('both --rails and --devices were given');
    expect(err(() => ncclConfig({ sysfsRoot: spark, mode: 'dual', rails: 1 })).message).toContain('dual rail needs 2 rails, the selection has 1');
    const noIpv4 = tree(brokenSpark.secondFunctionNoIpv4());
    const e = err(() => ncclConfig({ sysfsRoot: noIpv4, mode: 'dual' }));
    expect(e.code).toBe('ERR_RDMA_NO_GID');
    expect(e.message).toContain('roceP2p1s0f1:1 (enP2p1s0f1np1) has no IPv4 RoCE v2 GID');
    expect(e.hint).toContain('sudo ip addr add');
    const none = tree(dgxSparkNode({ cabledPort: 0 }));
    expect(envOf(ncclConfig({ sysfsRoot: none })).NCCL_IB_HCA).toBe('=rocep1s0f0:1');
    const empty = tree({ devices: [] });
    expect(err(() => ncclConfig({ sysfsRoot: empty })).code).toBe('ERR_RDMA_NO_RAILS');
  });

  it('takes rails from the caller instead of discovering them', () => {
    const rails = discoverRails({ sysfsRoot: tree(rxePair()) });
    const c = ncclConfig({ fromRails: rails, rails: 2 });
    expect(envOf(c).NCCL_IB_HCA).toBe('=rxe0:1,rxe1:1');
    expect(envOf(c).NCCL_SOCKET_IFNAME).toBe('rail0');
    expect(envOf(c).UCX_NET_DEVICES).toBe('rail0');
  });

  it('NCCL_IB_GID_INDEX=-1 (automatic, NCCL >= 2.21), with the index NCCL will find (shifted by IPv6 globals) in the reason', () => {
    const plain = ncclConfig({ sysfsRoot: spark, rails: 2 });
    expect(plain.unset).toEqual([]);
    const gid = plain.variables.find((v) => v.name === 'NCCL_IB_GID_INDEX')!;
    expect(gid.value).toBe('-1');
    expect(gid.since).toBe('2.21');
    expect(gid.reason).toContain('here: rocep1s0f1 3, roceP2p1s0f1 3');
    expect(gid.reason).toContain('env files cannot unset a stale value');
    expect(gid.reason).toContain('NCCL before 2.21 has no automatic choice (default index 0, the link-local GID)');
    const shifted = ncclConfig({ sysfsRoot: tree(brokenSpark.ipv6Globals()) });
    expect(shifted.variables.find((v) => v.name === 'NCCL_IB_GID_INDEX')!.reason).toContain('here: rocep1s0f1 5');
  });

  it('NCCL_NET_GDR_C2C is explained as redundant with GDR_LEVEL=LOC, with its version floors', () => {
    const c2c = ncclConfig({ sysfsRoot: spark }).variables.find((v) => v.name === 'NCCL_NET_GDR_C2C')!;
    expect(c2c.since).toBe('2.26.2');
    expect(c2c.reason).toMatch(/^redundant with NCCL_NET_GDR_LEVEL=LOC/);
    expect(c2c.reason).toContain('2.27.3 turned it on by default');
    expect(c2c.reason).not.toContain('overrides');
  });

  it('the notes state the version floors and that the environment wins over NCCL conf files', () => {
    const notes = ncclConfig({ sysfsRoot: spark }).notes.join('\n');
    expect(notes).toContain('needs NCCL >= 2.21 (NCCL_IB_GID_INDEX=-1 = automatic)');
    expect(notes).toContain('NCCL_NET_GDR_C2C exists from 2.26.2');
    expect(notes).toContain('NCCL_NET_PLUGIN=none is a keyword from 2.28.3');
    expect(notes).toContain('NCCL_CONF_FILE (else ~/.nccl.conf), then /etc/nccl.conf, without overriding the environment');
    expect(notes).toContain('whatever such a file sets that this config leaves out (NCCL_IB_DISABLE, NCCL_TOPO_FILE');
  });

  it('--debug-nccl adds NCCL_DEBUG=INFO and NCCL_DEBUG_SUBSYS=INIT,NET; the log check names each rail', () => {
    const c = ncclConfig({ sysfsRoot: spark, rails: 2, debug: true });
    expect(envOf(c).NCCL_DEBUG).toBe('INFO');
    expect(envOf(c).NCCL_DEBUG_SUBSYS).toBe('INIT,NET');
    expect(c.verify.expect).toEqual(['Using network IB', 'rocep1s0f1:1/RoCE', 'roceP2p1s0f1:1/RoCE', 'via NET/IB/']);
    // Only lines that mean a plugin really loaded: "NET/Plugin: Could not find: ... libnccl-net-none.so"
    // is what NCCL 2.22-2.27 print when NCCL_NET_PLUGIN=none works (src/plugin/plugin_open.cc).
    expect(c.verify.reject.map((r) => r.text)).toEqual([
      '/GDRDMA', 'Using network Socket', 'via NET/Socket', 'NET/IB : No device found.', 'Failed to initialize any NET plugin', 'Error: network IB not found.',
      'NET/Plugin: Loaded net plugin', 'Successfully loaded external',
    ]);
    const healthy = 'spark-a:1234:1234 [0] NCCL INFO NET/Plugin: Could not find: libnccl-net-none.so. ';
    expect(c.verify.reject.some((r) => healthy.includes(r.text))).toBe(false);
  });
});

describe('NCCL config formats, read back by bash and by the docker env-file rules', () => {
  let dir = '';
  let config: NcclConfig;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'spark-rdma-nccl-'));
    config = ncclConfig({ sysfsRoot: tree(dgxSparkNode()), measurements: measured('single-rail.json', 'dual-rail-faster.json'), debug: true });
  }, HOOK_MS);
  afterAll(() => rmSync(dir, { recursive: true, force: true }), HOOK_MS);

  it('env: bash `set -a; source` exports exactly the variables', () => {
    const path = join(dir, 'nccl.env');
    writeFileSync(path, renderNcclConfig(config, 'env'));
    expect(sourcedEnv(path)).toEqual(envOf(config));
  });

  it('env: docker --env-file reads the same values (no quotes, no export, comments on their own lines)', () => {
    const text = renderNcclConfig(config, 'env');
    expect(dockerEnvFile(text)).toEqual(envOf(config));
    expect(text).not.toMatch(/^export /m);
    const assignments = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(assignments).toHaveLength(config.variables.length);
    for (const line of assignments) expect(line).toMatch(/^[A-Z_a-z0-9]+=[^"'\s$`\\]+$/);
    expect(dockerEnvFile(text).NCCL_IB_HCA).toBe('=rocep1s0f1:1,roceP2p1s0f1:1');
  });

  it('env and shell: every variable has a one-line reason comment right above it', () => {
    for (const format of ['env', 'shell'] as const) {
      const lines = renderNcclConfig(config, format).split('\n');
      for (const v of config.variables) {
        const value = format === 'shell' && v.value.startsWith('=') ? `'${v.value}'` : v.value;
        const i = lines.findIndex((l) => l === `${format === 'shell' ? 'export ' : ''}${v.name}=${value}`);
        expect(i, `${format} ${v.name}`).toBeGreaterThan(0);
        expect(lines[i - 1]).toBe(`# ${v.reason}`);
      }
    }
  });

  it('env: the header names the generator, the rails and why; the footer says what the log must show', () => {
    const text = renderNcclConfig(config, 'env');
    expect(text.split('\n')[0]).toBe('# shellcheck disable=SC1097,SC2034 # an env file: NAME==x means the value "=x"; set -a exports them');
    expect(text.split('\n')[1]).toBe('# NCCL environment for host-staged RoCE (GPUDirect RDMA off), generated by spark-rdma config nccl');
    expect(text).toContain('# Use: a docker env file: docker run --env-file nccl.env ...');
    expect(text).toContain('# rails: rail 0 rocep1s0f1:1 (enp1s0f1np1, 192.168.100.10); rail 1 roceP2p1s0f1:1 (enP2p1s0f1np1, 192.168.101.10)');
    expect(text).toContain('# rail choice (measured): dual rail: 2 rails measured 189.9 Gb/s');
    expect(text).toContain('\nNCCL_IB_GID_INDEX=-1\n');
    expect(text).toContain('# -1 = NCCL finds the IPv4 RoCE v2 GID itself (NCCL >= 2.21; here: rocep1s0f1 3, roceP2p1s0f1 3)');
    expect(text).toContain('#   must appear:     via NET/IB/');
    expect(text).toContain('# then run: spark-rdma nccl-check nccl.log');
    expect(text).toContain('#   must not appear: /GDRDMA');
  });

  it('shell: sourcing exports the variables and overrides a stale NCCL_IB_GID_INDEX', () => {
    const path = join(dir, 'nccl.sh');
    writeFileSync(path, renderNcclConfig(config, 'shell'));
    expect(sourcedEnv(path, { NCCL_IB_GID_INDEX: '3' })).toEqual(envOf(config));
  });

  it('env and shell formats pass bash -n and shellcheck', () => {
    expect(hasShellcheck).toBe(true);
    // No exclusions here: the env file carries its own shellcheck directive (it cannot quote).
    for (const format of ['env', 'shell'] as const) {
      const path = join(dir, `check.${format}`);
      writeFileSync(path, renderNcclConfig(config, format));
      expect(bashSyntaxError(path), format).toBeNull();
      expect(shellcheck(path), format).toBe('');
    }
  });

  it('docker: one line of -e flags a shell splits into NAME=value pairs', () => {
    const text = renderNcclConfig(config, 'docker');
    expect(text.endsWith('\n')).toBe(true);
    expect(text.trimEnd().split('\n')).toHaveLength(1);
    const words = shellWords(text.trim());
    const pairs: string[] = [];
    for (let i = 0; i < words.length; i += 2) {
      expect(words[i]).toBe('-e');
      pairs.push(words[i + 1]!);
    }
    expect(pairs).toEqual(config.variables.map((v) => `${v.name}=${v.value}`));
    expect(pairs).toContain('NCCL_IB_HCA==rocep1s0f1:1,roceP2p1s0f1:1');
  });

  it('json: the env map, reasons, the decision and the log check', () => {
    const json = JSON.parse(renderNcclConfig(config, 'json')) as Record<string, any>;
    expect(json.mode).toBe('dual');
    expect(json.env).toEqual(envOf(config));
    expect(json.variables.every((v: { reason: string }) => v.reason.length > 10)).toBe(true);
    expect(json.decision.comparison.speedup).toBeCloseTo(189.9 / 97.3, 10);
    expect(json.env.NCCL_IB_GID_INDEX).toBe('-1');
    expect(json.variables.find((v: { name: string }) => v.name === 'NCCL_IB_GID_INDEX').since).toBe('2.21');
    expect(json.verify.expect).toContain('via NET/IB/');
  });

  it('rejects an unknown format', () => {
    expect(() => renderNcclConfig(config, 'yaml' as 'env')).toThrow('format "yaml" is not one of shell, env, docker, json');
  });

  it('golden layout of the dual-rail env file', async () => {
    await expect(readFileSync(join(dir, 'nccl.env'), 'utf8')).toMatchFileSnapshot('../fixtures/golden/nccl-dual.env');
  });
});

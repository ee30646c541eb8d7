// The Prometheus exporter, scraped over HTTP on 127.0.0.1 (ephemeral port) and read back with a
// small exposition-format parser written here, independent of lib/.
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { RdmaError } from '../../lib/errors.js';
import { escapeLabelValue, renderExposition } from '../../lib/monitor/exposition.js';
import { startExporter, type RailExporter } from '../../lib/monitor/exporter.js';
import { DEFAULT_EXPORTER_LISTEN, parseListenAddress } from '../../lib/monitor/listen.js';
import { dgxSparkNode, makeSysfsTree, noRdmaMachine, rxePair, setCounter, setPortState, type MachineSpec } from '../fixtures/sysfs.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

function tree(spec: MachineSpec): string {
  const t = makeSysfsTree(spec);
  cleanups.push(t.cleanup);
  return t.root;
}

async function exporterOn(root: string): Promise<RailExporter> {
  const e = await startExporter({ sysfsRoot: root, listen: '127.0.0.1:0' });
  cleanups.push(() => e.close());
  return e;
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function fetchText(url: string, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} in 10 s`)));
    req.on('error', reject);
    req.end();
  });
}

// ---------------------------------------------------------------------------------------------
// A strict reader of the text exposition format 0.0.4
// ---------------------------------------------------------------------------------------------

interface Series {
  name: string;
  labels: Record<string, string>;
  value: number;
}
interface Family {
  name: string;
  type: string;
  help: string;
  series: Series[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new Error(`label without "=": ${line}`);
    const name = text.slice(i, eq);
    if (!LABEL_NAME.test(name)) throw new Error(`bad label name ${name}: ${line}`);
    if (text[eq + 1] !== '"') throw new Error(`label value not quoted: ${line}`);
    let value = '';
    let j = eq + 2;
    for (;;) {
      const c = text[j];
      if (c === undefined) throw new Error(`unterminated label value: ${line}`);
      if (c === '"') break;
      if (c === '\n') throw new Error(`raw line feed in label value: ${line}`);
      if (c === '\\') {
        const e = text[j + 1];
        if (e === '\\') value += '\\';
        else if (e === '"') value += '"';
        else if (e === 'n') value += '\n';
        else throw new Error(`bad escape \\${e}: ${line}`);
        j += 2;
        continue;
      }
      value += c;
      j++;
    }
    if (name in labels) throw new Error(`label ${name} twice: ${line}`);
    labels[name] = value;
    i = j + 1;
    if (text[i] === ',') i++;
    else if (i !== text.length) throw new Error(`expected "," after a label: ${line}`);
  }
  return labels;
}

function parseValue(text: string, line: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`value ${text} is not a float: ${line}`);
  return Number(text);
}

function parseExposition(body: string): Map<string, Family> {
  expect(body.endsWith('\n')).toBe(true);
  const families = new Map<string, Family>();
  let current: Family | null = null;
  const closed = new Set<string>();
  for (const line of body.slice(0, -1).split('\n')) {
    if (line.startsWith('# HELP ')) {
      const [, name = '', ...rest] = line.split(' ').slice(1);
      expect(METRIC_NAME.test(name), line).toBe(true);
      expect(families.has(name), `HELP for ${name} twice`).toBe(false);
      if (current) closed.add(current.name);
      current = { name, help: rest.join(' '), type: '', series: [] };
      families.set(name, current);
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      const [name, type] = line.slice(7).split(' ');
      expect(current?.name, `TYPE for ${name} outside its block`).toBe(name);
      expect(current!.series, `TYPE after samples of ${name}`).toEqual([]);
      expect(['counter', 'gauge', 'summary', 'histogram', 'untyped']).toContain(type);
      current!.type = type!;
      continue;
    }
    expect(line.startsWith('#'), `unexpected comment ${line}`).toBe(false);
    const m = /^([^{\s]+)(?:\{(.*)\})?\s(\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    const name = m[1]!;
    expect(METRIC_NAME.test(name), line).toBe(true);
    expect(closed.has(name), `samples of ${name} not in one block`).toBe(false);
    expect(current?.name, `sample of ${name} before its TYPE`).toBe(name);
    expect(current!.type, `sample of ${name} before its TYPE`).not.toBe('');
    const labels = m[2] === undefined ? {} : parseLabels(m[2], line);
    current!.series.push({ name, labels, value: parseValue(m[3]!, line) });
  }
  for (const family of families.values()) {
    if (family.type === 'counter') expect(family.name.endsWith('_total'), `counter ${family.name}`).toBe(true);
    const keys = family.series.map((s) => JSON.stringify(Object.entries(s.labels).sort()));
    expect(new Set(keys).size, `duplicate series in ${family.name}`).toBe(keys.length);
  }
  return families;
}

function valueOf(families: Map<string, Family>, name: string, labels: Record<string, string>): number | undefined {
  return families.get(name)?.series.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

// ---------------------------------------------------------------------------------------------

describe('scraping /metrics', () => {
  test('a DGX Spark: both rails with bytes (x 4), packets, hw and port counters, rail info; DOWN ports labelled rail=""', async () => {
    const root = tree(dgxSparkNode());
    setCounter(root, 'rocep1s0f1', 1, 'port_xmit_data', 1_000_000);
    setCounter(root, 'rocep1s0f1', 1, 'port_rcv_data', 2_000_000);
    setCounter(root, 'rocep1s0f1', 1, 'port_xmit_packets', 123);
    setCounter(root, 'roceP2p1s0f1', 1, 'port_rcv_packets', 456);
    setCounter(root, 'rocep1s0f1', 1, 'out_of_sequence', 7, 'hw_counters');
    setCounter(root, 'roceP2p1s0f1', 1, 'symbol_error', 3);
    const e = await exporterOn(root);
    expect(e.host).toBe('127.0.0.1');
    expect(e.port).toBeGreaterThan(0);
    expect(e.url).toBe(`http://127.0.0.1:${e.port}/metrics`);

    const r = await fetchText(e.url);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const m = parseExposition(r.body);

    const rail0 = { device: 'rocep1s0f1', port: '1', netdev: 'enp1s0f1np1', rail: '0' };
    const rail1 = { device: 'roceP2p1s0f1', port: '1', netdev: 'enP2p1s0f1np1', rail: '1' };
    expect(m.get('spark_rdma_port_data_transmitted_bytes_total')?.type).toBe('counter');
    expect(valueOf(m, 'spark_rdma_port_data_transmitted_bytes_total', rail0)).toBe(4_000_000);
    expect(valueOf(m, 'spark_rdma_port_data_received_bytes_total', rail0)).toBe(8_000_000);
    expect(valueOf(m, 'spark_rdma_port_data_transmitted_bytes_total', rail1)).toBe(0);
    expect(valueOf(m, 'spark_rdma_port_packets_transmitted_total', rail0)).toBe(123);
    expect(valueOf(m, 'spark_rdma_port_packets_received_total', rail1)).toBe(456);
    expect(valueOf(m, 'spark_rdma_port_hw_events_total', { ...rail0, counter: 'out_of_sequence' })).toBe(7);
    expect(valueOf(m, 'spark_rdma_port_events_total', { ...rail1, counter: 'symbol_error' })).toBe(3);
    // byte and packet counters have their own names, not duplicates under port_counter
    expect(valueOf(m, 'spark_rdma_port_events_total', { ...rail0, counter: 'port_xmit_data' })).toBeUndefined();
    expect(valueOf(m, 'spark_rdma_port_hw_events_total', { ...rail0, counter: 'lifespan' })).toBeUndefined();

    expect(m.get('spark_rdma_rail_info')?.type).toBe('gauge');
    expect(m.get('spark_rdma_rail_info')!.series.map((s) => s.labels)).toEqual([
      { ...rail0, ipv4: '192.168.100.10', gid_index: '3' },
      { ...rail1, ipv4: '192.168.101.10', gid_index: '3' },
    ]);
    expect(valueOf(m, 'spark_rdma_devices', {})).toBe(4);
    expect(valueOf(m, 'spark_rdma_port_up', rail0)).toBe(1);
    expect(valueOf(m, 'spark_rdma_port_rate_bytes_per_second', rail0)).toBe(25e9); // 200 Gb/s
    // the uncabled functions are there too, DOWN, not rails
    expect(valueOf(m, 'spark_rdma_port_up', { device: 'rocep1s0f0' })).toBe(0);
    expect(m.get('spark_rdma_port_up')!.series.find((s) => s.labels['device'] === 'rocep1s0f0')!.labels['rail']).toBe('');
    for (const family of m.values()) {
      expect(family.name.startsWith('spark_rdma_')).toBe(true);
      expect(family.help.length).toBeGreaterThan(10);
    }
  });

  test('each scrape reads sysfs afresh: rewritten counters and a port going down show up', async () => {
    const root = tree(dgxSparkNode());
    const e = await exporterOn(root);
    const rail0 = { device: 'rocep1s0f1', rail: '0' };
    const first = parseExposition((await fetchText(e.url)).body);
    expect(valueOf(first, 'spark_rdma_port_data_transmitted_bytes_total', rail0)).toBe(0);
    setCounter(root, 'rocep1s0f1', 1, 'port_xmit_data', 2n ** 50n);
    setPortState(root, 'roceP2p1s0f1', 1, 'DOWN');
    const second = parseExposition((await fetchText(e.url)).body);
    expect(valueOf(second, 'spark_rdma_port_data_transmitted_bytes_total', rail0)).toBe(2 ** 52);
    expect(valueOf(second, 'spark_rdma_port_up', { device: 'roceP2p1s0f1' })).toBe(0);
    expect(second.get('spark_rdma_rail_info')!.series.map((s) => s.labels['device'])).toEqual(['rocep1s0f1']);
  });

  test('rxe: packets from hw_counters, no byte series; rxe error counters by name', async () => {
    const root = tree(rxePair());
    setCounter(root, 'rxe1', 1, 'sent_pkts', 10, 'hw_counters');
    setCounter(root, 'rxe1', 1, 'retry_exceeded_err', 2, 'hw_counters');
    const e = await exporterOn(root);
    const m = parseExposition((await fetchText(e.url)).body);
    expect(m.has('spark_rdma_port_data_transmitted_bytes_total')).toBe(false);
    expect(valueOf(m, 'spark_rdma_port_packets_transmitted_total', { device: 'rxe1', rail: '1', netdev: 'rail1' })).toBe(10);
    expect(valueOf(m, 'spark_rdma_port_hw_events_total', { device: 'rxe1', counter: 'retry_exceeded_err' })).toBe(2);
  });

  test('label values with quotes, backslashes and line feeds are escaped (a hw counter with an odd file name)', async () => {
    const odd = 'we"ird\\name\nx';
    const spec = rxePair();
    spec.devices[0]!.ports[0]!.hwCounters = { sent_pkts: 1, [odd]: 5 };
    const root = tree(spec);
    const e = await exporterOn(root);
    const r = await fetchText(e.url);
    expect(r.body).toContain('counter="we\\"ird\\\\name\\nx"} 5\n');
    const m = parseExposition(r.body);
    expect(valueOf(m, 'spark_rdma_port_hw_events_total', { device: 'rxe0', counter: odd })).toBe(5);
  });

  test('a machine without RDMA: a valid page that says 0 devices', async () => {
    const e = await exporterOn(tree(noRdmaMachine()));
    const r = await fetchText(e.url);
    expect(r.status).toBe(200);
    const m = parseExposition(r.body);
    expect([...m.keys()]).toEqual(['spark_rdma_devices']);
    expect(valueOf(m, 'spark_rdma_devices', {})).toBe(0);
  });

  test('404 anywhere else, 405 for other methods, HEAD answers without a body', async () => {
    const e = await exporterOn(tree(rxePair()));
    const base = `http://127.0.0.1:${e.port}`;
    for (const path of ['/', '/metrics/', '/metricsx', '/favicon.ico']) {
      const r = await fetchText(base + path);
      expect(r.status, path).toBe(404);
      expect(r.body).toContain('/metrics');
    }
    expect((await fetchText(`${base}/metrics?x=1`)).status).toBe(200);
    const post = await fetchText(e.url, 'POST');
    expect(post.status).toBe(405);
    expect(post.headers['allow']).toBe('GET, HEAD');
    const head = await fetchText(e.url, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(Number(head.headers['content-length'])).toBeGreaterThan(0);
  });

  test('a sysfs root that vanishes gives 500 with the reason, not a crash', async () => {
    const t = makeSysfsTree(rxePair());
    const e = await exporterOn(t.root);
    t.cleanup();
    const r = await fetchText(e.url);
    expect(r.status).toBe(500);
    expect(r.body).toMatch(/sysfs root .* does not exist/);
  });
});

describe('listening', () => {
  test('--listen parsing: host:port, [v6]:port, :port (every interface), bare port (loopback); loopback by default', () => {
    expect(DEFAULT_EXPORTER_LISTEN).toBe('127.0.0.1:9469');
    expect(parseListenAddress('127.0.0.1:9469')).toEqual({ host: '127.0.0.1', port: 9469 });
    expect(parseListenAddress('[::1]:9000')).toEqual({ host: '::1', port: 9000 });
    expect(parseListenAddress(':9469')).toEqual({ host: '0.0.0.0', port: 9469 });
    expect(parseListenAddress('9470')).toEqual({ host: '127.0.0.1', port: 9470 });
    expect(parseListenAddress('localhost:0')).toEqual({ host: 'localhost', port: 0 });
  });

  test('bad --listen values name the value and the accepted forms', () => {
    for (const [text, message] of [
      ['127.0.0.1', /has no port/],
      ['127.0.0.1:70000', /port "70000" must be a whole number from 0 to 65535/],
      ['127.0.0.1:http', /port "http"/],
      ['::1:9000', /has no port/],
      ['[zz]:1', /zz is not an IPv6 address/],
      ['bad host:1', /is not an IP address or host name/],
    ] as const) {
      let caught: unknown;
      try {
        parseListenAddress(text);
      } catch (err) {
        caught = err;
      }
      expect(caught, text).toBeInstanceOf(RdmaError);
      expect((caught as RdmaError).code).toBe('ERR_RDMA_INVALID_ARGUMENT');
      expect((caught as RdmaError).message, text).toMatch(message);
      expect((caught as RdmaError).hint).toMatch(/host:port/);
    }
  });

  test('a port in use is ERR_SERVER_ADDRESS_IN_USE naming the address and --listen', async () => {
    const root = tree(rxePair());
    const first = await exporterOn(root);
    const err = await startExporter({ sysfsRoot: root, listen: `127.0.0.1:${first.port}` }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RdmaError);
    expect((err as RdmaError).code).toBe('ERR_SERVER_ADDRESS_IN_USE');
    expect((err as RdmaError).message).toContain(`127.0.0.1:${first.port}`);
    expect((err as RdmaError).hint).toContain('--listen');
  });

  test('close() stops the server: the port no longer answers', async () => {
    const e = await startExporter({ sysfsRoot: tree(rxePair()), listen: '127.0.0.1:0' });
    expect((await fetchText(e.url)).status).toBe(200);
    await e.close();
    await expect(fetchText(e.url)).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('exposition rendering', () => {
  test('escapes label values per the spec and refuses names that break the rules', () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    const text = renderExposition([
      { name: 'x_total', type: 'counter', help: 'line one\nback\\slash', samples: [{ labels: { a: '"' }, value: 2n ** 64n - 1n }] },
      { name: 'empty', type: 'gauge', help: 'no samples, no block', samples: [] },
    ]);
    expect(text).toBe('# HELP x_total line one\\nback\\\\slash\n# TYPE x_total counter\nx_total{a="\\""} 18446744073709551615\n');
    expect(() => renderExposition([{ name: 'bad-name', type: 'gauge', help: 'h', samples: [] }])).toThrow(/invalid metric name/);
    expect(() => renderExposition([{ name: 'requests', type: 'counter', help: 'h', samples: [] }])).toThrow(/must end in _total/);
    expect(() => renderExposition([{ name: 'g', type: 'gauge', help: 'h', samples: [{ labels: { __x: '1' }, value: 1 }] }])).toThrow(/invalid label name/);
  });
});

describe('docs', () => {
  test('the Grafana dashboard is valid JSON whose queries use metrics the exporter serves, with rate() in Gb/s', async () => {
    const dashboard = JSON.parse(readFileSync(join(import.meta.dirname, '../../docs/grafana-rails.json'), 'utf8')) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const e = await exporterOn(tree(dgxSparkNode()));
    const served = new Set(parseExposition((await fetchText(e.url)).body).keys());
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
    expect(exprs.some((x) => /^rate\(spark_rdma_port_data_transmitted_bytes_total(\{[^}]*\})?\[1m\]\) \* 8$/.test(x))).toBe(true);
    expect(exprs.some((x) => /^rate\(spark_rdma_port_data_received_bytes_total(\{[^}]*\})?\[1m\]\) \* 8$/.test(x))).toBe(true);
    for (const expr of exprs) {
      for (const name of expr.match(/spark_rdma_[a-z_]+/g) ?? []) expect(served, `${name} in ${expr}`).toContain(name);
    }
  });
});

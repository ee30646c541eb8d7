// `spark-rdma exporter` in-process through main(argv, io): it prints where it serves, answers
// scrapes, and Ctrl-C closes it with exit 0.
import { request } from 'node:http';
import { afterEach, expect, test } from 'vitest';
import { main } from '../../lib/cli/main.js';
import { makeSysfsTree, rxePair, setCounter } from '../fixtures/sysfs.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()?.();
});

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} in 10 s`)));
    req.on('error', reject);
    req.end();
  });
}

test('serves /metrics at the address it prints, reading the tree on each scrape; Ctrl-C exits 0 and frees the port', async () => {
  const t = makeSysfsTree(rxePair());
  cleanups.push(t.cleanup);
  let stdout = '';
  let stderr = '';
  let announced: (url: string) => void = () => undefined;
  const url = new Promise<string>((resolve) => (announced = resolve));
  const listeners = process.listenerCount('SIGINT');
  const running = main(['exporter', '--listen', '127.0.0.1:0', '--sysfs-root', t.root], {
    stdout: (s) => (stdout += s),
    // The status line is on stderr, as every long-running command's (issue 21): stdout stays for data.
    stderr: (s) => {
      stderr += s;
      const m = /at (http:\/\/127\.0\.0\.1:\d+\/metrics) /.exec(s);
      if (m) announced(m[1]!);
    },
    env: {},
  });
  const where = await Promise.race([url, running.then((code) => Promise.reject(new Error(`exited ${code}: ${stderr}`)))]);
  expect(stderr).toBe(`serving rail counters at ${where} (Prometheus text format); Ctrl-C to stop\n`);
  expect(stdout).toBe('');

  setCounter(t.root, 'rxe1', 1, 'sent_pkts', 42, 'hw_counters');
  const scrape = await get(where);
  expect(scrape.status).toBe(200);
  expect(scrape.body).toContain('spark_rdma_port_packets_transmitted_total{device="rxe1",port="1",netdev="rail1",rail="1"} 42\n');

  process.emit('SIGINT');
  expect(await running).toBe(0);
  expect(stderr).toBe(`serving rail counters at ${where} (Prometheus text format); Ctrl-C to stop\n`);
  expect(process.listenerCount('SIGINT')).toBe(listeners);
  await expect(get(where)).rejects.toThrow(/ECONNREFUSED/);
});

test('a bad --listen is exit 2 with the accepted forms; --help shows the loopback default', async () => {
  let stderr = '';
  const code = await main(['exporter', '--listen', 'localhost'], { stdout: () => undefined, stderr: (s) => (stderr += s), env: {} });
  expect(code).toBe(2);
  expect(stderr).toBe('spark-rdma: listen address "localhost" has no port\nhint: use host:port (127.0.0.1:9469), [ipv6]:port, :port for every interface, or a bare port for loopback\n');

  let help = '';
  expect(await main(['exporter', '--help'], { stdout: (s) => (help += s), stderr: () => undefined, env: {} })).toBe(0);
  expect(help).toContain('--listen <address>');
  expect(help).toContain('(default: "127.0.0.1:9469")');
  expect(help).toContain('rate(spark_rdma_port_data_transmitted_bytes_total[1m]) * 8');
});

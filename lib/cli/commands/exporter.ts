import type { Command } from 'commander';
import { startExporter } from '../../monitor/exporter.js';
import { DEFAULT_EXPORTER_LISTEN } from '../../monitor/listen.js';
import { abortOnSignals } from '../../monitor/signals.js';
import type { CliCommand, CliContext } from '../command.js';
import { examples } from '../help.js';

interface ExporterCliOptions {
  listen: string;
  sysfsRoot?: string;
}

async function run(ctx: CliContext, opts: ExporterCliOptions): Promise<void> {
  const stop = abortOnSignals();
  try {
    const exporter = await startExporter({
      listen: opts.listen,
      env: ctx.env,
      onError: (err) => ctx.err(`spark-rdma exporter: ${err.message} (still serving)`),
      ...(opts.sysfsRoot !== undefined ? { sysfsRoot: opts.sysfsRoot } : {}),
    });
    ctx.err(`serving rail counters at ${exporter.url} (Prometheus text format); Ctrl-C to stop`);
    await new Promise<void>((resolve) => {
      if (stop.signal.aborted) resolve();
      else stop.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await exporter.close();
  } finally {
    stop.release();
  }
}

export const command: CliCommand = {
  name: 'exporter',
  register(program: Command, ctx: CliContext) {
    program
      .command('exporter')
      .description("serve the ports' counters at /metrics for Prometheus (totals; rates are left to PromQL)")
      .option('--listen <address>', 'host:port to listen on (:port for every interface; port 0 picks a free one)', DEFAULT_EXPORTER_LISTEN)
      .option('--sysfs-root <dir>', 'read this sysfs tree instead of /sys (same as SPARK_RDMA_SYSFS_ROOT)')
      .addHelpText(
        'after',
        '\nEach scrape reads sysfs afresh; there are no background timers. Metrics (labels device, port, netdev, rail):\n' +
          '  spark_rdma_port_data_transmitted_bytes_total, spark_rdma_port_data_received_bytes_total (counters/port_*_data x 4)\n' +
          '  spark_rdma_port_packets_transmitted_total, spark_rdma_port_packets_received_total\n' +
          '  spark_rdma_port_events_total{counter}, spark_rdma_port_hw_events_total{counter}\n' +
          '  spark_rdma_rail_info, spark_rdma_port_up, spark_rdma_port_rate_bytes_per_second, spark_rdma_devices\n' +
          'Gb/s in PromQL: rate(spark_rdma_port_data_transmitted_bytes_total[1m]) * 8 / 1e9. See docs/monitoring.md.\n' +
          examples([
            ['spark-rdma exporter', 'on 127.0.0.1:9469'],
            ['spark-rdma exporter --listen :9469', 'on every interface'],
          ]),
      )
      .action((opts: ExporterCliOptions) => run(ctx, opts));
  },
};

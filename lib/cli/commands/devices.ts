import type { Command } from 'commander';
import { discoverRdma } from '../../rails/discover.js';
import type { CliCommand, CliContext } from '../command.js';
import { examples } from '../help.js';
import { inSourceCheckout } from '../../native/source-checkout.js';
import { noDevicesAdvice, renderDevicesJson, renderDevicesTable } from '../devices-view.js';

interface DevicesOptions {
  json?: boolean;
  sysfsRoot?: string;
}

function run(ctx: CliContext, opts: DevicesOptions): void {
  const discovery = discoverRdma({
    env: ctx.env,
    ...(opts.sysfsRoot !== undefined ? { sysfsRoot: opts.sysfsRoot } : {}),
  });
  for (const w of discovery.warnings) ctx.err(`warning: ${w}`);
  if (opts.json) {
    ctx.out(renderDevicesJson(discovery));
    return;
  }
  ctx.out(discovery.devices.length === 0 ? noDevicesAdvice(discovery.root, inSourceCheckout()) : renderDevicesTable(discovery));
}

export const command: CliCommand = {
  name: 'devices',
  register(program: Command, ctx: CliContext) {
    program
      .command('devices')
      .description('list RDMA devices and ports like ibdev2netdev, with GID index, IPv4, MTU, rate and state; rails marked')
      .option('--json', 'print {"devices": [...], "rails": [...]} instead of the table')
      .option('--sysfs-root <dir>', 'read this sysfs tree instead of /sys (same as SPARK_RDMA_SYSFS_ROOT; no verbs calls)')
      .addHelpText(
        'after',
        '\nA rail is an ACTIVE Ethernet port with a netdev; rails are ordered by device name so rail i\n' +
          'pairs with rail i on the peer. The GID index is the IPv4 RoCE v2 entry (what NCCL picks).\n' +
          examples([
            ['spark-rdma devices', 'the table'],
            ["spark-rdma devices --json | jq '.rails[].netdev'", 'the rails\' netdevs'],
          ]),
      )
      .action((opts: DevicesOptions) => run(ctx, opts));
  },
};

import type { Command } from 'commander';
import { doctor, DEFAULT_MEMLOCK_NEEDED } from '../../doctor/doctor.js';
import { renderDoctorText } from '../../doctor/render.js';
import { DEV_ROOT_ENV, ETC_ROOT_ENV, HOME_DIR_ENV, PROC_ROOT_ENV } from '../../doctor/roots.js';
import { RdmaError } from '../../errors.js';
import { formatByteSize, parseByteSize } from '../../report/units.js';
import type { CliCommand, CliContext } from '../command.js';
import { examples } from '../help.js';
import { withSchema } from '../json-schema.js';

interface DoctorFlags {
  json?: boolean;
  sysfsRoot?: string;
  procRoot?: string;
  etcRoot?: string;
  devRoot?: string;
  homeDir?: string;
  memlockNeeded?: string;
}

function run(ctx: CliContext, flags: DoctorFlags): void {
  const report = doctor({
    env: ctx.env,
    ...(flags.sysfsRoot !== undefined ? { sysfsRoot: flags.sysfsRoot } : {}),
    ...(flags.procRoot !== undefined ? { procRoot: flags.procRoot } : {}),
    ...(flags.etcRoot !== undefined ? { etcRoot: flags.etcRoot } : {}),
    ...(flags.devRoot !== undefined ? { devRoot: flags.devRoot } : {}),
    ...(flags.homeDir !== undefined ? { homeDir: flags.homeDir } : {}),
    ...(flags.memlockNeeded !== undefined ? { memlockNeeded: parseByteSize(flags.memlockNeeded, { min: 0, what: '--memlock-needed' }) } : {}),
  });
  ctx.out(flags.json ? JSON.stringify(withSchema('doctor', report), null, 2) : renderDoctorText(report));
  if (!report.ok) {
    // Exit code 1 when a check failed; warnings alone keep 0.
    const failed = report.checks.filter((c) => c.status === 'fail').map((c) => `${c.id}${c.subject ? ` ${c.subject}` : ''}`);
    throw new RdmaError(`doctor: ${failed.length} check${failed.length === 1 ? '' : 's'} failed: ${failed.join(', ')}`, { code: 'ERR_RDMA_DOCTOR_FAILED' });
  }
}

export const command: CliCommand = {
  name: 'doctor',
  register(program: Command, ctx: CliContext) {
    program
      .command('doctor')
      .description('check what RoCE with NCCL needs here: IPv4 on both functions, MTU, carrier, GID, PCIe width, memlock, /dev/infiniband, NCCL conf files (NCCL_CONF_FILE or ~/.nccl.conf, /etc/nccl.conf), CMA')
      .option('--json', 'print the report as JSON')
      .option('--memlock-needed <size>', `bytes the planned registrations pin, e.g. 512M (default ${formatByteSize(DEFAULT_MEMLOCK_NEEDED)})`)
      .option('--sysfs-root <dir>', 'read this tree instead of /sys (same as SPARK_RDMA_SYSFS_ROOT)')
      .option('--proc-root <dir>', `read this tree instead of /proc: self/limits, meminfo (same as ${PROC_ROOT_ENV})`)
      .option('--etc-root <dir>', `read this directory instead of /etc: nccl.conf (same as ${ETC_ROOT_ENV})`)
      .option('--dev-root <dir>', `read this directory instead of /dev: infiniband/ (same as ${DEV_ROOT_ENV})`)
      .option('--home-dir <dir>', `home directory whose .nccl.conf NCCL reads (same as ${HOME_DIR_ENV}; default this user's)`)
      .addHelpText(
        'after',
        '\nEach check is pass, warn (works, but slower or fragile) or fail, with the files read and the fix.\nExit code 1 when any check fails; warnings alone exit 0.\n' +
          examples([
            ['spark-rdma doctor', 'every check, with the fix for each warn and fail'],
            ['spark-rdma doctor --memlock-needed 2G', 'for larger registrations'],
            ["spark-rdma doctor --json | jq '.checks[] | select(.status != \"pass\")'", ''],
          ]),
      )
      .action((flags: DoctorFlags) => run(ctx, flags));
  },
};

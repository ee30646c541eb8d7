// The quick start's main job: a dual-rail RDMA WRITE benchmark. On a machine with two RDMA
// rails it runs right here; otherwise inside the soft-RoCE guest (rxe0 and rxe1 on two rails).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'lib', 'cli', 'main.js');
if (!existsSync(cli)) {
  console.error('spark-rdma is not built yet: run `bash scripts/setup.sh` first');
  process.exit(1);
}
const extra = process.argv.slice(2);
const bench = ['bw', '--loopback', '--rails', '2', '--duration', '5', ...extra];

function hostRails() {
  try {
    return readdirSync('/sys/class/infiniband').length;
  } catch {
    return 0;
  }
}

let status;
if (hostRails() >= 2) {
  console.error('demo: this machine has RDMA devices; running on them');
  spawnSync(process.execPath, [cli, 'devices'], { stdio: 'inherit' });
  status = spawnSync(process.execPath, [cli, ...bench], { stdio: 'inherit' }).status;
} else {
  console.error('demo: no RDMA devices on this kernel; running in the soft-RoCE guest (rxe0, rxe1)');
  status = spawnSync(
    process.execPath,
    [join(root, 'scripts', 'vm', 'run.mjs'), '--', 'sh', '-c', `node '${cli}' devices && node '${cli}' ${bench.join(' ')}`],
    { stdio: 'inherit' },
  ).status;
}
process.exit(status ?? 1);

// npm "install" hook: use a prebuilt or already built addon when one loads; otherwise build
// from source with cmake-js. Loading never depends on this script having run.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

function loads() {
  try {
    require('node-gyp-build')(root);
    return true;
  } catch {
    return false;
  }
}

if (process.env.SPARK_RDMA_FORCE_BUILD !== '1' && loads()) {
  console.log('@spark/rdma: using the existing native build');
  process.exit(0);
}
const cmakeJs = join(root, 'node_modules', '.bin', 'cmake-js');
const result = spawnSync(cmakeJs, ['compile', '--CDnapi_build_version=8'], { cwd: root, stdio: 'inherit' });
if (result.status !== 0) {
  console.error(
    '@spark/rdma: building the native addon failed. It needs cmake, g++, pkg-config and rdma-core\'s ' +
      'headers: sudo apt-get install cmake g++ pkg-config libibverbs-dev librdmacm-dev; then run npm run build:native',
  );
  process.exit(result.status ?? 1);
}

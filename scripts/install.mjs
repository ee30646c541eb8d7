// npm "install" hook: use an already built addon or a shipped prebuild when one loads; otherwise
// build from source with cmake-js. Loading never depends on this script having run (npm may be
// told to skip install scripts): node-gyp-build finds prebuilds/<platform>-<arch>/ by itself.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const nodeGypBuild = require('node-gyp-build');
const SOURCE_BUILD_NEEDS = 'cmake, g++, pkg-config and rdma-core\'s headers: sudo apt-get install cmake g++ pkg-config libibverbs-dev librdmacm-dev';

/** The file node-gyp-build would load, or undefined when none fits this platform. */
function resolveAddon() {
  try {
    return nodeGypBuild.resolve(root);
  } catch {
    return undefined;
  }
}

/** Why the addon that fits does not load, or undefined when it loads. */
function loadFailure() {
  try {
    nodeGypBuild(root);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message.split('\n')[0] : String(error);
  }
}

const found = resolveAddon();
const failure = found ? loadFailure() : 'no prebuilt or built addon fits this platform';
if (process.env.SPARK_RDMA_FORCE_BUILD !== '1' && failure === undefined) {
  console.log(`@spark/rdma: using ${found}`);
  process.exit(0);
}

// cmake-js is a dependency; when this package is itself a dependency it may be hoisted above us.
const cmakeJs = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
console.log(`@spark/rdma: building the native addon from source (${failure ?? 'SPARK_RDMA_FORCE_BUILD=1'})`);
const result = spawnSync(process.execPath, [cmakeJs, 'compile', '--CDnapi_build_version=8'], { cwd: root, stdio: 'inherit' });
if (result.status === 0) process.exit(0);

if (found) {
  // A prebuild fits but does not load here (typically rdma-core's libraries are missing) and no
  // compiler can help: leave the install in place; loading explains the same failure and its fix.
  console.warn(`@spark/rdma: warning: ${found} does not load (${failure}) and building from source failed. ` +
    `Install rdma-core's libraries (sudo apt-get install libibverbs1 librdmacm1 ibverbs-providers), ` +
    `or the build tools (${SOURCE_BUILD_NEEDS}) and run npm run build:native`);
  process.exit(0);
}
console.error(`@spark/rdma: building the native addon failed. It needs ${SOURCE_BUILD_NEEDS}; then run npm run build:native`);
process.exit(result.status ?? 1);

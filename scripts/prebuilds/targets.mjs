// The prebuilt binaries @spark/rdma ships, and what each must look like to load on its machines.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * node-gyp-build's name for the file: it splits the name on '.', ignores the tags it does not
 * know ('spark_rdma'), and reads 'napi' (any Node-API runtime, any ABI) and 'glibc' (so a musl
 * system such as Alpine does not pick it and falls back to building from source).
 */
export const PREBUILD_FILE_NAME = 'spark_rdma.napi.glibc.node';

/** Where `npm run prebuilds` keeps its CMake build trees (git-ignored, never packed). */
export const WORK_DIR = join(REPO_ROOT, 'build-prebuilds');

/**
 * The newest symbol versions a prebuild may need. glibc 2.34 is Ubuntu 22.04 / RHEL 9 age
 * (DGX OS 7, Ubuntu 24.04 based, has 2.39); a binary built against glibc >= 2.34 always needs
 * GLIBC_2.34 for pthread_create and friends, which moved into libc.so.6 in that release.
 * GLIBCXX_3.4.30 is GCC 12's libstdc++ (Debian 12, Ubuntu 22.04); node itself already loads a
 * libstdc++.so.6 on every glibc system.
 */
export const SYMBOL_VERSION_LIMITS = { GLIBC: '2.34', GLIBCXX: '3.4.30', CXXABI: '1.3.13' };

/** Shared objects a prebuild may need besides the ELF interpreter. */
export const ALLOWED_NEEDED = ['libibverbs.so.1', 'librdmacm.so.1', 'libstdc++.so.6', 'libgcc_s.so.1', 'libm.so.6', 'libc.so.6'];
/** Shared objects a prebuild must need: rdma-core by soname, never by a build machine's path. */
export const REQUIRED_NEEDED = ['libibverbs.so.1', 'librdmacm.so.1'];

export const TARGETS = {
  'linux-x64': {
    name: 'linux-x64',
    arch: 'x64',
    /** readelf -h's "Machine:" line. */
    elfMachine: 'Advanced Micro Devices X86-64',
    interpreter: 'ld-linux-x86-64.so.2',
    /** Cross-compiling from another architecture: the CMake toolchain file and its compiler. */
    cross: null,
  },
  'linux-arm64': {
    name: 'linux-arm64',
    arch: 'arm64',
    elfMachine: 'AArch64',
    interpreter: 'ld-linux-aarch64.so.1',
    cross: {
      fromArch: 'x64',
      toolchainFile: join(REPO_ROOT, 'cmake', 'linux-arm64.cmake'),
      compiler: 'aarch64-linux-gnu-g++',
      compilerPackage: 'g++-aarch64-linux-gnu',
      pkgConfigDir: '/usr/lib/aarch64-linux-gnu/pkgconfig',
    },
  },
};

export const TARGET_NAMES = Object.keys(TARGETS);

/** Where a target's binary lands: the layout node-gyp-build reads (prebuilds/<platform>-<arch>/). */
export function prebuildPath(target, root = REPO_ROOT) {
  return join(root, 'prebuilds', target.name, PREBUILD_FILE_NAME);
}

import { defineConfig } from 'vitest/config';

// Three suites: "host" needs no RDMA (pure logic, fixture sysfs trees, CLI argument handling);
// "rxe" needs real kernel verbs and runs inside the soft-RoCE guest (npm run test:rxe); "wire"
// runs on node1 of two guests joined by a wire, driving node0 through an agent (npm run test:wire).
// pool 'forks' (the default) keeps native code out of worker threads the runner owns.
// Both load test/setup/no-unhandled-rejection.ts: no test may leave an unhandled rejection.
const setupFiles = ['test/setup/no-unhandled-rejection.ts'];

export default defineConfig({
  test: {
    pool: 'forks',
    projects: [
      { test: { name: 'host', include: ['test/host/**/*.test.ts'], testTimeout: 30_000, setupFiles } },
      {
        test: {
          name: 'rxe',
          include: ['test/rxe/**/*.test.ts'],
          setupFiles,
          // TCG emulation makes everything ~20x slower than the host.
          testTimeout: 240_000,
          hookTimeout: 240_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'wire',
          // One file that imports its cases in order (the last may power node0 off).
          include: ['test/wire/wire.test.ts'],
          // The wire is about 10x slower than one guest's loopback.
          testTimeout: 420_000,
          hookTimeout: 240_000,
          fileParallelism: false,
        },
      },
    ],
  },
});

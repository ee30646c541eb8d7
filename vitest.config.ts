import { defineConfig } from 'vitest/config';

// Two suites: "host" needs no RDMA (pure logic, fixture sysfs trees, CLI argument handling);
// "rxe" needs real kernel verbs and runs inside the soft-RoCE guest (npm run test:rxe).
// pool 'forks' (the default) keeps native code out of worker threads the runner owns.
export default defineConfig({
  test: {
    pool: 'forks',
    projects: [
      { test: { name: 'host', include: ['test/host/**/*.test.ts'], testTimeout: 30_000 } },
      {
        test: {
          name: 'rxe',
          include: ['test/rxe/**/*.test.ts'],
          // TCG emulation makes everything ~20x slower than the host.
          testTimeout: 240_000,
          hookTimeout: 240_000,
          fileParallelism: false,
        },
      },
    ],
  },
});

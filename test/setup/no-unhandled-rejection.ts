// Loaded before every test file of both projects (vitest.config.ts setupFiles): a test that
// leaves a promise rejected with nobody listening fails by name, instead of the run failing
// later with an error no test owns (in the CLI such a rejection exits the process with code 1).
import { afterEach, expect } from 'vitest';

const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => {
  unhandled.push(reason);
});

function describeReason(reason: unknown): string {
  if (reason instanceof Error) return `${reason.name}${'code' in reason ? ` ${String(reason.code)}` : ''}: ${reason.message}`;
  return String(reason);
}

afterEach(async () => {
  // Node reports an unhandled rejection once the microtask queue drains: give it that turn.
  await new Promise<void>((resolve) => setImmediate(resolve));
  const left = unhandled.splice(0).map(describeReason);
  expect(left, 'promises rejected with no handler during this test').toEqual([]);
});

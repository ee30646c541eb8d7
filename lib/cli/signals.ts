import { EXIT_INTERRUPTED } from './errors.js';

/**
 * SIGINT/SIGTERM during a run: the first one stops the run (its result is still printed),
 * a second one exits at once. Returns the controller and a disposer.
 */
export function interruptible(onFirst?: () => void): { signal: AbortSignal; interrupted: () => boolean; dispose: () => void } {
  const controller = new AbortController();
  let count = 0;
  const handler = () => {
    count++;
    if (count === 1) {
      onFirst?.();
      controller.abort();
    } else {
      process.exit(EXIT_INTERRUPTED);
    }
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    interrupted: () => count > 0,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

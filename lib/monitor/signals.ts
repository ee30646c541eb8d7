/**
 * Aborts the returned controller on Ctrl-C (SIGINT) or SIGTERM while installed, so a long-running
 * command can end cleanly (exit 0) instead of being killed. `release()` removes the handlers and
 * restores the default behaviour.
 */
export function abortOnSignals(): { signal: AbortSignal; release: () => void } {
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    release: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

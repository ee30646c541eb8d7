import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { readPortCounters, type PortCounterReading } from '../counters/port-counters.js';
import { invalidArgument } from '../errors.js';
import { discoverRails } from '../rails/discover.js';
import type { Rail } from '../rails/types.js';
import { parsePortState } from '../sysfs/parse.js';
import { readText } from '../sysfs/read.js';
import { resolveSysfsRoot } from '../sysfs/root.js';
import { railSample } from './sample.js';
import { selectWatchedRails } from './select.js';
import type { RailWatch, RailsSample, WatchRailsOptions } from './types.js';

export const DEFAULT_WATCH_INTERVAL_MS = 1000;
export const MIN_WATCH_INTERVAL_MS = 10;
export const MAX_WATCH_INTERVAL_MS = 3_600_000;

function checkInterval(ms: number): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < MIN_WATCH_INTERVAL_MS || ms > MAX_WATCH_INTERVAL_MS) {
    throw invalidArgument(
      `interval ${ms} ms is out of range: it must be between ${MIN_WATCH_INTERVAL_MS} ms and ${MAX_WATCH_INTERVAL_MS} ms (one hour)`,
      'pass e.g. intervalMs: 1000 (the CLI takes seconds: --interval 1)',
    );
  }
  return ms;
}

/** Resolves after `ms`, or early (false) when `signal` aborts; leaves no timer behind either way. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, Math.max(0, ms));
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

interface Reading {
  counters: PortCounterReading;
  state: string;
}

function readRail(root: string, rail: Rail): Reading {
  const state = parsePortState(readText(join(root, 'class', 'infiniband', rail.device, 'ports', String(rail.port), 'state')));
  return { counters: readPortCounters(root, rail.device, rail.port), state };
}

async function* sampleLoop(rails: readonly Rail[], root: string, intervalMs: number, signal: AbortSignal): AsyncGenerator<RailsSample, undefined> {
  let previous = rails.map((r) => readRail(root, r));
  // Ticks are scheduled from the start, so the cadence does not drift with read times; a tick
  // that fired late (a busy event loop) or a consumer that falls behind never makes the next
  // interval much shorter than asked: at least 90 % of it.
  let due = performance.now() + intervalMs;
  for (let seq = 1; ; seq++) {
    if (!(await sleep(due - performance.now(), signal))) return undefined;
    const current = rails.map((r) => readRail(root, r));
    const sample: RailsSample = {
      seq,
      time: Date.now(),
      rails: rails.map((r, i) => railSample(r, previous[i]!.counters, current[i]!.counters, current[i]!.state)),
    };
    previous = current;
    due = Math.max(due + intervalMs, performance.now() + intervalMs * 0.9);
    yield sample;
  }
}

/**
 * Watches the rails' port counters: every `intervalMs` it yields what each rail did since the
 * previous reading (bytes and packets per second each way, hw_counters deltas, counters that
 * wrapped or were reset). Reads sysfs under `sysfsRoot ?? $SPARK_RDMA_SYSFS_ROOT ?? /sys`, with
 * no verbs calls. The rails are discovered once, when this is called (bad options throw here).
 * Breaking out of `for await`, calling `return()` or aborting `signal` ends it and clears its
 * timer at once, even while it waits for the next tick.
 * @throws RdmaError `ERR_RDMA_INVALID_ARGUMENT` (interval, selection), `ERR_RDMA_NO_RAILS`.
 */
export function watchRails(opts: WatchRailsOptions = {}): RailWatch {
  const intervalMs = checkInterval(opts.intervalMs ?? DEFAULT_WATCH_INTERVAL_MS);
  const rootOptions = {
    ...(opts.sysfsRoot !== undefined ? { sysfsRoot: opts.sysfsRoot } : {}),
    ...(opts.env !== undefined ? { env: opts.env } : {}),
  };
  const { root } = resolveSysfsRoot(rootOptions);
  const all = discoverRails({ ...rootOptions, useVerbs: false });
  const rails = selectWatchedRails(all, {
    ...(opts.rails !== undefined ? { rails: opts.rails } : {}),
    ...(opts.devices !== undefined ? { devices: opts.devices } : {}),
  });

  const stop = new AbortController();
  const external = opts.signal;
  const onExternalAbort = () => stop.abort();
  if (external?.aborted) stop.abort();
  else external?.addEventListener('abort', onExternalAbort, { once: true });
  const finish = () => {
    stop.abort();
    external?.removeEventListener('abort', onExternalAbort);
  };

  const loop = sampleLoop(rails, root, intervalMs, stop.signal);
  const watch: RailWatch = {
    rails,
    async next() {
      const result = await loop.next();
      if (result.done) finish();
      return result;
    },
    async return() {
      // Abort first: a next() waiting for its tick wakes and ends, then the generator closes.
      finish();
      return loop.return(undefined);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return watch;
}

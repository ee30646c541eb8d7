import { EventEmitter } from 'node:events';
import type { BandwidthResult, BandwidthSample } from './result.js';

export interface RunContext {
  emitSample(sample: BandwidthSample): void;
  emitProgress(message: string): void;
  signal: AbortSignal;
}

/**
 * A run in progress: await it (or `.result`) for the final result; listen to 'sample' events
 * or iterate `samples()` to watch it live; `stop()` ends it early and still resolves with what
 * was measured. Events: 'sample' (BandwidthSample), 'progress' (string).
 */
export class BandwidthRun extends EventEmitter implements PromiseLike<BandwidthResult> {
  readonly result: Promise<BandwidthResult>;
  private readonly controller = new AbortController();
  private finished = false;
  private readonly waiting: ((r: IteratorResult<BandwidthSample>) => void)[] = [];
  private readonly queued: BandwidthSample[] = [];
  private iterating = false;
  private readonly detach: () => void;

  constructor(execute: (ctx: RunContext) => Promise<BandwidthResult>, external?: AbortSignal) {
    super();
    // Removed when the run ends: a long-lived signal (one per process) must not collect a
    // listener per run and keep every finished run alive.
    const onAbort = () => this.controller.abort();
    if (external?.aborted) this.controller.abort();
    else external?.addEventListener('abort', onAbort, { once: true });
    this.detach = () => external?.removeEventListener('abort', onAbort);
    const ctx: RunContext = {
      emitSample: (s) => this.push(s),
      emitProgress: (m) => this.emit('progress', m),
      signal: this.controller.signal,
    };
    // Start on the next tick so callers can attach listeners first.
    this.result = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => execute(ctx))
      .finally(() => this.finish());
    // Unhandled rejections belong to whoever awaits; keep the emitter itself quiet.
    this.result.catch(() => undefined);
  }

  stop(): void {
    this.controller.abort();
  }

  then<A = BandwidthResult, B = never>(
    onFulfilled?: ((value: BandwidthResult) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.result.then(onFulfilled, onRejected);
  }

  /** Samples as they arrive; ends when the run ends. */
  samples(): AsyncIterableIterator<BandwidthSample> {
    this.iterating = true;
    const next = (): Promise<IteratorResult<BandwidthSample>> => {
      const s = this.queued.shift();
      if (s) return Promise.resolve({ value: s, done: false });
      if (this.finished) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => this.waiting.push(resolve));
    };
    return {
      next,
      return: () => {
        this.iterating = false;
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  private push(sample: BandwidthSample): void {
    this.emit('sample', sample);
    if (!this.iterating) return;
    const waiter = this.waiting.shift();
    if (waiter) waiter({ value: sample, done: false });
    else this.queued.push(sample);
  }

  private finish(): void {
    this.finished = true;
    this.detach();
    for (const w of this.waiting.splice(0)) w({ value: undefined, done: true });
  }
}

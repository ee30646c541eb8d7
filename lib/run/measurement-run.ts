import { EventEmitter } from 'node:events';

/** What a run's body gets: where to send samples and progress, and the signal that stops it. */
export interface RunContext<S> {
  emitSample(sample: S): void;
  emitProgress(message: string): void;
  signal: AbortSignal;
}

/**
 * A measurement in progress, the one shape runBandwidth and runLatency return: await it (or
 * `.result`) for the result; listen to 'sample' events or iterate `samples()` to watch it live;
 * `stop()` (or the caller's AbortSignal) ends it early and it still resolves with what was
 * measured. Events: 'sample' (S), 'progress' (string).
 */
export class MeasurementRun<R, S> extends EventEmitter implements PromiseLike<R> {
  readonly result: Promise<R>;
  private readonly controller = new AbortController();
  private finished = false;
  private readonly waiting: ((r: IteratorResult<S>) => void)[] = [];
  private readonly queued: S[] = [];
  private iterating = false;
  private readonly detach: () => void;

  constructor(execute: (ctx: RunContext<S>) => Promise<R>, external?: AbortSignal) {
    super();
    // Removed when the run ends: a long-lived signal (one per process) must not collect a
    // listener per run and keep every finished run alive.
    const onAbort = () => this.controller.abort();
    if (external?.aborted) this.controller.abort();
    else external?.addEventListener('abort', onAbort, { once: true });
    this.detach = () => external?.removeEventListener('abort', onAbort);
    const ctx: RunContext<S> = {
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

  then<A = R, B = never>(onFulfilled?: ((value: R) => A | PromiseLike<A>) | null, onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    return this.result.then(onFulfilled, onRejected);
  }

  // A run is used as a promise is (engine-flow's `runLatency(...).catch(...)` threw without these).
  catch<B = never>(onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<R | B> {
    return this.result.catch(onRejected);
  }

  finally(onFinally?: (() => void) | null): Promise<R> {
    return this.result.finally(onFinally);
  }

  /** Samples as they arrive; ends when the run ends. */
  samples(): AsyncIterableIterator<S> {
    this.iterating = true;
    const next = (): Promise<IteratorResult<S>> => {
      const s = this.queued.shift();
      if (s !== undefined) return Promise.resolve({ value: s, done: false });
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

  private push(sample: S): void {
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

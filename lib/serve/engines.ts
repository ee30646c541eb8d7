// What a server session must undo on every way out: engines still running (stop them, then wait
// for their threads to let go of the QPs) and endpoints (close each, keeping every error), so
// a close never runs under a posting engine and a busy close never hides why the session ended.

export class SessionEngines {
  readonly #running = new Set<{ stop: () => void; done: Promise<unknown> }>();

  /** Tracks an engine (or a group) until it settles; its rejection is observed here and left to the caller's await. */
  track<T>(stop: () => void, done: Promise<T>): Promise<T> {
    const entry = { stop, done };
    this.#running.add(entry);
    done.then(
      () => this.#running.delete(entry),
      () => this.#running.delete(entry),
    );
    return done;
  }

  /** Stops every engine still running and waits until each has settled. Never rejects. */
  async stopAll(): Promise<void> {
    const entries = [...this.#running];
    for (const e of entries) e.stop();
    await Promise.allSettled(entries.map((e) => e.done));
  }
}

/** Closes every endpoint, even when one fails; returns the errors instead of throwing them. */
export function closeEach(endpoints: { close(): void }[]): unknown[] {
  const errors: unknown[] = [];
  for (const e of endpoints) {
    try {
      e.close();
    } catch (err) {
      errors.push(err);
    }
  }
  return errors;
}

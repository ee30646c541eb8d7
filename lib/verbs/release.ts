import { RdmaError } from '../errors.js';

/** Runs every release step in order, even after one fails; returns the failures. */
export function releaseInOrder(steps: (() => void)[]): unknown[] {
  const errors: unknown[] = [];
  for (const step of steps) {
    try {
      step();
    } catch (err) {
      errors.push(err);
    }
  }
  return errors;
}

/** One error for several failed releases: the first one's code, every message. */
export function closeError(what: string, errors: unknown[]): RdmaError {
  const first = errors[0];
  const code = first instanceof RdmaError ? first.code : 'ERR_RDMA_INTERNAL';
  const messages = [...new Set(errors.map((e) => (e instanceof Error ? e.message : String(e))))];
  const hint = first instanceof RdmaError ? first.hint : undefined;
  const error = new RdmaError(`${what}: ${errors.length} object(s) stayed open: ${messages.join('; ')}`, { code, ...(hint !== undefined ? { hint } : {}) });
  (error as { cause?: unknown }).cause = first;
  return error;
}

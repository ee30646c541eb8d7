// JSON-lines framing: splits a byte stream into '\n'-terminated lines of at most maxLineBytes,
// decodes each as strict UTF-8 and parses it as JSON. A line that grows past the limit is an
// error as soon as the limit is crossed; it is never buffered whole.
import type { RdmaError } from '../errors.js';
import { protocolError, quote } from './schema.js';

const NEWLINE = 0x0a;

export interface DecodeResult {
  /** Parsed JSON values of the complete lines, in order (those before any error). */
  values: unknown[];
  /** The first framing error; after it the decoder refuses further input. */
  error: RdmaError | null;
}

export class LineDecoder {
  readonly maxLineBytes: number;
  #parts: Buffer[] = [];
  #partBytes = 0;
  #lines = 0;
  #failed: RdmaError | null = null;
  readonly #utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

  constructor(maxLineBytes: number) {
    this.maxLineBytes = maxLineBytes;
  }

  /** Bytes of an unfinished line (a peer that closes now truncated a message). */
  get pendingBytes(): number {
    return this.#partBytes;
  }

  /** Complete lines seen so far. */
  get lines(): number {
    return this.#lines;
  }

  push(chunk: Buffer): DecodeResult {
    const values: unknown[] = [];
    if (this.#failed) return { values, error: this.#failed };
    let start = 0;
    for (;;) {
      const end = chunk.indexOf(NEWLINE, start);
      if (end < 0) break;
      const piece = chunk.subarray(start, end);
      start = end + 1;
      const error = this.#checkLength(this.#partBytes + piece.length);
      if (error) return { values, error };
      const line = this.#parts.length === 0 ? piece : Buffer.concat([...this.#parts, piece]);
      this.#parts = [];
      this.#partBytes = 0;
      this.#lines++;
      const parsed = this.#parse(line);
      if (parsed.error) return { values, error: parsed.error };
      values.push(parsed.value);
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      const error = this.#checkLength(this.#partBytes + rest.length);
      if (error) return { values, error };
      // Copy: the socket may reuse its buffer.
      this.#parts.push(Buffer.from(rest));
      this.#partBytes += rest.length;
    }
    return { values, error: null };
  }

  #fail(error: RdmaError): RdmaError {
    this.#failed = error;
    this.#parts = [];
    this.#partBytes = 0;
    return error;
  }

  #checkLength(bytes: number): RdmaError | null {
    if (bytes <= this.maxLineBytes) return null;
    return this.#fail(
      protocolError(
        `line ${this.#lines + 1} is longer than the ${this.maxLineBytes}-byte limit (${bytes} bytes and no newline yet)`,
        'a session message is one short JSON line; raise maxLineBytes on both ends only for very many QPs',
      ),
    );
  }

  #parse(line: Buffer): { value: unknown; error: null } | { value: undefined; error: RdmaError } {
    let textLine: string;
    try {
      textLine = this.#utf8.decode(line);
    } catch {
      return { value: undefined, error: this.#fail(protocolError(`line ${this.#lines} is not valid UTF-8 (${line.length} bytes)`)) };
    }
    try {
      return { value: JSON.parse(textLine) as unknown, error: null };
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      return {
        value: undefined,
        error: this.#fail(protocolError(`line ${this.#lines} is not valid JSON (${quote(why, 80)}): ${quote(textLine)}`)),
      };
    }
  }
}

// Feeds a byte stream to the checker line by line, holding at most one line (capped) in memory:
// a 200 MB log costs the same memory as a 2 KB one. A NUL byte means binary input, refused.
import { RdmaError } from '../errors.js';
import { NcclLogChecker, type NcclCheckOptions, type NcclLogReport } from './check.js';

/**
 * Longest line kept. NCCL's own lines fit in 1 KiB (src/debug.cc: char buffer[1024]); other
 * programs' lines interleaved in the same log may be longer, and are skipped past this.
 */
export const MAX_LINE_BYTES = 64 * 1024;

/** The input cannot be read as a log (binary, or the read failed). */
export function unreadableLog(what: string, hint: string): RdmaError {
  return new RdmaError(what, { code: 'ERR_RDMA_INVALID_ARGUMENT', hint });
}

/**
 * Reads `chunks` (a file or stdin stream) to the end and checks it.
 * @throws RdmaError ERR_RDMA_INVALID_ARGUMENT when the input is binary (holds a NUL byte).
 */
export async function checkNcclLogStream(chunks: AsyncIterable<Buffer | string>, source: string, opts: NcclCheckOptions = {}): Promise<NcclLogReport> {
  const checker = new NcclLogChecker(opts);
  let parts: Buffer[] = [];
  let held = 0;
  let skipping = false; // inside a line longer than MAX_LINE_BYTES
  let offset = 0;
  const endLine = () => {
    if (skipping) checker.skipOverlong();
    else checker.push(Buffer.concat(parts, held).toString('utf8'));
    parts = [];
    held = 0;
    skipping = false;
  };
  for await (const chunk of chunks) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    const nul = buf.indexOf(0);
    if (nul >= 0) {
      throw unreadableLog(`${source} is a binary file (a NUL byte at offset ${offset + nul}), not an NCCL log`,
        'pass the text log NCCL wrote with NCCL_DEBUG=INFO (its stdout/stderr, or the NCCL_DEBUG_FILE)');
    }
    let start = 0;
    for (let nl = buf.indexOf(10, start); nl >= 0; nl = buf.indexOf(10, start)) {
      append(buf.subarray(start, nl));
      endLine();
      start = nl + 1;
    }
    if (start < buf.length) append(buf.subarray(start));
    offset += buf.length;
  }
  if (held > 0 || skipping) endLine(); // a last line without its newline (a log cut short)
  return checker.finish();

  function append(piece: Buffer): void {
    if (skipping || piece.length === 0) return;
    if (held + piece.length > MAX_LINE_BYTES) {
      parts = [];
      held = 0;
      skipping = true;
      return;
    }
    parts.push(Buffer.from(piece)); // a copy: the stream may reuse its chunk
    held += piece.length;
  }
}

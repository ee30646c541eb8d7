import type { NativeErrorFields } from '@spark/rdma/binding';

/**
 * The one error class of @spark/rdma. Native failures (verbs, rdma_cm, completions) and
 * validation failures alike carry a stable `code`; native ones add `errno` and `syscall`,
 * completion failures add `wcStatus` and a `hint` that says what to check.
 */
export class RdmaError extends Error {
  readonly code: string;
  readonly errno?: number;
  readonly syscall?: string;
  readonly wcStatus?: string;
  readonly wcStatusCode?: number;
  readonly qpn?: number;
  readonly hint?: string;

  constructor(message: string, fields: NativeErrorFields) {
    super(message);
    this.name = 'RdmaError';
    this.code = fields.code;
    if (fields.errno !== undefined) this.errno = fields.errno;
    if (fields.syscall !== undefined) this.syscall = fields.syscall;
    if (fields.wcStatus !== undefined) this.wcStatus = fields.wcStatus;
    if (fields.wcStatusCode !== undefined) this.wcStatusCode = fields.wcStatusCode;
    if (fields.qpn !== undefined) this.qpn = fields.qpn;
    if (fields.hint !== undefined) this.hint = fields.hint;
  }
}

/** Bad input from a user or a caller: names the value, the limit and the fix. */
export function invalidArgument(message: string, hint?: string): RdmaError {
  return new RdmaError(message, hint === undefined ? { code: 'ERR_RDMA_INVALID_ARGUMENT' } : { code: 'ERR_RDMA_INVALID_ARGUMENT', hint });
}

// Exit statuses of the harness itself, chosen like timeout(1) and git bisect's "cannot test" so
// that they are distinguishable from an ordinary failing command.
export const EXIT_TIMEOUT = 124;
export const EXIT_HARNESS_FAILURE = 125;

/** A failure of the harness (not of the guest command): one line for the user, an exit status. */
export class VmError extends Error {
  constructor(message, exitCode = EXIT_HARNESS_FAILURE) {
    super(message);
    this.name = 'VmError';
    this.exitCode = exitCode;
  }
}

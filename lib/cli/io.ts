/** Where the CLI writes and what it reads from its environment; tests pass their own. */
export interface CliIo {
  /** Writes text to standard output (the text carries its own newlines). */
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Environment the commands see (SPARK_RDMA_SYSFS_ROOT, ...); defaults to process.env. */
  env?: Record<string, string | undefined>;
  /** Standard input for commands that read it (nccl-check -); defaults to process.stdin. */
  stdin?: AsyncIterable<Buffer | string>;
}

export const processIo: CliIo = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};

/**
 * Every JSON document the CLI prints names its shape first: `"schema": "spark-rdma.<kind>/<n>"`.
 * The number goes up when a field is removed or changes meaning (added fields keep it); the
 * shapes are in docs/cli.md, "JSON output".
 */
export const JSON_SCHEMAS = {
  bw: 'spark-rdma.bw/1',
  lat: 'spark-rdma.lat/1',
  devices: 'spark-rdma.devices/1',
  doctor: 'spark-rdma.doctor/1',
  monitor: 'spark-rdma.monitor-sample/1',
  vllm: 'spark-rdma.config-vllm/1',
  ncclCheck: 'spark-rdma.nccl-check/1',
} as const;

/** `{ schema, ...body }`: the schema first, so `head -c 40` shows it. */
export function withSchema<T extends object>(kind: keyof typeof JSON_SCHEMAS, body: T): { schema: string } & T {
  return { schema: JSON_SCHEMAS[kind], ...body };
}

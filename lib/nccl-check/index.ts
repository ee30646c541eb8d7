// spark-rdma nccl-check: did NCCL really use RDMA, on every rail? From its debug log.
export { NcclLogChecker, checkNcclLogText, ncclCheckExitCode, NCCL_CHECK_SCHEMA_VERSION, type NcclCheckOptions, type NcclLogReport, type NcclProcessReport } from './check.js';
export { checkNcclLogStream, MAX_LINE_BYTES } from './stream.js';
export { renderNcclCheckText, renderNcclCheckJson } from './render.js';
export type { NcclProblem, ExpectedRails } from './problems.js';

// Launch configs for NCCL and vLLM from discovered rails and saved measurements.
export type { EnvVariable, UnsetVariable, RailMode, RailComparison, RailDecision, EnvFormat } from './types.js';
export { ENV_FORMATS } from './types.js';
export { chooseRails, type RailChoiceOptions } from './rail-choice.js';
export { compareRailCounts, DUAL_RAIL_MIN_SPEEDUP, type MeasurementVerdict } from './compare.js';
export { loadMeasurement, parseMeasurement, measurementFromResult, type MeasuredRun, type MeasuredSize } from './measurements.js';
export { ncclConfig, ncclVariables, ncclIbHca, ncclLogCheck, type NcclConfig, type NcclConfigOptions, type NcclLogCheck } from './nccl.js';
export { renderNcclConfig, ncclConfigJson } from './render-nccl.js';
export { renderEnvFile, renderShell, renderDockerFlags, dockerEnvArgs, type EnvDocument } from './render-env.js';
export {
  vllmConfig, DEFAULT_VLLM_IMAGE, DEFAULT_HF_HOME, DEFAULT_RUN_CLUSTER, VLLM_SERVE_DEFAULTS, RDMA_DOCKER_ARGS,
  type VllmConfig, type VllmConfigOptions, type VllmNode,
} from './vllm.js';
export { renderVllmCommands, vllmFiles, vllmConfigJson, type GeneratedFile } from './render-vllm.js';
export { writeGeneratedFiles } from './write-files.js';

// Public API of @spark/rdma. Each line re-exports one module; keep it that way.
export { RdmaError } from './errors.js';
export { ErrorCode, ERROR_CODES, describeErrorCode, type ErrorCodeInfo } from './error-codes.js';
export type { Rail } from './rails/types.js';
export { loadBinding } from './native/load.js';
export { discoverRails, discoverRdma, type DiscoverOptions, type Discovery } from './rails/discover.js';
export { listDevicesFromSysfs } from './sysfs/devices.js';
export type { SysfsDevice, SysfsPort, SysfsGid, NetdevInfo } from './sysfs/types.js';
export * from './stats/index.js';
export { gbps, gibPerSecond, mibPerSecond, mmsgPerSecond, convertRate, formatRate, parseByteSize, parseByteSizeList, formatByteSize, sizesAll, BYTES_PER_GIB, BYTES_PER_MIB, type ByteRateUnit, type RateUnit, type ParseByteSizeOptions } from './report/units.js';
export { goodputFraction, goodputLimitGbps, shareOfLimit, packetOverheadBytes, writeMessageWireBytes, PATH_MTUS, type GoodputOptions } from './report/goodput.js';
export { runBandwidth, BandwidthRun, BandwidthRunError, type BandwidthOptions, type BandwidthParams, type BandwidthResult, type BandwidthSample, type RailBandwidth, type SizeResult, type BandwidthTotal } from './bandwidth/index.js';
export type { RailPairing, PairingRule } from './run/rail-pairing.js';
export { runLatency, LatencyRunError, type LatencyOptions, type LatencyResult, type RailLatency } from './latency/index.js';
export { serve, type ServeOptions, type SparkServer } from './serve/index.js';
export { watchRails, startExporter, collectRailMetrics, type WatchRailsOptions, type RailWatch, type RailsSample, type RailSample, type CounterMove, type ExporterOptions, type RailExporter } from './monitor/index.js';
export { ncclConfig, vllmConfig, chooseRails, loadMeasurement, parseMeasurement, measurementFromResult, compareRailCounts, renderNcclConfig, renderVllmCommands, vllmFiles, writeGeneratedFiles, DUAL_RAIL_MIN_SPEEDUP, DEFAULT_VLLM_IMAGE, type NcclConfig, type NcclConfigOptions, type VllmConfig, type VllmConfigOptions, type VllmNode, type RailChoiceOptions, type RailDecision, type RailComparison, type RailMode, type EnvVariable, type UnsetVariable, type EnvFormat, type MeasuredRun, type GeneratedFile } from './config/index.js';
export { doctor, renderDoctorText, renderDoctorJson, DEFAULT_MEMLOCK_NEEDED, type DoctorOptions, type DoctorReport, type DoctorCheck, type CheckStatus, type Evidence, type MemlockLimit } from './doctor/index.js';
export { checkNcclLogText, checkNcclLogStream, NcclLogChecker, ncclCheckExitCode, renderNcclCheckText, renderNcclCheckJson, type NcclCheckOptions, type NcclLogReport, type NcclProcessReport, type NcclProblem } from './nccl-check/index.js';

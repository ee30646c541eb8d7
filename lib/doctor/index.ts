// spark-rdma doctor: what RoCE with NCCL needs on this machine, checked from sysfs, procfs, /etc and /dev.
export { doctor, DEFAULT_MEMLOCK_NEEDED, type DoctorOptions } from './doctor.js';
export type { DoctorReport, DoctorCheck, CheckStatus, Evidence } from './types.js';
export { renderDoctorText, renderDoctorJson } from './render.js';
export { parseMemlock, readMemlock, meminfoKb, type MemlockLimit, type LimitValue } from './procfs.js';
export { resolveHostRoots, PROC_ROOT_ENV, ETC_ROOT_ENV, DEV_ROOT_ENV, type HostRootOptions, type HostRoots } from './roots.js';

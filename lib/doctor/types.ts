/**
 * pass: fine; warn: works, but slower or fragile; fail: RDMA (or NCCL over it) will not work as
 * is; skip: the files the check reads are absent (e.g. no PCIe attributes), so it could not run.
 */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

/** A file (or directory) a check read and what it held. */
export interface Evidence {
  path: string;
  value: string;
}

export interface DoctorCheck {
  /** Stable check name: rdma-devices, rails, link, ipv4, mtu, gid, pcie, memlock, dev-infiniband, nccl-conf, nccl-ib-hca, nccl-ib-disable, cma. */
  id: string;
  /** What the check is about (a netdev, `device:port`, a port's functions), null for the machine. */
  subject: string | null;
  status: CheckStatus;
  /** One line: what was found and what it means. */
  summary: string;
  evidence: Evidence[];
  /** The command (or steps) that fixes a warn or fail; null on pass. */
  fix: string | null;
}

export interface DoctorReport {
  /** False when any check failed (warnings do not count). */
  ok: boolean;
  counts: Record<CheckStatus, number>;
  /** The roots every file was read under. */
  roots: { sysfs: string; proc: string; etc: string; dev: string; home: string };
  checks: DoctorCheck[];
}

/** One PSI line: share of wall time (percent) some/all tasks stalled on memory, and the cumulative stall in µs. */
export interface PsiLine {
  avg10: number;
  avg60: number;
  avg300: number;
  total: number;
}

export interface Psi {
  some: PsiLine;
  /** absent on kernels/cgroups that only report `some` */
  full: PsiLine | null;
  /** `cgroup` = our own cgroup's memory.pressure, `system` = /proc/pressure/memory */
  source: 'cgroup' | 'system';
}

/**
 * Cumulative cgroup memory event counters. v2 `memory.events` maps one to one; v1 has `failcnt` (→ max) and
 * `oom_kill` in `memory.oom_control` (→ oomKill) only.
 */
export interface CgroupEvents {
  /** usage hit the hard limit (v2 `max`, v1 `failcnt`) */
  max: number;
  /** usage went over memory.high and got throttled (v2 only) */
  high: number;
  oom: number;
  oomKill: number;
}

export interface CgroupMemory {
  version: 1 | 2;
  /** folder the numbers came from, relative to the host root (diagnostics) */
  dir: string;
  currentBytes: number;
  /** hard limit; null = unlimited (`max`, or the v1 ~2^63 sentinel) */
  limitBytes: number | null;
  /** v2 memory.high; null = none */
  highBytes: number | null;
  /** reclaimable page cache; working set = current − inactiveFile */
  inactiveFileBytes: number | null;
  events: CgroupEvents | null;
}

export interface MemInfo {
  totalBytes: number;
  availableBytes: number;
}

export interface HeapUsage {
  usedBytes: number;
  limitBytes: number;
}

/** One reading of every memory signal that exists on this host; absent signals are null, never an error. */
export interface PressureSample {
  at: number;
  psi: Psi | null;
  cgroup: CgroupMemory | null;
  meminfo: MemInfo | null;
  heap: HeapUsage | null;
  /** the Kubernetes Node's MemoryPressure condition; null when not configured or unreadable */
  nodeMemoryPressure: boolean | null;
  /** files that exist but could not be parsed (one line each, for a log) */
  problems: string[];
}

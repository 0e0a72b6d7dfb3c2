/**
 * Thresholds and dwell times of the degrade signal (controller-practices.md §10.3), plus the legacy kit's
 * used-memory percentages (MC_RESOURCE_WARN_PCT / _DEGRADE_PCT / _RECOVER_PCT). The CLI maps env vars onto these.
 *
 * Percentages are 0–100. "headroom" = 1 − working set / cgroup limit; "used" = the kit's load %, taken from the
 * cgroup limit when one exists, else from /proc/meminfo.
 */
export interface DegradeSettings {
  sampleIntervalMs: number;
  /** kit: log-only level */
  warnUsedPct: number;
  /** NORMAL → DEGRADED once ANY holds on consecutive samples for `enterDwellMs` */
  enter: {
    someAvg10: number;
    fullAvg10: number;
    headroomPct: number;
    memAvailablePct: number;
    /** absolute MemAvailable floor; the bigger of this and the percentage applies */
    memAvailableBytes: number;
    heapPct: number;
    /** kit MC_RESOURCE_DEGRADE_PCT */
    usedPct: number;
    /** memory.high throttling and the Node's MemoryPressure condition count as sustained evidence */
    highEvents: boolean;
    nodeCondition: boolean;
  };
  /** NORMAL → DEGRADED at once when ANY holds */
  severe: {
    fullAvg10: number;
    headroomPct: number;
    memAvailablePct: number;
    memAvailableBytes: number;
    heapPct: number;
    /** a new oom / oom_kill event (v2 memory.events, v1 oom_control) */
    oomEvents: boolean;
    /** a new limit hit (v2 memory.events `max`, v1 `failcnt`); noisy where page cache fills the limit, so it can be turned off */
    limitHits: boolean;
  };
  /** DEGRADED → NORMAL needs ALL of these (and no enter breach, no new event) for `exitDwellMs` */
  exit: {
    someAvg10: number;
    someAvg60: number;
    fullAvg10: number;
    headroomPct: number;
    memAvailablePct: number;
    heapPct: number;
    /** kit MC_RESOURCE_RECOVER_PCT */
    usedPct: number;
  };
  enterDwellMs: number;
  exitDwellMs: number;
  /** minimum time spent degraded before any exit */
  minDegradeMs: number;
  /** re-entering within this long after an exit arms the flap guard … */
  flapWindowMs: number;
  /** … which makes the next exit wait this long clean instead of exitDwellMs */
  flapExitDwellMs: number;
  /** a gap between samples longer than this restarts the sustained-entry count (suspended process, stalled timer) */
  maxSampleGapMs: number;
}

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

export function defaultDegradeSettings(): DegradeSettings {
  return {
    sampleIntervalMs: 2_000,
    warnUsedPct: 80,
    enter: {
      someAvg10: 10,
      fullAvg10: 2,
      headroomPct: 15,
      memAvailablePct: 10,
      memAvailableBytes: 1 * GiB,
      heapPct: 80,
      usedPct: 90,
      highEvents: true,
      nodeCondition: true,
    },
    severe: {
      fullAvg10: 10,
      headroomPct: 5,
      memAvailablePct: 5,
      memAvailableBytes: 512 * MiB,
      heapPct: 90,
      oomEvents: true,
      limitHits: true,
    },
    exit: {
      someAvg10: 5,
      someAvg60: 5,
      fullAvg10: 1,
      headroomPct: 25,
      memAvailablePct: 20,
      heapPct: 70,
      usedPct: 85,
    },
    enterDwellMs: 10_000,
    exitDwellMs: 60_000,
    minDegradeMs: 120_000,
    flapWindowMs: 300_000,
    flapExitDwellMs: 300_000,
    maxSampleGapMs: 6_000,
  };
}

/** Consecutive breaching samples needed for a sustained entry (10 s at 2 s = 5). */
export function enterSamples(settings: DegradeSettings): number {
  return Math.max(1, Math.round(settings.enterDwellMs / settings.sampleIntervalMs));
}

/** Refuses settings under which the machine could flap or never leave, so a bad env var fails at startup. */
export function validateDegradeSettings(s: DegradeSettings): string[] {
  const problems: string[] = [];
  if (!(s.sampleIntervalMs > 0)) problems.push('sampleIntervalMs must be > 0');
  if (s.exit.usedPct >= s.enter.usedPct) problems.push('recover % must be below degrade % (MC_RESOURCE_RECOVER_PCT < MC_RESOURCE_DEGRADE_PCT)');
  if (s.warnUsedPct > s.enter.usedPct) problems.push('warn % must not exceed degrade % (MC_RESOURCE_WARN_PCT ≤ MC_RESOURCE_DEGRADE_PCT)');
  if (s.exit.someAvg10 > s.enter.someAvg10) problems.push('exit some avg10 must not exceed the enter level');
  if (s.exit.fullAvg10 > s.enter.fullAvg10) problems.push('exit full avg10 must not exceed the enter level');
  if (s.exit.headroomPct < s.enter.headroomPct) problems.push('exit headroom must be at least the enter level');
  if (s.exit.memAvailablePct < s.enter.memAvailablePct) problems.push('exit MemAvailable % must be at least the enter level');
  if (s.exit.heapPct > s.enter.heapPct) problems.push('exit heap % must not exceed the enter level');
  for (const [k, v] of Object.entries({ enterDwellMs: s.enterDwellMs, exitDwellMs: s.exitDwellMs, minDegradeMs: s.minDegradeMs, flapWindowMs: s.flapWindowMs, flapExitDwellMs: s.flapExitDwellMs })) {
    if (!(v >= 0)) problems.push(`${k} must be ≥ 0`);
  }
  return problems;
}

/** The config section (`config.degrade`) as the CLI loads it; only the fields the signal uses. */
export interface DegradeConfigFields {
  warnPct: number;
  degradePct: number;
  recoverPct: number;
  enterDwellSeconds?: number;
  exitDwellSeconds?: number;
  minDegradedSeconds?: number;
  flapGuardSeconds?: number;
}

/** Maps the env-backed config onto the defaults (the §10.3 thresholds not exposed as env stay at their defaults). */
export function degradeSettingsFromConfig(c: DegradeConfigFields): DegradeSettings {
  const s = defaultDegradeSettings();
  s.warnUsedPct = c.warnPct;
  s.enter.usedPct = c.degradePct;
  s.exit.usedPct = c.recoverPct;
  if (c.enterDwellSeconds !== undefined) s.enterDwellMs = c.enterDwellSeconds * 1000;
  if (c.exitDwellSeconds !== undefined) s.exitDwellMs = c.exitDwellSeconds * 1000;
  if (c.minDegradedSeconds !== undefined) s.minDegradeMs = c.minDegradedSeconds * 1000;
  if (c.flapGuardSeconds !== undefined) s.flapExitDwellMs = c.flapGuardSeconds * 1000;
  return s;
}

import type { CgroupEvents, PressureSample } from '../../clients/node-pressure/index.js';
import { hasHostSignal } from '../../clients/node-pressure/index.js';
import type { DegradeSettings } from './settings.js';

/** The numbers the thresholds are compared with; absent = that signal does not exist on this host. */
export interface SignalValues {
  someAvg10?: number;
  someAvg60?: number;
  fullAvg10?: number;
  headroomPct?: number;
  memAvailablePct?: number;
  memAvailableBytes?: number;
  /** the kit's load %: cgroup working set / limit when limited, else (MemTotal − MemAvailable) / MemTotal */
  usedPct?: number;
  heapPct?: number;
  nodeMemoryPressure?: boolean;
  /** counter increases since the previous sample */
  newOom?: number;
  newLimitHits?: number;
  newHighEvents?: number;
}

export interface Evaluation {
  values: SignalValues;
  /** sustained-entry conditions that hold, e.g. `someAvg10>=10` */
  breaches: string[];
  /** immediate-entry conditions that hold */
  severe: string[];
  /** exit conditions that do NOT hold (empty = all clear) */
  unclear: string[];
  warn: boolean;
  /** no host memory signal and no heap reading: nothing to judge */
  noSignal: boolean;
}

const round2 = (n: number): number => Math.round(n * 100) / 100;

function eventDeltas(prev: CgroupEvents | null, cur: CgroupEvents | null): Pick<SignalValues, 'newOom' | 'newLimitHits' | 'newHighEvents'> {
  if (!prev || !cur) return {};
  // a counter going down means the cgroup was recreated: that is a new baseline, not an event
  const d = (a: number, b: number): number => (b >= a ? b - a : 0);
  return {
    newOom: d(prev.oom, cur.oom) + d(prev.oomKill, cur.oomKill),
    newLimitHits: d(prev.max, cur.max),
    newHighEvents: d(prev.high, cur.high),
  };
}

export function signalValues(sample: PressureSample, prevEvents: CgroupEvents | null): SignalValues {
  const v: SignalValues = {};
  if (sample.psi) {
    v.someAvg10 = sample.psi.some.avg10;
    v.someAvg60 = sample.psi.some.avg60;
    if (sample.psi.full) v.fullAvg10 = sample.psi.full.avg10;
  }
  const cg = sample.cgroup;
  if (cg && cg.limitBytes !== null && cg.limitBytes > 0) {
    const workingSet = Math.max(0, cg.currentBytes - (cg.inactiveFileBytes ?? 0));
    v.headroomPct = round2((1 - workingSet / cg.limitBytes) * 100);
    v.usedPct = round2(100 - v.headroomPct);
  }
  if (sample.meminfo) {
    v.memAvailableBytes = sample.meminfo.availableBytes;
    v.memAvailablePct = round2((sample.meminfo.availableBytes / sample.meminfo.totalBytes) * 100);
    v.usedPct ??= round2(100 - v.memAvailablePct);
  }
  if (sample.heap) v.heapPct = round2((sample.heap.usedBytes / sample.heap.limitBytes) * 100);
  if (sample.nodeMemoryPressure !== null) v.nodeMemoryPressure = sample.nodeMemoryPressure;
  Object.assign(v, eventDeltas(prevEvents, sample.cgroup?.events ?? null));
  return v;
}

/** Judges one sample against the §10.3 table. Pure; `prevEvents` is the previous sample's counters. */
export function evaluate(sample: PressureSample, prevEvents: CgroupEvents | null, s: DegradeSettings): Evaluation {
  const v = signalValues(sample, prevEvents);
  const breaches: string[] = [];
  const severe: string[] = [];
  const unclear: string[] = [];
  const at = (cond: boolean, list: string[], label: string): void => {
    if (cond) list.push(label);
  };
  const availFloor = (pct: number, bytes: number): number =>
    sample.meminfo ? Math.max((pct / 100) * sample.meminfo.totalBytes, bytes) : 0;

  if (v.someAvg10 !== undefined) at(v.someAvg10 >= s.enter.someAvg10, breaches, `someAvg10>=${s.enter.someAvg10}`);
  if (v.fullAvg10 !== undefined) {
    at(v.fullAvg10 >= s.enter.fullAvg10, breaches, `fullAvg10>=${s.enter.fullAvg10}`);
    at(v.fullAvg10 >= s.severe.fullAvg10, severe, `fullAvg10>=${s.severe.fullAvg10}`);
  }
  if (v.headroomPct !== undefined) {
    at(v.headroomPct < s.enter.headroomPct, breaches, `headroomPct<${s.enter.headroomPct}`);
    at(v.headroomPct < s.severe.headroomPct, severe, `headroomPct<${s.severe.headroomPct}`);
  }
  if (v.memAvailableBytes !== undefined) {
    at(v.memAvailableBytes < availFloor(s.enter.memAvailablePct, s.enter.memAvailableBytes), breaches, 'memAvailableLow');
    at(v.memAvailableBytes < availFloor(s.severe.memAvailablePct, s.severe.memAvailableBytes), severe, 'memAvailableCritical');
  }
  if (v.usedPct !== undefined) at(v.usedPct >= s.enter.usedPct, breaches, `usedPct>=${s.enter.usedPct}`);
  if (v.heapPct !== undefined) {
    at(v.heapPct > s.enter.heapPct, breaches, `heapPct>${s.enter.heapPct}`);
    at(v.heapPct > s.severe.heapPct, severe, `heapPct>${s.severe.heapPct}`);
  }
  if (s.enter.nodeCondition) at(v.nodeMemoryPressure === true, breaches, 'nodeMemoryPressure');
  if (s.enter.highEvents) at((v.newHighEvents ?? 0) > 0, breaches, 'memoryHighEvents');
  if (s.severe.oomEvents) at((v.newOom ?? 0) > 0, severe, 'oomEvent');
  if (s.severe.limitHits) at((v.newLimitHits ?? 0) > 0, severe, 'limitHit');

  const x = s.exit;
  if (v.someAvg10 !== undefined) at(v.someAvg10 >= x.someAvg10, unclear, `someAvg10>=${x.someAvg10}`);
  if (v.someAvg60 !== undefined) at(v.someAvg60 >= x.someAvg60, unclear, `someAvg60>=${x.someAvg60}`);
  if (v.fullAvg10 !== undefined) at(v.fullAvg10 >= x.fullAvg10, unclear, `fullAvg10>=${x.fullAvg10}`);
  if (v.headroomPct !== undefined) at(v.headroomPct < x.headroomPct, unclear, `headroomPct<${x.headroomPct}`);
  if (v.memAvailablePct !== undefined) at(v.memAvailablePct < x.memAvailablePct, unclear, `memAvailablePct<${x.memAvailablePct}`);
  if (v.usedPct !== undefined) at(v.usedPct > x.usedPct, unclear, `usedPct>${x.usedPct}`);
  if (v.heapPct !== undefined) at(v.heapPct >= x.heapPct, unclear, `heapPct>=${x.heapPct}`);
  // anything that would (re)enter also blocks the exit: the clear band lies strictly inside the normal band
  for (const b of [...breaches, ...severe]) if (!unclear.includes(b)) unclear.push(b);

  const noSignal = !hasHostSignal(sample) && sample.heap === null;
  if (noSignal) unclear.push('noSignal');
  return {
    values: v,
    breaches,
    severe,
    unclear,
    warn: v.usedPct !== undefined && v.usedPct >= s.warnUsedPct,
    noSignal,
  };
}

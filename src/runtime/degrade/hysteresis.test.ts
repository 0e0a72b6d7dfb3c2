import { describe, expect, it } from 'vitest';
import type { CgroupEvents, PressureSample } from '../../clients/node-pressure/index.js';
import { initialHysteresisState, step, type HysteresisState, type Transition } from './hysteresis.js';
import { defaultDegradeSettings, degradeSettingsFromConfig, validateDegradeSettings, type DegradeSettings } from './settings.js';

const GiB = 1024 ** 3;
const TOTAL = 16 * GiB;

interface Reading {
  some10?: number;
  some60?: number;
  full10?: number;
  /** MemAvailable as % of MemTotal */
  avail?: number;
  heap?: number;
  events?: CgroupEvents;
  /** cgroup working set as % of its limit */
  cgUsed?: number;
  none?: boolean;
}

const CALM: Reading = { some10: 0.5, some60: 0.3, full10: 0, avail: 60, heap: 20 };
const HOT: Reading = { some10: 25, some60: 12, full10: 3, avail: 60, heap: 20 };

function sample(r: Reading, at: number): PressureSample {
  if (r.none) return { at, psi: null, cgroup: null, meminfo: null, heap: null, nodeMemoryPressure: null, problems: [] };
  const line = (avg10: number, avg60: number) => ({ avg10, avg60, avg300: 0, total: 0 });
  return {
    at,
    psi:
      r.some10 === undefined
        ? null
        : { some: line(r.some10, r.some60 ?? r.some10), full: line(r.full10 ?? 0, r.full10 ?? 0), source: 'system' },
    cgroup:
      r.cgUsed === undefined && !r.events
        ? null
        : {
            version: 2,
            dir: 'sys/fs/cgroup',
            currentBytes: ((r.cgUsed ?? 10) / 100) * GiB,
            limitBytes: GiB,
            highBytes: null,
            inactiveFileBytes: 0,
            events: r.events ?? null,
          },
    meminfo: r.avail === undefined ? null : { totalBytes: TOTAL, availableBytes: (r.avail / 100) * TOTAL },
    heap: r.heap === undefined ? null : { usedBytes: r.heap, limitBytes: 100 },
    nodeMemoryPressure: null,
    problems: [],
  };
}

interface Run {
  state: HysteresisState;
  transitions: Transition[];
  /** mode after each sample */
  modes: string[];
}

/** Feeds readings every `interval` ms starting at `t0`; pure, no clock. */
function feed(readings: Reading[], opts: { s?: DegradeSettings; state?: HysteresisState; t0?: number; interval?: number } = {}): Run {
  const s = opts.s ?? defaultDegradeSettings();
  const interval = opts.interval ?? s.sampleIntervalMs;
  let t = opts.t0 ?? 1_000_000;
  let state = opts.state ?? initialHysteresisState(t);
  const transitions: Transition[] = [];
  const modes: string[] = [];
  for (const r of readings) {
    const out = step(state, sample(r, t), t, s);
    state = out.state;
    if (out.transition) transitions.push(out.transition);
    modes.push(state.mode);
    t += interval;
  }
  return { state, transitions, modes };
}

const times = (n: number, r: Reading): Reading[] => Array.from({ length: n }, () => r);
/** number of samples covering `ms` at 2 s */
const span = (ms: number): number => ms / 2_000;

describe('degrade hysteresis (controller-practices §10.3)', () => {
  it('stays normal on a calm host', () => {
    const run = feed(times(500, CALM));
    expect(run.transitions).toEqual([]);
    expect(new Set(run.modes)).toEqual(new Set(['normal']));
  });

  it('enters after 5 consecutive breaching samples (10 s), not before', () => {
    const run = feed([...times(4, HOT), CALM, ...times(5, HOT)]);
    expect(run.modes.slice(0, 9)).toEqual(Array(9).fill('normal'));
    expect(run.modes[9]).toBe('degrade');
    expect(run.transitions).toHaveLength(1);
    expect(run.transitions[0]!.reason).toBe('MemoryPressureSustained');
    expect(run.transitions[0]!.detail.conditions).toContain('someAvg10>=10');
    expect(run.transitions[0]!.detail.values.someAvg10).toBe(25);
  });

  it('a signal flapping across the enter threshold never flips the mode', () => {
    const flap: Reading[] = [];
    for (let i = 0; i < 300; i++) flap.push(i % 5 === 4 ? CALM : HOT); // 4 hot, 1 calm, for 10 minutes
    expect(feed(flap).transitions).toEqual([]);
  });

  it('a signal flapping while degraded does not leave degrade mode', () => {
    const flap: Reading[] = [];
    for (let i = 0; i < 600; i++) flap.push(i % 20 === 19 ? HOT : CALM); // 38 s calm, then one breach
    const run = feed([...times(5, HOT), ...flap]);
    expect(run.transitions.map((t) => t.to)).toEqual(['degrade']);
  });

  it.each([
    ['full avg10 ≥ 10', { ...CALM, full10: 12 }, 'MemoryPressureSevere'],
    ['MemAvailable < 5 %', { ...CALM, avail: 3 }, 'MemoryPressureSevere'],
    ['cgroup headroom < 5 %', { ...CALM, cgUsed: 97 }, 'MemoryPressureSevere'],
    ['heap > 90 %', { ...CALM, heap: 93 }, 'MemoryPressureSevere'],
  ])('enters at once on severe pressure: %s', (_label, reading, reason) => {
    const run = feed([CALM, reading as Reading]);
    expect(run.modes).toEqual(['normal', 'degrade']);
    expect(run.transitions[0]!.reason).toBe(reason);
  });

  it('enters at once on a NEW OOM kill, but not on counters already there at start or on a counter reset', () => {
    const ev = (oomKill: number, max = 0): CgroupEvents => ({ max, high: 0, oom: oomKill, oomKill });
    const pre = feed([{ ...CALM, events: ev(7) }, { ...CALM, events: ev(7) }, { ...CALM, events: ev(0) }, { ...CALM, events: ev(0) }]);
    expect(pre.transitions).toEqual([]);
    const run = feed([{ ...CALM, events: ev(7) }, { ...CALM, events: ev(8) }]);
    expect(run.modes).toEqual(['normal', 'degrade']);
    expect(run.transitions[0]!.reason).toBe('OomEvent');
    expect(run.transitions[0]!.detail.conditions).toEqual(['oomEvent']);
  });

  it('limit hits count as events unless turned off', () => {
    const ev = (max: number): CgroupEvents => ({ max, high: 0, oom: 0, oomKill: 0 });
    const readings = [{ ...CALM, events: ev(1) }, { ...CALM, events: ev(2) }];
    expect(feed(readings).transitions[0]?.detail.conditions).toEqual(['limitHit']);
    const s = defaultDegradeSettings();
    s.severe.limitHits = false;
    expect(feed(readings, { s }).transitions).toEqual([]);
  });

  it('leaves only after 60 s all-clear AND at least 2 min in degrade', () => {
    // pressure clears right after entry: the 2 min minimum decides
    const quick = feed([...times(5, HOT), ...times(span(180_000), CALM)]);
    const [enter, exit] = quick.transitions;
    expect(exit!.to).toBe('normal');
    expect(exit!.at - enter!.at).toBe(120_000);
    // pressure lasts 3 min: the 60 s clear dwell decides
    const long = feed([...times(5, HOT), ...times(span(180_000), HOT), ...times(span(120_000), CALM)]);
    const firstClearAt = long.transitions[0]!.at + 2_000 + 180_000;
    expect(long.transitions[1]!.at - firstClearAt).toBe(60_000);
    expect(long.transitions[1]!.reason).toBe('MemoryPressureCleared');
  });

  it('any single breach resets the exit timer', () => {
    const run = feed([...times(5, HOT), ...times(span(150_000), HOT), ...times(span(50_000), CALM), HOT, ...times(span(100_000), CALM)]);
    const [enter, exit] = run.transitions;
    const breachAt = enter!.at + 2_000 * (1 + span(150_000) + span(50_000));
    expect(exit!.at - (breachAt + 2_000)).toBe(60_000);
  });

  it('stays degraded in the band between the exit and the enter levels', () => {
    const band: Reading = { ...CALM, some10: 7, some60: 7 }; // below enter (10), above exit (5)
    const run = feed([...times(5, HOT), ...times(span(600_000), band)]);
    expect(run.transitions.map((t) => t.to)).toEqual(['degrade']);
  });

  it('flap guard: re-entering within 5 min of leaving makes the next exit wait 5 min clean', () => {
    const s = defaultDegradeSettings();
    const first = feed([...times(5, HOT), ...times(span(120_000), CALM)], { s });
    expect(first.transitions.map((t) => t.to)).toEqual(['degrade', 'normal']);
    const exitAt = first.transitions[1]!.at;
    const again = feed([...times(5, HOT), ...times(span(400_000), CALM)], { s, state: first.state, t0: exitAt + 60_000 });
    const [reenter, reexit] = again.transitions;
    expect(reenter!.detail.flapGuard).toBe(true);
    expect(reexit!.at - (reenter!.at + 2_000)).toBe(300_000);
    // re-entering long after the exit is a fresh start with the normal 60 s dwell
    const late = feed([...times(5, HOT), ...times(span(200_000), CALM)], { s, state: first.state, t0: exitAt + 600_000 });
    expect(late.transitions[0]!.detail.flapGuard).toBeUndefined();
    expect(late.transitions[1]!.at - late.transitions[0]!.at).toBe(120_000);
  });

  it('a gap in sampling restarts the sustained-entry count', () => {
    const s = defaultDegradeSettings();
    const a = feed(times(3, HOT), { s });
    const b = feed(times(3, HOT), { s, state: a.state, t0: a.state.lastSampleAt! + 60_000 });
    expect(b.transitions).toEqual([]);
    expect(b.state.breachStreak).toBe(3);
  });

  it('with no readable signal it neither enters nor leaves', () => {
    expect(feed(times(50, { none: true })).transitions).toEqual([]);
    const run = feed([...times(5, HOT), ...times(span(600_000), { none: true })]);
    expect(run.transitions.map((t) => t.to)).toEqual(['degrade']);
  });

  it("keeps the kit's percentages: used ≥ degrade % enters, exit needs used ≤ recover %", () => {
    const s = defaultDegradeSettings();
    s.enter.usedPct = 70;
    s.exit.usedPct = 50;
    s.warnUsedPct = 60;
    s.enter.memAvailablePct = 5;
    s.exit.memAvailablePct = 5;
    const used = (pct: number): Reading => ({ avail: 100 - pct });
    const run = feed([...times(5, used(75)), ...times(span(300_000), used(55)), ...times(span(130_000), used(45))], { s });
    expect(run.transitions.map((t) => t.to)).toEqual(['degrade', 'normal']);
    expect(run.transitions[0]!.detail.conditions).toEqual(['usedPct>=70']);
    expect(run.transitions[1]!.at - run.transitions[0]!.at).toBeGreaterThan(300_000);
  });

  it('rejects settings that could never leave or would flap', () => {
    const s = defaultDegradeSettings();
    expect(validateDegradeSettings(s)).toEqual([]);
    s.exit.usedPct = 95;
    expect(validateDegradeSettings(s).join()).toMatch(/RECOVER_PCT/);
  });

  it('maps the config section (kit percentages and dwell seconds)', () => {
    const s = degradeSettingsFromConfig({ warnPct: 70, degradePct: 88, recoverPct: 75, enterDwellSeconds: 4, exitDwellSeconds: 30, minDegradedSeconds: 60, flapGuardSeconds: 600 });
    expect(s).toMatchObject({ warnUsedPct: 70, enter: { usedPct: 88 }, exit: { usedPct: 75 }, enterDwellMs: 4000, exitDwellMs: 30_000, minDegradeMs: 60_000, flapExitDwellMs: 600_000 });
    expect(validateDegradeSettings(s)).toEqual([]);
    // 4 s at 2 s: two breaching samples enter
    expect(feed([HOT, HOT], { s }).transitions).toHaveLength(1);
  });
});

import type { CgroupEvents, PressureSample } from '../../clients/node-pressure/index.js';
import { enterSamples, type DegradeSettings } from './settings.js';
import { evaluate, type Evaluation, type SignalValues } from './signals.js';

/**
 * The degrade state machine of controller-practices.md §10.3, pure: the same samples at the same times always give
 * the same modes, so the table tests need no clock and no files.
 */

export type DegradeMode = 'normal' | 'degrade';

export interface HysteresisState {
  mode: DegradeMode;
  /** when the current mode began (epoch ms) */
  since: number;
  /** consecutive samples with an enter breach, while normal */
  breachStreak: number;
  lastSampleAt: number | null;
  /** start of the current all-clear stretch, while degraded; any breach resets it */
  clearSince: number | null;
  lastExitAt: number | null;
  /** re-entered within flapWindowMs of the last exit: the next exit needs flapExitDwellMs clean */
  flapGuard: boolean;
  /** previous sample's cgroup counters, to see new OOM / limit events */
  events: CgroupEvents | null;
}

export interface Transition {
  to: DegradeMode;
  /** CamelCase, condition-reason style */
  reason: 'MemoryPressureSustained' | 'MemoryPressureSevere' | 'OomEvent' | 'MemoryPressureCleared';
  /** stable per transition; notices and scale effects key their idempotency on it */
  id: string;
  at: number;
  detail: { conditions: string[]; values: SignalValues; flapGuard?: boolean };
}

export interface StepResult {
  state: HysteresisState;
  transition?: Transition;
  evaluation: Evaluation;
}

/** `restored` resumes a mode read back from the state file, so a restart does not forget it is degraded. */
export function initialHysteresisState(now: number, restored?: { mode: DegradeMode; since: number }): HysteresisState {
  return {
    mode: restored?.mode ?? 'normal',
    since: restored?.since ?? now,
    breachStreak: 0,
    lastSampleAt: null,
    clearSince: null,
    lastExitAt: null,
    flapGuard: false,
    events: null,
  };
}

export const transitionId = (to: DegradeMode, at: number): string => `${to}-${at}`;

function enterReason(ev: Evaluation): Transition['reason'] {
  if (ev.severe.length === 0) return 'MemoryPressureSustained';
  return ev.severe.every((c) => c === 'oomEvent' || c === 'limitHit') ? 'OomEvent' : 'MemoryPressureSevere';
}

export function step(state: HysteresisState, sample: PressureSample, now: number, s: DegradeSettings): StepResult {
  const evaluation = evaluate(sample, state.events, s);
  const gap = state.lastSampleAt !== null && now - state.lastSampleAt > s.maxSampleGapMs;
  const base: HysteresisState = { ...state, lastSampleAt: now, events: sample.cgroup?.events ?? null };

  if (state.mode === 'normal') {
    const breaching = evaluation.breaches.length + evaluation.severe.length > 0;
    const breachStreak = breaching ? (gap ? 1 : state.breachStreak + 1) : 0;
    const immediate = evaluation.severe.length > 0;
    if (!immediate && breachStreak < enterSamples(s)) return { state: { ...base, breachStreak }, evaluation };
    const flapGuard = state.lastExitAt !== null && now - state.lastExitAt < s.flapWindowMs;
    const transition: Transition = {
      to: 'degrade',
      reason: enterReason(evaluation),
      id: transitionId('degrade', now),
      at: now,
      detail: {
        conditions: immediate ? evaluation.severe : evaluation.breaches,
        values: evaluation.values,
        ...(flapGuard ? { flapGuard } : {}),
      },
    };
    return {
      state: { ...base, mode: 'degrade', since: now, breachStreak: 0, clearSince: null, flapGuard },
      transition,
      evaluation,
    };
  }

  // degraded: a gap in sampling is not evidence of calm, so it restarts the clear stretch
  const clear = evaluation.unclear.length === 0;
  const clearSince = !clear ? null : gap || state.clearSince === null ? now : state.clearSince;
  const dwell = state.flapGuard ? s.flapExitDwellMs : s.exitDwellMs;
  const leave = clearSince !== null && now - clearSince >= dwell && now - state.since >= s.minDegradeMs;
  if (!leave) return { state: { ...base, clearSince }, evaluation };
  const transition: Transition = {
    to: 'normal',
    reason: 'MemoryPressureCleared',
    id: transitionId('normal', now),
    at: now,
    detail: { conditions: [], values: evaluation.values },
  };
  return {
    state: { ...base, mode: 'normal', since: now, breachStreak: 0, clearSince: null, lastExitAt: now, flapGuard: false },
    transition,
    evaluation,
  };
}

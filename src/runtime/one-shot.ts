import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Action } from '../model/index.js';
import type { MissionControlApi } from '../clients/mission-control/api.js';
import { MemoryStateFile } from '../clients/state/index.js';
import type { EffectsDoor } from './effects/door.js';
import { ExecutionError, Executor, type AppliedEntry, type Handlers, type PlannedEntry, type TaskContext } from './executor.js';
import { GlobalStateFile } from './global-state.js';
import { actionLine } from './plan-printer.js';
import { BoardStore } from './store.js';

/** An action as a one-shot command saw it: applied (with its outcome) or, behind a shut door, only described. */
export type OneShotEntry = PlannedEntry | AppliedEntry;

export const wasApplied = (e: OneShotEntry): e is AppliedEntry => 'outcome' in e;

/**
 * The writes of the commands outside the loop (bootstrap, `task create`) go through the executor like the
 * loop's: applied while the door is open (metrics, the idempotency rules, a debug line each), and while it is
 * shut (`closed`: 'dry-run', 'plan', 'standby') only described and logged as `dry-run: would …`. A failure is
 * thrown as the first failed action's own error, so a command reports — and `run`'s start-up classifies —
 * what the peer said.
 */
export async function applyOrDescribe(
  executor: Executor,
  actions: readonly Action[],
  opts: { closed: string | null; logger: Logger; ctx?: TaskContext | null; now?: number },
): Promise<OneShotEntry[]> {
  const { closed, logger } = opts;
  const ctx = opts.ctx ?? null;
  const now = opts.now ?? Date.now();
  if (actions.length === 0) return [];
  if (closed) {
    const described = executor.describe(actions, ctx, now);
    // as the loop does: a dry run is read by a person, a plan or a standby's only by whoever asks for debug
    const level = closed === 'dry-run' ? 'info' : 'debug';
    for (const e of described) logger[level]({ reconciler: e.reconciler, action: e.action, wouldChange: e.summary }, `${closed}: would ${e.action}: ${e.reason}`);
    return described;
  }
  try {
    const applied = await executor.apply(actions, ctx, now);
    for (const e of applied) logger.debug({ reconciler: e.reconciler, action: e.action, outcome: e.outcome }, actionLine(e));
    return applied;
  } catch (err) {
    if (err instanceof ExecutionError && err.cause instanceof Error) throw err.cause;
    throw err;
  }
}

/**
 * An executor for a command outside the loop: its board store (the caller's, to read what was created or
 * refreshed, or an empty one), the effect handlers it needs beyond Mission Control's, and the global state file of
 * `stateDir`, read only unless an action writes it; `mc` and the handlers' clients must be behind `door`. With
 * `ledger: 'this-run'` the global ledger (task-less posts) lives in memory for this run only: a command run from
 * cron whose record is the channel (`cost report --post`) then writes nothing into the state folder.
 */
export function oneShotExecutor(o: {
  mc: MissionControlApi;
  logger: Logger;
  stateDir: string;
  door: EffectsDoor;
  store?: BoardStore;
  handlers?: Handlers;
  ledger?: 'state-file' | 'this-run';
}): Executor {
  const file = o.ledger === 'this-run' ? { file: new MemoryStateFile(join(o.stateDir, 'state.json (this run only)')) } : {};
  const globalState = new GlobalStateFile(o.stateDir, o.door, { logger: o.logger, ...file });
  return new Executor({ mc: o.mc, store: o.store ?? new BoardStore(o.mc, o.logger), handlers: o.handlers ?? {}, globalState, logger: o.logger });
}

import {
  CONDITIONS_FIELD,
  F,
  linkedSessionKey,
  patch,
  plausibleCost,
  type GatewayView,
  type LedgerEntry,
  type PlanResult,
  type Task,
  type TaskChange,
  type TaskReconciler,
  type TaskSnapshot,
  type Wants,
} from '../../src/model/index.js';
import { sessionTree, treeIdle, treeLastChange, treeVersion } from './tree.js';

/**
 * Cost (issue 5, Card 8): `mc_actual_cost_usd` = cumulative cost of the linked session plus every session
 * it spawned, from `sessions.usage` — never the row's token fields, which hold the LAST run only
 * (openclaw-gateway.md §7) and would double count if summed across polls.
 *
 * Calls are the expensive part, so usage is asked for only when it can matter: the tree's row versions
 * differ from the ones recorded in the ledger with the last cost (`cost:seen`), or its tree is idle but the
 * cost is not final yet. Writes: the field when it moved by a cent or more while the run goes on; the final
 * value, even sub-cent, once the tree is idle — whatever the task's status, since on a default board a
 * finished run waits in review for a human — then `cost:final` (with the tree's version) stops all further
 * work until the tree changes again (a new run, a new child, another linked session).
 */

export const NAME = 'cost';
export const SEEN = 'cost:seen';
export const FINAL = 'cost:final';
/** the smallest change worth a write while the task is still running */
export const WRITE_THRESHOLD_USD = 0.01;
/** the gateway refreshes its usage cache in ~15 s (§10) */
export const STALE_REQUEUE_MS = 15_000;
/**
 * A tree quiet for this long whose usage is still not fresh has none to report (a session without model
 * calls never gets a usage entry): stop asking until a row changes again.
 */
export const STALE_GIVE_UP_MS = 10 * 60_000;
/** six decimals: float sums stay readable, and sub-cent totals of cheap runs survive */
const round = (usd: number): number => Math.round(usd * 1e6) / 1e6;

/** The recorded cost; Mission Control answers decimals as numbers, a hand edit may leave a string. */
export function recordedCost(task: Task): number {
  return plausibleCost(task.fields[F.actualCost]) ?? 0;
}

interface Scope {
  keys: string[];
  version: string;
  idle: boolean;
  gateway: GatewayView;
  /** nothing in the tree runs any more: the next value is the run's final one, whatever the task's status */
  finalReady: boolean;
  seen: LedgerEntry | undefined;
}

type WantsSnapshot = Pick<TaskSnapshot, 'task' | 'status' | 'boundFields' | 'gateway'>;

function scopeOf(s: WantsSnapshot): Scope | null {
  const { task, status, boundFields, gateway } = s;
  // without the ledger there is no memory of what was read, and every pass would call the gateway
  if (!boundFields.has(F.actualCost) || !boundFields.has(CONDITIONS_FIELD)) return null;
  const final = status.ledger[FINAL];
  // recorded before finals carried the tree version: final for as long as the task stays done
  if (final && final.ext === undefined && task.status === 'done') return null;
  const root = linkedSessionKey(task);
  if (!root || !gateway?.synced) return null;
  const keys = sessionTree(root, gateway);
  const version = treeVersion(keys, gateway);
  // final for this version of the tree; a new run (or a new child, or another linked session) moves it
  if (final?.ext === version) return null;
  const idle = treeIdle(keys, gateway);
  return { keys, version, idle, gateway, finalReady: idle, seen: status.ledger[SEEN] };
}

/** Worth a `sessions.usage` call: the tree changed since the last recorded read, or the final value is due. */
function needsUsage(scope: Scope): boolean {
  if (scope.seen?.ext !== scope.version) return true;
  // a give-up (s: failed) at this very version is not retried until a row changes
  return scope.finalReady && scope.seen.s !== 'failed';
}

export const costReconciler: TaskReconciler = {
  scope: 'task',
  name: NAME,

  wants(task, status, snap): Wants | undefined {
    const scope = scopeOf({ task, status, boundFields: snap.boundFields, gateway: snap.gateway });
    return scope && needsUsage(scope) ? { usage: scope.keys } : undefined;
  },

  plan(snap: TaskSnapshot): PlanResult {
    const scope = scopeOf(snap);
    if (!scope || !needsUsage(scope)) return { actions: [] };
    const refused = scope.keys.map((k) => scope.gateway.readErrors?.get(k)).find((e) => e !== undefined);
    if (refused) return giveUp(snap, scope, `usage unreadable: ${refused}`);
    const readings = scope.keys.map((k) => scope.gateway.usage.get(k));
    // null from the client = the gateway has no sessions.usage for us (old version, missing scope)
    if (readings.some((u) => u === undefined)) return giveUp(snap, scope, 'usage unavailable');
    if (readings.some((u) => !u!.fresh)) {
      const last = treeLastChange(scope.keys, scope.gateway);
      if (last !== null && snap.now - last < STALE_GIVE_UP_MS) return { actions: [], requeueAfterMs: STALE_REQUEUE_MS };
      return giveUp(snap, scope, 'usage not fresh');
    }
    const total = round(readings.reduce((sum, u) => sum + (u!.totalCostUsd ?? 0), 0));
    const current = recordedCost(snap.task);
    const moved = Math.abs(total - current) >= WRITE_THRESHOLD_USD;
    const differs = round(total) !== round(current);

    const change: TaskChange = {};
    if (moved || (scope.finalReady && differs)) change.fields = { [F.actualCost]: total };
    const ledger: Record<string, LedgerEntry> = {};
    // record the versions only alongside a write we make anyway, or once the tree went quiet: while a run
    // goes on its row changes every few seconds, and a PATCH per change would be pure noise
    if (change.fields || scope.idle) ledger[SEEN] = { s: 'done', at: snap.now, ext: scope.version };
    if (scope.finalReady) ledger[FINAL] = { s: 'done', at: snap.now, ext: scope.version };
    if (Object.keys(ledger).length === 0) return { actions: [] };
    change.ledger = ledger;
    if (scope.finalReady) {
      const children = scope.keys.length - 1;
      change.comment = `cost: final $${total.toFixed(4)} (session${children > 0 ? ` + ${children} spawned` : ''}, from sessions.usage)`;
    }
    const reason = scope.finalReady
      ? `the run finished (sessions idle, task ${snap.task.status}); final cost $${total.toFixed(4)}`
      : moved
        ? `cost moved from $${current.toFixed(4)} to $${total.toFixed(4)}`
        : 'sessions idle; recording the usage read so it is not repeated';
    return { actions: [patch(NAME, snap.task, reason, change)] };
  },
};

/** Stop asking at this version; a later row change (a new run, a new child) asks again. */
function giveUp(snap: TaskSnapshot, scope: Scope, why: string): PlanResult {
  if (scope.seen?.s === 'failed' && scope.seen.ext === scope.version) return { actions: [] };
  return {
    actions: [
      patch(NAME, snap.task, `${why}; not asking again until the sessions change`, {
        ledger: { [SEEN]: { s: 'failed', at: snap.now, ext: scope.version } },
      }),
    ],
  };
}

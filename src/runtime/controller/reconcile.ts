import { randomUUID } from 'node:crypto';
import type { Action, GlobalReconciler, GlobalState, Reconciler, TaskReconciler } from '../../model/index.js';
import type { Admission } from '../admission.js';
import { ExecutionError, type AppliedEntry, type Executor, type PlannedEntry, type TaskContext } from '../executor.js';
import { withoutLoneRiders } from '../merge.js';
import { actionLine } from '../plan-printer.js';
import { buildGlobalSnapshot, buildTaskSnapshot, type SnapshotDeps } from '../snapshot.js';
import type { BoardStore } from '../store.js';
import type { FirstRun } from './first-run.js';
import { globalReconcilers, taskReconcilers, type ControllerOptions, type Mode } from './options.js';
import type { SessionIndex } from './session-index.js';

export interface KeyResult {
  entries: (PlannedEntry | AppliedEntry)[];
  requeueAfterMs?: number;
}

export interface ReconcileDeps {
  options: ControllerOptions;
  store: BoardStore;
  executor: Executor;
  admission: Admission;
  sessions: SessionIndex;
  firstRun: FirstRun;
}

const parseTaskKey = (key: string): { boardId: string; taskId: string } | null => {
  const m = /^task\/([^/]+)\/([^/]+)$/.exec(key);
  return m ? { boardId: m[1]!, taskId: m[2]! } : null;
};

const withRequeue = (entries: KeyResult['entries'], requeueAfterMs: number | undefined): KeyResult => ({
  entries,
  ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}),
});

/**
 * The reconcile of one key: build its snapshot, ask every reconciler for actions (a planner that throws is logged
 * and skipped), admit them and hand them to the executor — or, in plan mode and behind a closed door, only
 * describe them.
 */
export class KeyReconcile {
  private readonly tasks: TaskReconciler[];
  private readonly globals: GlobalReconciler[];

  constructor(private readonly d: ReconcileDeps) {
    this.tasks = taskReconcilers(d.options.reconcilers);
    this.globals = globalReconcilers(d.options.reconcilers);
  }

  /** What a snapshot is built from; also what the sync warms the gateway reads with. */
  snapshotDeps(): SnapshotDeps {
    const o = this.d.options;
    return {
      mc: o.mc,
      store: this.d.store,
      settings: o.settings,
      reconcilers: o.reconcilers,
      global: this.globalState(),
      ...(o.gateway ? { gateway: o.gateway } : {}),
      ...(o.pressure ? { pressure: o.pressure } : {}),
      ...(o.posted ? { posted: o.posted } : {}),
      linkedSessions: this.d.sessions,
    };
  }

  private globalState(): GlobalState {
    const o = this.d.options;
    return { ...o.globalState.get(), degraded: o.degraded?.() ?? false, firstRunAt: this.d.firstRun.all() };
  }

  async run(key: string, mode: Mode): Promise<KeyResult> {
    const { options: o, store, executor, admission } = this.d;
    const now = Date.now();
    const ref = parseTaskKey(key);
    const log = o.logger.child({ reconcileId: randomUUID().slice(0, 8), key, ...(ref ? { taskId: ref.taskId } : {}) });
    const actions: Action[] = [];
    let requeueAfterMs: number | undefined;
    const consider = (r: Reconciler, run: () => { actions: Action[]; requeueAfterMs?: number }) => {
      const started = performance.now();
      try {
        const result = run();
        actions.push(...result.actions);
        if (result.requeueAfterMs !== undefined) requeueAfterMs = Math.min(requeueAfterMs ?? Infinity, result.requeueAfterMs);
        o.metrics?.reconciled?.(r.name, 'success', (performance.now() - started) / 1000);
      } catch (err) {
        // A planner bug for one task must not stop the others: log it once for this key and move on.
        o.metrics?.reconciled?.(r.name, 'error', (performance.now() - started) / 1000, 'planner');
        log.error({ reconciler: r.name, err: (err as Error).message }, 'planner failed');
      }
    };

    let ctx: TaskContext | null = null;
    const planNow = async () => {
      if (ref) {
        const board = store.state(ref.boardId);
        const task = board.tasks.get(ref.taskId);
        if (!task) return;
        ctx = { task, boundFields: board.boundFields };
        const snapshot = await buildTaskSnapshot(this.snapshotDeps(), ref.boardId, task, now);
        for (const r of this.tasks) consider(r, () => r.plan(snapshot));
      } else {
        const r = this.globals.find((g) => g.key === key);
        if (r) {
          const snapshot = await buildGlobalSnapshot(this.snapshotDeps(), r, now);
          consider(r, () => r.plan(snapshot));
        }
      }
      actions.splice(0, actions.length, ...withoutLoneRiders(actions));
    };
    await planNow();
    if (actions.length === 0) return withRequeue([], requeueAfterMs);

    const { admitted, deferred } = admission.admit(key, actions, mode);
    const closed = mode === 'plan' ? 'plan' : o.door.closedReason;
    if (closed) {
      const described = executor.describe(actions, ctx, now);
      // an operator running a dry run wants to read what would happen; a standby's plans are only noise
      const level = closed === 'dry-run' ? 'info' : 'debug';
      for (const e of described) log[level]({ reconciler: e.reconciler, action: e.action, wouldChange: e.summary }, `${closed}: would ${e.action}: ${e.reason}`);
      return withRequeue(described, requeueAfterMs);
    }
    const describeDeferred = (held: readonly Action[]): AppliedEntry[] =>
      executor.describe(held, ctx, now).map((e) => ({ ...e, outcome: 'deferred' as const, detail: 'paused (degraded or over the per-pass limit)' }));
    let deferredEntries = describeDeferred(deferred);
    try {
      const statusBefore = (ctx as TaskContext | null)?.task.status;
      let applied = await executor.apply(admitted, ctx, now, { replanOnRefusal: ref !== null });
      // Once more in the same pass when the board refused a status (re-read its rules first, they may have
      // changed under us) or the task changed status (a task that just became done is delivered now, not a pass later).
      const refused = applied.some((e) => e.refused !== undefined);
      if (ref && (refused || (ctx as TaskContext | null)?.task.status !== statusBefore)) {
        if (refused) await store.refreshBoard(ref.boardId);
        actions.length = 0;
        await planNow();
        const again = admission.admit(key, actions, mode);
        // what waits is what the latest plan holds back (a concern paused in both plans is reported once)
        deferredEntries = describeDeferred(again.deferred);
        applied = [...applied, ...(await executor.apply(again.admitted, ctx, now))];
      }
      if (applied.some((e) => e.action === 'discord.post' && e.outcome === 'applied')) admission.discordSucceeded(key);
      for (const e of applied) log.info({ reconciler: e.reconciler, action: e.action, outcome: e.outcome }, actionLine(e));
      // A newly linked session: its pushes now reach this task, and the readers of a linked session look at
      // once instead of at the next resync.
      if (ref && this.d.sessions.relinked(ref.boardId, ctx!.task)) requeueAfterMs = 0;
      return withRequeue([...applied, ...deferredEntries], requeueAfterMs);
    } catch (err) {
      if (!(err instanceof ExecutionError)) throw err;
      for (const e of err.entries)
        log[e.outcome === 'failed' ? 'warn' : 'info']({ reconciler: e.reconciler, action: e.action, outcome: e.outcome, detail: e.detail }, actionLine(e));
      // Only Discord failed: back off the posts of this key on their own, so an outage never holds back the
      // key's other concerns (the watchdog keeps reacting to events and resyncs meanwhile).
      if (err.entries.every((e) => e.outcome !== 'failed' || e.action === 'discord.post')) {
        const { failures, delayMs } = admission.discordFailed(key);
        o.metrics?.onRetry?.(key, failures, delayMs, err);
        return { entries: [...err.entries, ...deferredEntries], requeueAfterMs: Math.min(requeueAfterMs ?? Infinity, delayMs) };
      }
      throw err;
    }
  }
}

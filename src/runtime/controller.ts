import { randomUUID } from 'node:crypto';
import pLimit from 'p-limit';
import type { Logger } from 'pino';
import {
  readStatus,
  taskKey,
  type Action,
  type GlobalState,
  type PlannerSettings,
  type Reconciler,
  type Session,
  type Task,
} from '../model/index.js';
import type { MissionControlApi } from '../clients/mission-control/api.js';
import { Admission } from './admission.js';
import type { EffectsDoor } from './effects/door.js';
import { jittered } from './backoff.js';
import { Executor, ExecutionError, type AppliedEntry, type Handlers, type PlannedEntry, type TaskContext } from './executor.js';
import type { GatewaySource } from './gateway-source.js';
import { actionLine } from './plan-printer.js';
import type { GlobalStateFile } from './global-state.js';
import type { PostedMessages } from './posted.js';
import { WorkQueue, type QueueHooks } from './queue.js';
import { withoutLoneRiders } from './merge.js';
import { buildGlobalSnapshot, buildTaskSnapshot, warmGatewayReads, type SnapshotDeps } from './snapshot.js';
import { BoardStore, linkedTasks } from './store.js';

export interface ControllerMetrics extends QueueHooks {
  reconciled?(reconciler: string, result: 'success' | 'error', seconds: number, errorClass?: string): void;
  action?(action: string, outcome: string): void;
  synced?(source: string, ok: boolean): void;
}

export interface ControllerOptions {
  boardIds: string[];
  settings: PlannerSettings;
  reconcilers: Reconciler[];
  /** already behind `door`: its writes are refused while the door is closed */
  mc: MissionControlApi;
  gateway?: GatewaySource;
  handlers: Handlers;
  globalState: GlobalStateFile;
  logger: Logger;
  loop: { concurrency: number; backoffMinMs: number; backoffMaxMs: number; resyncMs: number };
  /** closed for `plan`, dry-run and standbys: actions are then only described, and any write is refused */
  door: EffectsDoor;
  degraded?: () => boolean;
  /** reconcilers whose actions wait while degraded */
  pausedWhileDegraded?: readonly string[];
  /** the degrade signal's reading, handed to global planners */
  pressure?: () => unknown;
  /** what is already in the Discord channels, for global planners whose ledger is only a local cache */
  posted?: PostedMessages;
  metrics?: ControllerMetrics;
  /** plan only: custom fields counted as bound (the ones `run` would bootstrap before its first pass) */
  assumeBoundFields?: readonly string[];
  /** aborted at the shutdown drain deadline: in-flight effects stop instead of outliving the process */
  signal?: AbortSignal;
}

export interface KeyReport {
  key: string;
  entries: (PlannedEntry | AppliedEntry)[];
  error?: string;
}

export interface PassReport {
  keys: number;
  entries: (PlannedEntry | AppliedEntry)[];
  failures: KeyReport[];
  requests: number;
  writes: number;
}

type Mode = 'apply' | 'plan';

const sessionKeyOf = (t: Task): string | null => {
  const key = t.fields['mc_session_key'];
  return typeof key === 'string' && key.trim() ? key.trim() : null;
};

const parseTaskKey = (key: string): { boardId: string; taskId: string } | null => {
  const m = /^task\/([^/]+)\/([^/]+)$/.exec(key);
  return m ? { boardId: m[1]!, taskId: m[2]! } : null;
};

/**
 * The loop: sources fill caches, keys go through the work queue, each key's reconcile builds a snapshot,
 * asks every reconciler for actions and hands them to the executor (or to the plan printer).
 */
export class Controller {
  readonly store: BoardStore;
  readonly executor: Executor;
  private queue: WorkQueue | null = null;
  private resyncTimer: NodeJS.Timeout | null = null;
  /** the running resync, awaited by `settle` so nothing outlives a shutdown */
  private resyncing: Promise<void> | null = null;
  private stopped = false;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private streams: { close(): void }[] = [];
  private firstRunAt: Record<string, number> = {};
  /** session key → task keys linked to it (directly or as a spawned child), for push events */
  private sessionIndex = new Map<string, Set<string>>();
  /** the row of an unlinked session last handed to the reconcilers that may adopt it (cleared each sync) */
  private unlinkedSeen = new Map<string, Session>();
  private readonly warnedUnbound = new Set<string>();
  private readonly admission: Admission;
  lastSyncAt: number | null = null;
  heartbeatAt = Date.now();

  constructor(private readonly o: ControllerOptions) {
    this.store = new BoardStore(o.mc, o.logger);
    this.admission = new Admission({
      pausedWhileDegraded: o.pausedWhileDegraded ?? [],
      degraded: () => o.degraded?.() ?? false,
      deliveryMaxPerPass: o.settings.delivery.maxPerPass,
      backoffMinMs: o.loop.backoffMinMs,
      backoffMaxMs: o.loop.backoffMaxMs,
    });
    this.executor = new Executor({
      mc: o.mc,
      store: this.store,
      handlers: o.handlers,
      globalState: o.globalState,
      logger: o.logger,
      ...(o.signal ? { signal: o.signal } : {}),
      onAction: (a, outcome) => o.metrics?.action?.(a, outcome),
    });
  }

  private get taskReconcilers() {
    return this.o.reconcilers.filter((r) => r.scope === 'task');
  }

  private get globalReconcilers() {
    return this.o.reconcilers.filter((r) => r.scope === 'global');
  }

  /** Refreshes every board and the gateway; returns the keys whose inputs changed. */
  async sync(mode: Mode): Promise<string[]> {
    const changed = new Set<string>();
    // The gateway is listed while the boards are: the two peers answer independently.
    const gatewayListed = this.o.gateway?.refresh().then(
      (r) => ({ ok: true as const, r }),
      (err: unknown) => ({ ok: false as const, err }),
    );
    for (const boardId of this.o.boardIds) {
      try {
        const r = await this.store.refresh(boardId);
        for (const f of this.o.assumeBoundFields ?? []) this.store.state(boardId).boundFields.add(f);
        for (const id of r.changedTaskIds) changed.add(taskKey(boardId, id));
        this.o.metrics?.synced?.('mission-control', true);
      } catch (err) {
        this.o.metrics?.synced?.('mission-control', false);
        throw err;
      }
      this.updateFirstRun(boardId, mode);
      if (!this.store.state(boardId).boundFields.has('mc_conditions') && !this.warnedUnbound.has(boardId)) {
        this.warnedUnbound.add(boardId);
        this.o.logger.warn({ boardId }, 'custom field mc_conditions is not bound to this board: conditions cannot be recorded; run `mc-controller bootstrap`');
      }
    }
    if (this.o.gateway && gatewayListed) {
      const listed = await gatewayListed;
      if (listed.ok) {
        this.rebuildSessionIndex();
        for (const k of listed.r.changedKeys) for (const t of this.sessionIndex.get(k) ?? []) changed.add(t);
        this.o.metrics?.synced?.('gateway', true);
      } else {
        this.o.gateway.markUnreachable();
        this.o.metrics?.synced?.('gateway', false);
        this.o.logger.warn({ err: (listed.err as Error).message }, 'gateway unreachable; session-based checks wait for it');
      }
    }
    // the reads the keys will ask for, started together now rather than a few keys at a time
    if (this.o.gateway) await warmGatewayReads(this.snapshotDeps(), Date.now());
    this.admission.newPass();
    this.lastSyncAt = Date.now();
    return [...changed];
  }

  /** The board is the durable record: the earliest condition any task carries is when we first ran there. */
  private updateFirstRun(boardId: string, mode: Mode): void {
    let earliest = this.o.globalState.get().firstRunAt[boardId] ?? Number.POSITIVE_INFINITY;
    for (const t of this.store.state(boardId).tasks.values()) {
      for (const c of readStatus(t.fields).conditions) {
        const at = Date.parse(c.lastTransitionTime);
        if (at < earliest) earliest = at;
      }
    }
    if (!Number.isFinite(earliest)) {
      earliest = this.firstRunAt[boardId] ?? Date.now();
      if (mode === 'apply' && this.o.door.isOpen) this.o.globalState.merge({ firstRunAt: { ...this.o.globalState.get().firstRunAt, [boardId]: earliest } });
    }
    this.firstRunAt[boardId] = earliest;
  }

  private rebuildSessionIndex(): void {
    const index = new Map<string, Set<string>>();
    for (const [boardId, s] of this.store.boards) {
      for (const t of s.tasks.values()) {
        const key = sessionKeyOf(t);
        if (key) index.set(key, (index.get(key) ?? new Set()).add(taskKey(boardId, t.id)));
      }
    }
    this.sessionIndex = index;
    this.unlinkedSeen.clear();
  }

  /** Whether the store's row of `before` now names another session; if so the push index follows. */
  private relinked(boardId: string, before: Task): boolean {
    const after = this.store.state(boardId).tasks.get(before.id);
    const key = after ? sessionKeyOf(after) : null;
    if (!key || key === sessionKeyOf(before)) return false;
    const tk = taskKey(boardId, before.id);
    this.sessionIndex.set(key, (this.sessionIndex.get(key) ?? new Set()).add(tk));
    return true;
  }

  allKeys(): string[] {
    const keys: string[] = [];
    for (const [boardId, s] of this.store.boards) for (const id of s.tasks.keys()) keys.push(taskKey(boardId, id));
    for (const r of this.globalReconcilers) if (r.scope === 'global') keys.push(r.key);
    return keys;
  }

  private snapshotDeps(): SnapshotDeps {
    return {
      mc: this.o.mc,
      store: this.store,
      settings: this.o.settings,
      reconcilers: this.o.reconcilers,
      global: this.globalState(),
      ...(this.o.gateway ? { gateway: this.o.gateway } : {}),
      ...(this.o.pressure ? { pressure: this.o.pressure } : {}),
      ...(this.o.posted ? { posted: this.o.posted } : {}),
      linkedSessions: this.sessionIndex,
    };
  }

  private globalState(): GlobalState {
    return { ...this.o.globalState.get(), degraded: this.o.degraded?.() ?? false, firstRunAt: { ...this.firstRunAt } };
  }

  /** Plans one key and applies (or, in plan mode and on standbys, only describes) its actions. */
  async reconcileKey(key: string, mode: Mode): Promise<{ entries: (PlannedEntry | AppliedEntry)[]; requeueAfterMs?: number }> {
    this.heartbeatAt = Date.now();
    const now = Date.now();
    const log = this.o.logger.child({ reconcileId: randomUUID().slice(0, 8), key, ...(parseTaskKey(key) ? { taskId: parseTaskKey(key)!.taskId } : {}) });
    const ref = parseTaskKey(key);
    const actions: Action[] = [];
    let requeueAfterMs: number | undefined;
    const consider = (r: Reconciler, run: () => { actions: Action[]; requeueAfterMs?: number }) => {
      const started = performance.now();
      try {
        const result = run();
        actions.push(...result.actions);
        if (result.requeueAfterMs !== undefined) requeueAfterMs = Math.min(requeueAfterMs ?? Infinity, result.requeueAfterMs);
        this.o.metrics?.reconciled?.(r.name, 'success', (performance.now() - started) / 1000);
      } catch (err) {
        // A planner bug for one task must not stop the others: log it once for this key and move on.
        this.o.metrics?.reconciled?.(r.name, 'error', (performance.now() - started) / 1000, 'planner');
        log.error({ reconciler: r.name, err: (err as Error).message }, 'planner failed');
      }
    };

    let ctx: TaskContext | null = null;
    const planNow = async () => {
      if (ref) {
        const board = this.store.state(ref.boardId);
        const task = board.tasks.get(ref.taskId);
        if (!task) return;
        ctx = { task, boundFields: board.boundFields };
        const snapshot = await buildTaskSnapshot(this.snapshotDeps(), ref.boardId, task, now);
        for (const r of this.taskReconcilers) if (r.scope === 'task') consider(r, () => r.plan(snapshot));
      } else {
        const r = this.globalReconcilers.find((g) => g.scope === 'global' && g.key === key);
        if (r && r.scope === 'global') {
          const snapshot = await buildGlobalSnapshot(this.snapshotDeps(), r, now);
          consider(r, () => r.plan(snapshot));
        }
      }
      actions.splice(0, actions.length, ...withoutLoneRiders(actions));
    };
    await planNow();
    if (actions.length === 0) return { ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}), entries: [] };

    const { admitted, deferred } = this.admission.admit(key, actions, mode);
    const closed = mode === 'plan' ? 'plan' : this.o.door.closedReason;
    if (closed) {
      const described = this.executor.describe(actions, ctx, now);
      // an operator running a dry run wants to read what would happen; a standby's plans are only noise
      const level = closed === 'dry-run' ? 'info' : 'debug';
      for (const e of described) log[level]({ reconciler: e.reconciler, action: e.action, wouldChange: e.summary }, `${closed}: would ${e.action}: ${e.reason}`);
      return { entries: described, ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}) };
    }
    const deferredEntries: AppliedEntry[] = this.executor
      .describe(deferred, ctx, now)
      .map((e) => ({ ...e, outcome: 'deferred' as const, detail: 'paused (degraded or over the per-pass limit)' }));
    try {
      const statusBefore = (ctx as TaskContext | null)?.task.status;
      let applied = await this.executor.apply(admitted, ctx, now, { replanOnRefusal: ref !== null });
      // Once more in the same pass when the board refused a status (re-read its rules first, they may have
      // changed under us) or the task changed status (a task that just became done is delivered now, not a pass later).
      const refused = applied.some((e) => e.refused !== undefined);
      if (ref && (refused || (ctx as TaskContext | null)?.task.status !== statusBefore)) {
        if (refused) await this.store.refreshBoard(ref.boardId);
        actions.length = 0;
        await planNow();
        const again = this.admission.admit(key, actions, mode);
        applied = [...applied, ...(await this.executor.apply(again.admitted, ctx, now))];
      }
      if (applied.some((e) => e.action === 'discord.post' && e.outcome === 'applied')) this.admission.discordSucceeded(key);
      for (const e of applied) log.info({ reconciler: e.reconciler, action: e.action, outcome: e.outcome }, actionLine(e));
      // A newly linked session: its pushes now reach this task, and the readers of a linked session look at
      // once instead of at the next resync.
      if (ref && this.relinked(ref.boardId, ctx!.task)) requeueAfterMs = 0;
      return { entries: [...applied, ...deferredEntries], ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}) };
    } catch (err) {
      if (!(err instanceof ExecutionError)) throw err;
      for (const e of err.entries)
        log[e.outcome === 'failed' ? 'warn' : 'info']({ reconciler: e.reconciler, action: e.action, outcome: e.outcome, detail: e.detail }, actionLine(e));
      // Only Discord failed: back off the posts of this key on their own, so an outage never holds back the
      // key's other concerns (the watchdog keeps reacting to events and resyncs meanwhile).
      if (err.entries.every((e) => e.outcome !== 'failed' || e.action === 'discord.post')) {
        const { failures, delayMs } = this.admission.discordFailed(key);
        this.o.metrics?.onRetry?.(key, failures, delayMs, err);
        return { entries: [...err.entries, ...deferredEntries], requeueAfterMs: Math.min(requeueAfterMs ?? Infinity, delayMs) };
      }
      throw err;
    }
  }

  /** One full pass: sync, then every key once (bounded concurrency, no retries). For `once` and `plan`. */
  async pass(mode: Mode, onKeyDone?: (done: number, total: number) => void): Promise<PassReport> {
    const before = { ...this.o.mc.stats };
    await this.sync(mode);
    const keys = this.allKeys();
    const limit = pLimit(this.o.loop.concurrency);
    const entries: (PlannedEntry | AppliedEntry)[] = [];
    const failures: KeyReport[] = [];
    let done = 0;
    await Promise.all(
      keys.map((key) =>
        limit(async () => {
          try {
            entries.push(...(await this.reconcileKey(key, mode)).entries);
          } catch (err) {
            const own = err instanceof ExecutionError ? err.entries : [];
            entries.push(...own);
            failures.push({ key, entries: own, error: (err as Error).message });
          }
          onKeyDone?.(++done, keys.length);
        }),
      ),
    );
    entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return {
      keys: keys.length,
      entries,
      failures,
      requests: this.o.mc.stats.requests - before.requests,
      writes: this.o.mc.stats.writes - before.writes,
    };
  }

  /** The long-running loop: streams and gateway pushes enqueue keys, a jittered resync is the safety net. */
  async start(): Promise<void> {
    if (this.stopped) return;
    const hooks = this.o.metrics;
    // Liveness means the event loop turns, not that work arrives: tick even when idle.
    this.heartbeatTimer = setInterval(() => (this.heartbeatAt = Date.now()), 5_000);
    this.heartbeatTimer.unref();
    this.queue = new WorkQueue(
      async (key) => {
        const r = await this.reconcileKey(key, 'apply');
        return r.requeueAfterMs !== undefined ? { requeueAfterMs: r.requeueAfterMs } : {};
      },
      {
        concurrency: this.o.loop.concurrency,
        backoffMinMs: this.o.loop.backoffMinMs,
        backoffMaxMs: this.o.loop.backoffMaxMs,
        hooks: {
          ...hooks,
          onRetry: (key, n, delay, error) => {
            hooks?.onRetry?.(key, n, delay, error);
            this.o.logger.warn({ key, failures: n, retryInMs: delay, err: (error as Error).message }, 'reconcile failed; backing off');
          },
        },
      },
    );
    // the streams start from before the first listing, so nothing changed in between waits for the next resync
    const listedFrom = Date.now();
    await this.resync();
    // stopped while the first sync ran (a signal during start-up): open nothing that would outlive the stop
    if (this.stopped) return;
    for (const boardId of this.o.boardIds) {
      this.streams.push(
        this.o.mc.streamTasks(boardId, {
          onEvent: (e) => {
            if (e.type !== 'task.comment' && e.task) this.store.upsertTask(e.task);
            if (e.taskId) this.queue?.add(taskKey(boardId, e.taskId));
          },
          onError: (err) => this.o.logger.debug({ boardId, err: err.message }, 'task stream interrupted; reconnecting'),
          since: listedFrom,
        }),
        this.o.mc.streamApprovals(boardId, {
          onEvent: (e) => {
            this.store.upsertApproval(e.approval);
            const tasks = linkedTasks(e.approval);
            for (const id of tasks) this.queue?.add(taskKey(boardId, id));
            // an approval linked to no task (or only to deleted ones) is a global concern's
            if (tasks.every((id) => !this.store.state(boardId).tasks.has(id))) for (const r of this.globalReconcilers) if (r.scope === 'global') this.queue?.add(r.key);
          },
          onError: (err) => this.o.logger.debug({ boardId, err: err.message }, 'approval stream interrupted; reconnecting'),
          since: listedFrom,
        }),
      );
    }
  }

  /**
   * Called by gateway push events: enqueue the tasks linked to a session (or to its parent); a session no
   * task is linked to goes to the reconcilers that may adopt it (a fresh spawn is linked within the push,
   * not at the next resync).
   */
  sessionChanged(sessionKey: string): void {
    const row = this.o.gateway?.session(sessionKey);
    if (row && !this.sessionIndex.has(sessionKey)) this.unlinkedSessionChanged(row);
    // Walk up the spawn lineage (at most 5 deep upstream): a grandchild's activity counts for the task too.
    const seen = new Set<string>();
    let frontier = [sessionKey];
    while (frontier.length > 0 && seen.size < 16) {
      const next: string[] = [];
      for (const k of frontier) {
        if (seen.has(k)) continue;
        seen.add(k);
        for (const key of this.sessionIndex.get(k) ?? []) this.queue?.add(key);
        const s = this.o.gateway?.session(k);
        for (const parent of [s?.spawnedBy, s?.parentSessionKey]) if (parent) next.push(parent);
      }
      frontier = next;
    }
  }

  private unlinkedSessionChanged(row: Session): void {
    // chat deltas name the session without a new row: one look per row is enough
    if (this.unlinkedSeen.get(row.key) === row) return;
    this.unlinkedSeen.set(row.key, row);
    const now = Date.now();
    for (const r of this.taskReconcilers)
      if (r.scope === 'task' && r.affectedBy)
        for (const [boardId, board] of this.store.boards)
          for (const t of r.affectedBy(row, board.tasks.values(), now, this.o.settings)) this.queue?.add(taskKey(boardId, t.id));
  }

  enqueue(key: string): void {
    this.queue?.add(key);
  }

  /** A gateway restart or similar: list everything now instead of at the next timer, then look at every key. */
  resyncNow(): void {
    if (this.resyncTimer) clearTimeout(this.resyncTimer);
    void this.resync();
  }

  private async resync(): Promise<void> {
    if (this.resyncing) return;
    const run = (async () => {
      try {
        await this.sync('apply');
        for (const key of this.allKeys()) this.queue?.add(key);
      } catch (err) {
        if (!this.stopped) this.o.logger.warn({ err: (err as Error).message }, 'resync failed; keeping the last good view');
      }
    })();
    this.resyncing = run;
    await run;
    this.resyncing = null;
    if (this.stopped) return;
    const delay = jittered(this.o.loop.resyncMs);
    this.nextResyncAt = Date.now() + delay;
    this.resyncTimer = setTimeout(() => void this.resync(), delay);
    this.resyncTimer.unref();
  }

  /** When the next safety-net resync is due (null before the first). */
  nextResyncAt: number | null = null;

  async idle(): Promise<void> {
    await this.queue?.idle();
  }

  get queueDepth(): number {
    return this.queue?.depth ?? 0;
  }

  async stop(drainMs: number): Promise<boolean> {
    this.stopped = true;
    if (this.resyncTimer) clearTimeout(this.resyncTimer);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.resyncTimer = null;
    for (const s of this.streams.splice(0)) s.close();
    return (await this.queue?.stop(drainMs)) ?? true;
  }

  /**
   * After `stop` and once in-flight requests were aborted: waits (at most `timeoutMs`) until the reconciles and
   * the resync still running have unwound, so nothing is in flight when the lock or Lease is given up.
   */
  async settle(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const settled = await Promise.race([
      Promise.all([this.queue?.idle(), this.resyncing]).then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    return settled;
  }
}

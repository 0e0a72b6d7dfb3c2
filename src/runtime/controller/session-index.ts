import { taskKey, type PlannerSettings, type Session, type Task, type TaskReconciler } from '../../model/index.js';
import type { GatewaySource } from '../gateway-source.js';
import type { BoardStore } from '../store.js';

const sessionKeyOf = (t: Task): string | null => {
  const key = t.fields['mc_session_key'];
  return typeof key === 'string' && key.trim() ? key.trim() : null;
};

export interface SessionIndexDeps {
  store: BoardStore;
  gateway?: GatewaySource | undefined;
  taskReconcilers: readonly TaskReconciler[];
  settings: PlannerSettings;
}

/**
 * Maps gateway events to task keys: session key → the tasks linked to it (directly or as a spawned child), and
 * for a session no task is linked to, the tasks the reconcilers that may adopt it point at.
 */
export class SessionIndex {
  private index = new Map<string, Set<string>>();
  /** the row of an unlinked session last handed to the reconcilers that may adopt it (cleared each sync) */
  private readonly unlinkedSeen = new Map<string, Session>();

  constructor(private readonly d: SessionIndexDeps) {}

  /** After a full listing: rebuilt from the store's rows. */
  rebuild(): void {
    const index = new Map<string, Set<string>>();
    for (const [boardId, s] of this.d.store.boards) {
      for (const t of s.tasks.values()) {
        const key = sessionKeyOf(t);
        if (key) index.set(key, (index.get(key) ?? new Set()).add(taskKey(boardId, t.id)));
      }
    }
    this.index = index;
    this.unlinkedSeen.clear();
  }

  /** Whether some task is linked to this session (a snapshot's linking candidates leave such sessions out). */
  has(sessionKey: string): boolean {
    return this.index.has(sessionKey);
  }

  /** The task keys linked to any of these sessions. */
  tasksOf(sessionKeys: Iterable<string>): Set<string> {
    const tasks = new Set<string>();
    for (const k of sessionKeys) for (const t of this.index.get(k) ?? []) tasks.add(t);
    return tasks;
  }

  /** Whether the store's row of `before` now names another session; if so the index follows. */
  relinked(boardId: string, before: Task): boolean {
    const after = this.d.store.state(boardId).tasks.get(before.id);
    const key = after ? sessionKeyOf(after) : null;
    if (!key || key === sessionKeyOf(before)) return false;
    const tk = taskKey(boardId, before.id);
    this.index.set(key, (this.index.get(key) ?? new Set()).add(tk));
    return true;
  }

  /**
   * A gateway push: the tasks linked to the session (or to its parent) are enqueued; a session no task is linked
   * to goes to the reconcilers that may adopt it (a fresh spawn is linked within the push, not at the next resync).
   */
  sessionChanged(sessionKey: string, enqueue: (key: string) => void): void {
    const gateway = this.d.gateway;
    const row = gateway?.session(sessionKey);
    if (row && !this.has(sessionKey)) this.unlinkedSessionChanged(row, enqueue);
    // Walk up the spawn lineage (at most 5 deep upstream): a grandchild's activity counts for the task too.
    const seen = new Set<string>();
    let frontier = [sessionKey];
    while (frontier.length > 0 && seen.size < 16) {
      const next: string[] = [];
      for (const k of frontier) {
        if (seen.has(k)) continue;
        seen.add(k);
        for (const key of this.index.get(k) ?? []) enqueue(key);
        const s = gateway?.session(k);
        for (const parent of [s?.spawnedBy, s?.parentSessionKey]) if (parent) next.push(parent);
      }
      frontier = next;
    }
  }

  private unlinkedSessionChanged(row: Session, enqueue: (key: string) => void): void {
    // chat deltas name the session without a new row: one look per row is enough
    if (this.unlinkedSeen.get(row.key) === row) return;
    this.unlinkedSeen.set(row.key, row);
    const now = Date.now();
    for (const r of this.d.taskReconcilers)
      if (r.affectedBy)
        for (const [boardId, board] of this.d.store.boards)
          for (const t of r.affectedBy(row, board.tasks.values(), now, this.d.settings)) enqueue(taskKey(boardId, t.id));
  }
}

import type { Logger } from 'pino';
import { readStatusChecked, type Approval, type Board, type FieldDefinition, type Task } from '../model/index.js';
import type { MissionControlApi, Rejected } from '../clients/mission-control/api.js';

export interface BoardState {
  boardId: string;
  board: Board | null;
  tasks: Map<string, Task>;
  /** pending approvals plus every approval seen since start (resolution follow-ups need the resolved row) */
  approvals: Map<string, Approval>;
  fieldDefs: FieldDefinition[];
  boundFields: Set<string>;
  syncedAt: number | null;
  /** when resolved approvals were last listed (see loadResolved), and back to which creation time */
  resolvedLoadedAt: number | null;
  resolvedSince: number;
  /** bumped on every change to `approvals`, so the per-task index is rebuilt only when needed */
  approvalsVersion: number;
}

/** What changed in a refresh, so only those keys are enqueued. */
export interface RefreshResult {
  changedTaskIds: string[];
  removedTaskIds: string[];
  requests: number;
}

/**
 * The controller's cache of each board. A full refresh lists everything; stream events and the
 * controller's own PATCH responses update single rows. A listed row older than the cached one (by
 * updated_at) is a stale read and is ignored, so our own writes are never undone by a lagging list.
 */
export class BoardStore {
  readonly boards = new Map<string, BoardState>();
  private readonly byTask = new Map<string, { version: number; index: Map<string, Approval[]> }>();

  constructor(
    private readonly mc: MissionControlApi,
    private readonly logger: Logger,
  ) {}

  state(boardId: string): BoardState {
    let s = this.boards.get(boardId);
    if (!s) {
      s = { boardId, board: null, tasks: new Map(), approvals: new Map(), fieldDefs: [], boundFields: new Set(), syncedAt: null, resolvedLoadedAt: null, resolvedSince: Number.POSITIVE_INFINITY, approvalsVersion: 0 };
      this.boards.set(boardId, s);
    }
    return s;
  }

  async refresh(boardId: string): Promise<RefreshResult> {
    const s = this.state(boardId);
    const [board, tasks, approvals, defs] = await Promise.all([
      this.mc.getBoard(boardId),
      this.mc.listTasks(boardId),
      this.mc.listApprovals(boardId, { status: 'pending' }),
      this.mc.listFieldDefinitions(),
    ]);
    this.logRejected(boardId, [...tasks.rejected, ...approvals.rejected]);
    s.board = board;
    s.fieldDefs = defs.filter((d) => d.boardIds.includes(boardId));
    s.boundFields = new Set(s.fieldDefs.map((d) => d.fieldKey));

    const changed: string[] = [];
    const seen = new Set<string>();
    for (const t of tasks.items) {
      seen.add(t.id);
      const cached = s.tasks.get(t.id);
      if (cached && cached.updatedAt > t.updatedAt) continue;
      if (!cached || cached.updatedAt !== t.updatedAt || cached.status !== t.status) {
        changed.push(t.id);
        this.logMalformedStatus(t);
      }
      s.tasks.set(t.id, t);
    }
    const removed = [...s.tasks.keys()].filter((id) => !seen.has(id));
    for (const id of removed) s.tasks.delete(id);

    const pendingNow = new Set(approvals.items.map((a) => a.id));
    for (const a of approvals.items) {
      const before = s.approvals.get(a.id);
      if (!before || before.status !== a.status) changed.push(...linkedTasks(a));
      putApproval(s, a);
    }
    // A pending approval that left the pending list was resolved (or deleted): read its resolved row
    // (resolution follow-ups need it) and give its tasks a look. Only then are resolved lists read.
    const vanished = [...s.approvals.values()].filter((a) => a.status === 'pending' && !pendingNow.has(a.id));
    let requests = tasks.requests + approvals.requests + 2;
    if (vanished.length > 0) {
      requests += await this.refreshResolved(boardId, new Set(vanished.map((a) => a.id)));
      for (const a of vanished) changed.push(...linkedTasks(a));
    }
    s.syncedAt = Date.now();
    return { changedTaskIds: [...new Set(changed)], removedTaskIds: removed, requests };
  }

  /**
   * Resolved approvals of a board created since `since` (an approval linked to a task cannot predate it),
   * listed at most once per refresh unless an older task asks (a reconciler asked through wants()): a board's
   * resolved history only grows, so it is read back only as far as the asking task needs.
   * Returns whether anything new was learned.
   */
  async loadResolved(boardId: string, since = 0): Promise<boolean> {
    const s = this.state(boardId);
    const fresh = s.resolvedLoadedAt !== null && s.syncedAt !== null && s.resolvedLoadedAt >= s.syncedAt;
    if (fresh && s.resolvedSince <= since) return false;
    s.resolvedLoadedAt = Date.now();
    s.resolvedSince = fresh ? Math.min(s.resolvedSince, since) : since;
    let learned = false;
    for (const status of ['approved', 'rejected'] as const) {
      const listed = await this.mc.listApprovals(boardId, { status, createdSince: s.resolvedSince });
      for (const a of listed.items) {
        const before = s.approvals.get(a.id);
        if (!before || before.status !== a.status) learned = true;
        putApproval(s, a);
      }
    }
    return learned;
  }

  private async refreshResolved(boardId: string, ids: Set<string>): Promise<number> {
    const s = this.state(boardId);
    let requests = 0;
    for (const status of ['approved', 'rejected'] as const) {
      const listed = await this.mc.listApprovals(boardId, { status });
      requests += listed.requests;
      for (const a of listed.items) if (ids.has(a.id)) putApproval(s, a);
    }
    // Deleted approvals never come back; forget them so they are not looked up on every pass.
    for (const id of ids) if (s.approvals.get(id)?.status === 'pending' && s.approvals.delete(id)) s.approvalsVersion++;
    return requests;
  }

  /** Once per change of the row: what of its `mc_conditions` is malformed and left out (the rest is kept). */
  private logMalformedStatus(task: Task): void {
    const { dropped } = readStatusChecked(task.fields);
    if (dropped.length > 0) {
      this.logger.warn({ boardId: task.boardId, taskId: task.id, dropped }, `skipped malformed mc_conditions entries: ${dropped.join(', ')}`);
    }
  }

  /** Reads the board's rules again (a 409 says the cached ones may be stale). */
  async refreshBoard(boardId: string): Promise<void> {
    this.state(boardId).board = await this.mc.getBoard(boardId);
  }

  /** Keeps the newer row; true when `task` is newer than what the store had (not our own write's echo). */
  upsertTask(task: Task): boolean {
    const s = this.state(task.boardId);
    const cached = s.tasks.get(task.id);
    if (!cached || cached.updatedAt <= task.updatedAt) s.tasks.set(task.id, task);
    return !cached || cached.updatedAt < task.updatedAt;
  }

  upsertApproval(approval: Approval): void {
    putApproval(this.state(approval.boardId), approval);
  }

  /** Approvals linked to a task, from an index rebuilt only when the approvals changed (called once per task key). */
  approvalsOf(boardId: string, taskId: string): Approval[] {
    const s = this.state(boardId);
    let cached = this.byTask.get(boardId);
    if (!cached || cached.version !== s.approvalsVersion) {
      const index = new Map<string, Approval[]>();
      for (const a of s.approvals.values()) for (const t of linkedTasks(a)) index.set(t, [...(index.get(t) ?? []), a]);
      cached = { version: s.approvalsVersion, index };
      this.byTask.set(boardId, cached);
    }
    return cached.index.get(taskId) ?? [];
  }

  private logRejected(boardId: string, rejected: Rejected[]): void {
    for (const r of rejected) this.logger.warn({ boardId, kind: r.kind, id: r.id }, `skipped malformed ${r.kind}: ${r.problem}`);
  }
}

function putApproval(s: BoardState, a: Approval): void {
  s.approvals.set(a.id, a);
  s.approvalsVersion++;
}

export function linkedTasks(a: Approval): string[] {
  return [...new Set([...(a.taskId ? [a.taskId] : []), ...a.taskIds])];
}

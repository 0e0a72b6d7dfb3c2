import {
  readStatus,
  type ChatMessage,
  type GlobalReconciler,
  type GlobalSnapshot,
  type GlobalState,
  type PlannerSettings,
  type Reconciler,
  type SessionUsage,
  type Task,
  type TaskSnapshot,
  type Wants,
} from '../model/index.js';
import type { MissionControlApi } from '../clients/mission-control/api.js';
import type { GatewaySource } from './gateway-source.js';
import type { PostedMessages } from './posted.js';
import type { BoardStore } from './store.js';

export interface SnapshotDeps {
  mc: MissionControlApi;
  store: BoardStore;
  settings: PlannerSettings;
  reconcilers: readonly Reconciler[];
  global: GlobalState;
  gateway?: GatewaySource;
  pressure?: () => unknown;
  /** the channel as the record of what was posted; absent without Discord */
  posted?: PostedMessages;
}

/**
 * What a planner sees of one task: the cached row and what relates to it, plus only the extra reads some
 * reconciler asked for through wants() (comments, chat history, usage) — a steady pass reads nothing more.
 */
export async function buildTaskSnapshot(d: SnapshotDeps, boardId: string, task: Task, now: number): Promise<TaskSnapshot> {
  const board = d.store.state(boardId);
  const history = new Map<string, ChatMessage[]>();
  const usage = new Map<string, SessionUsage>();
  const gw = d.gateway;
  const base: Omit<TaskSnapshot, 'comments'> = {
    now,
    settings: d.settings,
    board: board.board,
    boardId,
    task,
    status: readStatus(task.fields),
    approvals: d.store.approvalsOf(boardId, task.id),
    ...(gw ? { gateway: gw.view({ history, usage }) } : {}),
    global: d.global,
    boundFields: board.boundFields,
  };
  const wants: Wants = {};
  for (const r of d.reconcilers) {
    if (r.scope !== 'task' || !r.wants) continue;
    const w = r.wants(task, base.status, base);
    if (!w) continue;
    wants.comments ||= w.comments;
    wants.history = [...(wants.history ?? []), ...(w.history ?? [])];
    wants.usage = [...(wants.usage ?? []), ...(w.usage ?? [])];
    wants.resolvedApprovals ||= w.resolvedApprovals;
  }
  if (wants.resolvedApprovals && (await d.store.loadResolved(boardId))) {
    base.approvals = d.store.approvalsOf(boardId, task.id);
  }
  let comments: TaskSnapshot['comments'];
  if (wants.comments) comments = (await d.mc.listComments(boardId, task.id)).items;
  if (gw) {
    for (const k of new Set(wants.history ?? [])) history.set(k, await gw.history(k));
    for (const k of new Set(wants.usage ?? [])) {
      const u = await gw.usage(k);
      if (u) usage.set(k, u);
    }
  }
  return { ...base, ...(comments ? { comments } : {}) };
}

/** What a global planner sees, plus the channel messages its wants() asked about. */
export async function buildGlobalSnapshot(d: SnapshotDeps, reconciler: GlobalReconciler, now: number): Promise<GlobalSnapshot> {
  const base = globalView(d, now);
  const wanted = reconciler.wants?.(base)?.posted;
  if (!wanted || wanted.queries.length === 0 || !d.posted) return base;
  return { ...base, posted: await d.posted.lookup(wanted.purpose, wanted.queries) };
}

function globalView(d: SnapshotDeps, now: number): GlobalSnapshot {
  return {
    now,
    settings: d.settings,
    boards: [...d.store.boards.values()].map((b) => ({
      boardId: b.boardId,
      board: b.board,
      tasks: [...b.tasks.values()],
      approvals: [...b.approvals.values()],
      fieldDefs: b.fieldDefs,
    })),
    ...(d.gateway ? { gateway: d.gateway.view({ history: new Map(), usage: new Map() }) } : {}),
    global: d.global,
    ...(d.pressure ? { pressure: d.pressure() } : {}),
  };
}

import {
  readStatus,
  type ChatMessage,
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
import type { BoardStore } from './store.js';

export interface SnapshotDeps {
  mc: MissionControlApi;
  store: BoardStore;
  settings: PlannerSettings;
  reconcilers: readonly Reconciler[];
  global: GlobalState;
  gateway?: GatewaySource;
  pressure?: () => unknown;
}

/**
 * What a planner sees of one task: the cached row and what relates to it, plus only the extra reads some
 * reconciler asked for through wants() (comments, chat history, usage) — a steady pass reads nothing more.
 */
export async function buildTaskSnapshot(d: SnapshotDeps, boardId: string, task: Task, now: number): Promise<TaskSnapshot> {
  const board = d.store.state(boardId);
  const history = new Map<string, ChatMessage[]>();
  const openings = new Map<string, string | null>();
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
    ...(gw ? { gateway: gw.view({ history, openings, usage }) } : {}),
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
    wants.openings = [...(wants.openings ?? []), ...(w.openings ?? [])];
    wants.usage = [...(wants.usage ?? []), ...(w.usage ?? [])];
    wants.resolvedApprovals ||= w.resolvedApprovals;
  }
  if (wants.resolvedApprovals && (await d.store.loadResolved(boardId))) {
    base.approvals = d.store.approvalsOf(boardId, task.id);
  }
  let comments: TaskSnapshot['comments'];
  if (wants.comments) comments = (await d.mc.listComments(boardId, task.id)).items;
  if (gw) {
    // concurrent: the source shares each session's read with every other key that wants it and bounds the total
    await Promise.all([
      ...[...new Set(wants.history ?? [])].map(async (k) => history.set(k, await gw.history(k))),
      ...[...new Set(wants.openings ?? [])].map(async (k) => openings.set(k, await gw.opening(k))),
      ...[...new Set(wants.usage ?? [])].map(async (k) => {
        const u = await gw.usage(k);
        if (u) usage.set(k, u);
      }),
    ]);
  }
  return { ...base, ...(comments ? { comments } : {}) };
}

export function buildGlobalSnapshot(d: SnapshotDeps, now: number): GlobalSnapshot {
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
    ...(d.gateway ? { gateway: d.gateway.view({ history: new Map(), openings: new Map(), usage: new Map() }) } : {}),
    global: d.global,
    ...(d.pressure ? { pressure: d.pressure() } : {}),
  };
}

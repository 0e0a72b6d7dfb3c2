import {
  readStatus,
  type GlobalReconciler,
  type GlobalSnapshot,
  type GlobalState,
  type PlannerSettings,
  type Reconciler,
  type Task,
  type TaskSnapshot,
  type Wants,
} from '../model/index.js';
import { GatewayError } from '../clients/gateway/errors.js';
import type { MissionControlApi } from '../clients/mission-control/api.js';
import { emptyReads, type GatewaySource, type SessionReads } from './gateway-source.js';
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
  /** session key → the tasks linked to it */
  linkedSessions?: { has(sessionKey: string): boolean };
}

/**
 * What a planner sees of one task: the cached row and what relates to it, plus only the extra reads some
 * reconciler asked for through wants() (comments, chat history, usage) — a steady pass reads nothing more.
 */
export async function buildTaskSnapshot(d: SnapshotDeps, boardId: string, task: Task, now: number): Promise<TaskSnapshot> {
  const reads = emptyReads();
  const { history, openings, usage, readErrors } = reads;
  const gw = d.gateway;
  const base = taskBase(d, boardId, task, now, reads);
  const wants = wantsOf(d, base);
  if (wants.resolvedApprovals && (await d.store.loadResolved(boardId, task.createdAt))) {
    base.approvals = d.store.approvalsOf(boardId, task.id);
  }
  let comments: TaskSnapshot['comments'];
  if (wants.comments) comments = (await d.mc.listComments(boardId, task.id)).items;
  if (gw) {
    // concurrent: the source shares each session's read with every other key that wants it and bounds the total;
    // a key the gateway refuses to read is a finding in readErrors, not a failure of the task
    await Promise.all([
      ...[...new Set(wants.history ?? [])].map(async (k) => {
        const h = await sessionRead(k, () => gw.history(k), readErrors);
        if (h) history.set(k, h);
      }),
      ...[...new Set(wants.openings ?? [])].map(async (k) => {
        const o = await sessionRead(k, () => gw.opening(k), readErrors);
        openings.set(k, o);
      }),
      ...[...new Set(wants.usage ?? [])].map(async (k) => {
        const u = await sessionRead(k, () => gw.usage(k), readErrors);
        if (u) usage.set(k, u);
      }),
    ]);
  }
  return { ...base, ...(comments ? { comments } : {}) };
}

function taskBase(d: SnapshotDeps, boardId: string, task: Task, now: number, reads: SessionReads): Omit<TaskSnapshot, 'comments'> {
  const board = d.store.state(boardId);
  return {
    now,
    settings: d.settings,
    board: board.board,
    boardId,
    task,
    status: readStatus(task.fields),
    approvals: d.store.approvalsOf(boardId, task.id),
    ...(d.gateway ? { gateway: d.gateway.view(reads) } : {}),
    global: d.global,
    boundFields: board.boundFields,
    ...(d.linkedSessions ? { linkedSessions: d.linkedSessions } : {}),
  };
}

/** Everything the task's reconcilers ask to be read for it, merged. */
function wantsOf(d: SnapshotDeps, base: Omit<TaskSnapshot, 'comments'>): Wants {
  const wants: Wants = {};
  for (const r of d.reconcilers) {
    if (r.scope !== 'task' || !r.wants) continue;
    const w = r.wants(base.task, base.status, base);
    if (!w) continue;
    wants.comments ||= w.comments;
    wants.history = [...(wants.history ?? []), ...(w.history ?? [])];
    wants.openings = [...(wants.openings ?? []), ...(w.openings ?? [])];
    wants.usage = [...(wants.usage ?? []), ...(w.usage ?? [])];
    wants.resolvedApprovals ||= w.resolvedApprovals;
  }
  return wants;
}

/**
 * Starts, right after a listing, every gateway read the tasks' reconcilers will ask for, so they run as many
 * at a time as the gateway source allows instead of as many as keys are reconciled at once (a first pass over
 * N linked tasks waits for the slowest read of N/32, not of N/4). The reads land in the source's cache, in
 * flight or answered, where each key's own snapshot finds them; a failure here is left for that snapshot to
 * meet and report, so the returned promise never rejects.
 */
export async function warmGatewayReads(d: SnapshotDeps, now: number): Promise<number> {
  const gw = d.gateway;
  if (!gw) return 0;
  const history = new Set<string>();
  const openings = new Set<string>();
  const usage = new Set<string>();
  const reads = emptyReads();
  for (const [boardId, board] of d.store.boards) {
    for (const task of board.tasks.values()) {
      let w: Wants;
      try {
        w = wantsOf(d, taskBase(d, boardId, task, now, reads));
      } catch {
        continue; // a planner bug for one task: its key meets it in its own snapshot and logs it there
      }
      for (const k of w.history ?? []) history.add(k);
      for (const k of w.openings ?? []) openings.add(k);
      for (const k of w.usage ?? []) usage.add(k);
    }
  }
  const ignore = () => undefined;
  // usage first: one answer about every session where many want theirs, queued ahead of the transcripts
  const usageRead = gw.usageMany([...usage], now);
  await Promise.all([
    usageRead,
    ...[...usage].map((k) => gw.usage(k, now).catch(ignore)),
    ...[...history].map((k) => gw.history(k).catch(ignore)),
    ...[...openings].map((k) => gw.opening(k).catch(ignore)),
  ]);
  return history.size + openings.size + usage.size;
}

/**
 * The gateway's verdict on one key (INVALID_REQUEST: not a session reference, malformed) is data for the
 * planners, recorded in `readErrors`; only trouble with the gateway itself (disconnected, timeout) fails the key.
 */
async function sessionRead<T>(key: string, read: () => Promise<T>, readErrors: Map<string, string>): Promise<T | null> {
  try {
    return await read();
  } catch (err) {
    if (!(err instanceof GatewayError) || err.code !== 'INVALID_REQUEST') throw err;
    readErrors.set(key, err.message);
    return null;
  }
}


/** What a global planner sees, plus the channel messages its wants() asked about. */
export async function buildGlobalSnapshot(d: SnapshotDeps, reconciler: GlobalReconciler, now: number): Promise<GlobalSnapshot> {
  let base = globalView(d, now);
  let wants = reconciler.wants?.(base);
  if (wants?.resolvedApprovals) {
    for (const boardId of [...d.store.boards.keys()]) await d.store.loadResolved(boardId);
    // asked again: the resolved rows now in view may need their own channel queries
    base = globalView(d, now);
    wants = reconciler.wants?.(base);
  }
  const wanted = wants?.posted;
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
    ...(d.gateway ? { gateway: d.gateway.view(emptyReads()) } : {}),
    global: d.global,
    ...(d.pressure ? { pressure: d.pressure() } : {}),
  };
}

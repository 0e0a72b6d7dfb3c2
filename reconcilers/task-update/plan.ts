import {
  linkedSessionKey,
  SESSION_SEEN,
  consumed,
  consumedMark,
  sessionFinished,
  sessionQuiet,
  sessionVersion,
  type ChatMessage,
  type LedgerEntry,
  type PlanResult,
  type Session,
  type Task,
  type TaskReconciler,
  type TaskSnapshot,
  type Wants,
} from '../../src/model/index.js';
import { finish, waitsOnApproval } from './finish.js';
import { mirror, NAME } from './map.js';
import { findTaskUpdates, isMeaningful, type TaskUpdate } from './parse.js';

/**
 * Mirrors TASK_UPDATE blocks from a linked session's assistant messages onto its task, each exactly once
 * (ledger entry per block). Cost control: history is read only when the session row moved since the
 * version recorded in `task-update:seen` (SESSION_SEEN); the marker is written with applied blocks, or
 * alone once the session is quiet (ended, or unchanged for a minute), and before that as a rider on a write
 * the task gets anyway — never as a write of its own on a tick of a running session — so a restarted
 * controller reads only sessions that changed.
 */

export const SEEN = SESSION_SEEN;
const MIRRORED_STATUSES = new Set(['inbox', 'in_progress', 'review']);



function linkedSession(task: Task, s: Pick<TaskSnapshot, 'gateway'>): Session | null {
  if (!MIRRORED_STATUSES.has(task.status)) return null;
  const key = linkedSessionKey(task);
  const gw = s.gateway;
  if (!key || !gw?.synced) return null;
  return gw.sessions.get(key) ?? null;
}

/** Every valid block of every assistant message, oldest first. */
export function updatesIn(history: readonly ChatMessage[]): TaskUpdate[] {
  return history
    .filter((m) => m.role === 'assistant')
    .flatMap((m) => findTaskUpdates(m.text).map((b) => b.update))
    .filter(isMeaningful);
}

export function plan(s: TaskSnapshot): PlanResult {
  const mirrored = mirrorSession(s);
  // A block mirrored this pass decides the status; the gate is looked at again on the next.
  return mirrored.actions.length > 0 ? mirrored : { actions: finish(s) };
}

function mirrorSession(s: TaskSnapshot): PlanResult {
  const session = linkedSession(s.task, s);
  if (!session) return { actions: [] };
  const history = s.gateway?.history.get(session.key);
  if (!history) return { actions: [] };
  const version = sessionVersion(session);
  const mark: Record<string, LedgerEntry> = consumed(s.status.ledger[SEEN], session) ? {} : { [SEEN]: consumedMark(session, history) };
  const ownUpdates = updatesIn(history).filter((u) => u.taskId === undefined || u.taskId === s.task.id);
  const ctx = { task: s.task, status: s.status, board: s.board, approvals: s.approvals, now: s.now, source: `session ${session.key}` };
  const actions = mirror(ctx, ownUpdates, mark);
  if (actions.length > 0 || Object.keys(mark).length === 0) return { actions };
  // Quiet: worth a write of its own. Still changing: only with a write the task gets anyway this pass, so a
  // running session costs no write per pass and a restart soon after a write re-reads nothing.
  const quiet = sessionQuiet(session, s.now);
  return {
    actions: [
      {
        type: 'task.patch',
        key: `task/${s.task.boardId}/${s.task.id}`,
        reconciler: NAME,
        reason: quiet
          ? `session ${session.key} ${sessionFinished(session) ? 'ended' : 'is quiet'}; its TASK_UPDATE blocks are all mirrored`
          : `session ${session.key} read at its current version; its TASK_UPDATE blocks are all mirrored`,
        idempotencyKey: `${NAME}:seen:${s.task.id}:${version}`,
        boardId: s.task.boardId,
        taskId: s.task.id,
        change: { ledger: mark, ...(quiet ? {} : { rider: true as const }) },
      },
    ],
  };
}

function wants(task: Task, status: TaskSnapshot['status'], s: Omit<TaskSnapshot, 'comments'>): Wants | undefined {
  // Only a task that waits on an approval needs the resolved ones (a fresh process lists only pending).
  const resolved: Wants = waitsOnApproval(task, status) ? { resolvedApprovals: true } : {};
  const session = linkedSession(task, s);
  const history: Wants = session && !consumed(status.ledger[SEEN], session) ? { history: [session.key] } : {};
  const w = { ...resolved, ...history };
  return Object.keys(w).length > 0 ? w : undefined;
}

export const taskUpdateReconciler: TaskReconciler = { scope: 'task', name: NAME, wants, plan };

import { F, type ChatMessage, type LedgerEntry, type PlanResult, type Session, type Task, type TaskReconciler, type TaskSnapshot, type Wants } from '../../src/model/index.js';
import { finish, waitsOnApproval } from './finish.js';
import { mirror, NAME } from './map.js';
import { findTaskUpdates, isMeaningful, type TaskUpdate } from './parse.js';

/**
 * Mirrors TASK_UPDATE blocks from a linked session's assistant messages onto its task, each exactly once
 * (ledger entry per block). Cost control: history is read only when the session row moved since the
 * version recorded in `task-update:seen`; the marker is written with applied blocks, or alone once the
 * session has ended (its history can no longer change), never on every tick of a running session.
 */

export const SEEN = 'task-update:seen';
const MIRRORED_STATUSES = new Set(['inbox', 'in_progress', 'review']);
const FINISHED = new Set(['done', 'failed', 'killed', 'timeout']);

const sessionKeyOf = (task: Task): string | null => {
  const v = task.fields[F.sessionKey];
  return typeof v === 'string' && v.trim() ? v.trim() : null;
};

/** Newest row time: a run that ends may move only endedAt or lastActivityAt, not updatedAt. */
export const versionOf = (s: Session): number => Math.max(s.updatedAt ?? 0, s.lastActivityAt ?? 0, s.endedAt ?? 0);
/** What the seen marker remembers besides the time: which session, in which state (running → done must re-read). */
const seenTag = (s: Session): string => `${s.key} ${s.status ?? 'unknown'}`;
const isSeen = (entry: LedgerEntry | undefined, s: Session): boolean => entry?.at === versionOf(s) && entry.ext === seenTag(s);

function linkedSession(task: Task, s: Pick<TaskSnapshot, 'gateway'>): Session | null {
  if (!MIRRORED_STATUSES.has(task.status)) return null;
  const key = sessionKeyOf(task);
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
  const version = versionOf(session);
  const seen = s.status.ledger[SEEN];
  const mark: Record<string, LedgerEntry> = isSeen(seen, session) ? {} : { [SEEN]: { s: 'done', at: version, ext: seenTag(session) } };
  const ownUpdates = updatesIn(history).filter((u) => u.taskId === undefined || u.taskId === s.task.id);
  const ctx = { task: s.task, status: s.status, board: s.board, approvals: s.approvals, now: s.now, source: `session ${session.key}` };
  const actions = mirror(ctx, ownUpdates, mark);
  if (actions.length > 0 || Object.keys(mark).length === 0 || !FINISHED.has(session.status ?? '')) return { actions };
  return {
    actions: [
      {
        type: 'task.patch',
        key: `task/${s.task.boardId}/${s.task.id}`,
        reconciler: NAME,
        reason: `session ${session.key} ended; its TASK_UPDATE blocks are all mirrored`,
        idempotencyKey: `${NAME}:seen:${s.task.id}:${version}`,
        boardId: s.task.boardId,
        taskId: s.task.id,
        change: { ledger: mark },
      },
    ],
  };
}

function wants(task: Task, status: TaskSnapshot['status'], s: Omit<TaskSnapshot, 'comments'>): Wants | undefined {
  // Only a task that waits on an approval needs the resolved ones (a fresh process lists only pending).
  const resolved: Wants = waitsOnApproval(task, status) ? { resolvedApprovals: true } : {};
  const session = linkedSession(task, s);
  const history: Wants = session && !isSeen(status.ledger[SEEN], session) ? { history: [session.key] } : {};
  const w = { ...resolved, ...history };
  return Object.keys(w).length > 0 ? w : undefined;
}

export const taskUpdateReconciler: TaskReconciler = { scope: 'task', name: NAME, wants, plan };

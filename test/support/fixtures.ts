import {
  defaultPlannerSettings,
  emptyStatus,
  readStatus,
  setCondition,
  type Action,
  type Approval,
  type Board,
  type ChatMessage,
  type ExecApproval,
  type GatewayView,
  type Session,
  type Task,
  type TaskPatchAction,
  type TaskSnapshot,
} from '../../src/model/index.js';
import { mergeChanges } from '../../src/runtime/merge.js';

export const NOW = Date.parse('2026-11-23T12:00:00Z');
export const MIN = 60_000;

export function task(over: Partial<Task> & { fields?: Record<string, unknown> } = {}): Task {
  return {
    id: 't1',
    boardId: 'b1',
    title: 'Write the report',
    description: 'desc',
    status: 'in_progress',
    priority: 'medium',
    assignedAgentId: null,
    inProgressAt: NOW - 30 * MIN,
    createdAt: NOW - 60 * MIN,
    updatedAt: NOW - 30 * MIN,
    ...over,
    fields: { mc_retry_count: 0, mc_last_error: null, ...(over.fields ?? {}) },
  };
}

export function gateway(
  sessions: Session[],
  extra: { approvals?: ExecApproval[]; history?: Record<string, ChatMessage[]>; openings?: Record<string, string | null>; startedAt?: number; synced?: boolean } = {},
): GatewayView {
  const children = new Map<string, Session[]>();
  for (const s of sessions) if (s.spawnedBy) children.set(s.spawnedBy, [...(children.get(s.spawnedBy) ?? []), s]);
  return {
    synced: extra.synced ?? true,
    startedAt: extra.startedAt ?? NOW - 24 * 60 * MIN,
    sessions: new Map(sessions.map((s) => [s.key, s])),
    children,
    execApprovals: extra.approvals ?? [],
    history: new Map(Object.entries(extra.history ?? {})),
    openings: new Map(Object.entries(extra.openings ?? {})),
    usage: new Map(),
  };
}

export function snapshot(t: Task, over: Partial<TaskSnapshot> = {}): TaskSnapshot {
  return {
    now: NOW,
    settings: defaultPlannerSettings(),
    board: null,
    boardId: t.boardId,
    task: t,
    status: readStatus(t.fields),
    approvals: [],
    global: { degraded: false, firstRunAt: {} },
    boundFields: new Set(),
    ...over,
  };
}

/** Applies a pass's task patches the way the executor would (one merged write), returning the next task. */
export function applyActions(t: Task, actions: Action[], now = NOW): Task {
  const patches = actions.filter((a): a is TaskPatchAction => a.type === 'task.patch');
  const merged = mergeChanges(t, readStatus(t.fields), patches.map((p) => p.change), now, { conditionsBound: true, statusTextBound: true });
  if (!merged) return t;
  return { ...t, status: merged.status ?? t.status, fields: { ...t.fields, ...merged.fields }, updatedAt: now };
}

export function withCondition(t: Task, type: string, status: 'True' | 'False', reason: string, at = NOW - 10 * MIN): Task {
  const s = readStatus(t.fields);
  const next = setCondition(s.conditions.length ? s.conditions : emptyStatus().conditions, { type, status, reason }, at);
  return { ...t, fields: { ...t.fields, mc_conditions: { ...s, conditions: next.conditions } } };
}

/** A board with upstream's rule flags; `requireApprovalForDone` defaults to upstream's default (true). */
export function board(over: Partial<Board> = {}): Board {
  return {
    id: 'b1',
    name: 'b',
    gatewayId: 'g',
    requireApprovalForDone: true,
    requireReviewBeforeDone: false,
    blockStatusChangesWithPendingApproval: false,
    commentRequiredForReview: false,
    updatedAt: NOW - 60 * MIN,
    ...over,
  };
}

/** An approval linked to task t1; resolved at `at` unless pending. */
export function approval(status: Approval['status'], at = NOW, id = 'ap1'): Approval {
  return {
    id,
    boardId: 'b1',
    actionType: 'task.done',
    taskId: 't1',
    taskIds: ['t1'],
    taskTitles: [],
    payload: { reason: 'sign-off' },
    confidence: 90,
    status,
    agentId: null,
    createdAt: at - 10 * MIN,
    resolvedAt: status === 'pending' ? null : at,
  };
}

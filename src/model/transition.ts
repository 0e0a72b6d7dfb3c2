import { taskKey, type TaskChange, type TaskPatchAction } from './action.js';
import { findCondition, type ConditionInput, type ControllerStatus } from './conditions.js';
import { idempotencyKey } from './hash.js';
import type { Task } from './board.js';

/** Every comment the controller writes starts with this marker (the kit used `[mc-watchdog]`). */
export const MARKER = '[mc-controller]';

export interface TransitionInput {
  reconciler: string;
  task: Task;
  status: ControllerStatus;
  condition: ConditionInput;
  /** further conditions set by the same transition (they do not key it) */
  also?: ConditionInput[];
  reason: string;
  /** human sentence for the comment; omitted → no comment */
  comment?: string;
  change?: Omit<TaskChange, 'conditions' | 'comment'>;
}

/** True when setting this condition would flip its status or reason (a transition worth a comment). */
export function flips(status: ControllerStatus, c: ConditionInput): boolean {
  const existing = findCondition(status.conditions, c.type);
  return !existing || existing.status !== c.status || existing.reason !== c.reason;
}

/**
 * A condition transition as one task.patch: the idempotency key is derived from the condition's previous
 * transition time, so it stays the same across retries of this transition and differs for the next one
 * (a second stall after a recovery gets its own comment).
 */
export function transition(t: TransitionInput): TaskPatchAction {
  const prev = findCondition(t.status.conditions, t.condition.type);
  const key = idempotencyKey(t.task.id, t.reconciler, t.condition.type, t.condition.status, t.condition.reason, prev?.lastTransitionTime ?? null);
  return {
    type: 'task.patch',
    key: taskKey(t.task.boardId, t.task.id),
    reconciler: t.reconciler,
    reason: t.reason,
    idempotencyKey: key,
    boardId: t.task.boardId,
    taskId: t.task.id,
    change: {
      ...(t.change ?? {}),
      conditions: [t.condition, ...(t.also ?? [])],
      ...(t.comment ? { comment: `${MARKER} ${t.comment}` } : {}),
    },
  };
}

/** A change without a transition (bookkeeping, condition refresh): keyed by its content. */
export function patch(reconciler: string, task: Task, reason: string, change: TaskChange): TaskPatchAction {
  return {
    type: 'task.patch',
    key: taskKey(task.boardId, task.id),
    reconciler,
    reason,
    idempotencyKey: idempotencyKey(task.id, reconciler, change),
    boardId: task.boardId,
    taskId: task.id,
    change: { ...change, ...(change.comment ? { comment: `${MARKER} ${change.comment}` } : {}) },
  };
}

import {
  CONDITIONS_FIELD,
  F,
  patch,
  settle,
  stableStringify,
  statusText,
  type PlanResult,
  type TaskReconciler,
  type TaskSnapshot,
} from '../../src/model/index.js';

/**
 * Conditions and `mc_status` as the task stands now, also when no other concern has anything to write:
 * a task a human moved to done loses its abnormal conditions, and a card without its readable line gets
 * one. Every write the executor merges derives both the same way, so this plans only when the stored
 * values lag behind (after a human's move, or once after an upgrade) and a steady pass plans nothing.
 */
export const NAME = 'status';

const same = (a: unknown, b: unknown): boolean => stableStringify(a ?? null) === stableStringify(b ?? null);

export function plan(s: TaskSnapshot): PlanResult {
  const { task, status, boundFields } = s;
  if (!boundFields.has(CONDITIONS_FIELD) || status.conditions.length === 0) return { actions: [] };
  const settled = settle(status.conditions, task.status);
  // Judged on the stored conditions when nothing settles; a settle rewrites the line in the same merge.
  const lineLags = boundFields.has(F.statusText) && settled.length === 0 && !same(task.fields[F.statusText], statusText(task.status, status.conditions));
  if (settled.length === 0 && !lineLags) return { actions: [] };
  const reason =
    settled.length > 0
      ? `task is ${task.status}: ${settled.map((c) => c.type).join(', ')} no longer hold`
      : 'mc_status does not describe the current state';
  return { actions: [patch(NAME, task, reason, settled.length > 0 ? { conditions: settled } : {})] };
}

export const statusReconciler: TaskReconciler = { scope: 'task', name: NAME, plan };

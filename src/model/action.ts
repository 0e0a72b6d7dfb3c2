import { z } from 'zod';
import { TASK_STATUSES } from './board.js';

/**
 * Everything a reconciler may ask for. Planners return these; only the executor turns them into calls,
 * or prints them in dry-run. Every action names its queue key, the reconciler, a reason a human can read
 * and an idempotency key that stays the same until the desired effect changes.
 */

const base = {
  /** work-queue key: `task/<boardId>/<taskId>` or `global/<name>` */
  key: z.string().min(1),
  reconciler: z.string().min(1),
  reason: z.string().min(1),
  idempotencyKey: z.string().min(1),
};

const conditionInput = z.object({
  type: z.string().min(1),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string().min(1),
  message: z.string().optional(),
});

const ledgerEntry = z.object({
  s: z.enum(['pending', 'done', 'failed']),
  at: z.number(),
  ext: z.string().optional(),
  n: z.number().int().optional(),
});

/** The part of a task write a reconciler contributes; the executor merges all of a key's parts into one PATCH. */
export const taskChangeSchema = z.object({
  status: z.enum(TASK_STATUSES).optional(),
  /** custom field values; null deletes a value (upstream merge semantics) */
  fields: z.record(z.string(), z.unknown()).optional(),
  conditions: z.array(conditionInput).optional(),
  /** ledger entries to set (null removes one) */
  ledger: z.record(z.string(), ledgerEntry.nullable()).optional(),
  /** one comment line; written in the same PATCH as the fields, so the two land together or not at all */
  comment: z.string().optional(),
  /**
   * Rides along: applied only when the task's other changes of this pass write anyway, never a write of its
   * own (a record worth keeping that is not worth a PATCH, e.g. the session version a reader consumed).
   */
  rider: z.literal(true).optional(),
});
export type TaskChange = z.infer<typeof taskChangeSchema>;

const taskRef = { boardId: z.string().min(1), taskId: z.string().min(1) };

export const taskPatchAction = z.object({ ...base, type: z.literal('task.patch'), ...taskRef, change: taskChangeSchema });

export const discordPostAction = z.object({
  ...base,
  type: z.literal('discord.post'),
  purpose: z.enum(['delivery', 'approvals', 'resource', 'cost']),
  content: z.string(),
  embeds: z.array(z.object({ title: z.string().optional(), description: z.string() })).optional(),
  /**
   * The task whose ledger records the intent before the post and receives `after` once it succeeded.
   * Without it the global ledger (state file) is used.
   */
  task: z.object(taskRef).optional(),
  after: taskChangeSchema.optional(),
});

export const stateWriteAction = z.object({
  ...base,
  type: z.literal('state.write'),
  /** merged into the controller's global state (degrade mode, global ledger, …) */
  patch: z.record(z.string(), z.unknown()),
});

/** Scale a workload through its scale subresource; the original count goes into an annotation for restore. */
export const scaleAction = z.object({
  ...base,
  type: z.literal('k8s.scale'),
  kind: z.enum(['Deployment', 'StatefulSet']),
  namespace: z.string().min(1),
  name: z.string().min(1),
  replicas: z.number().int().min(0),
  /** true when restoring the annotated original count (the annotation is then removed) */
  restore: z.boolean().default(false),
});

/** SIGTERM, then SIGKILL after graceMs, to processes the kill allowlist matched. */
export const killAction = z.object({
  ...base,
  type: z.literal('process.kill'),
  targets: z.array(z.object({ pid: z.number().int().positive(), command: z.string() })).min(1),
  graceMs: z.number().int().min(0),
});

export const actionSchema = z.discriminatedUnion('type', [
  taskPatchAction,
  discordPostAction,
  stateWriteAction,
  scaleAction,
  killAction,
]);
export type Action = z.infer<typeof actionSchema>;
export type TaskPatchAction = z.infer<typeof taskPatchAction>;
export type DiscordPostAction = z.infer<typeof discordPostAction>;
export type StateWriteAction = z.infer<typeof stateWriteAction>;
export type ScaleAction = z.infer<typeof scaleAction>;
export type KillAction = z.infer<typeof killAction>;
export type ActionType = Action['type'];

export const taskKey = (boardId: string, taskId: string): string => `task/${boardId}/${taskId}`;
export const globalKey = (name: string): string => `global/${name}`;

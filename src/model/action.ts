import { z } from 'zod';
import { FIELD_TYPES, TASK_STATUSES } from './board.js';

/**
 * Everything a reconciler may ask for. Planners return these; only the executor turns them into calls,
 * or prints them in dry-run. Every action names its queue key, the reconciler, a reason a human can read
 * and an idempotency key that stays the same until the desired effect changes.
 */

const base = {
  /**
   * work-queue key: `task/<boardId>/<taskId>` or `global/<name>`; the one-shot writers outside the loop name
   * what they write: `field/<fieldKey>` (bootstrap), `board/<boardId>` (`task create`)
   */
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

const uiVisibility = z.enum(['always', 'if_set', 'hidden']);

/** A custom-field definition as bootstrap wants it (upstream field names, camelCased). */
const fieldDefinition = z.object({
  fieldKey: z.string().min(1),
  label: z.string().optional(),
  fieldType: z.enum(FIELD_TYPES),
  uiVisibility: uiVisibility.optional(),
  required: z.boolean().optional(),
  defaultValue: z.unknown().optional(),
  description: z.string().nullable().optional(),
  boardIds: z.array(z.string().min(1)),
});

/**
 * Create a custom field bound to the boards. A key another writer created meanwhile (two bootstraps at once)
 * is not a failure: the outcome is `skipped` and bootstrap binds to theirs.
 */
export const fieldCreateAction = z.object({ ...base, type: z.literal('field.create'), input: fieldDefinition });

/** Bind an existing field to more boards (the PATCH replaces board_ids: the union) or repair its drift. */
export const fieldUpdateAction = z.object({
  ...base,
  type: z.literal('field.update'),
  fieldKey: z.string().min(1),
  /** the definition's id upstream */
  id: z.string().min(1),
  changes: fieldDefinition.omit({ fieldKey: true }).partial(),
});

/** Create one task (`task create`); the created task's id is the outcome's externalId. */
export const taskCreateAction = z.object({
  ...base,
  type: z.literal('task.create'),
  boardId: z.string().min(1),
  input: z.object({
    title: z.string().min(1),
    description: z.string().nullable().optional(),
    status: z.enum(TASK_STATUSES).optional(),
    priority: z.string().optional(),
    assignedAgentId: z.string().nullable().optional(),
    customFieldValues: z.record(z.string(), z.unknown()).optional(),
  }),
});

export const actionSchema = z.discriminatedUnion('type', [
  taskPatchAction,
  discordPostAction,
  stateWriteAction,
  scaleAction,
  killAction,
  fieldCreateAction,
  fieldUpdateAction,
  taskCreateAction,
]);
export type Action = z.infer<typeof actionSchema>;
export type TaskPatchAction = z.infer<typeof taskPatchAction>;
export type DiscordPostAction = z.infer<typeof discordPostAction>;
export type StateWriteAction = z.infer<typeof stateWriteAction>;
export type ScaleAction = z.infer<typeof scaleAction>;
export type KillAction = z.infer<typeof killAction>;
export type FieldCreateAction = z.infer<typeof fieldCreateAction>;
export type FieldUpdateAction = z.infer<typeof fieldUpdateAction>;
export type TaskCreateAction = z.infer<typeof taskCreateAction>;
export type ActionType = Action['type'];

export const taskKey = (boardId: string, taskId: string): string => `task/${boardId}/${taskId}`;
export const globalKey = (name: string): string => `global/${name}`;
export const fieldActionKey = (fieldKey: string): string => `field/${fieldKey}`;
export const boardKey = (boardId: string): string => `board/${boardId}`;

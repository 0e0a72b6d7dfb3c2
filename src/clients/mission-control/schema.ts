import { z } from 'zod';
import {
  APPROVAL_STATUSES,
  FIELD_TYPES,
  TASK_STATUSES,
  type Approval,
  type Board,
  type FieldDefinition,
  type Task,
  type TaskComment,
} from '../../model/index.js';
import type { Rejected } from './api.js';

/**
 * Zod schemas of what Mission Control actually sends (snake_case, naive-UTC timestamps), converted at
 * the boundary into the camelCase, epoch-ms model. Unknown keys pass through (upstream adds fields
 * over time); missing optional keys get upstream's defaults.
 */

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * Mission Control stores naive UTC ("2026-03-01T12:34:56.123456" means UTC); a Z or offset suffix is
 * honoured when present. Fractions beyond milliseconds are truncated. Returns null when unreadable.
 */
export function parseMcTimestamp(text: string): number | null {
  const m = ISO.exec(text.trim());
  if (!m) return null;
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone] = m;
  const ms = frac.slice(0, 3).padEnd(3, '0');
  let offset = 'Z';
  if (zone && zone.toUpperCase() !== 'Z') offset = zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const at = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}${offset}`);
  return Number.isNaN(at) ? null : at;
}

export const timestamp = z.string().transform((text, ctx) => {
  const at = parseMcTimestamp(text);
  if (at === null) {
    ctx.addIssue({ code: 'custom', message: `not an ISO-8601 timestamp: ${JSON.stringify(text.slice(0, 40))}` });
    return z.NEVER;
  }
  return at;
});

const id = z.string().min(1);
const nullableId = z.string().nullish().transform((v) => v ?? null);
const nullableTime = timestamp.nullish().transform((v) => v ?? null);

export const TaskReadSchema = z
  .looseObject({
    id,
    board_id: id,
    title: z.string(),
    description: z.string().nullish(),
    status: z.enum(TASK_STATUSES),
    priority: z.string().nullish(),
    assigned_agent_id: nullableId,
    in_progress_at: nullableTime,
    created_at: timestamp,
    updated_at: timestamp,
    custom_field_values: z.record(z.string(), z.unknown()).nullish(),
  })
  .transform(
    (t): Task => ({
      id: t.id,
      boardId: t.board_id,
      title: t.title,
      description: t.description ?? null,
      status: t.status,
      priority: t.priority ?? 'medium',
      assignedAgentId: t.assigned_agent_id,
      inProgressAt: t.in_progress_at,
      createdAt: t.created_at,
      updatedAt: t.updated_at,
      fields: t.custom_field_values ?? {},
    }),
  );

export const TaskCommentReadSchema = z.looseObject({
  id,
  message: z.string().nullish(),
  agent_id: nullableId,
  task_id: nullableId,
  created_at: timestamp,
});
export type TaskCommentWire = z.output<typeof TaskCommentReadSchema>;

/** upstream's comment row may omit task_id; the caller knows which task it asked about */
export function toComment(c: TaskCommentWire, fallbackTaskId: string | null): TaskComment | null {
  const taskId = c.task_id ?? fallbackTaskId;
  if (taskId === null) return null;
  return { id: c.id, taskId, message: c.message ?? '', agentId: c.agent_id, createdAt: c.created_at };
}

export const ApprovalReadSchema = z
  .looseObject({
    id,
    board_id: id,
    action_type: z.string(),
    task_id: nullableId,
    task_ids: z.array(z.string()).nullish(),
    task_titles: z.array(z.string()).nullish(),
    payload: z.record(z.string(), z.unknown()).nullish(),
    confidence: z.number(),
    status: z.enum(APPROVAL_STATUSES),
    agent_id: nullableId,
    created_at: timestamp,
    resolved_at: nullableTime,
  })
  .transform(
    (a): Approval => ({
      id: a.id,
      boardId: a.board_id,
      actionType: a.action_type,
      taskId: a.task_id,
      taskIds: a.task_ids ?? (a.task_id ? [a.task_id] : []),
      taskTitles: a.task_titles ?? [],
      payload: a.payload ?? null,
      confidence: a.confidence,
      status: a.status,
      agentId: a.agent_id,
      createdAt: a.created_at,
      resolvedAt: a.resolved_at,
    }),
  );

export const FieldDefinitionReadSchema = z
  .looseObject({
    id,
    field_key: z.string().min(1),
    label: z.string().nullish(),
    field_type: z.enum(FIELD_TYPES),
    ui_visibility: z.enum(['always', 'if_set', 'hidden']).nullish(),
    required: z.boolean().nullish(),
    default_value: z.unknown().optional(),
    description: z.string().nullish(),
    board_ids: z.array(z.string()).nullish(),
  })
  .transform(
    (f): FieldDefinition => ({
      id: f.id,
      fieldKey: f.field_key,
      label: f.label ?? f.field_key,
      fieldType: f.field_type,
      uiVisibility: f.ui_visibility ?? 'always',
      required: f.required ?? false,
      defaultValue: f.default_value ?? null,
      description: f.description ?? null,
      boardIds: f.board_ids ?? [],
    }),
  );

export const BoardReadSchema = z
  .looseObject({
    id,
    name: z.string(),
    gateway_id: nullableId,
    require_approval_for_done: z.boolean().nullish(),
    require_review_before_done: z.boolean().nullish(),
    block_status_changes_with_pending_approval: z.boolean().nullish(),
    comment_required_for_review: z.boolean().nullish(),
    updated_at: timestamp,
  })
  .transform(
    (b): Board => ({
      id: b.id,
      name: b.name,
      gatewayId: b.gateway_id,
      // upstream defaults (BoardRead): the done gate is on unless switched off
      requireApprovalForDone: b.require_approval_for_done ?? true,
      requireReviewBeforeDone: b.require_review_before_done ?? false,
      blockStatusChangesWithPendingApproval: b.block_status_changes_with_pending_approval ?? false,
      commentRequiredForReview: b.comment_required_for_review ?? false,
      updatedAt: b.updated_at,
    }),
  );

/** An agent of `GET /agents`: only what `task create --assignee` checks. */
export interface AgentSummary {
  id: string;
  name: string;
  boardId: string | null;
}

export const AgentReadSchema = z
  .looseObject({ id, name: z.string(), board_id: nullableId })
  .transform((a): AgentSummary => ({ id: a.id, name: a.name, boardId: a.board_id }));

/** `{items,total,limit,offset}`; the items are validated one by one so one bad row cannot sink the page */
export const PageEnvelopeSchema = z.looseObject({
  items: z.array(z.unknown()),
  total: z.number().int().nonnegative(),
  limit: z.number().int().nonnegative().nullish(),
  offset: z.number().int().nonnegative().nullish(),
});

/** `{type, activity, task | comment}` of the tasks stream */
export const TaskStreamDataSchema = z.looseObject({
  type: z.string(),
  activity: z
    .looseObject({
      id: z.string().nullish(),
      task_id: z.string().nullish(),
      created_at: z.string().nullish(),
    })
    .nullish(),
  task: z.unknown().optional(),
  comment: z.unknown().optional(),
});

/** `{approval, pending_approvals_count, task_counts?}` of the approvals stream */
export const ApprovalStreamDataSchema = z.looseObject({
  approval: z.looseObject({
    id: z.string(),
    status: z.string(),
    created_at: z.string().nullish(),
    resolved_at: z.string().nullish(),
  }),
  pending_approvals_count: z.number().int().nullish(),
});

/** One line naming the first problems zod found, e.g. `status: Invalid option …; created_at: …`. */
export function zodProblem(error: z.ZodError): string {
  const parts = error.issues.slice(0, 3).map((i) => `${i.path.length ? i.path.join('.') : '(row)'}: ${i.message}`);
  const more = error.issues.length > 3 ? ` (+${error.issues.length - 3} more)` : '';
  return `${parts.join('; ')}${more}`.replace(/\s+/g, ' ');
}

export function readableId(row: unknown): string | null {
  if (row && typeof row === 'object' && 'id' in row) {
    const value = (row as { id: unknown }).id;
    if (typeof value === 'string' || typeof value === 'number') return String(value);
  }
  return null;
}

/** Validates each row; a bad one lands in `rejected` with its id and the zod problem, the rest are kept. */
export function parseRows<T>(
  rows: unknown[],
  schema: z.ZodType<T>,
  kind: Rejected['kind'],
): { items: T[]; rejected: Rejected[] } {
  const items: T[] = [];
  const rejected: Rejected[] = [];
  for (const row of rows) {
    const result = schema.safeParse(row);
    if (result.success) items.push(result.data);
    else rejected.push({ kind, id: readableId(row), problem: zodProblem(result.error) });
  }
  return { items, rejected };
}

import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { boardOr404 } from './boards.js';
import { bodyValueError, HttpError, notFound, parseOr422, rejectNullStatus } from './errors.js';
import { paged, route, type Route, type RouteContext } from './router.js';
import { APPROVAL_STATUSES, type ApprovalRow, type ApprovalStatus, type Store } from './store.js';
import { nowMicros } from './time.js';

/** Approvals (mission-control-api.md §4.4, §5.4, §6), following upstream `api/approvals.py`. */

const STATUS_MSG = "Input should be 'pending', 'approved' or 'rejected'";
const uuid = z.string().regex(/^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i, 'Input should be a valid UUID');
const status = z.enum(APPROVAL_STATUSES, { error: STATUS_MSG });

const ApprovalCreate = z.object({
  action_type: z.string(),
  confidence: z.number().min(0).max(100),
  task_id: uuid.nullable().optional(),
  task_ids: z.array(uuid).optional(),
  payload: z.record(z.string(), z.unknown()).nullable().optional(),
  rubric_scores: z.record(z.string(), z.number().int()).nullable().optional(),
  status: status.optional(),
  agent_id: uuid.nullable().optional(),
  lead_reasoning: z.string().nullable().optional(),
});

const ApprovalUpdate = z.object({
  status,
});

const nonBlank = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';

function reasonOf(payload: Record<string, unknown> | null | undefined, lead: string | null | undefined): string | null {
  if (payload && nonBlank(payload.reason)) return payload.reason;
  const decision = payload?.decision;
  if (decision && typeof decision === 'object' && nonBlank((decision as Record<string, unknown>).reason)) {
    return (decision as Record<string, unknown>).reason as string;
  }
  return nonBlank(lead) ? lead : null;
}

function linkedTaskIds(input: z.infer<typeof ApprovalCreate>): string[] {
  const ids: unknown[] = [input.task_id, ...(input.task_ids ?? []), input.payload?.task_id];
  const fromPayload = input.payload?.task_ids;
  if (Array.isArray(fromPayload)) ids.push(...fromPayload);
  return [...new Set(ids.filter((v): v is string => typeof v === 'string' && v !== ''))];
}

function conflicts(store: Store, boardId: string, taskIds: string[], except: string | null): Array<{ task_id: string; approval_id: string }> {
  const out: Array<{ task_id: string; approval_id: string }> = [];
  for (const taskId of taskIds) {
    const pending = store
      .approvalsForTask(taskId)
      .find((a) => a.board_id === boardId && a.status === 'pending' && a.id !== except);
    if (pending) out.push({ task_id: taskId, approval_id: pending.id });
  }
  return out;
}

function conflictError(found: Array<{ task_id: string; approval_id: string }>): HttpError {
  return new HttpError(409, { message: 'Each task can have only one pending approval.', conflicts: found });
}

function list(ctx: RouteContext): { body: unknown } {
  const board = boardOr404(ctx.store, ctx.params.board_id as string);
  const wanted = ctx.url.searchParams.get('status');
  if (wanted !== null && !(APPROVAL_STATUSES as readonly string[]).includes(wanted)) {
    throw new HttpError(422, [
      {
        type: 'literal_error',
        loc: ['query', 'status'],
        msg: STATUS_MSG,
        input: wanted,
        ctx: { expected: "'pending', 'approved' or 'rejected'" },
      },
    ]);
  }
  const rows = [...ctx.store.approvals.values()]
    .filter((a) => a.board_id === board.id && (wanted === null || a.status === wanted))
    .sort((a, b) => b.created_at - a.created_at);
  const page = paged(rows, ctx.url);
  return { body: { ...page, items: page.items.map((a) => ctx.store.approvalRead(a)) } };
}

async function create(ctx: RouteContext): Promise<{ body: unknown }> {
  const { store } = ctx;
  const board = boardOr404(store, ctx.params.board_id as string);
  const { value } = await ctx.body();
  const input = parseOr422(ApprovalCreate, value);
  const reason = reasonOf(input.payload, input.lead_reasoning);
  if (reason === null) {
    throw bodyValueError('lead reasoning is required', value);
  }
  const taskIds = linkedTaskIds(input);
  // Upstream does not validate task ids: the foreign key fails inside the insert (plain 500).
  if (taskIds.some((id) => !store.tasks.has(id))) throw new HttpError(500, 'Internal Server Error');
  const approvalStatus: ApprovalStatus = input.status ?? 'pending';
  if (approvalStatus === 'pending') {
    const found = conflicts(store, board.id, taskIds, null);
    if (found.length > 0) throw conflictError(found);
  }
  const payload = { ...(input.payload ?? {}) };
  if (!nonBlank(payload.reason)) payload.reason = reason;
  const row: ApprovalRow = {
    id: randomUUID(),
    board_id: board.id,
    action_type: input.action_type,
    task_ids: taskIds,
    payload,
    confidence: input.confidence,
    rubric_scores: input.rubric_scores ?? null,
    status: approvalStatus,
    agent_id: input.agent_id ?? null,
    created_at: nowMicros(),
    resolved_at: null,
  };
  store.approvals.set(row.id, row);
  store.changed({ kind: 'approval', boardId: board.id });
  return { body: store.approvalRead(row) };
}

async function update(ctx: RouteContext): Promise<{ body: unknown }> {
  const { store } = ctx;
  const board = boardOr404(store, ctx.params.board_id as string);
  const row = store.approvals.get(ctx.params.approval_id as string);
  if (!row || row.board_id !== board.id) throw notFound();
  const { value } = await ctx.body();
  rejectNullStatus(value);
  const next = parseOr422(ApprovalUpdate, value).status as ApprovalStatus;
  if (next === 'pending' && row.status !== 'pending') {
    const found = conflicts(store, board.id, row.task_ids, row.id);
    if (found.length > 0) throw conflictError(found);
  }
  row.status = next;
  if (next !== 'pending') row.resolved_at = nowMicros();
  store.changed({ kind: 'approval', boardId: board.id });
  return { body: store.approvalRead(row) };
}

export function approvalRoutes(): Route[] {
  return [
    route('GET', '/boards/{board_id}/approvals', 'approvals', list, { agents: true }),
    route('POST', '/boards/{board_id}/approvals', 'approvals', create, { agents: true }),
    route('PATCH', '/boards/{board_id}/approvals/{approval_id}', 'approvals', update),
  ];
}

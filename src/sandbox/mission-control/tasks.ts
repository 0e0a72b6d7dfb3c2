import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { boardOr404 } from './boards.js';
import { HttpError, notFound, parseOr422, rejectNullStatus } from './errors.js';
import { checkTaskValues, requireFilled } from './field-values.js';
import { paged, route, type Route, type RouteContext } from './router.js';
import { TASK_STATUSES, type BoardRow, type Store, type TaskRow, type TaskStatus } from './store.js';
import { nowMicros } from './time.js';

/** Tasks (mission-control-api.md §4.2, §5.1), following upstream `api/tasks.py`; their comments are in comments.ts. */

const STATUS_MSG = "Input should be 'inbox', 'in_progress', 'review' or 'done'";
const uuid = z.string().regex(/^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i, 'Input should be a valid UUID');
const status = z.enum(TASK_STATUSES, { error: STATUS_MSG });
const fieldValues = z.record(z.string(), z.unknown());

/** What create and update share (upstream's TaskBase); each adds its own title, values and extras. */
const taskFields = {
  description: z.string().nullable().optional(),
  status: status.optional(),
  priority: z.string().optional(),
  due_at: z.string().nullable().optional(),
  assigned_agent_id: uuid.nullable().optional(),
  depends_on_task_ids: z.array(uuid).optional(),
  tag_ids: z.array(uuid).optional(),
};

const TaskCreate = z.object({
  title: z.string(),
  ...taskFields,
  created_by_user_id: uuid.nullable().optional(),
  custom_field_values: fieldValues.optional(),
});

const TaskUpdate = z.object({
  title: z.string().optional(),
  ...taskFields,
  custom_field_values: fieldValues.nullable().optional(),
  comment: z.string().nullable().optional(),
});

export function taskOr404(store: Store, boardId: string, taskId: string): TaskRow {
  const task = store.tasks.get(taskId);
  if (!task || task.board_id !== boardId) throw notFound();
  return task;
}

function blockedError(ids: string[]): HttpError {
  return new HttpError(409, {
    message: 'Task is blocked by incomplete dependencies.',
    code: 'task_blocked_cannot_transition',
    blocked_by_task_ids: ids,
  });
}

const gate = (message: string): HttpError => new HttpError(409, { message, blocked_by_task_ids: [] });

function linkedApproval(store: Store, board: BoardRow, taskId: string, wanted: 'approved' | 'pending'): boolean {
  return store.approvalsForTask(taskId).some((a) => a.board_id === board.id && a.status === wanted);
}

function checkDependencies(store: Store, boardId: string, taskId: string, ids: string[]): string[] {
  const unique = [...new Set(ids)];
  if (unique.includes(taskId)) throw new HttpError(422, 'Task cannot depend on itself.');
  const missing = unique.filter((id) => store.tasks.get(id)?.board_id !== boardId);
  if (missing.length > 0) throw new HttpError(404, { message: 'One or more dependency tasks were not found.', missing_task_ids: missing });
  return unique;
}

function listTasks(ctx: RouteContext): { body: unknown } {
  const board = boardOr404(ctx.store, ctx.params.board_id as string);
  const raw = ctx.url.searchParams.get('status');
  const statuses = (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (statuses.some((s) => !(TASK_STATUSES as readonly string[]).includes(s))) {
    throw new HttpError(422, 'Unsupported task status filter.');
  }
  const assigned = ctx.url.searchParams.get('assigned_agent_id');
  const unassigned = ['true', '1', 'yes', 'on'].includes((ctx.url.searchParams.get('unassigned') ?? '').toLowerCase());
  const rows = [...ctx.store.tasks.values()]
    .filter(
      (t) =>
        t.board_id === board.id &&
        (statuses.length === 0 || statuses.includes(t.status)) &&
        (assigned === null || t.assigned_agent_id === assigned) &&
        (!unassigned || t.assigned_agent_id === null),
    )
    .sort((a, b) => b.created_at - a.created_at);
  const page = paged(rows, ctx.url);
  return { body: { ...page, items: page.items.map((t) => ctx.store.taskRead(t)) } };
}

async function createTask(ctx: RouteContext): Promise<{ body: unknown }> {
  const { store } = ctx;
  const board = boardOr404(store, ctx.params.board_id as string);
  const { value, floatPaths } = await ctx.body();
  const input = parseOr422(TaskCreate, value);
  // Upstream does not look the agent up on create: the foreign key fails in the insert (bare 500).
  if (input.assigned_agent_id && !store.agents.has(input.assigned_agent_id)) throw new HttpError(500, 'Internal Server Error');
  const id = randomUUID();
  const deps = checkDependencies(store, board.id, id, input.depends_on_task_ids ?? []);
  const taskStatus: TaskStatus = input.status ?? 'inbox';
  const assigned = input.assigned_agent_id ?? null;
  const blocked = deps.filter((d) => store.tasks.get(d)?.status !== 'done');
  if (blocked.length > 0 && (assigned !== null || taskStatus !== 'inbox')) throw blockedError(blocked);

  const supplied = input.custom_field_values ?? {};
  const defs = store.boardFields(board.id);
  checkTaskValues(supplied, defs, floatPaths);
  // Upstream stores the effective value (supplied, else the default) of every bound field at create.
  const effective = new Map<string, unknown>();
  for (const def of defs) effective.set(def.id, def.field_key in supplied ? supplied[def.field_key] : (def.default_value ?? null));
  requireFilled(effective, defs);

  const now = nowMicros();
  const task: TaskRow = {
    id,
    board_id: board.id,
    title: input.title,
    description: input.description ?? null,
    status: taskStatus,
    priority: input.priority ?? 'medium',
    due_at: input.due_at ?? null,
    assigned_agent_id: assigned,
    created_by_user_id: input.created_by_user_id ?? store.userId,
    // Upstream's create path does not stamp in_progress_at, even for status=in_progress.
    in_progress_at: null,
    created_at: now,
    updated_at: now,
    depends_on_task_ids: deps,
    tag_ids: [...new Set(input.tag_ids ?? [])],
    values: new Map([...effective].filter(([, v]) => v !== null && v !== undefined)),
  };
  store.tasks.set(id, task);
  store.recordActivity({
    event_type: 'task.created',
    message: `Task created: ${task.title}.`,
    agent_id: null,
    task_id: id,
    board_id: board.id,
  });
  return { body: store.taskRead(task) };
}

async function updateTask(ctx: RouteContext): Promise<{ body: unknown }> {
  const { store } = ctx;
  const board = boardOr404(store, ctx.params.board_id as string);
  const stored = taskOr404(store, board.id, ctx.params.task_id as string);
  const { value, floatPaths } = await ctx.body();
  const set = (key: string): boolean => value !== null && typeof value === 'object' && Object.hasOwn(value, key);
  // Recorded: `title: null` passes upstream's model and fails at the NOT NULL column (bare 500).
  if (set('title') && (value as { title: unknown }).title === null) throw new HttpError(500, 'Internal Server Error');
  rejectNullStatus(value);
  const input = parseOr422(TaskUpdate, value);
  if (input.assigned_agent_id && !store.agents.has(input.assigned_agent_id)) throw notFound();

  const draft: TaskRow = { ...stored, values: new Map(stored.values), depends_on_task_ids: [...stored.depends_on_task_ids] };
  const previousStatus = stored.status;
  const previousAssigned = stored.assigned_agent_id;
  const previousInProgressAt = stored.in_progress_at;
  const requested = input.status ?? null;
  const statusRequested = requested !== null && requested !== previousStatus;

  if (set('depends_on_task_ids')) {
    if (stored.status === 'done') throw new HttpError(409, 'Cannot change task dependencies after a task is done.');
    draft.depends_on_task_ids = checkDependencies(store, board.id, stored.id, input.depends_on_task_ids ?? []);
  }
  let nextStatus: TaskStatus = requested ?? stored.status;
  let resetByDependencies = false;
  const blocked = draft.depends_on_task_ids.filter((d) => store.tasks.get(d)?.status !== 'done');
  // Upstream silently resets a blocked task to inbox, unless it is done and stays done.
  if (blocked.length > 0 && !(stored.status === 'done' && nextStatus === 'done')) {
    nextStatus = 'inbox';
    resetByDependencies = true;
  }
  if (set('status') || resetByDependencies) {
    if (nextStatus === 'inbox' || nextStatus === 'review') {
      // entering review hands the task to the board lead, if the board has one
      draft.assigned_agent_id = nextStatus === 'review' ? (store.boardLead(board.id)?.id ?? null) : null;
      draft.in_progress_at = null;
    } else if (nextStatus === 'in_progress') {
      draft.in_progress_at = nowMicros();
    }
  }
  if (set('title') && input.title !== undefined) draft.title = input.title;
  if (set('description')) draft.description = input.description ?? null;
  if (set('priority') && input.priority !== undefined) draft.priority = input.priority;
  if (set('due_at')) draft.due_at = input.due_at ?? null;
  if (set('assigned_agent_id') && !resetByDependencies) draft.assigned_agent_id = input.assigned_agent_id ?? null;
  draft.status = nextStatus;

  if (statusRequested && nextStatus !== previousStatus && board.block_status_changes_with_pending_approval) {
    if (linkedApproval(store, board, stored.id, 'pending')) throw gate('Task status cannot be changed while a linked approval is pending.');
  }
  if (nextStatus === 'done' && previousStatus !== 'done') {
    if (board.require_review_before_done && previousStatus !== 'review') {
      throw gate('Task can only be marked done from review when the board rule is enabled.');
    }
    if (board.require_approval_for_done && !linkedApproval(store, board, stored.id, 'approved')) {
      throw gate('Task can only be marked done when a linked approval has been approved.');
    }
  }
  const comment = set('comment') && typeof input.comment === 'string' ? input.comment : null;
  if (requested === 'review' && board.comment_required_for_review && !(comment ?? '').trim()) {
    const author = draft.assigned_agent_id ?? previousAssigned;
    const recent =
      author !== null &&
      previousInProgressAt !== null &&
      store.comments(stored.id).some((c) => c.agent_id === author && c.created_at >= previousInProgressAt && (c.message ?? '').trim());
    if (!recent) throw new HttpError(422, 'Comment is required.');
  }
  if (set('tag_ids')) draft.tag_ids = [...new Set(input.tag_ids ?? [])];
  if (set('custom_field_values')) {
    const supplied = input.custom_field_values ?? {};
    const defs = store.boardFields(board.id);
    const byKey = checkTaskValues(supplied, defs, floatPaths);
    for (const [key, v] of Object.entries(supplied)) {
      const def = byKey.get(key);
      if (!def) continue;
      if (v === null) draft.values.delete(def.id);
      else draft.values.set(def.id, v);
    }
    const effective = new Map(defs.map((d) => [d.id, draft.values.has(d.id) ? draft.values.get(d.id) : (d.default_value ?? null)]));
    requireFilled(effective, defs);
  }
  draft.updated_at = nowMicros();

  Object.assign(stored, draft);
  if (comment !== null && comment.trim()) {
    store.recordActivity({ event_type: 'task.comment', message: comment, agent_id: null, task_id: stored.id, board_id: board.id });
  }
  const changed = stored.status !== previousStatus;
  if (previousStatus === 'done' && stored.status !== 'done') reopenDependents(store, stored);
  store.recordActivity({
    event_type: changed ? 'task.status_changed' : 'task.updated',
    message: changed ? `Task moved to ${stored.status}: ${stored.title}.` : `Task updated: ${stored.title}.`,
    agent_id: null,
    task_id: stored.id,
    board_id: board.id,
  });
  return { body: store.taskRead(stored) };
}

/** Upstream: a task leaving done sends its unfinished dependents back to inbox, unassigned. */
function reopenDependents(store: Store, task: TaskRow): void {
  for (const other of store.tasks.values()) {
    if (other.status === 'done' || other.status === 'inbox' || !other.depends_on_task_ids.includes(task.id)) continue;
    other.status = 'inbox';
    other.assigned_agent_id = null;
    other.in_progress_at = null;
    other.updated_at = nowMicros();
    store.recordActivity({
      event_type: 'task.status_changed',
      message: `Task moved to inbox: ${other.title}.`,
      agent_id: null,
      task_id: other.id,
      board_id: other.board_id,
    });
  }
}

function deleteTask(ctx: RouteContext): { body: unknown } {
  const { store } = ctx;
  const board = boardOr404(store, ctx.params.board_id as string);
  const task = taskOr404(store, board.id, ctx.params.task_id as string);
  store.activity = store.activity.filter((a) => a.task_id !== task.id);
  for (const approval of store.approvalsForTask(task.id)) {
    approval.task_ids = approval.task_ids.filter((id) => id !== task.id);
    if (approval.task_ids.length === 0) store.approvals.delete(approval.id);
  }
  for (const other of store.tasks.values()) {
    other.depends_on_task_ids = other.depends_on_task_ids.filter((id) => id !== task.id);
  }
  store.tasks.delete(task.id);
  store.changed({ kind: 'approval', boardId: board.id });
  return { body: { ok: true } };
}

const AGENTS = { agents: true };

/** Routes in match order: `/tasks/stream` is registered by sse.ts before these. */
export function taskRoutes(): Route[] {
  return [
    route('GET', '/boards/{board_id}/tasks', 'tasks', listTasks, AGENTS),
    route('POST', '/boards/{board_id}/tasks', 'tasks', createTask),
    route('PATCH', '/boards/{board_id}/tasks/{task_id}', 'tasks', updateTask, AGENTS),
    route('DELETE', '/boards/{board_id}/tasks/{task_id}', 'tasks', deleteTask),
  ];
}

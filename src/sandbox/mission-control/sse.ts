import { boardOr404 } from './boards.js';
import { route, type Route, type RouteContext, type RouteResult } from './router.js';
import type { ActivityRow, ApprovalRow, Store, StoreEvent } from './store.js';
import { nowMicros, parseIsoMicros } from './time.js';
import { pyFloat, pythonDumps } from './wire-json.js';

/**
 * The two SSE change streams (mission-control-api.md §7). Upstream polls the database every 2 s,
 * so a change reaches a client 0–2 s later; `mode: 'upstream'` (the default) does exactly that.
 * `mode: 'instant'` also runs the query at once whenever the board changes, for tests and benches
 * that measure the controller rather than the poll. The approvals stream keeps upstream's quirk:
 * rows with created_at or resolved_at >= last seen are selected again on every run, so the newest
 * approval repeats.
 */

export type StreamMode = 'upstream' | 'instant';

export interface StreamTiming {
  /** `upstream`: poll only; `instant`: poll and push on every change of the board */
  mode: StreamMode;
  /** the poll period (upstream: 2 s) */
  pollMs: number;
  /** keep-alive comment period (upstream sse-starlette ping: 15 s) */
  pingMs: number;
}

const TASK_EVENT_TYPES = new Set(['task.created', 'task.updated', 'task.status_changed', 'task.comment']);
const SEEN_MAX = 2000;

function frame(event: string, data: unknown): string {
  return `event: ${event}\r\ndata: ${pythonDumps(data)}\r\n\r\n`;
}

function sinceOf(ctx: RouteContext): number {
  const raw = ctx.url.searchParams.get('since');
  return (raw ? parseIsoMicros(raw) : null) ?? nowMicros();
}

/** sse-starlette's ping text: Python `str(datetime.now(timezone.utc))`, e.g. `2026-12-04 02:17:27.815794+00:00`. */
function pingTime(now: Date): string {
  return `${now.toISOString().slice(0, 23).replace('T', ' ')}000+00:00`;
}

/** Opens the response and calls `tick` now, every pollMs, and (instant mode) on every change of the board. */
function serve(ctx: RouteContext, boardId: string, timing: StreamTiming, tick: () => string[]): RouteResult {
  const { res, store } = ctx;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': ctx.requestId,
  });
  res.flushHeaders();
  let scheduled = false;
  const run = (): void => {
    scheduled = false;
    if (res.writableEnded || res.destroyed) return;
    for (const chunk of tick()) res.write(chunk);
  };
  const wake = (): void => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(run);
  };
  const onChange = (event: StoreEvent): void => {
    if (event.boardId === boardId) wake();
  };
  const poll = setInterval(run, timing.pollMs);
  const ping = setInterval(() => {
    if (!res.writableEnded) res.write(`: ping - ${pingTime(new Date())}\r\n\r\n`);
  }, timing.pingMs);
  poll.unref();
  ping.unref();
  if (timing.mode === 'instant') store.events.on('change', onChange);
  res.once('close', () => {
    clearInterval(poll);
    clearInterval(ping);
    store.events.off('change', onChange);
  });
  wake();
  return 'streaming';
}

function taskStream(ctx: RouteContext, timing: StreamTiming): RouteResult {
  const { store } = ctx;
  const board = boardOr404(store, ctx.params.board_id as string);
  let lastSeen = sinceOf(ctx);
  const seen = new Set<string>();
  const order: string[] = [];
  const tick = (): string[] => {
    const rows = store.activity
      .filter((a) => a.board_id === board.id && a.created_at >= lastSeen && TASK_EVENT_TYPES.has(a.event_type))
      .filter((a) => a.task_id !== null && store.tasks.get(a.task_id)?.board_id === board.id)
      .sort((a, b) => a.created_at - b.created_at);
    const out: string[] = [];
    for (const row of rows) {
      if (seen.has(row.id)) continue;
      seen.add(row.id);
      order.push(row.id);
      if (order.length > SEEN_MAX) seen.delete(order.shift() as string);
      lastSeen = Math.max(lastSeen, row.created_at);
      out.push(frame('task', taskPayload(store, row)));
    }
    return out;
  };
  return serve(ctx, board.id, timing, tick);
}

function taskPayload(store: Store, row: ActivityRow): Record<string, unknown> {
  const payload: Record<string, unknown> = { type: row.event_type, activity: store.activityRead(row) };
  if (row.event_type === 'task.comment') {
    payload.comment = store.commentRead(row);
    return payload;
  }
  const task = row.task_id ? store.tasks.get(row.task_id) : undefined;
  payload.task = task ? store.taskRead(task) : null;
  return payload;
}

function approvalStream(ctx: RouteContext, timing: StreamTiming): RouteResult {
  const { store } = ctx;
  const board = boardOr404(store, ctx.params.board_id as string);
  let lastSeen = sinceOf(ctx);
  const tick = (): string[] => {
    const rows = [...store.approvals.values()]
      .filter((a) => a.board_id === board.id && (a.created_at >= lastSeen || (a.resolved_at ?? -1) >= lastSeen))
      .sort((a, b) => a.created_at - b.created_at);
    const pending = store.pendingApprovalsCount(board.id);
    return rows.map((row) => {
      lastSeen = Math.max(lastSeen, row.created_at, row.resolved_at ?? 0);
      return frame('approval', approvalPayload(store, row, pending));
    });
  };
  return serve(ctx, board.id, timing, tick);
}

function approvalPayload(store: Store, row: ApprovalRow, pending: number): Record<string, unknown> {
  // The stream writes `confidence` as the float column holds it (`50.0`); REST answers show `50`.
  const approval = { ...store.approvalRead(row), confidence: pyFloat(row.confidence) };
  const payload: Record<string, unknown> = { approval, pending_approvals_count: pending };
  const counts = row.task_ids.map((taskId) => {
    const all = store.approvalsForTask(taskId);
    return { task_id: taskId, approvals_count: all.length, approvals_pending_count: all.filter((a) => a.status === 'pending').length };
  });
  if (counts.length === 1) payload.task_counts = counts[0];
  else if (counts.length > 1) payload.task_counts = counts;
  return payload;
}

export function streamRoutes(timing: StreamTiming): Route[] {
  return [
    route('GET', '/boards/{board_id}/tasks/stream', 'stream', (ctx) => taskStream(ctx, timing), { agents: true }),
    route('GET', '/boards/{board_id}/approvals/stream', 'stream', (ctx) => approvalStream(ctx, timing), { agents: true }),
  ];
}

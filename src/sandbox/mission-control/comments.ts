import { z } from 'zod';
import { boardOr404 } from './boards.js';
import { parseOr422 } from './errors.js';
import { paged, route, type Route, type RouteContext } from './router.js';
import { taskOr404 } from './tasks.js';

/** Task comments (mission-control-api.md §6): activity rows of type `task.comment`, as upstream stores them. */

const CommentCreate = z.object({
  // pydantic NonEmptyStr: stripped, then min_length 1 (`string_too_short`)
  message: z.string().trim().min(1),
});

function listComments(ctx: RouteContext): { body: unknown } {
  const board = boardOr404(ctx.store, ctx.params.board_id as string);
  const task = taskOr404(ctx.store, board.id, ctx.params.task_id as string);
  const rows = ctx.store.comments(task.id).sort((a, b) => a.created_at - b.created_at);
  const page = paged(rows, ctx.url);
  return { body: { ...page, items: page.items.map((c) => ctx.store.commentRead(c)) } };
}

async function createComment(ctx: RouteContext): Promise<{ body: unknown }> {
  const board = boardOr404(ctx.store, ctx.params.board_id as string);
  const task = taskOr404(ctx.store, board.id, ctx.params.task_id as string);
  const { value } = await ctx.body();
  const input = parseOr422(CommentCreate, value);
  const row = ctx.store.recordActivity({
    event_type: 'task.comment',
    message: input.message,
    agent_id: null,
    task_id: task.id,
    board_id: board.id,
  });
  return { body: ctx.store.commentRead(row) };
}

const AGENTS = { agents: true };

export function commentRoutes(): Route[] {
  return [
    route('GET', '/boards/{board_id}/tasks/{task_id}/comments', 'comments', listComments, AGENTS),
    route('POST', '/boards/{board_id}/tasks/{task_id}/comments', 'comments', createComment, AGENTS),
  ];
}

import { z } from 'zod';
import { HttpError, notFound, parseOr422 } from './errors.js';
import { isUuid, paged, route, type Route, type RouteContext } from './router.js';
import type { BoardRow, Store } from './store.js';
import { nowMicros } from './time.js';

/** `GET /boards`, `GET /boards/{b}`, `PATCH /boards/{b}` (mission-control-api.md §4.1, §5.5). */

export function boardOr404(store: Store, boardId: string): BoardRow {
  const board = store.boards.get(boardId);
  if (!board) throw notFound();
  return board;
}

/** What a board create or update may set besides its name and slug: the rule flags and limits. */
export const boardSettings = {
  description: z.string().optional(),
  objective: z.string().nullable().optional(),
  require_approval_for_done: z.boolean().optional(),
  require_review_before_done: z.boolean().optional(),
  comment_required_for_review: z.boolean().optional(),
  block_status_changes_with_pending_approval: z.boolean().optional(),
  only_lead_can_change_status: z.boolean().optional(),
  max_agents: z.number().int().min(0).optional(),
};

const BoardUpdate = z.object({
  name: z.string().min(1).optional(),
  slug: z.string().min(1).optional(),
  ...boardSettings,
});

function listBoards(ctx: RouteContext): { body: unknown } {
  const gatewayId = ctx.url.searchParams.get('gateway_id');
  const groupId = ctx.url.searchParams.get('board_group_id');
  const rows = [...ctx.store.boards.values()]
    .filter((b) => (gatewayId === null || b.gateway_id === gatewayId) && (groupId === null || b.board_group_id === groupId))
    .sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()));
  const page = paged(rows, ctx.url);
  return { body: { ...page, items: page.items.map((b) => ctx.store.boardRead(b)) } };
}

async function patchBoard(ctx: RouteContext): Promise<{ body: unknown }> {
  const board = boardOr404(ctx.store, ctx.params.board_id as string);
  const { value } = await ctx.body();
  const input = parseOr422(BoardUpdate, value);
  // Upstream validates the board's gateway (and its main agent) on every update.
  if (!board.gateway_id || !isUuid(board.gateway_id)) {
    throw new HttpError(422, 'Board gateway_id is required');
  }
  Object.assign(board, input, { updated_at: nowMicros() });
  return { body: ctx.store.boardRead(board) };
}

export function boardRoutes(): Route[] {
  return [
    route('GET', '/boards', 'boards', listBoards),
    route('GET', '/boards/{board_id}', 'boards', (ctx) => ({
      body: ctx.store.boardRead(boardOr404(ctx.store, ctx.params.board_id as string)),
    })),
    route('PATCH', '/boards/{board_id}', 'boards', patchBoard),
  ];
}

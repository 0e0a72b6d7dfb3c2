import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { boardSettings } from './boards.js';
import { bodyValueError, HttpError, parseOr422 } from './errors.js';
import { paged, route, type Route, type RouteContext } from './router.js';
import type { BoardRow } from './store.js';
import { nowMicros } from './time.js';

/**
 * What a board needs before it exists upstream (mission-control-api.md §4.1): a registered gateway
 * (which provisions its main agent), the agents list, and `POST /boards`. Upstream checks the
 * gateway live over the OpenClaw protocol; the sandbox accepts any ws(s) URL.
 */

const GatewayCreate = z.object({
  name: z.string().trim().min(1),
  url: z.string().regex(/^wss?:\/\/.+/i, 'Value error, url must be a ws:// or wss:// URL'),
  token: z.string().nullable().optional(),
  workspace_root: z.string().trim().min(1),
  allow_insecure_tls: z.boolean().optional(),
  disable_device_pairing: z.boolean().optional(),
});

const BoardCreate = z.object({
  name: z.string().trim().min(1),
  slug: z.string().trim().min(1),
  gateway_id: z.string().nullable().optional(),
  board_type: z.string().optional(),
  ...boardSettings,
});

function listGateways(ctx: RouteContext): { body: unknown } {
  const rows = [...ctx.store.gateways.values()].sort((a, b) => a.created_at - b.created_at);
  const page = paged(rows, ctx.url);
  return { body: { ...page, items: page.items.map((g) => ctx.store.gatewayRead(g)) } };
}

async function createGateway(ctx: RouteContext): Promise<{ body: unknown }> {
  const { value } = await ctx.body();
  const input = parseOr422(GatewayCreate, value);
  const gateway = ctx.store.addGateway({ ...input, token: input.token ?? null });
  return { body: ctx.store.gatewayRead(gateway) };
}

function listAgents(ctx: RouteContext): { body: unknown } {
  const boardId = ctx.url.searchParams.get('board_id');
  const gatewayId = ctx.url.searchParams.get('gateway_id');
  const rows = [...ctx.store.agents.values()]
    .filter((a) => (boardId === null || a.board_id === boardId) && (gatewayId === null || a.gateway_id === gatewayId))
    .sort((a, b) => a.created_at - b.created_at);
  const page = paged(rows, ctx.url);
  return { body: { ...page, items: page.items.map((a) => ctx.store.agentRead(a)) } };
}

/** Upstream's board model validator reports a missing description / gateway three times (recorded). */
const boardPrerequisite = (input: unknown, message: string): HttpError => bodyValueError(message, input, 3);

async function createBoard(ctx: RouteContext): Promise<{ body: unknown }> {
  const { store } = ctx;
  const { value } = await ctx.body();
  const input = parseOr422(BoardCreate, value);
  if (!input.description?.trim()) throw boardPrerequisite(value, 'description is required');
  if (!input.gateway_id) throw boardPrerequisite(value, 'gateway_id is required');
  if (!store.gateways.has(input.gateway_id)) throw new HttpError(422, 'gateway_id is invalid');
  const now = nowMicros();
  const board: BoardRow = {
    id: randomUUID(),
    organization_id: store.organization.id,
    name: input.name,
    slug: input.slug,
    description: input.description,
    gateway_id: input.gateway_id,
    board_group_id: null,
    board_type: input.board_type ?? 'goal',
    objective: input.objective ?? null,
    success_metrics: null,
    target_date: null,
    goal_confirmed: false,
    goal_source: null,
    require_approval_for_done: input.require_approval_for_done ?? true,
    require_review_before_done: input.require_review_before_done ?? false,
    comment_required_for_review: input.comment_required_for_review ?? false,
    block_status_changes_with_pending_approval: input.block_status_changes_with_pending_approval ?? false,
    only_lead_can_change_status: input.only_lead_can_change_status ?? false,
    max_agents: input.max_agents ?? 1,
    created_at: now,
    updated_at: now,
  };
  store.boards.set(board.id, board);
  return { body: store.boardRead(board) };
}

export function gatewayRoutes(): Route[] {
  return [
    route('GET', '/gateways', 'boards', listGateways),
    route('POST', '/gateways', 'boards', createGateway),
    route('GET', '/agents', 'boards', listAgents),
    route('POST', '/boards', 'boards', createBoard),
  ];
}

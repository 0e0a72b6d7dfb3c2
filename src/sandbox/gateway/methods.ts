/**
 * The simulator's RPC methods: the read surface mc-controller uses, with the real gateway's params
 * validation (closed objects), scope rules and result shapes.
 */
import { SIM_MODEL, type GatewayState } from './state.js';
import { isMalformedAgentKey, isUsageReference } from './session-ref.js';

export class MethodError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** sessions.list params accepted by 2026.9.6 (§7); anything else is rejected like the real schema does */
const LIST_PARAMS = new Set([
  'limit', 'offset', 'activeMinutes', 'activeOnly', 'sortBy', 'spawnedBy', 'agentId', 'label', 'search', 'archived',
  'includeLastMessage', 'includeDerivedTitles', 'includeActivitySummary', 'includeGlobal', 'includeUnknown',
  'excludeSubagents', 'excludeCron', 'excludeSystem', 'configuredAgentsOnly', 'requireLastInteraction', 'projectId',
  'workspaceDir', 'group', 'pinned', 'boardFace', 'hasBoard', 'creatorId', 'ownerId', 'ownerFirst', 'involvingMe',
  'profileRelation', 'involvingProfileId', 'includePeople',
]);
const HISTORY_PARAMS = new Set(['sessionKey', 'agentId', 'limit', 'offset', 'cursor', 'maxBytes', 'maxChars', 'pendingBefore', 'inputRunIds', 'messageId', 'sessionId']);
const USAGE_PARAMS = new Set(['key', 'agentId', 'agentScope', 'startDate', 'endDate', 'mode', 'timeZone', 'range', 'groupBy', 'limit', 'includeContextWeight']);

export const METHOD_SCOPES: Record<string, string> = {
  'sessions.list': 'operator.read',
  'sessions.subscribe': 'operator.read',
  'chat.history': 'operator.read',
  'sessions.usage': 'operator.read',
  'exec.approval.list': 'operator.approvals',
  health: 'operator.read',
};
/** advertised in hello-ok; sessions.usage is callable but, like the real gateway, not advertised (§3) */
export const ADVERTISED_METHODS = ['health', 'sessions.list', 'sessions.subscribe', 'chat.history', 'exec.approval.list'];
export const ADVERTISED_EVENTS = ['connect.challenge', 'chat', 'sessions.changed', 'tick', 'shutdown', 'health', 'exec.approval.requested', 'exec.approval.resolved'];

type Params = Record<string, unknown>;

function closed(method: string, params: unknown, allowed: Set<string>): Params {
  if (params === undefined) return {};
  if (params === null || typeof params !== 'object' || Array.isArray(params)) {
    throw new MethodError('INVALID_REQUEST', `invalid ${method} params: at root: must be object`);
  }
  for (const key of Object.keys(params)) {
    if (!allowed.has(key)) throw new MethodError('INVALID_REQUEST', `invalid ${method} params: at root: unexpected property '${key}'`);
  }
  return params as Params;
}

function nonNegativeInt(method: string, params: Params, name: string, min: number): number | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new MethodError('INVALID_REQUEST', `invalid ${method} params: at /${name}: must be >= ${min}`);
  }
  return value;
}

export function authorize(method: string, scopes: readonly string[]): void {
  if (scopes.includes('operator.admin')) {
    if (!(method in METHOD_SCOPES)) throw new MethodError('INVALID_REQUEST', `unknown method: ${method}`);
    return;
  }
  // like the real gateway, an unknown method needs admin, so non-admins see a scope error, not "unknown"
  const required = METHOD_SCOPES[method] ?? 'operator.admin';
  if (!scopes.includes(required)) {
    throw new MethodError('FORBIDDEN', `missing scope: ${required}`, { code: 'MISSING_SCOPE', missingScope: required, requiredScopes: [required] });
  }
}

export function sessionsList(state: GatewayState, raw: unknown, method = 'sessions.list'): Record<string, unknown> {
  const params = closed(method, raw, LIST_PARAMS);
  const limit = nonNegativeInt(method, params, 'limit', 1) ?? 100;
  const offset = nonNegativeInt(method, params, 'offset', 0) ?? 0;
  let rows = state.list();
  if (typeof params.spawnedBy === 'string') rows = rows.filter((s) => s.spawnedBy === params.spawnedBy);
  if (typeof params.agentId === 'string') rows = rows.filter((s) => s.agentId === params.agentId);
  if (typeof params.label === 'string') rows = rows.filter((s) => s.label === params.label);
  if (params.excludeSubagents === true) rows = rows.filter((s) => !s.spawnedBy);
  const page = rows.slice(offset, offset + limit);
  const hasMore = offset + page.length < rows.length;
  return {
    ts: Date.now(),
    path: '(sandbox)',
    count: page.length,
    totalCount: rows.length,
    limitApplied: limit,
    ...(params.offset !== undefined ? { offset } : {}),
    nextOffset: hasMore ? offset + page.length : null,
    hasMore,
    owners: [{ type: 'agent', id: 'main' }],
    defaults: { ...SIM_MODEL },
    sessions: page.map((s) => state.row(s)),
  };
}

export function chatHistory(state: GatewayState, raw: unknown): Record<string, unknown> {
  const params = closed('chat.history', raw, HISTORY_PARAMS);
  const key = params.sessionKey;
  if (typeof key !== 'string') {
    throw new MethodError('INVALID_REQUEST', "invalid chat.history params: must have required property 'sessionKey'");
  }
  const limit = nonNegativeInt('chat.history', params, 'limit', 1) ?? 200;
  checkSessionKey('chat.history', 'sessionKey', key);
  const session = state.get(key);
  if (!session) {
    // unknown keys are not an error on the real gateway: empty transcript, synthesized info
    return {
      sessionKey: key,
      messages: [],
      pendingInputs: { items: [], total: 0 },
      hasMore: false,
      totalMessages: 0,
      defaults: { ...SIM_MODEL },
      sessionInfo: { key, kind: 'direct', classification: 'custom', agentId: 'main', updatedAt: null },
    };
  }
  const start = Math.max(0, session.messages.length - limit);
  return {
    sessionKey: key,
    sessionId: session.sessionId,
    messages: session.messages.slice(start).map((m, i) => state.wireMessage(m, start + i + 1)),
    pendingInputs: { items: [], total: 0 },
    hasMore: start > 0,
    totalMessages: session.messages.length,
    defaults: { ...SIM_MODEL },
    sessionInfo: state.row(session),
  };
}

/** The checks both read methods make on a key, with the real gateway's words (see session-ref.ts). */
function checkSessionKey(method: string, param: string, key: string): void {
  if (key.length === 0) throw new MethodError('INVALID_REQUEST', `invalid ${method} params: at /${param}: must not have fewer than 1 characters`);
  if (isMalformedAgentKey(key)) throw new MethodError('INVALID_REQUEST', `malformed session key "${key}"`);
}

/**
 * Without a key, like the real gateway: the sessions of one agent (`agentId`, else the implicit `main`) or of
 * every agent (`agentScope: "all"`), newest first, at most `limit` (50 unless given).
 */
function usageSelection(state: GatewayState, params: Record<string, unknown>): ReturnType<GatewayState['list']> {
  const agent = params.agentScope === 'all' ? null : typeof params.agentId === 'string' ? params.agentId : 'main';
  const limit = typeof params.limit === 'number' && Number.isFinite(params.limit) ? params.limit : 50;
  return state
    .list()
    .filter((s) => agent === null || s.agentId === agent)
    .sort((a, b) => (b.updatedAt ?? 0) - (a.updatedAt ?? 0))
    .slice(0, Math.max(0, limit));
}

/** First call after a usage change answers `usage:null` + `refreshing`, the next one the totals (§10). */
export function sessionsUsage(state: GatewayState, raw: unknown): Record<string, unknown> {
  const params = closed('sessions.usage', raw, USAGE_PARAMS);
  if (typeof params.key === 'string') checkSessionKey('sessions.usage', 'key', params.key);
  if (params.agentScope === 'all' && (typeof params.key === 'string' || typeof params.agentId === 'string'))
    throw new MethodError('INVALID_REQUEST', 'agentScope=all cannot be combined with key or agentId');
  const one = typeof params.key === 'string' ? state.get(params.key) : undefined;
  if (typeof params.key === 'string' && !one && !isUsageReference(params.key))
    throw new MethodError('INVALID_REQUEST', `Invalid session reference: ${params.key}`);
  const selected = typeof params.key === 'string' ? (one ? [one] : []) : usageSelection(state, params);
  const refreshing = selected.some((s) => s.usageStale);
  const today = new Date().toISOString().slice(0, 10);
  const sessions = selected.map((s) => {
    const usage = !refreshing && s.usage
      ? {
          input: s.usage.inputTokens,
          output: s.usage.outputTokens,
          cacheRead: 0,
          cacheWrite: 0,
          totalTokens: s.usage.inputTokens + s.usage.outputTokens,
          totalCost: s.usage.costUsd,
          firstActivity: s.createdAt,
          lastActivity: s.lastActivityAt,
          messageCounts: { total: s.messages.length },
        }
      : null;
    return { key: s.key, sessionId: s.sessionId, agentId: s.agentId, ...SIM_MODEL, usage };
  });
  for (const s of selected) s.usageStale = false;
  const totals = sessions.reduce(
    (acc, s) => ({
      input: acc.input + (s.usage?.input ?? 0),
      output: acc.output + (s.usage?.output ?? 0),
      totalCost: acc.totalCost + (s.usage?.totalCost ?? 0),
    }),
    { input: 0, output: 0, totalCost: 0 },
  );
  return {
    updatedAt: Date.now(),
    startDate: today,
    endDate: today,
    sessions,
    totals,
    aggregates: { sessionCount: sessions.filter((s) => s.usage).length },
    cacheStatus: { status: refreshing ? 'refreshing' : 'fresh' },
  };
}

/**
 * Agent-run approvals are visible to `operator.admin` only when the client has no paired device: the
 * real gateway's `exec.approval.list` answered `[]` to a `gateway-client` holding `operator.approvals`.
 */
export function execApprovalList(state: GatewayState, raw: unknown, scopes: readonly string[]): unknown[] {
  closed('exec.approval.list', raw, new Set());
  return scopes.includes('operator.admin') ? state.pendingApprovals() : [];
}

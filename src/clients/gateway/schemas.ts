/**
 * What the gateway sends, as zod schemas. Everything is loose (extra keys kept) and, apart from
 * identifiers, optional: rows and payloads grow between gateway versions (openclaw-gateway.md §7, §14).
 * `null` is common on real rows (e.g. `inputTokens: null` after a run that failed before any model call).
 */
import { z } from 'zod';

const optNum = z.number().nullish();
const optStr = z.string().nullish();
const optBool = z.boolean().nullish();

export const GatewayErrorShape = z.looseObject({
  code: z.string(),
  message: z.string().default(''),
  details: z.looseObject({ code: z.string().optional() }).nullish(),
  retryable: optBool,
  retryAfterMs: optNum,
});

export const ResFrame = z.looseObject({
  type: z.literal('res'),
  id: z.string(),
  ok: z.boolean(),
  payload: z.unknown().optional(),
  error: GatewayErrorShape.optional(),
});

export const EventFrame = z.looseObject({
  type: z.literal('event'),
  event: z.string(),
  payload: z.unknown().optional(),
  seq: optNum,
});

export const InboundFrame = z.discriminatedUnion('type', [ResFrame, EventFrame]);

export const HelloOk = z.looseObject({
  type: z.literal('hello-ok'),
  protocol: z.number(),
  server: z.looseObject({ version: optStr, bootId: optStr, connId: optStr }).nullish(),
  features: z.looseObject({ methods: z.array(z.string()).nullish() }).nullish(),
  snapshot: z.looseObject({ uptimeMs: optNum }).nullish(),
  auth: z.looseObject({ scopes: z.array(z.string()).nullish() }).nullish(),
  policy: z.looseObject({ tickIntervalMs: optNum }).nullish(),
});

export const SessionRow = z.looseObject({
  key: z.string().min(1),
  sessionId: optStr,
  agentId: optStr,
  label: optStr,
  status: optStr,
  spawnedBy: optStr,
  parentSessionKey: optStr,
  createdAt: optNum,
  updatedAt: optNum,
  lastActivityAt: optNum,
  endedAt: optNum,
  hasActiveRun: optBool,
  lastRunError: optStr,
  abortedLastRun: optBool,
});

export const SessionsListResult = z.looseObject({
  sessions: z.array(z.unknown()),
  count: optNum,
  totalCount: optNum,
  nextOffset: optNum,
  hasMore: optBool,
});

export const HistoryMessage = z.looseObject({
  role: z.string(),
  content: z.unknown().optional(),
  timestamp: z.union([z.number(), z.string()]).nullish(),
});

export const ChatHistoryResult = z.looseObject({ messages: z.array(z.unknown()) });

export const ApprovalRecord = z.looseObject({
  id: z.string().min(1),
  request: z.looseObject({ sessionKey: optStr, runId: optStr, command: optStr }).nullish(),
  createdAtMs: optNum,
  expiresAtMs: optNum,
});

/** `exec.approval.list` answers with a bare array; accept a wrapped one too */
export const ApprovalListResult = z.union([
  z.array(z.unknown()),
  z.looseObject({ approvals: z.array(z.unknown()) }).transform((v) => v.approvals),
]);

export const UsageTotals = z.looseObject({ input: optNum, output: optNum, totalCost: optNum });

export const UsageEntry = z.looseObject({ key: z.string(), usage: UsageTotals.nullish() });

export const SessionsUsageResult = z.looseObject({
  sessions: z.array(UsageEntry).nullish(),
  cacheStatus: z.looseObject({ status: optStr }).nullish(),
});

/** The many-session answer: its entries are judged one by one, so one odd row costs only itself. */
export const SessionsUsagePage = z.looseObject({
  sessions: z.array(z.unknown()).nullish(),
  cacheStatus: z.looseObject({ status: optStr }).nullish(),
});

export const SessionsChangedPayload = z.looseObject({
  sessionKey: optStr,
  session: z.looseObject({ key: optStr, spawnedBy: optStr, parentSessionKey: optStr }).nullish(),
});

export const ChatEventPayload = z.looseObject({ sessionKey: optStr, spawnedBy: optStr });

export const ApprovalEventPayload = ApprovalRecord;

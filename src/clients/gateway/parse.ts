/** Gateway payloads → the shared model (src/model/session.ts). Pure functions, no I/O. */
import type { z } from 'zod';
import { plausibleCost, type ChatMessage, type ExecApproval, type Session, type SessionUsage } from '../../model/index.js';
import { ApprovalRecord, HistoryMessage, SessionRow, SessionsUsagePage, SessionsUsageResult, UsageEntry } from './schemas.js';

/** zod issues as one short line, for "skipped a malformed item" logs */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}

const orUndefined = <T>(value: T | null | undefined): T | undefined => (value === null ? undefined : value);

export type RowResult = { ok: true; session: Session } | { ok: false; key: string | null; problem: string };

export function parseSessionRow(raw: unknown): RowResult {
  const parsed = SessionRow.safeParse(raw);
  if (!parsed.success) {
    const key = raw && typeof raw === 'object' && typeof (raw as { key?: unknown }).key === 'string' ? (raw as { key: string }).key : null;
    return { ok: false, key, problem: describeIssues(parsed.error) };
  }
  const r = parsed.data;
  const session: Session = { key: r.key };
  // copy only known fields; the shared Session type is the controller's vocabulary, not the wire row
  const fields = [
    'sessionId', 'agentId', 'label', 'status', 'spawnedBy', 'parentSessionKey', 'createdAt', 'updatedAt',
    'lastActivityAt', 'endedAt', 'hasActiveRun', 'lastRunError', 'abortedLastRun',
  ] as const;
  for (const field of fields) {
    const value = orUndefined(r[field]);
    if (value !== undefined) (session as unknown as Record<string, unknown>)[field] = value;
  }
  return { ok: true, session };
}

/** text blocks joined; tool calls and other structured blocks are not prose and are left out */
export function flattenContent(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  const parts: string[] = [];
  for (const block of content) {
    if (typeof block === 'string') parts.push(block);
    else if (block && typeof block === 'object') {
      const { type, text } = block as { type?: unknown; text?: unknown };
      if ((type === 'text' || type === undefined) && typeof text === 'string') parts.push(text);
    }
  }
  return parts.join('\n');
}

function toEpochMs(value: number | string | null | undefined): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string') {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

export function parseHistoryMessage(raw: unknown): { ok: true; message: ChatMessage } | { ok: false; problem: string } {
  const parsed = HistoryMessage.safeParse(raw);
  if (!parsed.success) return { ok: false, problem: describeIssues(parsed.error) };
  const message: ChatMessage = { role: parsed.data.role, text: flattenContent(parsed.data.content) };
  const timestamp = toEpochMs(parsed.data.timestamp);
  if (timestamp !== undefined) message.timestamp = timestamp;
  return { ok: true, message };
}

export function parseApproval(raw: unknown): { ok: true; approval: ExecApproval } | { ok: false; problem: string } {
  const parsed = ApprovalRecord.safeParse(raw);
  if (!parsed.success) return { ok: false, problem: describeIssues(parsed.error) };
  const r = parsed.data;
  const approval: ExecApproval = { id: r.id };
  const sessionKey = orUndefined(r.request?.sessionKey);
  const runId = orUndefined(r.request?.runId);
  const command = orUndefined(r.request?.command);
  const createdAtMs = orUndefined(r.createdAtMs);
  const expiresAtMs = orUndefined(r.expiresAtMs);
  if (sessionKey !== undefined) approval.sessionKey = sessionKey;
  if (runId !== undefined) approval.runId = runId;
  if (command !== undefined) approval.command = command;
  if (createdAtMs !== undefined) approval.createdAtMs = createdAtMs;
  if (expiresAtMs !== undefined) approval.expiresAtMs = expiresAtMs;
  return { ok: true, approval };
}

/**
 * `sessions.usage {key}`: the first call after a change answers `usage:null` with `cacheStatus:"refreshing"`;
 * cumulative totals arrive ~15 s later (§10). Either signal means "not fresh yet".
 */
export function parseUsage(key: string, raw: unknown): { ok: true; usage: SessionUsage } | { ok: false; problem: string } {
  const parsed = SessionsUsageResult.safeParse(raw);
  if (!parsed.success) return { ok: false, problem: describeIssues(parsed.error) };
  const entry = parsed.data.sessions?.find((s) => s.key === key);
  return { ok: true, usage: usageOf(key, entry?.usage ?? null, parsed.data.cacheStatus?.status === 'refreshing') };
}

/** Every session of a many-session answer by key; entries that do not parse are counted and left out. */
export function parseUsagePage(raw: unknown): { ok: true; usage: Map<string, SessionUsage>; rejected: number } | { ok: false; problem: string } {
  const parsed = SessionsUsagePage.safeParse(raw);
  if (!parsed.success) return { ok: false, problem: describeIssues(parsed.error) };
  const refreshing = parsed.data.cacheStatus?.status === 'refreshing';
  const usage = new Map<string, SessionUsage>();
  let rejected = 0;
  for (const item of parsed.data.sessions ?? []) {
    const entry = UsageEntry.safeParse(item);
    if (entry.success) usage.set(entry.data.key, usageOf(entry.data.key, entry.data.usage ?? null, refreshing));
    else rejected++;
  }
  return { ok: true, usage, rejected };
}

function usageOf(key: string, totals: { input?: number | null | undefined; output?: number | null | undefined; totalCost?: number | null | undefined } | null, refreshing: boolean): SessionUsage {
  return {
    key,
    totalCostUsd: plausibleCost(totals?.totalCost),
    inputTokens: totals?.input ?? null,
    outputTokens: totals?.output ?? null,
    fresh: !refreshing && totals !== null,
  };
}

/**
 * The simulated gateway's world: sessions with transcripts, pending exec approvals and cumulative usage,
 * projected into the same shapes a real openclaw 2026.9.6 gateway sends (openclaw-gateway.md §7–§11).
 * Mutations return the events they cause; the server decides who receives them.
 */
import { randomUUID } from 'node:crypto';

export type SimStatus = 'running' | 'done' | 'failed' | 'killed';

export interface SimMessage {
  id: string;
  role: string;
  text: string;
  timestamp: number;
}

export interface SimSession {
  key: string;
  sessionId: string;
  agentId: string;
  label?: string;
  status: SimStatus;
  spawnedBy?: string;
  createdAt: number;
  updatedAt: number;
  lastActivityAt: number;
  startedAt: number;
  endedAt?: number;
  runId: string;
  lastRunError?: string;
  messages: SimMessage[];
  pendingApproval: { id: string; command: string; createdAtMs: number; expiresAtMs: number } | null;
  usage: { costUsd: number; inputTokens: number; outputTokens: number } | null;
  /** the real usage cache answers `refreshing` once after a change; cleared by the next sessions.usage */
  usageStale: boolean;
}

export interface SessionUpsert {
  status: SimStatus;
  label?: string;
  spawnedBy?: string;
  lastActivityAt?: number;
  lastRunError?: string;
  messages?: { role: string; text: string; timestamp?: number }[];
  pendingApproval?: { command: string } | null;
  usage?: { costUsd: number; inputTokens: number; outputTokens: number };
}

/** what a state change means on the wire */
export type SimEvent =
  | { kind: 'session'; key: string; reason: string; row: Record<string, unknown> | null }
  | { kind: 'chat'; payload: Record<string, unknown> }
  | { kind: 'approval'; resolved: boolean; payload: Record<string, unknown> };

const APPROVAL_TTL_MS = 30 * 60_000;
export const SIM_MODEL = { modelProvider: 'sim', model: 'echo', contextTokens: 128000 };

function agentOf(key: string): string {
  const match = /^agent:([^:]+):/.exec(key);
  return match?.[1] ?? 'main';
}

export class GatewayState {
  private readonly sessions = new Map<string, SimSession>();
  private chatSeq = 0;

  /** Sorted view and lineage index, rebuilt only after a change: listing 10k rows must not sort per row. */
  private sorted: SimSession[] | null = null;
  private childIndex: Map<string, string[]> | null = null;

  private changed(): void {
    this.sorted = null;
    this.childIndex = null;
  }

  list(): SimSession[] {
    this.sorted ??= [...this.sessions.values()].sort((a, b) => b.updatedAt - a.updatedAt || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return this.sorted;
  }

  private childrenOf(key: string): string[] {
    if (!this.childIndex) {
      this.childIndex = new Map();
      for (const c of this.list()) if (c.spawnedBy) this.childIndex.set(c.spawnedBy, [...(this.childIndex.get(c.spawnedBy) ?? []), c.key]);
    }
    return this.childIndex.get(key) ?? [];
  }

  get(key: string): SimSession | undefined {
    return this.sessions.get(key);
  }

  upsert(key: string, input: SessionUpsert, now = Date.now()): SimEvent[] {
    const existing = this.sessions.get(key);
    const activity = input.lastActivityAt ?? now;
    const session: SimSession = existing ?? {
      key,
      sessionId: randomUUID(),
      agentId: agentOf(key),
      status: input.status,
      createdAt: Math.min(activity, now),
      updatedAt: activity,
      lastActivityAt: activity,
      startedAt: activity,
      runId: randomUUID(),
      messages: [],
      pendingApproval: null,
      usage: null,
      usageStale: false,
    };
    const statusChanged = existing !== undefined && existing.status !== input.status;
    if (existing && statusChanged && input.status === 'running') {
      session.runId = randomUUID();
      session.startedAt = activity;
    }
    session.status = input.status;
    if (input.label !== undefined) session.label = input.label;
    if (input.spawnedBy !== undefined && existing?.spawnedBy === undefined) session.spawnedBy = input.spawnedBy; // lineage is write-once
    session.lastActivityAt = activity;
    session.updatedAt = activity;
    session.endedAt = input.status === 'running' ? undefined : (session.endedAt ?? activity);
    if (input.status === 'failed') session.lastRunError = input.lastRunError ?? session.lastRunError ?? 'LLM request failed (HTTP 500)';
    else if (input.lastRunError !== undefined) session.lastRunError = input.lastRunError;
    if (input.messages) {
      session.messages = input.messages.map((m) => ({ id: randomUUID(), role: m.role, text: m.text, timestamp: m.timestamp ?? activity }));
    }
    if (input.usage) {
      session.usage = { ...input.usage };
      session.usageStale = true;
    }
    const events: SimEvent[] = [];
    if (input.pendingApproval !== undefined) events.push(...this.setApproval(session, input.pendingApproval, now));
    this.sessions.set(key, session);
    this.changed();
    events.unshift({ kind: 'session', key, reason: existing ? 'patch' : 'create', row: this.row(session) });
    if (!existing || statusChanged) events.push(this.chatEventForStatus(session));
    const parent = session.spawnedBy ? this.sessions.get(session.spawnedBy) : undefined;
    if (parent && !existing) events.push({ kind: 'session', key: parent.key, reason: 'participants', row: this.row(parent) });
    return events;
  }

  remove(key: string): SimEvent[] | null {
    const session = this.sessions.get(key);
    if (!session) return null;
    this.sessions.delete(key);
    this.changed();
    const events: SimEvent[] = [{ kind: 'session', key, reason: 'delete', row: null }];
    if (session.pendingApproval) events.push(this.approvalEvent(session, session.pendingApproval, true));
    return events;
  }

  addMessage(key: string, role: string, text: string, now = Date.now()): SimEvent[] | null {
    const session = this.sessions.get(key);
    if (!session) return null;
    const message: SimMessage = { id: randomUUID(), role, text, timestamp: now };
    session.messages.push(message);
    session.lastActivityAt = now;
    session.updatedAt = now;
    this.changed();
    const events: SimEvent[] = [{ kind: 'session', key, reason: role === 'user' ? 'send' : 'activity-summary', row: this.row(session) }];
    if (role === 'assistant') {
      events.push({
        kind: 'chat',
        payload: {
          ...this.chatBase(session),
          state: session.status === 'running' ? 'delta' : 'final',
          ...(session.status === 'running' ? { deltaText: text } : { stopReason: 'stop' }),
          message: this.wireMessage(message, 0),
        },
      });
    }
    return events;
  }

  private setApproval(session: SimSession, next: { command: string } | null, now: number): SimEvent[] {
    const current = session.pendingApproval;
    if (next === null) {
      session.pendingApproval = null;
      return current ? [this.approvalEvent(session, current, true)] : [];
    }
    if (current && current.command === next.command) return [];
    const events = current ? [this.approvalEvent(session, current, true)] : [];
    session.pendingApproval = { id: randomUUID(), command: next.command, createdAtMs: now, expiresAtMs: now + APPROVAL_TTL_MS };
    events.push(this.approvalEvent(session, session.pendingApproval, false));
    return events;
  }

  private approvalEvent(session: SimSession, approval: NonNullable<SimSession['pendingApproval']>, resolved: boolean): SimEvent {
    const record = this.approvalRecord(session, approval);
    return {
      kind: 'approval',
      resolved,
      payload: resolved ? { id: approval.id, decision: 'deny', resolvedBy: 'sandbox', ts: Date.now(), request: record.request } : record,
    };
  }

  approvalRecord(session: SimSession, approval: NonNullable<SimSession['pendingApproval']>): Record<string, unknown> & { request: unknown } {
    return {
      id: approval.id,
      request: {
        command: approval.command,
        cwd: '/sandbox/workspace',
        host: 'gateway',
        security: 'allowlist',
        ask: 'on-miss',
        allowedDecisions: ['allow-once', 'deny'],
        agentId: session.agentId,
        sessionKey: session.key,
        sessionId: null,
        runId: session.runId,
        toolCallId: `call_${approval.id.slice(0, 8)}`,
      },
      createdAtMs: approval.createdAtMs,
      expiresAtMs: approval.expiresAtMs,
      approvalKind: 'exec',
    };
  }

  pendingApprovals(): Record<string, unknown>[] {
    return this.list()
      .filter((s) => s.pendingApproval)
      .map((s) => this.approvalRecord(s, s.pendingApproval!));
  }

  private chatBase(session: SimSession): Record<string, unknown> {
    return {
      runId: session.runId,
      sessionKey: session.key,
      agentId: session.agentId,
      ...(session.spawnedBy ? { spawnedBy: session.spawnedBy } : {}),
      seq: ++this.chatSeq,
    };
  }

  private chatEventForStatus(session: SimSession): SimEvent {
    const base = this.chatBase(session);
    switch (session.status) {
      case 'running':
        return { kind: 'chat', payload: { ...base, state: 'status', phase: 'starting_model' } };
      case 'done':
        return { kind: 'chat', payload: { ...base, state: 'final', stopReason: 'stop' } };
      case 'failed':
        return { kind: 'chat', payload: { ...base, state: 'error', errorMessage: session.lastRunError, errorKind: 'unknown' } };
      case 'killed':
        return { kind: 'chat', payload: { ...base, state: 'aborted', stopReason: 'rpc' } };
    }
  }

  /** a SessionRow as sessions.list shows it; only fields the real gateway sets for this kind of row */
  row(s: SimSession): Record<string, unknown> {
    const children = this.childrenOf(s.key);
    const finished = s.status !== 'running';
    return {
      key: s.key,
      visibility: 'shared',
      createdVia: s.spawnedBy ? 'spawn' : 'operator',
      createdAt: s.createdAt,
      kind: 'direct',
      ...(s.label ? { label: s.label, displayName: s.label } : {}),
      classification: s.spawnedBy ? 'subagent' : 'direct',
      agentId: s.agentId,
      isMain: s.key === `agent:${s.agentId}:main`,
      isBackground: Boolean(s.spawnedBy),
      chatType: 'direct',
      updatedAt: s.updatedAt,
      archived: false,
      pinned: false,
      unread: false,
      lastInteractionAt: s.lastActivityAt,
      // the real gateway sets lastActivityAt on spawned rows only; direct rows carry updatedAt
      ...(s.spawnedBy
        ? {
            lastActivityAt: s.lastActivityAt,
            spawnedBy: s.spawnedBy,
            parentSessionKey: s.spawnedBy,
            controlOwnerSessionKey: s.spawnedBy,
            spawnDepth: 1,
            subagentRole: 'orchestrator',
          }
        : {}),
      sessionId: s.sessionId,
      abortedLastRun: s.status === 'killed',
      ...(s.usage
        ? { inputTokens: s.usage.inputTokens, outputTokens: s.usage.outputTokens, estimatedCostUsd: s.usage.costUsd }
        : {}),
      totalTokensFresh: true,
      status: s.status,
      startedAt: s.startedAt,
      ...(finished && s.endedAt !== undefined ? { endedAt: s.endedAt, runtimeMs: Math.max(0, s.endedAt - s.startedAt) } : {}),
      ...(s.status === 'failed' && s.lastRunError ? { lastRunError: s.lastRunError } : {}),
      lastRunId: s.runId,
      ...(children.length > 0 ? { childSessions: children } : {}),
      ...SIM_MODEL,
      snapshotAt: Date.now(),
      hasActiveRun: !finished,
    };
  }

  wireMessage(m: SimMessage, seq: number): Record<string, unknown> {
    const envelope = { __openclaw: { id: m.id, seq } };
    if (m.role === 'assistant') {
      return {
        role: 'assistant',
        content: [{ type: 'text', text: m.text }],
        provider: SIM_MODEL.modelProvider,
        model: SIM_MODEL.model,
        stopReason: 'stop',
        timestamp: m.timestamp,
        ...envelope,
      };
    }
    return { role: m.role, content: m.text, timestamp: m.timestamp, ...envelope };
  }
}

/**
 * Read-only OpenClaw gateway client (openclaw-gateway.md). Connects as `gateway-client`/`backend` with a
 * shared token and no device, which keeps the requested scopes on loopback (§4). Push first: it subscribes
 * to session changes after every (re)connect; the caller's periodic list is the safety net.
 */
import pino, { type Logger } from 'pino';
import type { ChatMessage, ExecApproval, Session, SessionUsage } from '../../model/index.js';
import type { GatewayApi, GatewayEvents, HelloInfo } from './api.js';
import { GatewayConnection, type HelloPayload } from './connection.js';
import { sleepUnlessAborted as sleep } from '../http/backoff.js';
import { GatewayError } from './errors.js';
import { describeIssues, parseApproval, parseHistoryMessage, parseSessionRow, parseUsage, parseUsagePage } from './parse.js';
import { ApprovalEventPayload, ApprovalListResult, ChatEventPayload, ChatHistoryResult, SessionsChangedPayload, SessionsListResult } from './schemas.js';

export interface GatewayClientOptions {
  url: string;
  token: string;
  clientVersion: string;
  requestTimeoutMs?: number;
  events?: GatewayEvents;
  logger?: Logger;
  /** reconnect after an unexpected drop (default true) */
  reconnect?: boolean;
  /** subscribe to sessions.changed on connect (default true); a one-shot pass has no use for pushes */
  subscribe?: boolean;
  /** least privilege by default; `operator.approvals` is what `exec.approval.list` requires (§4) */
  scopes?: readonly string[];
  /** backoff bounds for reconnects (full jitter) */
  backoff?: { baseMs: number; maxMs: number };
  /** connect attempts answered with retryable UNAVAILABLE (gateway still starting) before giving up */
  maxStartupRetries?: number;
}

export const DEFAULT_SCOPES = ['operator.read', 'operator.approvals'] as const;
/** callable although `hello-ok.features.methods` does not list them (§3) */
export const UNADVERTISED_METHODS = ['sessions.usage', 'sessions.usage.timeseries', 'sessions.usage.logs', 'chat.inject'] as const;

const PAGE_SIZE = 200;
/** 200 × 500 = 100 000 sessions: far beyond any real board, low enough to stop a gateway that never says hasMore:false */
const MAX_PAGES = 500;

export function gatewaySupports(hello: HelloInfo | null, method: string): boolean {
  if (!hello) return false;
  return hello.methods.has(method) || (UNADVERTISED_METHODS as readonly string[]).includes(method);
}

function toHelloInfo(hello: HelloPayload): HelloInfo {
  return {
    protocol: hello.protocol,
    serverVersion: hello.server?.version ?? null,
    bootId: hello.server?.bootId ?? null,
    uptimeMs: hello.snapshot?.uptimeMs ?? null,
    methods: new Set(hello.features?.methods ?? []),
    scopes: hello.auth?.scopes ?? [],
  };
}

/** what usageCall answers when the gateway has no sessions.usage for us */
const NO_USAGE = Symbol('no sessions.usage');

export class GatewayClient implements GatewayApi {
  private connection: GatewayConnection | null = null;
  private currentHello: HelloInfo | null = null;
  private lastBootId: string | null = null;
  private closing = false;
  private stop = new AbortController();
  private reconnecting: Promise<void> | null = null;
  private connecting: Promise<HelloInfo> | null = null;
  private readonly log: Logger;
  private readonly requestTimeoutMs: number;
  private readonly backoff: { baseMs: number; maxMs: number };
  /** inbound bytes over every connection (answers, pushes, ticks): what reading the gateway costs */
  readonly stats = { bytesReceived: 0 };

  constructor(private readonly opts: GatewayClientOptions) {
    this.log = (opts.logger ?? pino({ level: 'silent' })).child({ peer: 'gateway' });
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 10_000;
    this.backoff = opts.backoff ?? { baseMs: 500, maxMs: 30_000 };
  }

  get hello(): HelloInfo | null {
    return this.currentHello;
  }

  get connected(): boolean {
    return this.connection?.open ?? false;
  }

  /** One connect (retrying only the gateway's retryable startup refusal); later drops reconnect in the background. */
  connect(): Promise<HelloInfo> {
    if (this.connection?.open && this.currentHello) return Promise.resolve(this.currentHello);
    if (this.closing) {
      this.closing = false;
      this.stop = new AbortController();
    }
    this.connecting ??= this.connectWithStartupRetries().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private async connectWithStartupRetries(): Promise<HelloInfo> {
    const maxRetries = this.opts.maxStartupRetries ?? 10;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.connectOnce();
      } catch (error) {
        const retryable = error instanceof GatewayError && error.code === 'UNAVAILABLE' && error.retryable;
        if (!retryable || attempt >= maxRetries || this.closing) throw error;
        const wait = Math.min(error.retryAfterMs ?? 1000, this.backoff.maxMs);
        this.log.info({ attempt: attempt + 1, waitMs: wait }, 'gateway still starting; retrying connect');
        await sleep(wait, this.stop.signal);
      }
    }
  }

  private async connectOnce(): Promise<HelloInfo> {
    const { connection, hello } = await GatewayConnection.open({
      url: this.opts.url,
      token: this.opts.token,
      clientVersion: this.opts.clientVersion,
      scopes: this.opts.scopes ?? DEFAULT_SCOPES,
      requestTimeoutMs: this.requestTimeoutMs,
      onEvent: (event, payload) => this.onEvent(event, payload),
      onClose: (error) => this.onConnectionClosed(connection, error),
      onProblem: (message) => this.log.warn(message),
      onFrame: (bytes) => (this.stats.bytesReceived += bytes),
    });
    if (this.closing) {
      await connection.close();
      throw new GatewayError({ code: 'DISCONNECTED', message: 'client closed while connecting' });
    }
    this.connection = connection;
    const info = toHelloInfo(hello);
    const bootChanged = this.lastBootId !== null && info.bootId !== null && info.bootId !== this.lastBootId;
    this.lastBootId = info.bootId ?? this.lastBootId;
    this.currentHello = info;
    const missing = (this.opts.scopes ?? DEFAULT_SCOPES).filter((scope) => !info.scopes.includes(scope));
    if (missing.length > 0) this.log.warn({ missing }, 'gateway granted fewer scopes than requested');
    this.log.info({ protocol: info.protocol, serverVersion: info.serverVersion, bootChanged }, 'gateway connected');
    if (this.opts.subscribe !== false) await this.subscribe(connection);
    this.opts.events?.onHello?.(info, bootChanged);
    return info;
  }

  private async subscribe(connection: GatewayConnection): Promise<void> {
    try {
      // `{}` subscribes without the extra list payload; params are a closed list-params object (§12)
      await connection.request('sessions.subscribe', {});
    } catch (error) {
      this.log.warn({ err: (error as Error).message }, 'sessions.subscribe failed; relying on periodic lists');
    }
  }

  private onConnectionClosed(connection: GatewayConnection, error: Error | null): void {
    if (this.connection !== connection) return;
    this.connection = null;
    this.opts.events?.onDisconnect?.(error);
    if (this.closing || error === null || this.opts.reconnect === false) return;
    this.log.warn({ err: error.message }, 'gateway connection lost; reconnecting');
    this.reconnecting ??= this.reconnectLoop().finally(() => {
      this.reconnecting = null;
    });
  }

  private async reconnectLoop(): Promise<void> {
    for (let attempt = 0; !this.closing; attempt++) {
      const cap = Math.min(this.backoff.maxMs, this.backoff.baseMs * 2 ** Math.min(attempt, 20));
      await sleep(Math.random() * cap, this.stop.signal);
      if (this.closing) return;
      try {
        await this.connectOnce();
        return;
      } catch (error) {
        const e = error as GatewayError;
        const level = e.isAuthFailure ? 'error' : 'warn';
        this.log[level]({ attempt: attempt + 1, err: e.message }, 'gateway reconnect failed');
        if (e.retryAfterMs) await sleep(Math.min(e.retryAfterMs, this.backoff.maxMs), this.stop.signal);
      }
    }
  }

  private onEvent(event: string, payload: unknown): void {
    const events = this.opts.events;
    if (event === 'sessions.changed') {
      const parsed = SessionsChangedPayload.safeParse(payload);
      if (!parsed.success) return this.log.warn({ event, problem: describeIssues(parsed.error) }, 'skipped malformed event');
      const key = parsed.data.sessionKey ?? parsed.data.session?.key;
      const row = parsed.data.session ? parseSessionRow(parsed.data.session) : null;
      if (key) events?.onSessionChanged?.(key, row?.ok && row.session.key === key ? row.session : undefined);
      // a child's activity counts for its parent, so the parent is re-read too
      const parent = parsed.data.session?.spawnedBy ?? parsed.data.session?.parentSessionKey;
      if (parent && parent !== key) events?.onSessionChanged?.(parent);
    } else if (event === 'chat') {
      const parsed = ChatEventPayload.safeParse(payload);
      if (!parsed.success) return this.log.warn({ event, problem: describeIssues(parsed.error) }, 'skipped malformed event');
      if (parsed.data.sessionKey) events?.onSessionChanged?.(parsed.data.sessionKey);
      if (parsed.data.spawnedBy && parsed.data.spawnedBy !== parsed.data.sessionKey) events?.onSessionChanged?.(parsed.data.spawnedBy);
    } else if (event === 'exec.approval.requested' || event === 'exec.approval.resolved') {
      const parsed = ApprovalEventPayload.safeParse(payload);
      const approval = parsed.success ? parseApproval(parsed.data) : null;
      if (!approval?.ok) return this.log.warn({ event }, 'skipped malformed approval event');
      events?.onExecApproval?.(approval.approval, event === 'exec.approval.resolved');
    } else if (event === 'shutdown') {
      this.log.info('gateway announced shutdown');
    }
  }

  private async call(method: string, params: unknown): Promise<unknown> {
    const connection = this.connection;
    if (!connection?.open) throw new GatewayError({ code: 'DISCONNECTED', method, message: 'not connected' });
    return connection.request(method, params, this.requestTimeoutMs);
  }

  async listSessions(): Promise<{ sessions: Session[]; rejected: { key: string | null; problem: string }[]; requests: number }> {
    const sessions: Session[] = [];
    const rejected: { key: string | null; problem: string }[] = [];
    const seen = new Set<string>();
    let offset = 0;
    let requests = 0;
    while (requests < MAX_PAGES) {
      const raw = await this.call('sessions.list', { limit: PAGE_SIZE, offset });
      requests++;
      const page = SessionsListResult.safeParse(raw);
      if (!page.success) throw new GatewayError({ code: 'BAD_RESPONSE', method: 'sessions.list', message: describeIssues(page.error) });
      for (const row of page.data.sessions) {
        const result = parseSessionRow(row);
        if (!result.ok) {
          rejected.push({ key: result.key, problem: result.problem });
          this.log.warn({ key: result.key, problem: result.problem }, 'skipped malformed session row');
          continue;
        }
        // rows can shift between pages while sessions are created; keep the first sighting
        if (seen.has(result.session.key)) continue;
        seen.add(result.session.key);
        sessions.push(result.session);
      }
      const next = page.data.nextOffset ?? offset + page.data.sessions.length;
      if (page.data.hasMore !== true || page.data.sessions.length === 0 || next <= offset) break;
      offset = next;
    }
    if (requests >= MAX_PAGES) this.log.warn({ requests }, 'sessions.list paging stopped at the page guard');
    return { sessions, rejected, requests };
  }

  async chatHistory(sessionKey: string, limit: number): Promise<ChatMessage[]> {
    const raw = await this.call('chat.history', { sessionKey, limit: Math.max(1, Math.min(1000, Math.floor(limit))) });
    const result = ChatHistoryResult.safeParse(raw);
    if (!result.success) throw new GatewayError({ code: 'BAD_RESPONSE', method: 'chat.history', message: describeIssues(result.error) });
    const messages: ChatMessage[] = [];
    for (const item of result.data.messages) {
      const parsed = parseHistoryMessage(item);
      if (parsed.ok) messages.push(parsed.message);
      else this.log.warn({ sessionKey, problem: parsed.problem }, 'skipped malformed chat message');
    }
    return messages;
  }

  async listExecApprovals(): Promise<ExecApproval[]> {
    const raw = await this.call('exec.approval.list', {});
    const result = ApprovalListResult.safeParse(raw);
    if (!result.success) throw new GatewayError({ code: 'BAD_RESPONSE', method: 'exec.approval.list', message: describeIssues(result.error) });
    const approvals: ExecApproval[] = [];
    for (const item of result.data) {
      const parsed = parseApproval(item);
      if (parsed.ok) approvals.push(parsed.approval);
      else this.log.warn({ problem: parsed.problem }, 'skipped malformed exec approval');
    }
    return approvals;
  }

  /** null when the gateway has no `sessions.usage` at all */
  async sessionUsage(sessionKey: string): Promise<SessionUsage | null> {
    const raw = await this.usageCall({ key: sessionKey });
    if (raw === NO_USAGE) return null;
    const parsed = parseUsage(sessionKey, raw);
    if (!parsed.ok) throw new GatewayError({ code: 'BAD_RESPONSE', method: 'sessions.usage', message: parsed.problem });
    return parsed.usage;
  }

  /**
   * The usage of every session of every agent (up to `limit`) in one call: one round trip where one call
   * per key would make hundreds. null when the gateway has no `sessions.usage` at all.
   */
  async sessionUsageAll(limit: number): Promise<Map<string, SessionUsage> | null> {
    const raw = await this.usageCall({ agentScope: 'all', limit });
    if (raw === NO_USAGE) return null;
    const parsed = parseUsagePage(raw);
    if (!parsed.ok) throw new GatewayError({ code: 'BAD_RESPONSE', method: 'sessions.usage', message: parsed.problem });
    if (parsed.rejected > 0) this.log.warn({ rejected: parsed.rejected }, 'skipped malformed sessions.usage entries');
    return parsed.usage;
  }

  private async usageCall(params: Record<string, unknown>): Promise<unknown> {
    try {
      return await this.call('sessions.usage', params);
    } catch (error) {
      // an unknown method answers "unknown method" to admins and a MISSING_SCOPE for operator.admin to others
      if (error instanceof GatewayError && error.code === 'INVALID_REQUEST' && /unknown method/i.test(error.message)) return NO_USAGE;
      if (error instanceof GatewayError && error.detailCode === 'MISSING_SCOPE' && /operator\.admin/.test(error.message)) return NO_USAGE;
      throw error;
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    this.stop.abort();
    const connection = this.connection;
    this.connection = null;
    await connection?.close();
    await this.reconnecting;
  }
}

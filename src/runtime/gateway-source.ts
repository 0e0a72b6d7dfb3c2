import type { Logger } from 'pino';
import type { ChatMessage, ExecApproval, GatewayView, Session, SessionUsage } from '../model/index.js';
import type { GatewayApi, HelloInfo } from '../clients/gateway/api.js';

/** How long a not-yet-fresh usage answer is reused (the gateway's usage cache takes ~15 s to refresh). */
const UNFRESH_TTL_MS = 15_000;

/**
 * The gateway as the loop sees it: the last full session list (all pages), exec approvals, and chat
 * history / usage fetched on demand and cached until the session's row changes.
 */
export class GatewaySource {
  private sessions = new Map<string, Session>();
  private children = new Map<string, Session[]>();
  private execApprovals: ExecApproval[] = [];
  private synced = false;
  private startedAt: number | null = null;
  private bootId: string | null = null;
  private readonly historyCache = new Map<string, { version: string | null; messages: ChatMessage[] }>();
  private readonly usageCache = new Map<string, { version: string | null; usage: SessionUsage; at: number }>();
  private readonly warned = new Set<string>();
  lastSyncAt: number | null = null;

  constructor(
    readonly api: GatewayApi,
    private readonly logger: Logger,
  ) {}

  /** Records the gateway's start from hello-ok; a new bootId means it restarted and every cache is stale. */
  onHello(hello: HelloInfo, receivedAt = Date.now()): void {
    if (hello.uptimeMs !== null) this.startedAt = receivedAt - hello.uptimeMs;
    else if (this.bootId !== hello.bootId) this.startedAt = receivedAt;
    if (this.bootId !== null && hello.bootId !== this.bootId) {
      this.historyCache.clear();
      this.usageCache.clear();
      this.synced = false;
    }
    this.bootId = hello.bootId;
  }

  markUnreachable(): void {
    this.synced = false;
  }

  async refresh(): Promise<{ changedKeys: string[]; requests: number }> {
    if (!this.api.hello) this.onHello(await this.api.connect());
    const listed = await this.api.listSessions();
    for (const r of listed.rejected) {
      const id = `${r.key}:${r.problem}`;
      if (!this.warned.has(id)) {
        this.warned.add(id);
        this.logger.warn({ sessionKey: r.key }, `skipped malformed session row: ${r.problem}`);
      }
    }
    let approvals: ExecApproval[] = this.execApprovals;
    let requests = listed.requests;
    try {
      approvals = await this.api.listExecApprovals();
      requests += 1;
    } catch (err) {
      this.logger.debug({ err: (err as Error).message }, 'exec.approval.list unavailable');
    }
    const next = new Map(listed.sessions.map((s) => [s.key, s]));
    const changed = [...next.values()]
      .filter((s) => {
        const before = this.sessions.get(s.key);
        return !before || before.updatedAt !== s.updatedAt || before.status !== s.status;
      })
      .map((s) => s.key);
    for (const key of this.sessions.keys()) if (!next.has(key)) changed.push(key);
    this.sessions = next;
    this.children = new Map();
    for (const s of next.values()) {
      const parent = s.spawnedBy ?? s.parentSessionKey;
      if (parent) this.children.set(parent, [...(this.children.get(parent) ?? []), s]);
    }
    this.execApprovals = approvals;
    this.synced = true;
    this.lastSyncAt = Date.now();
    return { changedKeys: changed, requests };
  }

  /** A pushed row (sessions.changed) replaces the listed one at once, so a reconcile sees it before the next list. */
  upsert(row: Session): void {
    const before = this.sessions.get(row.key);
    if (before?.updatedAt !== undefined && row.updatedAt !== undefined && before.updatedAt > row.updatedAt) return;
    this.sessions.set(row.key, row);
    const parent = row.spawnedBy ?? row.parentSessionKey;
    if (parent && !before) this.children.set(parent, [...(this.children.get(parent) ?? []), row]);
    else if (parent) this.children.set(parent, (this.children.get(parent) ?? []).map((c) => (c.key === row.key ? row : c)));
  }

  session(key: string): Session | undefined {
    return this.sessions.get(key);
  }

  /** Cache version of a session's reads; null when the row has no time. Status and end time count too: a run
   * may end without moving updatedAt, and a history read while it ran must not hide its final reply. */
  private version(key: string): string | null {
    const s = this.sessions.get(key);
    const at = s?.updatedAt ?? s?.lastActivityAt;
    return at === undefined ? null : `${at}:${s?.status ?? ''}:${s?.endedAt ?? ''}`;
  }

  async history(key: string, limit = 20): Promise<ChatMessage[]> {
    const version = this.version(key);
    const cached = this.historyCache.get(key);
    if (cached && version !== null && cached.version === version) return cached.messages;
    const messages = await this.api.chatHistory(key, limit);
    this.historyCache.set(key, { version, messages });
    return messages;
  }

  async usage(key: string, now = Date.now()): Promise<SessionUsage | null> {
    const version = this.version(key);
    const cached = this.usageCache.get(key);
    // A refreshing answer is kept briefly too: the gateway needs ~15 s to refresh, so asking again every pass
    // (one call per task on a big board) would only repeat "refreshing".
    if (cached && cached.version === version && (cached.usage.fresh || now - cached.at < UNFRESH_TTL_MS)) return cached.usage;
    const usage = await this.api.sessionUsage(key);
    if (usage) this.usageCache.set(key, { version, usage, at: now });
    return usage;
  }

  view(extra: { history: Map<string, ChatMessage[]>; usage: Map<string, SessionUsage>; readErrors: Map<string, string> }): GatewayView {
    return {
      synced: this.synced,
      startedAt: this.startedAt,
      sessions: this.sessions,
      children: this.children,
      execApprovals: this.execApprovals,
      history: extra.history,
      usage: extra.usage,
      readErrors: extra.readErrors,
    };
  }
}
